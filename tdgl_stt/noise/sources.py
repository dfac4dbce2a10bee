r"""Per-mode intensities of the Langevin forces, and the energy whose Hessian fixes them.

Fluctuation-dissipation (``docs/noise.md``, section 2). Without the torque, equations (1)-(3) are
``dx/dt = (J - R) H x`` per Fourier mode, ``x = (theta, Phi, mu)``, with the Hessian of the
quadratic energy ``F = N0 int [ (c^2/4)|grad theta|^2 + I Phi^2 + (1/2) mu eps_hat mu ] d^dx``

.. math::  H(q) = \mathrm{diag}(c^2 q^2,\; 4 I,\; 2\hat\varepsilon),

``J`` antisymmetric (the Josephson relation (1) and the supercurrent) and
``R = diag(0, g/(4I), s/(2 eps_hat^2))`` (``g = 1/tau_E``, ``s = 2 D q^2``: the relaxation of Phi
and the normal current). With ``Theta = 2 T/(N0 V)`` the thermal forces have, per mode,

.. math::  Q(q) = 2\Theta R = \mathrm{diag}\big(0,\; \Theta g/(2I),\; \Theta s/\hat\varepsilon^2\big),

and the stationary covariance is ``Theta H^{-1}`` (equipartition). The torque adds
``2 i (Delta^2/T) q.v_T`` to ``a`` and an indefinite Hermitian part to ``(J - R)``: it is a drive,
not a dissipation, and keeps the thermal ``Q`` (the noise of the dissipative terms only).

The third intensity is carried as ``eta = eps_hat^2 Q_mumu`` (the force on ``eps_hat dmu/dt``, the
divergence of the random current), finite at ``eps_hat = 0`` where ``Q_mumu`` is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import ModeEntries
from .config import NoiseConfig


@dataclass(frozen=True)
class ModeNoise:
    """Intensities of three independent white forces, per mode (arrays of the entries' shape).

    The per-mode intensity matrix (``B B^H`` of the brief) is
    ``Q = diag(q_theta, q_Phi, eta / eps_hat^2)``: ``E[dW dW^H] = Q dt`` for the Fourier amplitude
    ``x_q = (1/N) sum_x x(x) e^{-i q.x}`` of every mode (complex circular for ``q != -q``, real for
    the self-conjugate modes ``q = 0`` and Nyquist).

    Attributes
    ----------
    q_theta, q_Phi : float arrays
        Intensities of the forces on d theta/dt and dPhi/dt.
    eta : float array
        Intensity of the force on ``eps_hat dmu/dt``.
    """

    q_theta: NDArray[np.float64]
    q_Phi: NDArray[np.float64]
    eta: NDArray[np.float64]

    def ravel(self) -> ModeNoise:
        return ModeNoise(np.ravel(self.q_theta), np.ravel(self.q_Phi), np.ravel(self.eta))

    def subset(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> ModeNoise:
        """The modes ``index`` (integer or boolean index) of a flat :class:`ModeNoise`."""
        return ModeNoise(self.q_theta[index], self.q_Phi[index], self.eta[index])


def equipartition_scale(noise: NoiseConfig, volume: float) -> float:
    """``Theta = 2 T/(N0 V) = 2 strength / V``: per-mode variance scale of a thermal run."""
    return 2.0 * noise.strength / volume


def mode_noise(noise: NoiseConfig, e: ModeEntries, q2: NDArray[np.float64], volume: float) -> ModeNoise:
    """The intensities of :class:`ModeNoise` for every mode of ``e``.

    Parameters
    ----------
    noise
        The ``[noise]`` table.
    e
        Operator entries of the modes (any shape ``S``).
    q2
        ``|q|^2`` of the modes (shape ``S``): the divergence of a random current.
    volume
        Box volume ``V = prod(L)`` of the grid: a real-space white force of intensity ``Gamma``
        has intensity ``Gamma / V`` on each Fourier amplitude ``(1/N) sum_x``.

    Notes
    -----
    thermal (``Theta = 2 strength / V``): ``q_theta = 0``, ``q_Phi = Theta g / (2 I)``,
    ``eta = Theta s`` (a random current with ``<dj_i dj_k> = 2 (T/N0) (2D) delta_ik``,
    Johnson-Nyquist for the normal current ``2 D grad mu`` of (3)).
    explicit: ``q_theta = strength theta / V``, ``q_Phi = strength Phi / (I^2 V)``,
    ``eta = strength current |q|^2 / V``.
    """
    if not volume > 0:
        raise ValueError(f"the box volume must be positive, got {volume}")
    s = np.asarray(e.s, dtype=float)
    zeros = np.zeros_like(s)
    if noise.kind == "thermal":
        theta_scale = equipartition_scale(noise, volume)
        return ModeNoise(zeros, zeros + theta_scale * e.g / (2.0 * e.I), theta_scale * s)
    k = noise.strength / volume
    q2 = np.broadcast_to(np.asarray(q2, dtype=float), s.shape)
    return ModeNoise(zeros + k * noise.theta, zeros + k * noise.Phi / e.I**2, k * noise.current * q2)


def energy_hessian(e: ModeEntries) -> NDArray[np.float64]:
    """``H(q) = diag(c^2 q^2, 4 I, 2 eps_hat)`` (shape ``S + (3,)``, the diagonal).

    ``c^2 q^2 = Re a``: the torque is the imaginary part of ``a`` and is not part of the energy.
    """
    ra = np.asarray(e.a).real
    return np.stack([ra, np.full_like(ra, 4.0 * e.I), 2.0 * np.asarray(e.eps, dtype=float)], axis=-1)


def equipartition_covariance(e: ModeEntries, theta_scale: float) -> NDArray[np.float64]:
    """``Theta H(q)^{-1}`` as 3x3 matrices (shape ``S + (3, 3)``): the Boltzmann covariance.

    Infinite entries (``q = 0``: the global phase; ``eps_hat = 0``: mu has no energy) are ``inf``.
    """
    h = energy_hessian(e)
    with np.errstate(divide="ignore"):
        d = theta_scale / h
    out = np.zeros(h.shape + (3,))
    for i in range(3):
        out[..., i, i] = d[..., i]
    return out
