"""Paper symbols -> the coefficients of equations (1)-(3) (DESIGN section 2).

All quantities are in natural units hbar = k_B = 1 and one consistent unit of energy and of
length. The defaults are the paper's near-T_c relations:

- ``I = pi Delta / (4 T)``                                   (below Eq. 9)
- ``n_s/n = 7 zeta(3) Delta^2 / (4 pi^2 T^2)`` (clean, T_c tau >> 1) or
  ``n_s/n = (pi/2) (Delta tau) Delta / T`` (dirty, T_c tau << 1)          (below Eq. 9)
- ``c^2 = v_F^2 (n_s/n) / d``, ``D = v_F^2 tau / d``                     (Eq. 9, Eq. 17)
- ``v_T = pi D grad T / (4 T cosh^2(Delta / 2T))``                       (Eq. 15)

and the Carlson-Goldman scales of the model, ``gamma_G = c^2 / (2 D)`` (equal to the paper's
``n_s / (2 n tau)`` with the default ``c^2`` and ``D``), ``v_G = (c^2 / I)^(1/2)`` (the paper's
``v_F [n_s/(n I d)]^(1/2)``) and ``q_G = gamma_G / v_G``. Every coefficient can be overridden.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import zeta

from .config import ModelConfig

ZETA3 = float(zeta(3.0))


@dataclass(frozen=True)
class Coefficients:
    """The coefficients of equations (1)-(3), resolved from a :class:`ModelConfig`.

    Attributes
    ----------
    Delta, T : float
        Gap and temperature (energy units).
    I : float
        Phase-stiffness prefactor of Eq. 9, ``pi Delta / 4T`` by default.
    ns_over_n : float
        Superfluid fraction.
    c2 : float
        ``c^2 = v_F^2 (n_s/n)/d``: the supercurrent is ``c^2 grad theta``.
    D : float
        Diffusion constant ``v_F^2 tau / d``: the normal current is ``2 D grad mu``.
    vT : tuple of float
        Superconducting "spin velocity" of Eq. 15, one component per grid axis.
    tauE : float
        Charge-imbalance relaxation time; ``math.inf`` gives Eq. 17 exactly.
    coulomb : {"none", "bulk", "film"}
        Kernel of ``eps_hat = 1/(N0 V_q)``: 0, ``(q/ks)^2`` or ``|q|/ks``.
    ks : float
        Screening wavevector of the kernel (unused for ``"none"``).
    d : int
        Dimensionality of the sample (enters ``c^2`` and ``D``), not of the grid.
    vF, tau : float
        Fermi velocity and elastic scattering time, kept for reference.
    grad_T : tuple of float
        The temperature gradient of the config (Eqs. 20-22 are written in it, not in v_T).
    """

    Delta: float
    T: float
    I: float
    ns_over_n: float
    c2: float
    D: float
    vT: tuple[float, ...]
    tauE: float
    coulomb: str
    ks: float
    d: int
    vF: float
    tau: float
    grad_T: tuple[float, ...] = ()

    @property
    def g(self) -> float:
        """Charge-imbalance relaxation rate ``1/tau_E`` (0 for ``tau_E = inf``)."""
        return 0.0 if math.isinf(self.tauE) else 1.0 / self.tauE

    @property
    def torque_prefactor(self) -> float:
        """``Delta^2 / T``: the torque terms of (2)-(3) are this times ``v_T . grad theta``."""
        return self.Delta**2 / self.T

    @property
    def gamma_G(self) -> float:
        """Carlson-Goldman damping ``c^2/(2D)`` (the paper's ``n_s/(2 n tau)``); inf if D = 0."""
        return math.inf if self.D == 0 else self.c2 / (2.0 * self.D)

    @property
    def v_G(self) -> float:
        """Carlson-Goldman velocity ``(c^2/I)^(1/2)``."""
        return math.sqrt(self.c2 / self.I)

    @property
    def q_G(self) -> float:
        """Carlson-Goldman critical wavevector ``gamma_G / v_G``, where two modes merge."""
        return self.gamma_G / self.v_G if self.v_G > 0 else math.inf

    def derived_attrs(self) -> dict[str, float | str | tuple[float, ...]]:
        """Every coefficient and derived scale, for the output file's attributes."""
        out: dict[str, float | str | tuple[float, ...]] = {
            f"coef_{k}": v for k, v in asdict(self).items()
        }
        out.update(
            coef_gamma_G=self.gamma_G,
            coef_v_G=self.v_G,
            coef_q_G=self.q_G,
            coef_torque_prefactor=self.torque_prefactor,
        )
        return out


def default_I(Delta, T):
    """``I = pi Delta/(4T)`` (below Eq. 9); scalars or arrays (pointwise for a profile)."""
    return math.pi * Delta / (4.0 * T)


def superfluid_fraction(spec: float | str, Delta, T, tau: float):
    """``n_s/n`` near T_c: a number, or the clean/dirty relation below Eq. 9 of the paper.

    ``Delta`` and ``T`` may be arrays (a temperature profile); a number is then broadcast.
    """
    if spec == "clean":
        return 7.0 * ZETA3 * Delta**2 / (4.0 * math.pi**2 * T**2)
    if spec == "dirty":
        return 0.5 * math.pi * (Delta * tau) * Delta / T
    return float(spec) if np.ndim(T) == 0 else np.full(np.shape(T), float(spec))


def spin_velocity_factor(D: float, Delta, T):
    """Eq. 15 without the gradient: ``v_T / grad T = pi D / (4 T cosh^2(Delta/2T))``; pointwise."""
    # scalars: math.cosh raises OverflowError for Delta/2T > ~710, which the config turns into
    # a clear error; arrays: np.cosh (a profile's range is checked where it is built)
    cosh = math.cosh if np.ndim(Delta) == 0 and np.ndim(T) == 0 else np.cosh
    return math.pi * D / (4.0 * T * cosh(Delta / (2.0 * T)) ** 2)


def spin_velocity(D: float, Delta: float, T: float, grad_T: tuple[float, ...]) -> tuple[float, ...]:
    """Eq. 15: ``v_T = pi D grad T / (4 T cosh^2(Delta/2T))``, componentwise."""
    factor = float(spin_velocity_factor(D, Delta, T))
    return tuple(factor * g for g in grad_T)


def coefficients_from_model(model: ModelConfig) -> Coefficients:
    """Resolve the paper's default relations and the user's overrides into :class:`Coefficients`."""
    I = model.I if model.I is not None else default_I(model.Delta, model.T)
    ns = superfluid_fraction(model.ns_over_n, model.Delta, model.T, model.tau)
    c2 = model.c2 if model.c2 is not None else model.vF**2 * ns / model.d
    D = model.D if model.D is not None else model.vF**2 * model.tau / model.d
    vT = tuple(model.vT) if model.vT is not None else spin_velocity(D, model.Delta, model.T, model.grad_T)
    return Coefficients(
        Delta=model.Delta,
        T=model.T,
        I=I,
        ns_over_n=ns,
        c2=c2,
        D=D,
        vT=vT,
        tauE=model.tauE,
        coulomb=model.coulomb,
        ks=model.ks if model.ks is not None else math.inf,
        d=model.d,
        vF=model.vF,
        tau=model.tau,
        grad_T=tuple(float(v) for v in model.grad_T),
    )
