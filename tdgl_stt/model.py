r"""The linear operator A(q) of equations (1)-(3), mode by mode.

With every field going as ``exp(i q.x - i w t)`` (DESIGN section 2), equations (1)-(3) read, for
the state ``x_q = (theta, Phi, mu)``,

.. math::

    \dot\theta = 2\Phi - 2\mu, \qquad
    \dot\Phi = -g\Phi - \frac{a}{2I}\theta, \qquad
    \hat\varepsilon\,\dot\mu = a\theta - s\mu,

with

- ``a(q) = c^2 q^2 + 2 i (Delta^2/T) q.v_T``: divergence of the supercurrent plus the torque of
  Eq. 19 (the ``delta chi_yy`` of Eq. 14 in the (1,1) entry of Eq. 17);
- ``s(q) = 2 D q^2``: divergence of the normal current ``2 D grad mu`` (``sigma div E``, Eq. 18);
- ``g = 1/tau_E``: the relaxation prescription ``w -> w + i/tau_E`` applied to Phi;
- ``eps_hat(q) = 1/(N0 V_q)``: 0, ``(q/k_s)^2`` (bulk) or ``|q|/k_s`` (film).

so ``A(q) = [[0, 2, -2], [-a/(2I), -g, 0], [a/eps, 0, -s/eps]]`` and the eigenvalues of A are
``-i w_j(q)``. Multiplying ``det(lambda - A)`` by ``eps_hat`` gives the cubic

.. math::

    P(\lambda) = (\hat\varepsilon\lambda + s)(\lambda^2 + g\lambda + a/I) + 2a(\lambda + g),

which stays finite at ``eps_hat = 0`` (a quadratic: equation (3) becomes the constraint
``mu = a theta / s``) and whose roots are exactly those of ``det M(q, w) = 0`` of Eq. 17
(times ``w``; with ``tau_E`` via the prescription above).

First derivatives at a Nyquist wavenumber are set to zero (the usual convention that keeps real
fields real): the torque term uses ``q_grad``, the Laplacians use ``|q|^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .params import Coefficients


@dataclass(frozen=True)
class ModeEntries:
    """The scalar entries of A(q) for a batch of wavevectors (arrays of one shape).

    Attributes
    ----------
    a : complex array
        ``c^2 |q|^2 + 2 i (Delta^2/T) q_grad . v_T``.
    s : float array
        ``2 D |q|^2``.
    eps : float array
        ``eps_hat(|q|)``.
    g : float
        ``1/tau_E``.
    I : float
        Eq. 9's ``I``.
    """

    a: NDArray[np.complex128]
    s: NDArray[np.float64]
    eps: NDArray[np.float64]
    g: float
    I: float

    @property
    def shape(self) -> tuple[int, ...]:
        return self.a.shape


def eps_hat(q_abs: NDArray[np.float64], coulomb: str, ks: float) -> NDArray[np.float64]:
    """``1/(N0 V_q)``: 0 (neutral), ``(q/k_s)^2`` (bulk, V_q = 4 pi e^2/q^2) or ``|q|/k_s`` (film)."""
    q_abs = np.asarray(q_abs, dtype=float)
    if coulomb == "none":
        return np.zeros_like(q_abs)
    if coulomb == "bulk":
        return (q_abs / ks) ** 2
    if coulomb == "film":
        return q_abs / ks
    raise ValueError(f"unknown Coulomb kernel {coulomb!r}")


def mode_entries(
    coeffs: Coefficients,
    q_lap: NDArray[np.float64],
    q_grad: NDArray[np.float64] | None = None,
) -> ModeEntries:
    """Entries of A(q) for wavevectors given as arrays of shape ``(ndim, ...)``.

    Parameters
    ----------
    coeffs
        Model coefficients.
    q_lap
        Wavevector components used in the Laplacians and in ``eps_hat``.
    q_grad
        Components used in first derivatives (the torque); defaults to ``q_lap``. On a grid they
        differ only at Nyquist wavenumbers, where ``q_grad`` is zero.
    """
    q_lap = np.asarray(q_lap, dtype=float)
    q_grad = q_lap if q_grad is None else np.asarray(q_grad, dtype=float)
    if q_lap.shape[0] != len(coeffs.vT):
        raise ValueError(
            f"wavevectors have {q_lap.shape[0]} components but v_T has {len(coeffs.vT)}"
        )
    q2 = np.sum(q_lap**2, axis=0)
    q_dot_vT = sum(q_grad[i] * coeffs.vT[i] for i in range(q_grad.shape[0]))
    a = coeffs.c2 * q2 + 2j * coeffs.torque_prefactor * q_dot_vT
    s = 2.0 * coeffs.D * q2
    eps = eps_hat(np.sqrt(q2), coeffs.coulomb, coeffs.ks)
    return ModeEntries(a=np.asarray(a, dtype=complex), s=s, eps=eps, g=coeffs.g, I=coeffs.I)


def operator_matrix(e: ModeEntries) -> NDArray[np.complex128]:
    """A(q) as an array of shape ``(..., 3, 3)``; only defined where ``eps_hat > 0``.

    This is the textbook form, for tests and diagnostics; it loses the slow modes to round-off
    in the stiff limit. The propagator never builds it.
    """
    if np.any(e.eps <= 0):
        raise ValueError("A(q) is a differential-algebraic system where eps_hat = 0")
    A = np.zeros(e.shape + (3, 3), dtype=complex)
    A[..., 0, 1] = 2.0
    A[..., 0, 2] = -2.0
    A[..., 1, 0] = -e.a / (2.0 * e.I)
    A[..., 1, 1] = -e.g
    A[..., 2, 0] = e.a / e.eps
    A[..., 2, 2] = -e.s / e.eps
    return A


def characteristic_coefficients(e: ModeEntries) -> NDArray[np.complex128]:
    """Coefficients ``[c3, c2, c1, c0]`` of ``P(lambda) = eps_hat * det(lambda - A)``.

    ``P = eps lambda^3 + (eps g + s) lambda^2 + (eps a/I + s g + 2a) lambda + (s a/I + 2 a g)``.
    Shape ``(4, ...)``.
    """
    eps, s, a, g, I = e.eps, e.s, e.a, e.g, e.I
    return np.array(
        [
            eps + 0j * a,
            eps * g + s + 0j * a,
            eps * a / I + s * g + 2 * a,
            s * a / I + 2 * a * g,
        ]
    )
