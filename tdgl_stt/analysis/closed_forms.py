r"""The paper's closed-form dispersions, each exactly as printed, with its regime as data.

Every closed form is asymptotic. The reference is the exact root set
(:func:`tdgl_stt.propagator.exact_frequencies`); :mod:`tdgl_stt.analysis.compare` tabulates the
deviation, inside and outside each regime, as it is.

Paper symbols in terms of the model (natural units, ``hbar = k_B = 1``):

- ``1/(N0 V_q) = eps_hat(q)``: ``(q/k_s)^2`` (bulk) or ``|q|/k_s`` (film), so for a film
  ``2 pi e^2 N0 = k_s``;
- ``v_G = v_F [n_s/(n I d)]^(1/2)``, ``gamma_G = n_s/(2 n tau)``, ``q_G = gamma_G/v_G`` (below Eq. 9);
- in 2D, ``n/m = N0 v_F^2/2``: the identity the paper itself uses in Eq. E6
  (``2 pi e^2 N0 v_F^2 q = 4 pi e^2 n q/m``), so ``4 pi e^2 n_s/m = k_s v_F^2 (n_s/n)``. (The other
  reading, ``n = 2 N0 E_F`` with ``N0`` per spin, would make the 2D formulas sqrt(2) larger than
  the exact roots: ``docs/closed-forms.md``.)
- Every closed form except Eq. 23 is a ``tau_E = inf`` result; a finite ``tau_E`` is a failing
  condition ``1/(gamma_G tau_E)``.

A regime is a list of small parameters; a closed form is "in regime" when each is at most
:data:`REGIME_THRESHOLD`.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..model import eps_hat
from ..params import ZETA3, Coefficients

#: A small parameter counts as small when it is at most this.
REGIME_THRESHOLD = 0.1


@dataclass(frozen=True)
class RegimeCondition:
    """One condition of a stated regime, as the small parameter that must vanish."""

    description: str
    ratio: float

    @property
    def holds(self) -> bool:
        return math.isfinite(self.ratio) and self.ratio <= REGIME_THRESHOLD


@dataclass(frozen=True)
class ClosedFormValue:
    """One branch of a closed form at one wavevector."""

    name: str
    q: tuple[float, ...]
    branch: int
    omega: complex
    conditions: tuple[RegimeCondition, ...]

    @property
    def in_regime(self) -> bool:
        return all(c.holds for c in self.conditions)


@dataclass(frozen=True)
class ClosedForm:
    """A closed form of the paper: formula as printed, citation and stated regime."""

    name: str
    equation: str
    citation: str
    regime: str
    branches: Callable[[Coefficients, np.ndarray], list[complex]]
    conditions: Callable[[Coefficients, np.ndarray, complex], list[RegimeCondition]]

    def evaluate(self, c: Coefficients, q: np.ndarray) -> list[ClosedFormValue]:
        """Every branch at wavevector ``q`` with its regime conditions.

        A formula that divides by a parameter that is zero here (D = 0 at T = 0, gamma_G = 0,
        q = 0, ...) does not apply: its value is NaN and its regime fails with the condition
        "the formula's parameters are degenerate here".
        """
        q = np.asarray(q, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._evaluate(c, q)

    def _evaluate(self, c: Coefficients, q: np.ndarray) -> list[ClosedFormValue]:
        try:
            branches = [complex(w) for w in self.branches(c, q)]
        except (ZeroDivisionError, ValueError, OverflowError):
            return [ClosedFormValue(self.name, tuple(map(float, q)), 0, complex("nan"), (_DEGENERATE,))]
        out = []
        for j, w in enumerate(branches):
            try:
                conditions = tuple(self.conditions(c, q, w))
            except (ZeroDivisionError, ValueError, OverflowError):
                conditions = (_DEGENERATE,)
            out.append(ClosedFormValue(self.name, tuple(map(float, q)), j, w, conditions))
        return out


_DEGENERATE = RegimeCondition("the formula's parameters are degenerate here (a division by zero)", math.inf)


# --- paper quantities -----------------------------------------------------------------------

def _qabs(q: np.ndarray) -> float:
    return float(np.linalg.norm(q))


def _eps(c: Coefficients, q: np.ndarray) -> float:
    return float(eps_hat(np.array(_qabs(q)), c.coulomb, c.ks))


def _grad_T(c: Coefficients, ndim: int) -> np.ndarray:
    g = np.zeros(ndim)
    g[: len(c.grad_T)] = c.grad_T[:ndim]
    return g


def paper_v_G(c: Coefficients) -> float:
    """``v_G = v_F [n_s/(n I d)]^(1/2)`` (below Eq. 9)."""
    return c.vF * math.sqrt(c.ns_over_n / (c.I * c.d))


def paper_gamma_G(c: Coefficients) -> float:
    """``gamma_G = n_s/(2 n tau)`` (below Eq. 9)."""
    return c.ns_over_n / (2 * c.tau)


def _no_relaxation(c: Coefficients) -> RegimeCondition:
    """The closed forms of Eqs. 9-22 have no charge-imbalance relaxation (tau_E = inf)."""
    return RegimeCondition("no charge-imbalance relaxation: 1/(gamma_G tau_E)",
                           0.0 if math.isinf(c.tauE) else 1.0 / (paper_gamma_G(c) * c.tauE))


def torque_strength(c: Coefficients, q: np.ndarray) -> float:
    """``Lambda = (Delta^2/T) |q.v_T| / (I v_G |q| gamma_G)``: the torque's change of the CG damping
    for ``q >> q_G`` (exact roots, ``docs/closed-forms.md``) relative to ``gamma_G``; independent of
    ``|q|``. At ``Lambda = 1`` a whole branch stops being damped."""
    qa = _qabs(q)
    return abs(c.torque_prefactor * float(np.dot(q, c.vT[: len(q)]))) / (c.I * paper_v_G(c) * qa * paper_gamma_G(c))


def _cg_conditions(c: Coefficients, q: np.ndarray, w: complex) -> tuple[list[RegimeCondition], float]:
    qa = _qabs(q)
    aw = abs(w)
    Dq2 = c.D * qa**2
    torque = abs(c.torque_prefactor * float(np.dot(q, c.vT[: len(q)]))) / max(c.c2 * qa**2, 1e-300)
    return [
        RegimeCondition("T near T_c: Delta/T << 1", c.Delta / c.T),
        RegimeCondition("omega << 2 Delta", aw / (2 * c.Delta)),
        RegimeCondition("omega tau << 1", aw * c.tau),
        RegimeCondition("D q^2 << omega", Dq2 / aw if aw > 0 else math.inf),
        RegimeCondition("omega/(D q^2) << N0 V_q", aw * _eps(c, q) / Dq2 if Dq2 > 0 else math.inf),
        _no_relaxation(c),
    ], torque


# --- the closed forms -------------------------------------------------------------------------

def _eq7(c, q):
    e = _eps(c, q)
    if e == 0:
        return [complex("nan"), complex("nan")]
    w = math.sqrt(2 * c.c2 * _qabs(q) ** 2 / e)  # [2 N0 vF^2 V_q q^2 (n_s/(n d))]^(1/2)
    return [w, -w]


def _eq7_cond(c, q, w):
    return [
        RegimeCondition("T = 0 (no quasiparticles): D q^2 / |omega|", c.D * _qabs(q) ** 2 / max(abs(w), 1e-300)),
        RegimeCondition("T = 0: |I - 1|", abs(c.I - 1)),
        RegimeCondition("omega << Delta", abs(w) / c.Delta),
        RegimeCondition("q v_F << Delta", _qabs(q) * c.vF / c.Delta),
        RegimeCondition("N0 V_q >> 1: eps_hat/2", _eps(c, q) / 2),
    ]


def _cg(c, q):
    vG, gG = paper_v_G(c), paper_gamma_G(c)
    r = cmath.sqrt((vG * _qabs(q)) ** 2 - gG**2)
    return [r - 1j * gG, -r - 1j * gG]


def _cg_cond(c, q, w):
    conds, torque = _cg_conditions(c, q, w)
    return conds + [
        RegimeCondition("no torque (q >~ q_G): Lambda = (Delta^2/T)|q.v_T|/(I v_G q gamma_G)", torque_strength(c, q)),
        RegimeCondition("no torque (q < q_G): eta = 2 (Delta^2/T)|q.v_T|/(c^2 q^2)", 2 * torque),
    ]


def _eq20(c, q):
    vG, gG = paper_v_G(c), paper_gamma_G(c)
    qa = _qabs(q)
    shift = (math.pi / 4) * (c.Delta**2 / c.T**2) * float(np.dot(q, _grad_T(c, len(q)))) / qa**2
    dw = (1 + 1j * gG / (qa * vG)) * shift
    return [vG * qa - 1j * gG + dw, -vG * qa - 1j * gG - dw]


def _eq20_cond(c, q, w):
    conds, _ = _cg_conditions(c, q, w)
    qa = _qabs(q)
    return conds + [
        RegimeCondition("q >> q_G: q_G/q", paper_gamma_G(c) / paper_v_G(c) / qa),
        RegimeCondition("omega << q v_F", abs(w) / (qa * c.vF)),
        RegimeCondition("first order in the torque: Lambda = (Delta^2/T)|q.v_T|/(I v_G q gamma_G)", torque_strength(c, q)),
    ]


def _qstar(c, q) -> float:
    qa = _qabs(q)
    return c.tau * float(np.dot(q / qa, _grad_T(c, len(q))))


def _eq21(c, q):
    qa = _qabs(q)
    qs = _qstar(c, q)
    if qs == 0:
        return [complex("nan")]
    return [(7 * ZETA3 / (4 * math.pi**3)) * paper_v_G(c) ** 2 * qa**2 / paper_gamma_G(c) * qa / qs]


def _eq21_cond(c, q, w):
    qa = _qabs(q)
    qs = _qstar(c, q)
    return [
        RegimeCondition("q << |q*|, q* = tau q.grad T/|q|", qa / abs(qs) if qs else math.inf),
        RegimeCondition("D q^2 << omega", c.D * qa**2 / abs(w) if abs(w) > 0 else math.inf),
        RegimeCondition("omega << q v_F", abs(w) / (qa * c.vF)),
        RegimeCondition("T near T_c: Delta/T << 1", c.Delta / c.T),
        _no_relaxation(c),
    ]


def _eq22(c, q):
    qa = _qabs(q)
    plasma = c.ks * c.vF**2 * c.ns_over_n * qa  # (4 pi e^2 n_s/m) q with n/m = N0 vF^2/2 (Eq. E6)
    torque = 4 * c.I * c.ks * c.D * c.Delta * float(np.dot(q / qa, _grad_T(c, len(q)))) / c.T  # 8 pi I N0 e^2 D Delta q.grad T/T
    r = cmath.sqrt(plasma + 1j * torque)
    return [r, -r]


def _eq22_cond(c, q, w):
    qa = _qabs(q)
    e2N0 = c.ks / (2 * math.pi)
    ell = c.vF * c.tau
    return [
        RegimeCondition("2D film (coulomb = film)", 0.0 if c.coulomb == "film" else math.inf),
        RegimeCondition("omega << q v_F", abs(w) / (qa * c.vF)),
        RegimeCondition("omega << gamma_G", abs(w) / paper_gamma_G(c)),
        RegimeCondition("e^2 N0 n_s/n << q", e2N0 * c.ns_over_n / qa),
        RegimeCondition("q << n_s/(e^2 N0 l^2 n)", qa * e2N0 * ell**2 / c.ns_over_n),
        RegimeCondition("a plasmon, not the phase mode: eps_hat/(2 I)", _eps(c, q) / (2 * c.I)),
        _no_relaxation(c),
    ]


def _plasmon2d(c, q):
    w = math.sqrt(c.ks * c.vF**2 * c.ns_over_n * _qabs(q))  # (4 pi e^2 n_s/m)^(1/2) q^(1/2), n/m = N0 vF^2/2 (Eq. E6)
    return [w, -w]


def _plasmon2d_cond(c, q, w):
    return [
        RegimeCondition("2D film (coulomb = film)", 0.0 if c.coulomb == "film" else math.inf),
        RegimeCondition("omega << gamma_G", abs(w) / paper_gamma_G(c)),
        RegimeCondition("no torque: (Delta^2/T) q.v_T / (c^2 q^2)",
                        abs(c.torque_prefactor * float(np.dot(q, c.vT[: len(q)]))) / max(c.c2 * _qabs(q) ** 2, 1e-300)),
        RegimeCondition("a plasmon, not the phase mode: eps_hat/(2 I)", _eps(c, q) / (2 * c.I)),
        _no_relaxation(c),
    ]


def _eq23(c, q):
    qa = _qabs(q)
    if c.D == 0 or qa == 0:  # no quasiparticle diffusion (T = 0): Eq. 23 does not apply
        return [complex("nan")]
    a = c.vF**2 * c.ns_over_n * qa**2 / c.d + 2j * c.Delta**2 / c.T * float(np.dot(q, c.vT[: len(q)]))
    tauE = c.tauE
    return [-1j * a * (tauE / c.I + 1 / (c.D * qa**2))]


def _eq23_cond(c, q, w):
    qa = _qabs(q)
    if c.D == 0 or qa == 0:
        return [RegimeCondition("quasiparticle diffusion: D q^2 > 0", math.inf)]
    return [
        RegimeCondition("omega tau_E << 1", abs(w) * c.tauE),
        RegimeCondition("1/V_q neglected: eps_hat |omega| / (2 D q^2)", _eps(c, q) * abs(w) / (2 * c.D * qa**2)),
    ]


CLOSED_FORMS: tuple[ClosedForm, ...] = (
    ClosedForm("eq7", "w = +-[2 N0 vF^2 V_q q^2 (n_s/(n d))]^(1/2)", "Eq. 7 (T = 0 plasmon)",
               "T = 0, (w, q vF) << Delta, N0 V_q >> 1", _eq7, _eq7_cond),
    ClosedForm("cg", "w = +-(v_G^2 q^2 - gamma_G^2)^(1/2) - i gamma_G", "below Eq. 9 (Carlson-Goldman mode)",
               "T ~ T_c, (2 Delta, 1/tau) >> w >> D q^2, w/(D q^2) << N0 V_q, no torque, tau_E = inf", _cg, _cg_cond),
    ClosedForm("eq20", "w = +-v_G q - i gamma_G +-(1 + i gamma_G/(q v_G)) (pi/4)(Delta^2/T^2) q.grad T/q^2",
               "Eq. 20 (CG mode with torque)", "CG regime, q >> q_G, w << q vF, first order in the torque (Lambda << 1)", _eq20, _eq20_cond),
    ClosedForm("eq21", "w = (7 zeta(3)/(4 pi^3)) (v_G^2 q^2/gamma_G) (q/q*), q* = tau q^.grad T",
               "Eq. 21 (anomalous mode)", "q << |q*|, w >> D q^2, tau_E = inf", _eq21, _eq21_cond),
    ClosedForm("eq22", "w = +-[(4 pi e^2 n_s/m) q + i 8 pi I N0 e^2 D Delta q^.grad T/T]^(1/2)",
               "Eq. 22 (2D film plasmon with torque)", "2D, w << (q vF, gamma_G), e^2 N0 n_s/n << q << n_s/(e^2 N0 l^2 n), eps_hat << 2I, tau_E = inf",
               _eq22, _eq22_cond),
    ClosedForm("eq23", "w = -i [(n_s/n) vF^2 q^2/d + 2 i (Delta^2/T) q.v_T] (tau_E/I + 1/(D q^2)) (solving Eq. 23)",
               "Eq. 23 (overdamped TDGL mode)", "w tau_E << 1, 1/V_q neglected", _eq23, _eq23_cond),
    ClosedForm("plasmon2d", "w = +-(4 pi e^2 n_s/m)^(1/2) q^(1/2)", "below Eq. 9 (2D gapless plasmon)",
               "2D, w << gamma_G, eps_hat << 2I, tau_E = inf", _plasmon2d, _plasmon2d_cond),
)

BY_NAME: dict[str, ClosedForm] = {cf.name: cf for cf in CLOSED_FORMS}


def evaluate_closed_forms(c: Coefficients, q: np.ndarray, names: tuple[str, ...] | None = None) -> list[ClosedFormValue]:
    """Every closed form (or those named) at wavevector ``q`` (shape ``(ndim,)``), every branch."""
    out: list[ClosedFormValue] = []
    for cf in CLOSED_FORMS:
        if names is None or cf.name in names:
            out.extend(cf.evaluate(c, q))
    return out
