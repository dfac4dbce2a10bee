r"""Equations (1)-(3) with coefficients that vary in space through ``T(x)``.

Every coefficient follows from the local temperature by the relations of the uniform model
(:mod:`tdgl_stt.params`, the paper's near-T_c relations below Eq. 9 and Eq. 15), point by point:
``Delta(x) = Delta_BCS(T(x); T_c)`` (:mod:`tdgl_stt.bcs`), ``I = pi Delta/(4T)``, ``n_s/n`` clean
``7 zeta(3) Delta^2/(4 pi^2 T^2)`` or dirty ``(pi/2)(Delta tau) Delta/T``, ``c^2 = v_F^2 (n_s/n)/d``,
``D = v_F^2 tau/d`` (independent of T), and Eq. 15's ``v_T = pi D grad T/(4 T cosh^2(Delta/2T))``
with the *local* gradient: the spectral derivative of the profile plus the uniform ``grad_T`` of
the config, if any. The uniform ``grad_T`` keeps its meaning of the uniform model: a background
gradient whose temperature rise the periodic box does not hold (it enters only through ``v_T``).

Conservative form
-----------------
With the condensate current ``j = c^2(x) grad theta - 2 (Delta^2/T)(x) v_T(x) theta``,

.. math::

    \dot\theta = 2(\Phi - \mu), \qquad
    I(x) (\partial_t + 1/\tau_E) \Phi = \tfrac12 \nabla\cdot j, \qquad
    \partial_t(\hat\varepsilon\mu) = 2 \nabla\cdot(D \nabla\mu) - \nabla\cdot j .

For uniform coefficients ``div j = c^2 lap theta - 2 (Delta^2/T) v_T . grad theta`` and these are
equations (2)-(3) of DESIGN section 2 (from Eq. 17; Eq. 19's torque) exactly. Both right-hand
sides are divergences, so the total charge ``int eps_hat mu`` is conserved and, with
``tau_E = inf``, so is ``int I Phi`` (the charge moved by the supercurrent into the quasiparticle
imbalance). The integrator evolves ``psi = I(x) Phi / I_ref`` instead of ``Phi``, which makes the
second conservation law hold to round-off: its equation ``d psi/dt = div j/(2 I_ref) - psi/tau_E``
has a mean that only relaxes.

The splitting used by the exponential integrators
-------------------------------------------------
``A = A_ref + N(x)``: ``A_ref`` is the operator of the uniform model at the reference temperature
``T_ref`` (default: the midrange of ``T(x)``), applied exactly per Fourier mode; ``N`` is the rest,

.. math::

    N_\theta = 2 (r - 1) \psi, \quad N_\psi = \frac{d}{2 I_{ref}}, \quad
    \hat\varepsilon N_\mu = -d, \qquad r = I_{ref}/I(x),\quad
    d = \nabla\cdot(j - j_{ref}) = \nabla^2(\delta c^2 \theta) - \nabla\cdot(\theta\, w),

with ``delta c^2 = c^2(x) - c^2_ref`` and ``w = grad(delta c^2) + 2 (tau(x) - tau_ref)``,
``tau = (Delta^2/T) v_T`` (from ``div(f grad theta) = lap(f theta) - div(theta grad f)``).
The products are formed in real space (:mod:`tdgl_stt.integrators.forcing`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.polynomial import chebyshev as cheb
from numpy.typing import NDArray

from .bcs import bcs_gap
from .config import ModelConfig
from .errors import ConfigError
from .grid import Grid
from .params import (
    Coefficients,
    coefficients_from_model,
    default_I,
    spin_velocity_factor,
    superfluid_fraction,
)
from .profiles import TemperatureProfile, spectral_gradient, temperature_field

__all__ = ["CoefficientFields", "VariableModel", "gap_field", "local_coefficients", "profile_is_uniform", "variable_model"]

#: At most this many distinct temperatures are solved one by one with the BCS gap equation;
#: beyond, the gap is interpolated (Chebyshev, checked against direct solves).
_DIRECT_GAP_VALUES = 64
_GAP_RTOL = 1e-13


def gap_field(T: NDArray[np.float64], Tc: float) -> NDArray[np.float64]:
    r"""The BCS gap ``Delta(T(x))`` at every point (``bcs.bcs_gap``; ``T < T_c`` everywhere).

    Few distinct temperatures are solved one by one. Otherwise ``g(T) = Delta^2 / (1 - T/T_c)``,
    analytic up to and including ``T_c`` (``Delta^2`` is analytic there), is interpolated on
    Chebyshev points of ``[min T, max T]`` with the degree doubled until the last coefficients fall
    below ``1e-15`` of the first (the round-off of the direct solves), and ``Delta = (g (1 - T/T_c))^{1/2}``; the interpolant is checked
    against direct solves at 16 points to ``1e-13`` relative.
    """
    T = np.asarray(T, dtype=float)
    values, inverse = np.unique(T, return_inverse=True)
    if values.size <= _DIRECT_GAP_VALUES:
        gaps = np.array([bcs_gap(float(t), Tc) for t in values])
        return gaps[inverse].reshape(T.shape)
    lo, hi = float(values[0]), float(values[-1])

    def g(t: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([bcs_gap(float(v), Tc) ** 2 / (1.0 - v / Tc) for v in t])

    coeffs = None
    for degree in (32, 64, 128, 256, 512):
        nodes = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
        c = cheb.chebfit(nodes, g(0.5 * (hi + lo) + 0.5 * (hi - lo) * nodes), degree)
        if np.max(np.abs(c[-4:])) <= 1e-15 * abs(c[0]):
            coeffs = c
            break
    if coeffs is None:
        raise ValueError(f"the BCS gap on [{lo}, {hi}] (Tc = {Tc}) could not be interpolated to {_GAP_RTOL}")

    def interp(t: NDArray[np.float64]) -> NDArray[np.float64]:
        u = (2.0 * t - (hi + lo)) / (hi - lo)
        return np.sqrt(cheb.chebval(u, coeffs) * (1.0 - t / Tc))

    check = values[np.linspace(0, values.size - 1, 16).astype(int)]
    direct = np.array([bcs_gap(float(v), Tc) for v in check])
    err = np.max(np.abs(interp(check) - direct) / direct)
    if not err <= _GAP_RTOL:
        raise ValueError(f"BCS gap interpolation error {err:.2e} exceeds {_GAP_RTOL}")
    return interp(values)[inverse].reshape(T.shape)


@dataclass(frozen=True)
class CoefficientFields:
    """The coefficients of equations (1)-(3) at every grid point (arrays of the grid's shape).

    Attributes
    ----------
    T, grad_T
        Local temperature and its gradient (``grad_T`` has a leading axis of length ndim and
        includes the uniform ``grad_T`` of the config).
    Delta, I, ns_over_n, c2
        Gap, Eq. 9's ``I``, superfluid fraction and ``c^2`` at each point.
    vT
        Eq. 15's ``v_T`` with the local gradient, shape ``(ndim,) + grid.shape``.
    torque
        ``(Delta^2/T) v_T``: the torque current is ``-2 torque theta``.
    D
        Diffusion constant (independent of T).
    """

    T: NDArray[np.float64]
    grad_T: NDArray[np.float64]
    Delta: NDArray[np.float64]
    I: NDArray[np.float64]
    ns_over_n: NDArray[np.float64]
    c2: NDArray[np.float64]
    vT: NDArray[np.float64]
    torque: NDArray[np.float64]
    D: float


def local_coefficients(
    model: ModelConfig, T: NDArray[np.float64], grad_T: NDArray[np.float64], Delta: NDArray[np.float64]
) -> CoefficientFields:
    """The uniform model's relations (:func:`tdgl_stt.params.coefficients_from_model`), pointwise.

    ``I = pi Delta/(4T)``; ``n_s/n``: clean ``7 zeta(3) Delta^2/(4 pi^2 T^2)``, dirty
    ``(pi/2)(Delta tau)Delta/T`` or the configured number; ``c^2 = v_F^2 (n_s/n)/d``;
    ``D = v_F^2 tau/d`` unless overridden; ``v_T = pi D grad T/(4 T cosh^2(Delta/2T))`` (Eq. 15).
    """
    if model.I is not None or model.c2 is not None or model.vT is not None:
        raise ConfigError("model", "with a temperature profile I, c2 and vT follow from T(x); do not override them")
    I = default_I(Delta, T)
    ns = superfluid_fraction(model.ns_over_n, Delta, T, model.tau)
    c2 = model.vF**2 * ns / model.d
    D = model.D if model.D is not None else model.vF**2 * model.tau / model.d
    vT = spin_velocity_factor(D, Delta, T) * grad_T
    torque = (Delta**2 / T) * vT
    return CoefficientFields(T=T, grad_T=grad_T, Delta=Delta, I=I, ns_over_n=ns, c2=c2, vT=vT, torque=torque, D=D)


@dataclass(frozen=True)
class VariableModel:
    """Coefficient fields, the uniform reference operator and the variations the integrator needs.

    Attributes
    ----------
    fields
        The pointwise coefficients.
    reference
        The uniform model at ``T_ref`` (with the config's uniform ``grad_T``): ``A_ref``.
    T_ref, Tc
        Reference and critical temperatures.
    uniform
        True when ``T(x)`` is constant and the config has no variation: then ``N = 0`` exactly and
        ``fields`` are ``reference`` broadcast.
    r_minus_1
        ``I_ref / I(x) - 1`` (``Phi = (1 + r_minus_1) psi``).
    dc2
        ``c^2(x) - c^2_ref``.
    w
        ``grad(dc2) + 2 (torque(x) - torque_ref)``, shape ``(ndim,) + grid.shape``.
    """

    fields: CoefficientFields
    reference: Coefficients
    T_ref: float
    Tc: float
    uniform: bool
    r_minus_1: NDArray[np.float64]
    dc2: NDArray[np.float64]
    w: NDArray[np.float64]

    def phi_from_psi(self, psi: NDArray[np.float64]) -> NDArray[np.float64]:
        """``Phi = I_ref psi / I(x)`` (real space)."""
        return psi + self.r_minus_1 * psi

    def psi_from_phi(self, phi: NDArray[np.float64]) -> NDArray[np.float64]:
        """``psi = I(x) Phi / I_ref`` (real space)."""
        return phi / (1.0 + self.r_minus_1)

    def output_fields(self) -> dict[str, NDArray[np.float64]]:
        """Static fields for the output file: T, Delta, I, n_s/n, c^2 and each component of v_T."""
        f = self.fields
        out = {"T": f.T, "Delta": f.Delta, "I": f.I, "ns_over_n": f.ns_over_n, "c2": f.c2}
        for i, ax in enumerate("xyz"[: f.vT.shape[0]]):
            out[f"vT_{ax}"] = f.vT[i]
        return out


def profile_is_uniform(T: NDArray[np.float64], T_ref: float | None) -> bool:
    """True when ``T(x)`` is constant and the reference is that constant: then ``N = 0``."""
    return bool(np.ptp(T) == 0) and (T_ref is None or float(T_ref) == float(T.flat[0]))


def variable_model(
    model: ModelConfig,
    Tc: float,
    profile: TemperatureProfile,
    grid: Grid,
) -> VariableModel:
    """Build the coefficient fields of ``profile`` and the reference operator.

    Parameters
    ----------
    model
        The ``[model]`` table; ``T`` is the base temperature of the profile (``Delta`` is ignored:
        it follows from ``Tc``).
    Tc
        Critical temperature (energy units).
    profile
        The temperature profile.
    grid
        The periodic grid.

    Raises
    ------
    ConfigError
        If ``T(x)`` leaves ``(0, Tc)`` anywhere, or ``T_ref`` does.
    """
    T = temperature_field(profile, grid, model.T)
    key = "model.temperature_profile"
    if not np.all(T > 0):
        raise ConfigError(key, f"T(x) must be positive everywhere; its minimum is {T.min():.6g}")
    if not np.all(T < Tc):
        raise ConfigError(
            key,
            f"T(x) reaches {T.max():.6g} >= Tc = {Tc:.6g}; the model needs a superconductor (T < Tc) everywhere",
        )
    constant = bool(np.ptp(T) == 0)
    T_ref = float(profile.T_ref) if profile.T_ref is not None else (float(T.flat[0]) if constant else 0.5 * (float(T.min()) + float(T.max())))
    if not 0 < T_ref < Tc:
        raise ConfigError(f"{key}.T_ref", f"expected 0 < T_ref < Tc = {Tc:.6g}, got {T_ref:.6g}")
    ref_model = replace(model, T=T_ref, Delta=bcs_gap(T_ref, Tc))
    reference = coefficients_from_model(ref_model)
    uniform_grad = np.array(model.grad_T, dtype=float).reshape((grid.ndim,) + (1,) * grid.ndim)
    if profile_is_uniform(T, T_ref):
        # Exactly the uniform model: the fields are the reference coefficients, N = 0.
        shape = grid.shape
        ones = np.ones(shape)
        grad = np.broadcast_to(uniform_grad, (grid.ndim,) + shape).copy()
        fields = CoefficientFields(
            T=T, grad_T=grad, Delta=reference.Delta * ones, I=reference.I * ones,
            ns_over_n=reference.ns_over_n * ones, c2=reference.c2 * ones,
            vT=np.array(reference.vT).reshape((grid.ndim,) + (1,) * grid.ndim) * ones,
            torque=reference.torque_prefactor * np.array(reference.vT).reshape((grid.ndim,) + (1,) * grid.ndim) * ones,
            D=reference.D,
        )
        zero = np.zeros(shape)
        return VariableModel(fields=fields, reference=reference, T_ref=T_ref, Tc=float(Tc), uniform=True,
                             r_minus_1=zero, dc2=zero.copy(), w=np.zeros((grid.ndim,) + shape))
    grad = spectral_gradient(T, grid) + uniform_grad
    fields = local_coefficients(model, T, grad, gap_field(T, Tc))
    torque_ref = reference.torque_prefactor * np.array(reference.vT).reshape((grid.ndim,) + (1,) * grid.ndim)
    dc2 = fields.c2 - reference.c2
    w = spectral_gradient(dc2, grid) + 2.0 * (fields.torque - torque_ref)
    return VariableModel(
        fields=fields, reference=reference, T_ref=T_ref, Tc=float(Tc), uniform=False,
        r_minus_1=reference.I / fields.I - 1.0, dc2=dc2, w=w,
    )
