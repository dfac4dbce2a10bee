r"""Exact covariances of the per-mode Ornstein-Uhlenbeck process of the noisy equations (1)-(3).

Each Fourier mode obeys ``dx = A(q) x dt + dW`` with ``E[dW dW^H] = Q dt``
(:class:`~tdgl_stt.noise.sources.ModeNoise`). Sampled at the frame interval ``dt`` this is exactly

.. math::  x_{n+1} = U x_n + \xi_n, \qquad U = e^{A\,dt}, \qquad
           \mathrm{Cov}\,\xi = C(dt) = \int_0^{dt} e^{A u} Q e^{A^H u}\, du,

with no time-step error (not Euler-Maruyama). This module computes ``C(dt)``, the stationary
covariance ``P`` (``A P + P A^H + Q = 0``) and factors ``C = G G^H`` for sampling.

Why not ``expm`` of Van Loan's 6x6 block matrix, or ``C = P - U P U^H``
-----------------------------------------------------------------------
In the stiff limit ``A`` has the dielectric rate ``|lambda_3| ~ 1e10-1e14`` times the mode rates
and ``Q_mumu = eta/eps_hat^2`` is ~1e26 times the other intensities: an exponential of the
6x6 block matrix loses the slow block to round-off, exactly like ``expm(A dt)``
(``docs/numerics.md``). ``C = P - U P U^H`` needs a stable ``A`` (it fails at ``q = 0``, where the
global phase is marginal, and for torque-driven growing modes) and cancels when ``dt`` is short
next to the slowest decay. The construction used instead works in the propagator's
coordinates ``y = (theta, Phi)``, ``z = mu - K theta - L Phi`` (``x = T^{-1} w``), where
``A_w = [[B, c], [0, lambda_3]]`` with ``c = (-2, 0)``:

1. Solve only the fast blocks of the Lyapunov equation, which are algebraic and well conditioned
   (``lambda_3`` is far from the slow pair):
   ``P_zz = Q_zz / (-2 Re lambda_3)``, ``p = P_yz = -(B + conj(lambda_3))^{-1} (c P_zz + Q_yz)``.
2. With ``P' = [[0, p], [p^H, P_zz]]``, ``A_w P' + P' A_w^H + Q_w = [[Qt, 0], [0, 0]]`` where
   ``Qt = Q_yy + c p^H + p c^H`` (for a stiff mode ``Qt_thth -> 4 eta / s^2``: the dielectric
   relaxation turns the current noise into white noise on theta). Hence, exactly,

   .. math::  C_w(dt) = P' - U_w P' U_w^H + \begin{pmatrix} W & 0 \\ 0 & 0 \end{pmatrix},
              \qquad W = \int_0^{dt} e^{B u}\, Qt\, e^{B^H u}\, du ,

   with ``U_w = [[E, F], [0, e^{lambda_3 dt}]]`` taken from the propagator. Blockwise:
   ``C_yy = W - F p^H E^H - E p F^H - P_zz F F^H``, ``C_yz = p - (E p + F P_zz) conj(e3)``,
   ``C_zz = Q_zz dt phi_1(2 Re lambda_3 dt)`` (``phi_1(x) = (e^x - 1)/x``).
3. ``W`` involves only the 2x2 slow block: Van Loan's exponential (``scipy.linalg.expm`` of
   ``[[-B, Qt], [0, B^H]] t0``, ``W(t0) = e^{B t0} X_12``) at ``t0 = dt / 2^k`` with
   ``||B t0|| <= 1/2``, then ``k`` doublings ``W(2t) = W(t) + e^{Bt} W(t) e^{B^H t}`` (sums of
   positive semi-definite terms: no cancellation, marginal and growing modes included).
4. ``eps_hat = 0``: the limit of 1-2, ``C = [[W, 0], [0, 0]]`` with
   ``Qt = Q_yy + diag(4 eta / s^2, 0)`` and ``mu = K theta`` (the constraint of (3)). The true mu
   of a neutral model has an infinite equal-time variance (white noise ``eta/s^2`` per unit
   bandwidth); the state and the output carry its slow part ``K theta``.

Modes whose isolated root is not fast (``|lambda_3| < 10 max |lambda_slow|``) or not damped, and
the propagator's ``expm`` fallback modes, are not stiff: their ``C`` is computed by steps 3 on the
full 3x3 ``A(q)`` in ``(theta, Phi, mu)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from ..model import ModeEntries, operator_matrix
from ..propagator import ModeSplit, exact_frequencies, propagator, split_modes
from .sources import ModeNoise

#: The split formula is used when ``|lambda_3| >= SPLIT_RATIO max|lambda_slow|`` ...
SPLIT_RATIO = 10.0
#: ... and ``Re lambda_3 <= -SPLIT_DAMPING |lambda_3|``.
SPLIT_DAMPING = 0.1
#: Van Loan's exponential is taken at ``||M t0||_inf <= _VANLOAN_NORM``.
_VANLOAN_NORM = 0.5


@dataclass(frozen=True)
class IncrementCovariance:
    """``Cov xi`` of the exact update and its factor, for a flat batch of N modes.

    Attributes
    ----------
    cov : complex array (N, 3, 3)
        ``C(dt)`` in ``(theta, Phi, mu)``, Hermitian positive semi-definite.
    factor : complex array (N, 3, 3)
        ``G`` with ``G G^H = C``; ``xi = G zeta`` with ``zeta`` standard (complex) normal.
    split_path : bool array (N,)
        Modes computed in the block-triangular coordinates (stiff, ``eps_hat = 0`` or ``q = 0``).
    """

    cov: NDArray[np.complex128]
    factor: NDArray[np.complex128]
    split_path: NDArray[np.bool_]


def _herm(M: NDArray) -> NDArray:
    return np.conj(np.swapaxes(M, -1, -2))


def integrated_covariance(M: NDArray, Q: NDArray, t: float) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    r"""``W(t) = int_0^t e^{M u} Q e^{M^H u} du`` and ``e^{M t}`` for a batch ``(N, k, k)``.

    Van Loan (1978, IEEE TAC 23, 395): ``expm([[-M, Q], [0, M^H]] t0) = [[., X12], [0, X22]]``
    gives ``W(t0) = X22^H X12``, used only at ``t0 = t / 2^m`` with ``||M t0||_inf <= 1/2`` (so the
    exponential is accurate), followed by ``m`` doublings
    ``W(2 tau) = W(tau) + e^{M tau} W(tau) e^{M^H tau}``, ``e^{2 M tau} = (e^{M tau})^2``.
    ``Q`` is normalised by its largest entry per mode for the exponential and restored after.
    """
    M = np.asarray(M, dtype=complex)
    Q = np.asarray(Q, dtype=complex)
    n, k, _ = M.shape
    if n == 0:
        return np.zeros_like(M), np.zeros_like(M)
    norm = np.abs(M).sum(axis=2).max(axis=1) * t
    levels = np.ceil(np.log2(np.maximum(norm, np.finfo(float).tiny) / _VANLOAN_NORM)).clip(0).astype(int)
    t0 = (t / 2.0**levels)[:, None, None]
    qs = np.abs(Q).max(axis=(1, 2))
    qs = np.where(qs > 0, qs, 1.0)
    C = np.zeros((n, 2 * k, 2 * k), dtype=complex)
    C[:, :k, :k] = -M * t0
    C[:, :k, k:] = Q / qs[:, None, None] * t0
    C[:, k:, k:] = _herm(M) * t0
    with threadpool_limits(limits=1, user_api="blas"):
        X = scipy.linalg.expm(C)
        E = _herm(X[:, k:, k:])
        W = E @ X[:, :k, k:]
        for j in range(int(levels.max())):
            act = levels > j
            Ea, Wa = E[act], W[act]
            W[act] = Wa + Ea @ Wa @ _herm(Ea)
            E[act] = Ea @ Ea
    W = 0.5 * (W + _herm(W)) * qs[:, None, None]
    return W, E


def lyapunov(M: NDArray, Q: NDArray) -> NDArray[np.complex128]:
    """``P`` with ``M P + P M^H + Q = 0`` for a batch ``(N, k, k)`` (Kronecker form, batched solve).

    Equivalent to ``scipy.linalg.solve_continuous_lyapunov(M, -Q)`` per mode; unique when no two
    eigenvalues satisfy ``lambda_i + conj(lambda_j) = 0``.
    """
    M = np.asarray(M, dtype=complex)
    n, k, _ = M.shape
    if n == 0:
        return np.zeros_like(M)
    eye = np.eye(k)
    kron = (np.einsum("nil,jm->nijlm", M, eye) + np.einsum("il,njm->nijlm", eye, np.conj(M))).reshape(n, k * k, k * k)
    with threadpool_limits(limits=1, user_api="blas"):
        P = np.linalg.solve(kron, -np.asarray(Q, dtype=complex).reshape(n, k * k, 1))
    P = P.reshape(n, k, k)
    return 0.5 * (P + _herm(P))


def psd_factor(C: NDArray) -> NDArray:
    """``G`` with ``G G^H = C`` for Hermitian positive semi-definite ``C`` (batch ``(N, k, k)``).

    The eigendecomposition of the correlation matrix ``D^{-1} C D^{-1}`` (``D = diag(C)^{1/2}``),
    so that entries of very different scales (``mu`` next to ``theta`` in the stiff limit) keep
    their relative accuracy; singular matrices (``q = 0``, ``eps_hat = 0``, no noise) are allowed.
    Tiny negative eigenvalues of round-off are set to zero. Real input gives a real factor.
    """
    C = np.asarray(C)
    d = np.sqrt(np.clip(np.real(np.einsum("nii->ni", C)), 0.0, None))
    d = np.where(d > 0, d, 1.0)
    Cs = C / (d[:, :, None] * d[:, None, :])
    with threadpool_limits(limits=1, user_api="blas"):
        w, V = np.linalg.eigh(Cs)
    return d[:, :, None] * V * np.sqrt(np.clip(w, 0.0, None))[:, None, :]


#: A Cholesky pivot of the correlation matrix at or below this is a zero pivot (a direction
#: the covariance does not have, to round-off): its column is dropped (:func:`cholesky_factor`).
CHOLESKY_PIVOT_TOL = 1e-13


def cholesky_factor(C: NDArray) -> NDArray:
    r"""Lower-triangular ``G`` with ``G G^H = C`` (positive real diagonal) for Hermitian positive
    semi-definite ``C`` (batch ``(N, k, k)``): the Cholesky factor, which unlike
    :func:`psd_factor` is a *continuous function of C*.

    That is what the noise of the ETD path needs (``tdgl_stt.integrators.noisy_etd``): the factor
    of neighbouring wavevectors multiplies spatially modulated white noise, so their relative
    phases must vary smoothly with q (an eigendecomposition fixes each column only up to a
    phase). Computed on the correlation matrix ``D^{-1} C D^{-1}`` (scale-invariant, like
    :func:`psd_factor`); a pivot at or below :data:`CHOLESKY_PIVOT_TOL` (a direction ``C`` has
    only to round-off, e.g. mu at ``eps_hat = 0``) drops its column. The error of ``G G^H``
    is then at most ``sqrt(CHOLESKY_PIVOT_TOL) sqrt(C_ii C_jj)`` (Cauchy-Schwarz on the Schur
    complement), zero for an exactly singular ``C``. Real input gives a real factor.
    """
    C = np.asarray(C)
    n, k, _ = C.shape
    d = np.sqrt(np.clip(np.real(np.einsum("nii->ni", C)), 0.0, None))
    d = np.where(d > 0, d, 1.0)
    R = C / (d[:, :, None] * d[:, None, :])
    Lc = np.zeros_like(R)
    for j in range(k):
        piv = np.real(R[:, j, j]) - np.sum(np.abs(Lc[:, j, :j]) ** 2, axis=1)
        ok = piv > CHOLESKY_PIVOT_TOL
        ljj = np.sqrt(np.where(ok, piv, 1.0))
        Lc[:, j, j] = np.where(ok, ljj, 0.0)
        for i in range(j + 1, k):
            num = R[:, i, j] - np.sum(Lc[:, i, :j] * np.conj(Lc[:, j, :j]), axis=1)
            Lc[:, i, j] = np.where(ok, num / ljj, 0.0)
    return d[:, :, None] * Lc


@dataclass(frozen=True)
class FastBlocks:
    """The algebraic (fast) blocks of steps 1-2 of the module notes for a flat batch, and the
    slow block's effective intensity ``Qt`` (its ``eps_hat = 0`` limit where there is no z)."""

    Qyz: NDArray[np.complex128]   # (N, 2)
    Qzz: NDArray[np.float64]      # (N,)
    Pzz: NDArray[np.float64]      # (N,)
    p: NDArray[np.complex128]     # (N, 2)
    Qt: NDArray[np.complex128]    # (N, 2, 2)


def _flat_entries(e: ModeEntries) -> ModeEntries:
    return ModeEntries(a=np.ravel(e.a).astype(complex), s=np.ravel(e.s).astype(float),
                       eps=np.ravel(e.eps).astype(float), g=float(e.g), I=float(e.I))


def fast_blocks(sp: ModeSplit, mn: ModeNoise, e: ModeEntries) -> FastBlocks:
    """Steps 1-2 of the module notes, vectorised; ``eps_hat = 0`` and ``q = 0`` in their limits."""
    n = e.eps.size
    K, L, lam3, B = sp.K, sp.L, sp.lam_fast, sp.B
    dyn = np.isfinite(lam3) & ~sp.zero & (e.eps > 0)
    con = ~np.isfinite(lam3) & ~sp.zero
    qt, qp, eta = mn.q_theta, mn.q_Phi, mn.eta
    Qyz = np.zeros((n, 2), dtype=complex)
    Qzz = np.zeros(n)
    Pzz = np.zeros(n)
    p = np.zeros((n, 2), dtype=complex)
    d = dyn
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        Qyz[d, 0] = -np.conj(K[d]) * qt[d]
        Qyz[d, 1] = -np.conj(L[d]) * qp[d]
        Qzz[d] = np.abs(K[d]) ** 2 * qt[d] + np.abs(L[d]) ** 2 * qp[d] + eta[d] / e.eps[d] ** 2
        Pzz[d] = Qzz[d] / (-2.0 * lam3[d].real)
        r0 = -2.0 * Pzz[d] + Qyz[d, 0]
        r1 = Qyz[d, 1]
        cl = np.conj(lam3[d])
        m00, m01, m10, m11 = B[d, 0, 0] + cl, B[d, 0, 1], B[d, 1, 0], B[d, 1, 1] + cl
        det = m00 * m11 - m01 * m10
        p[d, 0] = -(m11 * r0 - m01 * r1) / det
        p[d, 1] = -(-m10 * r0 + m00 * r1) / det
    Qt = np.zeros((n, 2, 2), dtype=complex)
    Qt[:, 0, 0] = qt - 4.0 * p[:, 0].real
    Qt[:, 0, 1] = -2.0 * np.conj(p[:, 1])
    Qt[:, 1, 0] = -2.0 * p[:, 1]
    Qt[:, 1, 1] = qp
    with np.errstate(divide="ignore", invalid="ignore"):
        Qt[con, 0, 0] += 4.0 * eta[con] / e.s[con] ** 2
    return FastBlocks(Qyz=Qyz, Qzz=Qzz, Pzz=Pzz, p=p, Qt=Qt)


def _to_x(Cw: NDArray, K: NDArray, L: NDArray) -> NDArray:
    """``T^{-1} C_w T^{-H}`` with ``T^{-1} = [[1, 0, 0], [0, 1, 0], [K, L, 1]]``: back to
    ``(theta, Phi, mu)`` from the split coordinates."""
    Ti = np.zeros(Cw.shape[:1] + (3, 3), dtype=complex)
    Ti[:, 0, 0] = Ti[:, 1, 1] = Ti[:, 2, 2] = 1.0
    Ti[:, 2, 0] = K
    Ti[:, 2, 1] = L
    return Ti @ Cw @ _herm(Ti)


def _left_to_x(Gw: NDArray, K: NDArray, L: NDArray) -> NDArray:
    """``T^{-1} G_w`` (a factor of ``C_w`` -> a factor of ``C``): mu row ``K G_th + L G_Phi + G_z``."""
    G = Gw.astype(complex, copy=True)
    G[:, 2, :] = K[:, None] * Gw[:, 0, :] + L[:, None] * Gw[:, 1, :] + Gw[:, 2, :]
    return G


def split_path_mask(sp: ModeSplit, e: ModeEntries) -> NDArray[np.bool_]:
    """Modes whose covariances are computed in the block-triangular coordinates (module notes)."""
    lam3 = sp.lam_fast
    finite = np.isfinite(lam3)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(lam3) / np.max(np.abs(sp.lam_slow), axis=1)
    stiff = finite & (ratio >= SPLIT_RATIO) & (lam3.real <= -SPLIT_DAMPING * np.abs(lam3))
    return (sp.zero | ~finite | stiff) & ~sp.fallback


def _noise_matrix_x(mn: ModeNoise, eps: NDArray) -> NDArray[np.complex128]:
    n = eps.size
    Q = np.zeros((n, 3, 3), dtype=complex)
    Q[:, 0, 0] = mn.q_theta
    Q[:, 1, 1] = mn.q_Phi
    with np.errstate(divide="ignore", invalid="ignore"):
        Q[:, 2, 2] = np.where(eps > 0, mn.eta / np.where(eps > 0, eps, 1.0) ** 2, 0.0)
    return Q


def increment_covariance(
    e: ModeEntries,
    mn: ModeNoise,
    dt: float,
    split: ModeSplit | None = None,
    U: NDArray[np.complex128] | None = None,
    *,
    factorization: Literal["eigh", "cholesky"] = "eigh",
) -> IncrementCovariance:
    """``C(dt) = int_0^dt e^{A u} Q e^{A^H u} du`` and its factor for every mode (flattened).

    Parameters
    ----------
    e
        Operator entries (any shape; flattened in C order).
    mn
        Noise intensities of the same shape.
    dt
        Frame interval.
    split, U
        The :func:`~tdgl_stt.propagator.split_modes` of ``e`` and ``propagator(e, dt)`` (shape
        ``(3, 3) + S``), if already computed; ``C`` is then exactly consistent with that ``U``.
    factorization
        ``"eigh"`` (:func:`psd_factor`, the default) or ``"cholesky"`` (:func:`cholesky_factor`,
        continuous in q; in the split coordinates ``(theta, Phi, z)``, which gives the Cholesky
        factor of ``C`` itself because ``T^{-1}`` is unit lower triangular).
    """
    if factorization not in ("eigh", "cholesky"):
        raise ValueError(f"factorization must be 'eigh' or 'cholesky', got {factorization!r}")
    factorize = psd_factor if factorization == "eigh" else cholesky_factor
    fe = _flat_entries(e)
    mn = mn.ravel()
    n = fe.eps.size
    sp = split if split is not None else split_modes(fe)
    Ux = np.moveaxis((U if U is not None else propagator(fe, dt, sp)).reshape(3, 3, n), -1, 0)
    on_split = split_path_mask(sp, fe)
    cov = np.zeros((n, 3, 3), dtype=complex)
    factor = np.zeros((n, 3, 3), dtype=complex)

    idx = np.flatnonzero(on_split)
    if idx.size:
        sub = ModeSplit(lam_slow=sp.lam_slow[idx], lam_fast=sp.lam_fast[idx], K=sp.K[idx], L=sp.L[idx],
                        B=sp.B[idx], zero=sp.zero[idx], fallback=sp.fallback[idx])
        se = ModeEntries(a=fe.a[idx], s=fe.s[idx], eps=fe.eps[idx], g=fe.g, I=fe.I)
        fast = fast_blocks(sub, mn.subset(idx), se)
        Us = Ux[idx]
        K, L = sub.K, sub.L
        F = Us[:, :2, 2]
        E = Us[:, :2, :2] + F[:, :, None] * np.stack([K, L], axis=1)[:, None, :]
        dyn = np.isfinite(sub.lam_fast) & ~sub.zero & (se.eps > 0)
        lam3 = np.where(dyn, sub.lam_fast, 0.0)
        with np.errstate(over="ignore", under="ignore"):
            e3 = np.where(dyn, np.exp(lam3 * dt), 0.0)
            x = 2.0 * lam3.real * dt
            phi1 = np.where(x == 0, 1.0, np.expm1(x) / np.where(x == 0, 1.0, x))
        W, _ = integrated_covariance(sub.B, fast.Qt, dt)
        p, Pzz = fast.p, fast.Pzz
        Ep = np.einsum("nij,nj->ni", E, p)
        Cw = np.zeros((idx.size, 3, 3), dtype=complex)
        Cw[:, :2, :2] = (W - F[:, :, None] * np.conj(Ep)[:, None, :] - Ep[:, :, None] * np.conj(F)[:, None, :]
                         - Pzz[:, None, None] * F[:, :, None] * np.conj(F)[:, None, :])
        Cw[:, :2, 2] = p - (Ep + F * Pzz[:, None]) * np.conj(e3)[:, None]
        Cw[:, 2, :2] = np.conj(Cw[:, :2, 2])
        Cw[:, 2, 2] = np.where(dyn, fast.Qzz * dt * phi1, 0.0)
        Cw = 0.5 * (Cw + _herm(Cw))
        cov[idx] = _to_x(Cw, K, L)
        factor[idx] = _left_to_x(factorize(Cw), K, L)

    idx = np.flatnonzero(~on_split)
    if idx.size:
        se = ModeEntries(a=fe.a[idx], s=fe.s[idx], eps=fe.eps[idx], g=fe.g, I=fe.I)
        C, _ = integrated_covariance(operator_matrix(se), _noise_matrix_x(mn.subset(idx), se.eps), dt)
        cov[idx] = C
        factor[idx] = factorize(C)
    return IncrementCovariance(cov=cov, factor=factor, split_path=on_split)


def stationary_covariance(e: ModeEntries, mn: ModeNoise, split: ModeSplit | None = None) -> NDArray[np.complex128]:
    r"""The stationary covariance ``P`` (``A P + P A^H + Q = 0``) of every mode, shape ``S + (3, 3)``.

    Built blockwise in the split coordinates (``P_zz``, ``P_yz`` of the module notes and the 2x2
    Lyapunov equation ``B P_yy + P_yy B^H + Qt = 0``), so it is accurate in the stiff limit;
    ``expm``-fallback modes solve the 3x3 equation. Where ``eps_hat = 0``, mu is its slow part
    ``K theta`` (module notes, 4). NaN where no stationary state exists: ``q = 0`` (the global
    phase diffuses) and modes with a root of ``Im w >= 0`` (a torque-driven instability).
    """
    shape = e.shape
    fe = _flat_entries(e)
    mn = mn.ravel()
    n = fe.eps.size
    sp = split if split is not None else split_modes(fe)
    w = exact_frequencies(fe, sp).reshape(n, 3)
    stable = np.max(np.where(np.isfinite(w), w.imag, -np.inf), axis=1) < 0  # eps_hat = 0: no third root
    P = np.full((n, 3, 3), np.nan, dtype=complex)
    ok = np.flatnonzero(stable & ~sp.zero & ~sp.fallback)
    if ok.size:
        sub = ModeSplit(lam_slow=sp.lam_slow[ok], lam_fast=sp.lam_fast[ok], K=sp.K[ok], L=sp.L[ok],
                        B=sp.B[ok], zero=sp.zero[ok], fallback=sp.fallback[ok])
        se = ModeEntries(a=fe.a[ok], s=fe.s[ok], eps=fe.eps[ok], g=fe.g, I=fe.I)
        fast = fast_blocks(sub, mn.subset(ok), se)
        Pw = np.zeros((ok.size, 3, 3), dtype=complex)
        Pw[:, :2, :2] = lyapunov(sub.B, fast.Qt)
        Pw[:, :2, 2] = fast.p
        Pw[:, 2, :2] = np.conj(fast.p)
        Pw[:, 2, 2] = fast.Pzz
        P[ok] = _to_x(Pw, sub.K, sub.L)
    fb = np.flatnonzero(stable & sp.fallback & ~sp.zero)
    if fb.size:
        se = ModeEntries(a=fe.a[fb], s=fe.s[fb], eps=fe.eps[fb], g=fe.g, I=fe.I)
        P[fb] = lyapunov(operator_matrix(se), _noise_matrix_x(mn.subset(fb), se.eps))
    return P.reshape(shape + (3, 3))
