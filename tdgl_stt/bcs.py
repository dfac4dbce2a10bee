"""Weak-coupling BCS gap Delta(T) from the full gap equation.

Units: k_B = 1; ``T``, ``Tc`` and the returned gap share one energy unit (e.g. kelvin).

The gap equation with the Debye cutoff eliminated in favour of ``Tc`` reads, in Matsubara form,

.. math::

    \\ln\\frac{T_c}{T} = 2\\pi T \\sum_{n\\ge 0}
        \\left[\\frac{1}{\\omega_n} - \\frac{1}{\\sqrt{\\omega_n^2 + \\Delta^2}}\\right],
    \\qquad \\omega_n = \\pi T (2n + 1),

equivalently, in energy-integral form,

.. math::

    \\ln\\frac{T_c}{T} = \\int_0^\\infty d\\xi
        \\left[\\frac{\\tanh(\\xi/2T)}{\\xi} - \\frac{\\tanh(E/2T)}{E}\\right],
    \\qquad E = \\sqrt{\\xi^2 + \\Delta^2}.

Limits: Delta(0) = pi exp(-gamma_E) Tc = 1.764 Tc, and near Tc
Delta = Tc sqrt(8 pi^2 / (7 zeta(3))) sqrt(1 - T/Tc) = 3.063 Tc sqrt(1 - T/Tc).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq
from scipy.special import zeta

__all__ = ["DELTA0_OVER_TC", "bcs_gap", "bcs_gap_array", "gap_equation_residual", "near_tc_gap"]

#: Delta(0) / Tc = pi exp(-gamma_Euler) in weak-coupling BCS theory.
DELTA0_OVER_TC: float = math.pi * math.exp(-float(np.euler_gamma))

# Below this T/Tc the gap equals Delta(0) to far better than double precision:
# Delta(0) - Delta(T) ~ sqrt(2 pi Delta T) exp(-Delta/T) ~ exp(-1764) Delta at T = 1e-3 Tc.
_T_ZERO_OVER_TC = 1e-3

# Explicit terms are summed until omega_N >= _TAIL_RATIO * Delta; beyond, the tail is the
# asymptotic series in (Delta/omega)^2, whose first omitted term is ~ 0.25 (Delta/omega_N)^10
# relative to the leading tail term, i.e. < 1e-16 relative for _TAIL_RATIO = 40.
_TAIL_RATIO = 40.0
_MIN_TERMS = 64

# 1/w - 1/sqrt(w^2 + D^2) = sum_k c_k D^(2k) / w^(2k+1) (binomial series of (1 + x)^(-1/2)).
_TAIL_COEFFS: tuple[float, ...] = (1 / 2, -3 / 8, 5 / 16, -35 / 128, 63 / 256)


def _check_temperatures(T: float, Tc: float) -> None:
    if not (math.isfinite(Tc) and Tc > 0):
        raise ValueError(f"Tc must be a positive finite number, got {Tc!r}")
    if not (math.isfinite(T) and T >= 0):
        raise ValueError(f"T must be a non-negative finite number, got {T!r}")


def gap_equation_residual(delta: float, T: float, Tc: float) -> float:
    """Residual of the Matsubara gap equation.

    .. math::

        r(\\Delta) = 2\\pi T \\sum_{n\\ge 0} \\left[\\frac{1}{\\omega_n}
            - \\frac{1}{\\sqrt{\\omega_n^2+\\Delta^2}}\\right] - \\ln\\frac{T_c}{T},

    with the first ``N`` terms summed explicitly (written as
    Delta^2 / (w sqrt(w^2+Delta^2) (w + sqrt(w^2+Delta^2))) to avoid cancellation) and the
    remainder from the asymptotic series sum_k c_k Delta^(2k) sum_{n>=N} w_n^-(2k+1), each
    sum a Hurwitz zeta function: sum_{n>=N} (2n+1)^-s = 2^-s zeta(s, N + 1/2).

    Parameters
    ----------
    delta
        Trial gap (same unit as ``T``), >= 0.
    T, Tc
        Temperature (> 0) and critical temperature.

    Returns
    -------
    float
        ``r(delta)``; increasing in ``delta``, zero at the BCS gap.
    """
    if T <= 0:
        raise ValueError("gap_equation_residual needs T > 0")
    delta = abs(float(delta))
    n_terms = max(_MIN_TERMS, math.ceil(_TAIL_RATIO * delta / (2 * math.pi * T)))
    w = math.pi * T * (2 * np.arange(n_terms, dtype=float) + 1)
    root = np.sqrt(w * w + delta * delta)
    head = float(np.sum(delta * delta / (w * root * (w + root))[::-1]))
    tail = 0.0
    for k, c in enumerate(_TAIL_COEFFS, start=1):
        s = 2 * k + 1
        hurwitz = float(zeta(s, n_terms + 0.5)) / 2.0**s
        tail += c * delta ** (2 * k) / (math.pi * T) ** s * hurwitz
    return 2 * math.pi * T * (head + tail) + math.log(T / Tc)


def bcs_gap(T: float, Tc: float) -> float:
    """Weak-coupling BCS gap Delta(T), solving the full gap equation.

    Solves ``ln(Tc/T) = 2 pi T sum_{n>=0} [1/w_n - 1/sqrt(w_n^2 + Delta^2)]``,
    ``w_n = pi T (2n+1)`` (see :func:`gap_equation_residual`) with :func:`scipy.optimize.brentq`.

    Parameters
    ----------
    T
        Temperature, >= 0 (k_B = 1, same unit as ``Tc``).
    Tc
        Critical temperature, > 0.

    Returns
    -------
    float
        Delta(T) in the unit of ``Tc``: 0 for T >= Tc; ``pi exp(-gamma_E) Tc`` for
        T < 1e-3 Tc, where Delta(T) equals Delta(0) to all digits.

    Raises
    ------
    ValueError
        If ``T`` or ``Tc`` is negative, zero (Tc) or not finite.
    """
    T = float(T)
    Tc = float(Tc)
    _check_temperatures(T, Tc)
    if T >= Tc:
        return 0.0
    delta0 = DELTA0_OVER_TC * Tc
    if T < _T_ZERO_OVER_TC * Tc:
        return delta0
    # r(0) = ln(T/Tc) < 0; r(Delta0) > 0 because Delta(T) < Delta(0) for T > 0.
    upper = delta0 * (1 + 1e-9)
    return float(
        brentq(
            gap_equation_residual,
            0.0,
            upper,
            args=(T, Tc),
            xtol=1e-15 * Tc,
            rtol=4 * np.finfo(float).eps,
            maxiter=200,
        )
    )


def bcs_gap_array(T: ArrayLike, Tc: float) -> NDArray[np.float64]:
    """Vectorised :func:`bcs_gap`: Delta at each temperature in ``T`` (same shape)."""
    temps = np.asarray(T, dtype=float)
    out = np.array([bcs_gap(t, Tc) for t in temps.ravel()], dtype=float)
    return out.reshape(temps.shape)


def near_tc_gap(T: float, Tc: float) -> float:
    """Ginzburg-Landau limit Delta = Tc sqrt(8 pi^2 / (7 zeta(3))) sqrt(1 - T/Tc) (T <= Tc)."""
    _check_temperatures(T, Tc)
    if T >= Tc:
        return 0.0
    return Tc * math.sqrt(8 * math.pi**2 / (7 * float(zeta(3)))) * math.sqrt(1 - T / Tc)
