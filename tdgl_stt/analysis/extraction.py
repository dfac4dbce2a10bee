r"""Complex frequencies of a sampled complex amplitude: matrix pencil, order selection, NLS.

Signal model
------------
A Fourier amplitude ``y_n`` of a run, sampled at ``t_n = t0 + n dt`` (n = 0 .. N-1), is modelled as

.. math::  y_n = \sum_{j=1}^{M} A_j \, e^{-i \omega_j (t_n - t_0)} + e_n,
           \qquad \omega_j = \omega'_j - i \gamma_j ,

with complex white Gaussian noise ``e_n`` of ``E|e_n|^2 = sigma^2``. The sign convention is the
package's (DESIGN section 2): fields go as ``exp(i q x - i w t)``, so a damped mode has
``Im w < 0`` (``gamma > 0``), a growing one ``gamma < 0``, and for ``q > 0`` a wave travelling to
+x has ``Re w > 0``. The poles are ``z_j = exp(-i w_j dt)`` and ``w_j = i log(z_j) / dt`` on the
principal branch, ``|Re w| <= pi/dt``.

Estimator (one pass per series; :func:`extract_modes_batch` vectorises it over series)
---------------------------------------------------------------------------------------
1. *Signal subspace.* The Hankel matrix ``H[a, b] = y_{a+b}`` (``a = 0..L``, ``b = 0..N-L-1``,
   ``L = round(pencil N)``) factors as ``H = Z_L diag(A) Z_R^T`` with ``Z_L[a, j] = z_j^a``, so
   its column space is spanned by the damped exponentials. Its leading left singular vectors
   ``U_s`` come from a randomized range finder with one power iteration (Halko, Martinsson &
   Tropp 2011), in which every product ``H v`` and ``H^H u`` is a circular correlation done by
   FFT in ``O(N log N)``: the Hankel matrix is never formed, and no ``O(N^3)`` SVD is needed.
2. *Order.* With ``lambda_1 >= lambda_2 >= ...`` the squared singular values and
   ``F = ||H||_F^2 = sum_n w_n |y_n|^2`` (``w_n`` = number of entries of H equal to ``y_n``),
   the mean of the eigenvalues below ``lambda_M`` is
   ``f_M = (F - sum_{i<=M} lambda_i) / (L + 1 - M)`` (``= (N - L) sigma^2`` for white noise).
   Component ``M + 1`` is accepted while ``lambda_{M+1} > kappa f_{M+1}``, where ``kappa`` is
   the 99.99 % quantile of ``lambda_1 / f_1`` for white noise through this same pipeline
   (calibrated by simulation, :func:`detection_threshold`): pure noise gives order 0 in about
   99.99 % of series. The price is sensitivity: a mode is found reliably when its share of
   ``lambda_1``, about ``(L + 1) x`` (per-sample SNR) x (mean ``|e^{-i w t}|^2`` over the
   record), exceeds ``kappa + 3 sqrt(2 x that share)``, e.g. -5 dB per sample for N = 512.
3. *Poles* by the shift invariance of the column space (the SVD matrix pencil of Hua & Sarkar
   1990, IEEE Trans. ASSP 38, 814, in its ESPRIT form): with ``U_s`` the first M left singular
   vectors, ``U_up = U_s[:-1]``, ``U_dn = U_s[1:]``, the ``z_j`` are the eigenvalues of
   ``Phi = U_up^+ U_dn``. (The left vectors are used as they are: taking the right vectors
   from ``Vh.conj().T`` would return ``conj(z_j)``, DESIGN section 5.)
4. *Amplitudes* by linear least squares given the poles.
5. *Refinement.* All ``(w_j, A_j)`` jointly minimise ``sum_n |y_n - model_n|^2``, the maximum
   likelihood estimator for white Gaussian noise, by a batched Levenberg-Marquardt iteration with
   the analytic Jacobian ``d model / d w_j = -i (t - t_j) A_j e_j``,
   ``d model / d A_j = e_j``. Each mode is parametrised by its amplitude at its own energy
   centroid ``t_j`` (no exponential overflow for growing or fast modes, and a well conditioned
   Jacobian); amplitudes at ``t0`` are reported. The iteration is vectorised over the series of
   a batch that share an order: ``scipy.optimize.least_squares`` costs ~4.5 ms per call for
   N = 2048, about the whole per-series budget of a 2049-wavevector run, and the tests check that
   both reach the same minimum.
6. *Standard errors* ``cov = (sigma_hat^2 / 2) [Re(J^H J)]^{-1}`` in the real parameters
   ``(Re w, Im w, Re A, Im A)``, with ``sigma_hat^2 = ||r||^2 / (N - 2M)``; the same expression
   with the true sigma is the Cramer-Rao bound (:func:`crb_damped_exponentials`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

#: Default cap on the number of modes looked for.
DEFAULT_MAX_ORDER = 8
#: Extra random vectors of the range finder beyond ``max_order + 1``, and the smallest block
#: (the order-selection threshold is calibrated for this block size).
_OVERSAMPLE = 3
_K_MIN = 12
#: Power iterations of the range finder.
_POWER_ITERS = 1
#: Seed of the (deterministic) random test matrix.
_SEED = 0x5EED
#: Series processed together by the vectorised code (fewer for long series: about 2^22
#: complex numbers per stacked FFT array).
_CHUNK = 64
_CHUNK_ELEMENTS = 1 << 22
#: Levenberg-Marquardt iteration cap and tolerances.
_LM_MAX_ITER = 60
_LM_RTOL = 1e-10
#: Relative round-off of ``||H||_F^2 - sum_i lambda_i`` (FFT products, 64 eps): squared singular
#: values below ~``kappa _ROUNDOFF ||H||_F^2 / rows`` are not resolved in noise-free data.
_ROUNDOFF = 64 * np.finfo(float).eps


@dataclass(frozen=True)
class Mode:
    """One extracted mode ``A exp(-i omega (t - t0))``.

    Attributes
    ----------
    omega : complex
        ``w' - i gamma``, angular frequency in the natural units of the run.
    omega_err : complex
        Standard errors packed as ``complex(err(Re w), err(Im w))``.
    amplitude : complex
        ``A`` at ``t0``.
    amplitude_err : float
        Standard error of the complex amplitude, ``sqrt(var Re A + var Im A)``.
    """

    omega: complex
    omega_err: complex
    amplitude: complex
    amplitude_err: float

    @property
    def gamma(self) -> float:
        """Damping rate ``-Im w`` (negative for a growing mode)."""
        return -self.omega.imag

    @property
    def fwhm(self) -> float:
        """Full width at half maximum of the Lorentzian ``|S(w)|^2``: ``2 gamma``."""
        return 2.0 * self.gamma


@dataclass(frozen=True)
class Extraction:
    """Result of :func:`extract_modes` for one series.

    Attributes
    ----------
    modes : tuple of Mode
        Sorted by ``|amplitude|``, largest first.
    noise_sigma : float
        Estimated per-sample complex noise standard deviation ``sqrt(E|n|^2)``,
        ``sqrt(||r||^2 / (N - 2M))`` from the final residual ``r``.
    order : int
        Number of modes.
    residual_rms : float
        ``sqrt(mean |r_n|^2)``.
    """

    modes: tuple[Mode, ...]
    noise_sigma: float
    order: int
    residual_rms: float

    @property
    def omegas(self) -> NDArray[np.complex128]:
        """The ``omega`` of every mode, in the order of :attr:`modes`."""
        return np.array([m.omega for m in self.modes], dtype=complex)


# --------------------------------------------------------------------------------------------
# sizes and the order-selection threshold


def _pencil_shape(n: int, pencil: float) -> tuple[int, int]:
    """Rows ``L + 1`` and columns ``N - L`` of the Hankel matrix, ``L = round(pencil N)``
    (at least 1, and at most ``(N - 1) / 2`` so that ``rows <= cols``)."""
    if not 0.0 < pencil <= 0.5:
        raise ValueError(f"pencil must be in (0, 1/2], got {pencil}")
    L = min(max(int(round(pencil * n)), 1), (n - 1) // 2)  # rows <= cols
    return L + 1, n - L


def detection_threshold(rows: int, cols: int) -> float:
    r"""``kappa``, the order-selection threshold on ``lambda_{M+1} / f_{M+1}``.

    For white complex Gaussian noise, ``lambda_1 / f_1`` (``lambda_1`` the largest squared
    singular value of the ``rows x cols`` noise Hankel matrix as estimated by this module's range
    finder, ``f_1 = (||H||_F^2 - lambda_1) / (rows - 1)`` the mean of the others) scales with the
    Marchenko-Pastur edge ``(1 + sqrt(rows/cols))^2`` but has a heavier tail (a Hankel matrix of
    noise inherits the periodogram's spikes), very heavy for tiny matrices. The fit

    .. math::  \kappa = (1 + \sqrt{rows/cols})^2 \, (2.75 + 69 / (rows - 1)^{2.54})

    follows the simulated 99.99 % quantile of that ratio for N = 4 .. 2048 (rows = 2 .. 1025),
    pencil 1/3 and 1/2 (2e4-2e5 trials per size; the 99.9 % quantile is 10-40 % lower), so pure
    noise is given order > 0 in about 1e-4 of the series (at most 1e-3 for N < 10).
    Smaller pencils give smaller ratios (a more conservative test). ``tests/test_extraction.py``
    checks the false-alarm rate.
    """
    if rows < 2:
        return float("inf")
    mp_edge = (1.0 + np.sqrt(rows / cols)) ** 2
    return float(mp_edge * (2.75 + 69.0 / (rows - 1) ** 2.54))


# --------------------------------------------------------------------------------------------
# 1. signal subspace by a randomized range finder with FFT Hankel products


class _HankelOps:
    """Products with the Hankel matrices ``H[a, b] = y_{a+b}`` of a batch of series.

    ``(H v)_a = sum_b y_{a+b} v_b`` and ``(H^H u)_b = conj(sum_a y_{a+b} conj(u_a))`` are
    correlations, evaluated as circular convolutions of length ``P >= N`` (no wrap-around reaches
    the kept outputs).
    """

    def __init__(self, y: NDArray[np.complex128], rows: int, cols: int) -> None:
        self.n = y.shape[-1]
        self.rows, self.cols = rows, cols
        self.P = scipy.fft.next_fast_len(self.n)
        self.yhat = scipy.fft.fft(y, n=self.P, axis=-1)[:, None, :]

    def _corr(self, v: NDArray[np.complex128], lv: int, vhat=None) -> NDArray[np.complex128]:
        # out_a = sum_b y_{a+b} v_b = (y * v_rev)_{a + lv - 1}
        if vhat is None:
            vhat = scipy.fft.fft(v[..., ::-1], n=self.P, axis=-1)
        return scipy.fft.ifft(self.yhat * vhat, axis=-1)[..., lv - 1 : self.n]

    def matvec(self, v, vhat=None):
        """``H v`` for rows of v (..., k, cols) -> (..., k, rows)."""
        return self._corr(v, self.cols, vhat)

    def rmatvec(self, u):
        """``H^H u`` for rows of u (..., k, rows) -> (..., k, cols)."""
        return np.conj(self._corr(np.conj(u), self.rows))


def _orth_rows(X: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Orthonormal basis (as rows) of the row span of each X[b] (k x len)."""
    Q = np.linalg.qr(X.transpose(0, 2, 1))[0]
    return Q.transpose(0, 2, 1)


def _leading_subspace(y: NDArray[np.complex128], rows: int, cols: int, k: int):
    """Leading ``k`` squared singular values and left singular vectors of each Hankel matrix.

    Returns ``lam`` (B, k) descending, ``U`` (B, rows, k), ``F`` (B,) = ``||H||_F^2``.
    """
    B, n = y.shape
    w = np.minimum.reduce([np.arange(1, n + 1), np.arange(n, 0, -1), np.full(n, rows), np.full(n, cols)])
    F = (np.abs(y) ** 2) @ w.astype(float)
    if k >= rows:  # small problem: dense SVD is exact and cheap
        idx = np.arange(rows)[:, None] + np.arange(cols)[None, :]
        U, s, _ = np.linalg.svd(y[:, idx], full_matrices=False)
        lam = s**2
        pad = k - lam.shape[1]
        if pad > 0:
            lam = np.concatenate([lam, np.zeros((B, pad))], axis=1)
            U = np.concatenate([U, np.zeros((B, rows, pad), complex)], axis=2)
        return lam[:, :k], U[:, :, :k], F
    ops = _HankelOps(y, rows, cols)
    rng = np.random.default_rng(_SEED)
    omega = rng.standard_normal((k, cols)) + 1j * rng.standard_normal((k, cols))
    ohat = scipy.fft.fft(omega[:, ::-1], n=ops.P, axis=-1)
    Q = _orth_rows(ops.matvec(None, vhat=ohat[None]))
    for _ in range(_POWER_ITERS):
        Q = _orth_rows(ops.matvec(ops.rmatvec(Q)))
    # with Qc = Q^T (rows x k, orthonormal) and Zc = H^H Qc = Z^T: H ~ Qc Qc^H H = Qc Zc^H, and
    # Zc = Qz R gives H ~ (Qc R^H) Qz^H, whose SVD is that of the k x k matrix R^H.
    Z = ops.rmatvec(Q)
    R = np.linalg.qr(Z.transpose(0, 2, 1), mode="r")
    Ur, s, _ = np.linalg.svd(R.conj().transpose(0, 2, 1))
    U = Q.transpose(0, 2, 1) @ Ur
    return s**2, U, F


# --------------------------------------------------------------------------------------------
# 2. order


def _select_order(lam, F, rows: int, cols: int, max_order: int) -> NDArray[np.int64]:
    """Sequential test ``lambda_{M+1} > kappa f_{M+1}`` (module docstring, step 2).

    ``f_{M+1}`` is floored at the round-off of ``F - sum lambda`` so that a noise-free signal of
    exact order M stops at M.
    """
    B = lam.shape[0]
    order = np.zeros(B, dtype=np.int64)
    alive = np.ones(B, dtype=bool)
    removed = np.zeros(B)
    for M in range(min(max_order, rows - 1)):
        removed = removed + lam[:, M]
        left = rows - M - 1
        f = np.maximum((F - removed) / left, _ROUNDOFF * F / left)
        ok = alive & (lam[:, M] > detection_threshold(rows - M, cols) * f)
        order[ok] = M + 1
        alive = ok
        if not alive.any():
            break
    return order


# --------------------------------------------------------------------------------------------
# 3.-6. poles, amplitudes, refinement, errors (for a group of series sharing the order M)


def _esprit(Us: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Eigenvalues of ``U_up^+ U_dn`` (B, M) from the signal subspaces ``Us`` (B, rows, M)."""
    up, dn = Us[:, :-1, :], Us[:, 1:, :]
    G = up.conj().transpose(0, 2, 1) @ up
    G = G + 1e-14 * np.eye(G.shape[1])[None]  # |Us| = 1: only a degenerate subspace needs it
    Phi = np.linalg.solve(G, up.conj().transpose(0, 2, 1) @ dn)
    return np.linalg.eigvals(Phi)


def _safe_exp(arg: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """``exp`` with the real part clipped below overflow (only reached by rejected LM trials)."""
    return np.exp(np.minimum(arg.real, 700.0) + 1j * arg.imag)


def _centroids(w: NDArray[np.complex128], tau: NDArray[np.float64]) -> NDArray[np.float64]:
    """Energy centroid ``sum tau |e|^2 / sum |e|^2`` of each ``e = exp(-i w tau)`` (no overflow)."""
    g2 = 2.0 * w.imag[..., None]  # log|e|^2 = 2 Im(w) tau
    logp = g2 * tau
    logp = logp - logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    return (p @ tau) / p.sum(axis=-1)


def _basis(w, tref, tau):
    """``e_j(tau_n) = exp(-i w_j (tau_n - tref_j))`` on the uniform grid ``tau``: (B, M, N).

    Evaluated as ``exp(-i w tau_a) exp(-i w (tau_{b nb} - tref))`` with ``n = a + nb b`` and
    ``nb ~ sqrt(N)``: ``2 sqrt(N)`` complex exponentials and one product per sample (each
    element to a few ulp), instead of N exponentials.
    """
    n = tau.size
    dt = tau[1] - tau[0] if n > 1 else 1.0
    nb = max(int(np.ceil(np.sqrt(n))), 1)
    nblk = -(-n // nb)
    w3 = w[..., None]
    fine = _safe_exp(-1j * w3 * (dt * np.arange(nb)))
    coarse = _safe_exp(-1j * w3 * (tau[0] + dt * nb * np.arange(nblk) - tref[..., None]))
    E = (coarse[..., :, None] * fine[..., None, :]).reshape(*w.shape, nb * nblk)
    return E[..., :n]


def _lsq_amplitudes(E: NDArray[np.complex128], y: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Least-squares amplitudes ``argmin ||y - a E||`` for rows E (B, M, N)."""
    G = E.conj() @ E.transpose(0, 2, 1)
    rhs = E.conj() @ y[..., None]
    d = np.einsum("bii->bi", G).real
    reg = 1e-14 * d.max(axis=1, keepdims=True) + 1e-300
    G = G + np.eye(G.shape[1])[None] * reg[..., None]
    return np.linalg.solve(G, rhs)[..., 0]


def _sq(r: NDArray[np.complex128]) -> NDArray[np.float64]:
    """``sum_n |r_n|^2`` over the last axis, with non-finite values mapped to inf."""
    c = np.einsum("bn,bn->b", r.real, r.real) + np.einsum("bn,bn->b", r.imag, r.imag)
    return np.where(np.isfinite(c), c, np.inf)


def _residual(a, E, y):
    return np.einsum("bm,bmn->bn", a, E) - y


def _normal_equations(a, E, r, s):
    """``Re(J^H J)`` and ``Re(J^H r)`` in the real parameters.

    Real parameter order per series: ``(Re w_1..M, Im w_1..M, Re a_1..M, Im a_1..M)``; the
    complex Jacobian columns are ``(-i s a e, s a e, e, i e)`` with ``s = tau - tref`` (B, M, N),
    and ``Re(J^H J)`` is assembled from the 2M x 2M complex Gram matrix of ``(s a e, e)``.
    """
    M = a.shape[1]
    K = np.concatenate([a[..., None] * E * s, E], axis=1)  # (B, 2M, N)
    Kc = K.conj()
    C = Kc @ K.transpose(0, 2, 1)  # (B, 2M, 2M)
    g = (Kc @ r[..., None])[..., 0]
    alpha = np.concatenate([np.full(M, -1j), np.ones(M), np.ones(M), np.full(M, 1j)])
    pidx = np.concatenate([np.arange(M), np.arange(M), M + np.arange(M), M + np.arange(M)])
    JtJ = (np.conj(alpha)[:, None] * alpha[None, :] * C[:, pidx[:, None], pidx[None, :]]).real
    Jtr = (np.conj(alpha) * g[:, pidx]).real
    return JtJ, Jtr


def _levenberg_marquardt(w, a, tref, tau, y):
    """Batched Levenberg-Marquardt on ``sum_n |y_n - sum_j a_j e_j(tau_n)|^2``.

    Steps solve ``(Re J^H J + lambda diag) delta = -Re J^H r`` (Marquardt scaling). A series stops
    when an accepted step lowers the cost by less than ``1e-10`` of it, or when an undamped
    step would change the fit by less than that (``||J delta||^2``), or at round-off.
    """
    w, a = w.copy(), a.copy()
    B, M = w.shape
    s = tau - tref[..., None]
    E = _basis(w, tref, tau)
    r = _residual(a, E, y)
    cost = _sq(r)
    tiny = (64 * np.finfo(float).eps) ** 2 * _sq(y)
    lam = np.full(B, 1e-4)
    active = cost > tiny
    eye = np.eye(4 * M)[None]
    for _ in range(_LM_MAX_ITER):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        JtJ, Jtr = _normal_equations(a[idx], E[idx], r[idx], s[idx])
        d = np.einsum("bii->bi", JtJ)
        d = d + 1e-30 * d.max(axis=1, keepdims=True) + 1e-300
        A = JtJ + (lam[idx, None] * d)[..., None] * eye
        step = -np.linalg.solve(A, Jtr[..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        wt = w[idx] + step[:, :M] + 1j * step[:, M : 2 * M]
        at = a[idx] + step[:, 2 * M : 3 * M] + 1j * step[:, 3 * M :]
        Et = _basis(wt, tref[idx], tau)
        rt = _residual(at, Et, y[idx])
        ct = _sq(rt)
        c0 = cost[idx]
        better = ct < c0
        acc = idx[better]
        w[acc], a[acc], E[acc], r[acc], cost[acc] = wt[better], at[better], Et[better], rt[better], ct[better]
        lam[idx] = np.where(better, np.maximum(lam[idx] / 10.0, 1e-12), lam[idx] * 10.0)
        change = np.einsum("bi,bij,bj->b", step, JtJ, step)  # ||J delta||^2
        done = better & (c0 - ct <= _LM_RTOL * c0)
        done |= (lam[idx] <= 1e-2) & (change <= _LM_RTOL * c0)
        done |= (cost[idx] <= tiny[idx]) | (lam[idx] > 1e10)
        active[idx[done]] = False
    return w, a


def _covariance(w, a, tref, tau, y):
    """``(sigma_hat^2 / 2) Re(J^H J)^{-1}`` at the optimum; also the cost."""
    B, M = w.shape
    n = tau.size
    E = _basis(w, tref, tau)
    r = _residual(a, E, y)
    cost = _sq(r)
    JtJ, _ = _normal_equations(a, E, r, tau - tref[..., None])
    d = np.sqrt(np.maximum(np.einsum("bii->bi", JtJ), 1e-300))
    S = JtJ / (d[:, :, None] * d[:, None, :])  # equilibrated: unit diagonal
    ev, V = np.linalg.eigh(S)
    regular = ev > 1e-13 * np.maximum(ev[:, -1:], 1e-300)
    inv_ev = np.where(regular, 1.0 / np.where(regular, ev, 1.0), 0.0)
    Sinv = (V * inv_ev[:, None, :]) @ V.conj().transpose(0, 2, 1)  # pseudo-inverse
    # a parameter touched by a null direction of J is not determined: infinite variance
    undetermined = (np.abs(V) ** 2 @ (~regular)[..., None].astype(float))[..., 0] > 1e-8
    dof = max(n - 2 * M, 1)
    sigma2 = cost / dof
    cov = Sinv / (d[:, :, None] * d[:, None, :]) * (sigma2 / 2.0)[:, None, None]
    bi, pi = np.nonzero(undetermined & (sigma2 > 0.0)[:, None])
    cov[bi, pi, pi] = np.inf
    cov[sigma2 == 0.0] = 0.0
    return cov, cost


def _to_t0(w, a, tref, cov):
    """Amplitudes at t0 ``A0 = a exp(i w tref)`` and their (Re, Im) variances, propagated."""
    B, M = w.shape
    e = _safe_exp(1j * w * tref)
    A0 = a * e
    c_w = 1j * tref * A0  # dA0/dw (complex derivative); dA0/da = e
    var_w_re = np.einsum("bii->bi", cov)[:, :M]
    var_w_im = np.einsum("bii->bi", cov)[:, M : 2 * M]
    var_A = np.empty((B, M))
    for j in range(M):
        cols = [j, M + j, 2 * M + j, 3 * M + j]
        T = np.stack(
            [
                np.stack([c_w[:, j], 1j * c_w[:, j], e[:, j], 1j * e[:, j]], axis=-1).real,
                np.stack([c_w[:, j], 1j * c_w[:, j], e[:, j], 1j * e[:, j]], axis=-1).imag,
            ],
            axis=1,
        )  # (B, 2, 4)
        Cj = cov[:, cols][:, :, cols]
        with np.errstate(invalid="ignore"):
            V = np.einsum("bik,bkl,bil->bi", T, Cj, T)
        var_A[:, j] = np.where(np.isnan(V), np.inf, V).sum(axis=1)
    return A0, var_w_re, var_w_im, var_A


# --------------------------------------------------------------------------------------------
# public API


def _check_series(Y: ArrayLike, dt: float) -> NDArray[np.complex128]:
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"expected a 2-D array (n_series, n_t), got shape {Y.shape}")
    if Y.shape[1] < 4:
        raise ValueError(
            f"a series needs at least 4 samples to extract a complex frequency, got {Y.shape[1]}"
        )
    if not np.all(np.isfinite(Y)):
        raise ValueError("the series contains NaN or Inf")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive finite number, got {dt}")
    return Y.astype(np.complex128, copy=False)


def extract_modes(
    y: ArrayLike,
    dt: float,
    *,
    t0: float = 0.0,
    max_order: int | None = None,
    order: int | None = None,
    pencil: float = 1 / 3,
    refine: bool = True,
) -> Extraction:
    """Extract the complex frequencies ``w_j = w'_j - i gamma_j`` of one complex time series.

    Parameters
    ----------
    y : (N,) complex array
        Samples ``y_n`` at ``t_n = t0 + n dt`` of ``sum_j A_j exp(-i w_j (t - t0)) + noise``.
    dt : float
        Sampling interval.
    t0 : float
        Time of the first sample. The model is written in ``t - t0``, so the omegas do not depend
        on it and the amplitudes are those at ``t0`` (the first sample).
    max_order : int, optional
        Largest number of modes looked for (default 8, limited by the pencil size).
    order : int, optional
        Force this number of modes (no order selection).
    pencil : float
        Pencil parameter ``L / N`` of the Hankel matrix, in (0, 1/2] (Hua & Sarkar: N/3 .. N/2;
        the order-selection threshold is calibrated for 1/3 and 1/2).
    refine : bool
        Refine all ``(w_j, A_j)`` jointly by nonlinear least squares (else: pencil poles and
        least-squares amplitudes).

    Returns
    -------
    Extraction

    Raises
    ------
    ValueError
        If ``y`` has fewer than 4 samples, is not finite, or ``dt <= 0``.

    Notes
    -----
    The estimator is described in the module docstring; the poles are ``z = exp(-i w dt)``,
    ``w = i log(z) / dt``, so the principal branch ``|Re w| <= pi / dt`` is returned.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    return extract_modes_batch(
        y[None, :], dt, t0=t0, max_order=max_order, order=order, pencil=pencil, refine=refine
    )[0]


def extract_modes_batch(Y: ArrayLike, dt: float, **kw) -> list[Extraction]:
    """:func:`extract_modes` for each row of ``Y`` (n_series, n_t), vectorised over series.

    Keyword arguments are those of :func:`extract_modes`. The work is done on chunks of series
    with stacked FFTs and stacked small dense linear algebra, so the Python overhead per series
    is small. The BLAS pool is limited to one thread here (threadpoolctl): these many small
    factorisations run ~3x slower with two OpenBLAS threads than with one (DESIGN section 5).
    """
    float(kw.pop("t0", 0.0))  # the model is written in t - t0: t0 labels the first sample only
    max_order = kw.pop("max_order", None)
    order = kw.pop("order", None)
    pencil = float(kw.pop("pencil", 1 / 3))
    refine = bool(kw.pop("refine", True))
    if kw:
        raise TypeError(f"unexpected keyword arguments: {sorted(kw)}")
    Y = _check_series(Y, dt)
    with threadpool_limits(limits=1, user_api="blas"):
        return _extract_all(Y, dt, max_order, order, pencil, refine)


def _extract_all(Y, dt, max_order, order, pencil, refine) -> list[Extraction]:
    n = Y.shape[1]
    rows, cols = _pencil_shape(n, pencil)
    limit = rows - 1
    if order is not None:
        if order < 0 or order > limit:
            raise ValueError(f"order must be in [0, {limit}] for {n} samples and pencil {pencil}")
        cap = int(order)
    else:
        cap = DEFAULT_MAX_ORDER if max_order is None else int(max_order)
        if cap < 0:
            raise ValueError("max_order must be >= 0")
        cap = min(cap, limit)
    k = min(max(cap + 1 + _OVERSAMPLE, _K_MIN), rows)
    chunk = max(1, min(_CHUNK, _CHUNK_ELEMENTS // (k * scipy.fft.next_fast_len(n))))
    out: list[Extraction] = []
    for start in range(0, Y.shape[0], chunk):
        out.extend(_extract_chunk(Y[start : start + chunk], dt, cap, order, rows, cols, k, refine))
    return out


def _extract_chunk(Y, dt, cap, order, rows, cols, k, refine) -> list[Extraction]:
    B, n = Y.shape
    scale = np.abs(Y).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    y = Y / scale[:, None]
    tau = np.arange(n) * dt
    lam, U, F = _leading_subspace(y, rows, cols, k)
    if order is not None:
        orders = np.full(B, order, dtype=np.int64)
    else:
        orders = _select_order(lam, F, rows, cols, cap)
    results: list[Extraction | None] = [None] * B
    for M in np.unique(orders):
        idx = np.nonzero(orders == M)[0]
        yi = y[idx]
        if M == 0:
            for b, i in enumerate(idx):
                rms = float(np.sqrt(np.sum(np.abs(yi[b]) ** 2) / n) * scale[i])
                results[i] = Extraction((), rms, 0, rms)
            continue
        z = _esprit(U[idx][:, :, :M])
        with np.errstate(divide="ignore", invalid="ignore"):
            w = 1j * np.log(z) / dt
        bad = ~np.isfinite(w)
        w[bad] = 0.0  # z = 0: a mode gone after one sample; start it as a constant
        tref = _centroids(w, tau)
        a = _lsq_amplitudes(_basis(w, tref, tau), yi)
        if refine:
            w, a = _levenberg_marquardt(w, a, tref, tau, yi)
        cov, cost = _covariance(w, a, tref, tau, yi)
        A0, vwr, vwi, vA = _to_t0(w, a, tref, cov)
        dof = max(n - 2 * M, 1)
        for b, i in enumerate(idx):
            s = scale[i]
            modes = [
                Mode(
                    omega=complex(w[b, j]),
                    omega_err=complex(np.sqrt(vwr[b, j]), np.sqrt(vwi[b, j])),
                    amplitude=complex(A0[b, j] * s),
                    amplitude_err=float(np.sqrt(vA[b, j]) * s),
                )
                for j in range(M)
            ]
            modes.sort(key=lambda m: -abs(m.amplitude))
            results[i] = Extraction(
                tuple(modes), float(np.sqrt(cost[b] / dof) * s), int(M), float(np.sqrt(cost[b] / n) * s)
            )
    return results  # type: ignore[return-value]


def crb_damped_exponentials(
    omega: ArrayLike,
    amplitude: ArrayLike,
    dt: float,
    n: int,
    sigma: float,
    t0: float = 0.0,
) -> NDArray[np.float64]:
    r"""Cramer-Rao bound for ``y_n = sum_j A_j exp(-i w_j (t_n - t0)) + e_n``.

    For complex white Gaussian noise with ``E|e_n|^2 = sigma^2`` the Fisher information of the
    real parameters ``theta`` is ``I = (2 / sigma^2) Re(J^H J)`` with ``J = d model / d theta``,
    and the bound is ``cov(theta_hat) >= I^{-1}``.

    Parameters
    ----------
    omega, amplitude : (M,) complex
        True frequencies and amplitudes (at ``t0``).
    dt, n : float, int
        Sampling interval and number of samples; ``t_n - t0 = n dt``.
    sigma : float
        Per-sample complex noise standard deviation.
    t0 : float
        Time of the first sample (the bound does not depend on it once A is referred to t0).

    Returns
    -------
    (4M, 4M) float array
        Covariance bound for ``theta = (Re w_1, Im w_1, Re A_1, Im A_1, Re w_2, ...)``
        (grouped per mode). The standard deviations are ``sqrt(diag)``.
    """
    w = np.atleast_1d(np.asarray(omega, dtype=complex))
    A = np.atleast_1d(np.asarray(amplitude, dtype=complex))
    if w.shape != A.shape or w.ndim != 1:
        raise ValueError("omega and amplitude must be 1-D arrays of the same length")
    tau = np.arange(int(n)) * float(dt)
    M = w.size
    J = np.empty((tau.size, 4 * M), dtype=complex)
    for j in range(M):
        e = np.exp(-1j * w[j] * tau)
        J[:, 4 * j] = -1j * tau * A[j] * e
        J[:, 4 * j + 1] = tau * A[j] * e
        J[:, 4 * j + 2] = e
        J[:, 4 * j + 3] = 1j * e
    fisher = (2.0 / sigma**2) * (J.conj().T @ J).real
    return np.linalg.inv(fisher)
