r"""The exact per-mode propagator ``U(q, t) = exp(A(q) t)`` and the exact modes ``w_j(q)``.

This module is the single implementation of the exact linear-response roots: the simulator
propagates with it and the analysis compares against it.

Why not ``scipy.linalg.expm`` or an eigendecomposition of A(q)
----------------------------------------------------------------
The dielectric relaxation rate ``r = s/eps_hat`` exceeds the collective-mode rates by ten orders
of magnitude and more; ``eps_hat = 0`` turns equation (3) into a constraint; and at
``q = q_G`` the two slow modes merge into a Jordan block. A matrix exponential or an
eigendecomposition of A(q) loses the slow modes to round-off in the first case (absolute error
``eps_machine * r``), cannot be formed in the second and is ill-conditioned in the third.

The formulation used instead (derived in ``docs/numerics.md``)
---------------------------------------------------------------
1. *The isolated root.* Write ``P(lambda) = (eps lambda + beta)(lambda^2 - sigma lambda + p)``
   with ``beta = -eps lambda_3``. ``beta`` is a simple root of
   ``R(beta) = beta^3 - (s + eps g) beta^2 + eps (eps a/I + s g + 2a) beta - eps^2 (s a/I + 2 a g)``
   (``R(-eps lambda) = -eps^2 P(lambda)``), which is finite at ``eps = 0`` where ``beta = s``.
   It is polished by Newton's method. The sum ``sigma`` and product ``p`` of the other two (slow)
   roots follow from Vieta's formulas without cancellation:
   ``p = (s a/I + 2 a g)/beta`` and ``sigma = (eps p - eps a/I - s g - 2a)/beta``.
   Symmetric functions of the slow pair are well conditioned even where the pair merges.
2. *The slow invariant subspace* ``mu = K theta + L Phi``, spanned by the slow eigenvectors
   ``v(lambda) = (1, -a/(2I(lambda+g)), a/(eps lambda + s))``, has (divided differences over
   the slow pair, written symmetrically)

   .. math::  K = a (s - \varepsilon g)/Q, \quad L = -2 I \varepsilon (p + g\sigma + g^2)/Q,
              \quad Q = \varepsilon^2 p + \varepsilon s \sigma + s^2 .

3. *Block-triangular form.* With ``y = (theta, Phi)`` and ``z = mu - K theta - L Phi``:
   ``dy/dt = B y + c z``, ``dz/dt = lambda_3 z`` with ``B = [[-2K, 2 - 2L], [-a/(2I), -g]]``
   and ``c = (-2, 0)``. Hence ``y(t) = E y0 + F z0`` with ``E = exp(B t)`` and
   ``F = (lambda_3 - B)^{-1} (e^{lambda_3 t} - E) c``, ``z(t) = e^{lambda_3 t} z0``.
4. ``exp(B t)`` for the 2x2 block uses ``e^{m t} [cosh(delta t) + sinh(delta t)/delta (B - m)]``
   with ``m = tr B/2`` and ``delta^2 = ((B00 - B11)/2)^2 + B01 B10``; both functions are entire in
   ``delta^2``, so the Carlson-Goldman critical point ``delta = 0`` is not special.
5. ``q = 0``: ``eps_hat = s = a = 0``; ``mu_0`` is a gauge choice, fixed to 0; ``theta_0`` is the
   global phase, ``Phi_0`` relaxes at rate ``g``.

Only where the roots are all of one scale and nearly triple (non-stiff, measure zero) does the
code fall back to ``scipy.linalg.expm`` of A(q), which is accurate there; it says so through
:attr:`ModeSplit.fallback`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from .model import ModeEntries, operator_matrix

#: A part (real or imaginary) of an exact root smaller than this times ``|w|`` is round-off of a
#: zero: an undamped mode's Im w, a purely damped mode's Re w. Neither a growth rate nor a
#: denominator of a relative deviation.
ROUND_OFF_PART = 1e3 * np.finfo(float).eps

_NEWTON_STEPS = 6
#: Below this conditioning score the slow/fast split is not trusted and expm is used instead.
_SPLIT_SCORE_MIN = 1e-6


@dataclass(frozen=True)
class ModeSplit:
    """The slow/fast decomposition of A(q) for a flat batch of N modes.

    Attributes
    ----------
    lam_slow : complex array (N, 2)
        The slow pair ``m +- delta`` (eigenvalues of B): the larger in modulus first, the
        smaller as ``p / larger`` (no cancellation).
    lam_fast : complex array (N,)
        The isolated root (the dielectric relaxation in the stiff limit); ``-inf`` where
        ``eps_hat = 0``; 0 at ``q = 0``.
    K, L : complex arrays (N,)
        The slow subspace ``mu = K theta + L Phi``.
    B : complex array (N, 2, 2)
        Slow dynamics of ``(theta, Phi)``.
    zero : bool array (N,)
        ``q = 0`` modes.
    fallback : bool array (N,)
        Modes propagated with ``scipy.linalg.expm`` because the split is ill-conditioned.
    """

    lam_slow: NDArray[np.complex128]
    lam_fast: NDArray[np.complex128]
    K: NDArray[np.complex128]
    L: NDArray[np.complex128]
    B: NDArray[np.complex128]
    zero: NDArray[np.bool_]
    fallback: NDArray[np.bool_]


def _flat(e: ModeEntries) -> ModeEntries:
    return ModeEntries(
        a=np.ravel(e.a).astype(complex),
        s=np.ravel(e.s).astype(float),
        eps=np.ravel(e.eps).astype(float),
        g=float(e.g),
        I=float(e.I),
    )


def _initial_isolated_root(e: ModeEntries) -> tuple[NDArray, NDArray]:
    """Approximate roots of P where eps > 0 and the index of the best-isolated one.

    The root chosen maximises (isolation / scale) * (conditioning of the remaining pair's
    subspace as a graph over (theta, Phi)), both in [0, 1].
    """
    eps, s, a, g, I = e.eps, e.s, e.a, e.g, e.I
    n = eps.size
    comp = np.zeros((n, 3, 3), dtype=complex)
    comp[:, 0, 0] = -(eps * g + s) / eps
    comp[:, 0, 1] = -(eps * a / I + s * g + 2 * a) / eps
    comp[:, 0, 2] = -(s * a / I + 2 * a * g) / eps
    comp[:, 1, 0] = 1.0
    comp[:, 2, 1] = 1.0
    roots = np.linalg.eigvals(comp)  # (n, 3)
    scale = np.max(np.abs(roots), axis=1) + np.finfo(float).tiny
    best_score = np.full(n, -1.0)
    best = np.zeros(n, dtype=int)
    for j in range(3):
        others = [k for k in range(3) if k != j]
        l1, l2 = roots[:, others[0]], roots[:, others[1]]
        iso = np.minimum(np.abs(roots[:, j] - l1), np.abs(roots[:, j] - l2)) / scale
        Q = (eps * l1 + s) * (eps * l2 + s)
        den = (eps * scale + s) ** 2  # 0 only where eps = s = 0 (e.g. q = 0): no graph there
        graph = np.divide(np.abs(Q), den, out=np.zeros(n), where=den > 0)
        score = iso * graph
        better = score > best_score
        best = np.where(better, j, best)
        best_score = np.where(better, score, best_score)
    return roots, best


def _polish_beta(e: ModeEntries, beta: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Newton's method on ``R(beta)``, the cubic whose root is ``beta = -eps lambda_3``."""
    eps, s, a, g, I = e.eps, e.s, e.a, e.g, e.I
    r2 = -(s + eps * g)
    r1 = eps * (eps * a / I + s * g + 2 * a)
    r0 = -(eps**2) * (s * a / I + 2 * a * g)
    for _ in range(_NEWTON_STEPS):
        R = ((beta + r2) * beta + r1) * beta + r0
        dR = (3 * beta + 2 * r2) * beta + r1
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dR != 0, R / dR, 0.0)
        beta = beta - np.where(np.isfinite(step), step, 0.0)
    return beta


def split_modes(e: ModeEntries) -> ModeSplit:
    """Decompose A(q) into its slow pair and isolated root for every mode of ``e``.

    Parameters
    ----------
    e
        Operator entries of N modes (any shape; flattened).
    """
    e = _flat(e)
    eps, s, a, g, I = e.eps, e.s, e.a, e.g, e.I
    n = eps.size
    zero = (eps == 0) & (s == 0) & (a == 0)
    dyn = (eps > 0) & ~zero
    con = (eps == 0) & ~zero

    beta = np.zeros(n, dtype=complex)
    lam3 = np.zeros(n, dtype=complex)
    beta[con] = s[con]
    lam3[con] = -np.inf
    fallback = np.zeros(n, dtype=bool)
    if np.any(dyn):
        sub = ModeEntries(a=a[dyn], s=s[dyn], eps=eps[dyn], g=g, I=I)
        roots, best = _initial_isolated_root(sub)
        l3 = roots[np.arange(best.size), best]
        beta[dyn] = _polish_beta(sub, -sub.eps * l3)
        lam3[dyn] = -beta[dyn] / eps[dyn]

    # Slow pair from Vieta's formulas, in whichever of two equivalent forms is better conditioned.
    c0 = s * a / I + 2 * a * g
    c1 = eps * a / I + s * g + 2 * a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p_b = c0 / beta
        sigma_b = (eps * p_b - eps * a / I - s * g - 2 * a) / beta
        err_b = (np.abs(eps * p_b) + np.abs(eps * a / I) + np.abs(s * g) + np.abs(2 * a)) / np.abs(beta)
        r = s / eps
        sigma_l = -(g + r) - lam3
        p_l = c1 / eps - lam3 * sigma_l
        err_l = np.abs(g) + np.abs(r) + np.abs(lam3)
    use_l = dyn & (err_l < err_b) & np.isfinite(err_l)
    sigma = np.where(use_l, sigma_l, sigma_b)
    p = np.where(use_l, p_l, p_b)
    sigma[zero] = -g
    p[zero] = 0.0

    Q = eps**2 * p + eps * s * sigma + s**2
    with np.errstate(divide="ignore", invalid="ignore"):
        K = a * (s - eps * g) / Q
        L = -2 * I * eps * (p + g * sigma + g**2) / Q
    K[zero] = 0.0
    L[zero] = 0.0

    B = np.empty((n, 2, 2), dtype=complex)
    B[:, 0, 0] = -2 * K
    B[:, 0, 1] = 2 - 2 * L
    B[:, 1, 0] = -a / (2 * I)
    B[:, 1, 1] = -g
    m = 0.5 * (B[:, 0, 0] + B[:, 1, 1])
    delta = np.sqrt((0.5 * (B[:, 0, 0] - B[:, 1, 1])) ** 2 + B[:, 0, 1] * B[:, 1, 0])
    # m +- delta loses the smaller root to cancellation when the pair is widely separated (the
    # overdamped branch -i D q^2/I next to -2 i gamma_G at q << q_G): take the larger root without
    # cancellation and the smaller from the product of the pair, p (Vieta), which is accurate.
    with np.errstate(divide="ignore", invalid="ignore"):
        sign = np.where((np.conj(m) * delta).real >= 0, 1.0, -1.0)
        big = m + sign * delta
        small = np.where(big != 0, p / big, m - sign * delta)
    lam_slow = np.stack([big, small], axis=1)
    lam_slow[zero] = np.array([0.0, -g])

    # Trust check for the split (non-stiff, near-degenerate corners only).
    if np.any(dyn):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scale = np.max(np.abs(np.column_stack([lam_slow, lam3])), axis=1) + np.finfo(float).tiny
            iso = np.min(np.abs(lam_slow - lam3[:, None]), axis=1) / scale
            den = (eps * scale + s) ** 2  # 0 only where eps = s = 0 (e.g. q = 0): no graph there
        graph = np.divide(np.abs(Q), den, out=np.zeros(n), where=den > 0)
        trusted = (iso * graph > _SPLIT_SCORE_MIN) & np.isfinite(K) & np.isfinite(L)
        fallback |= dyn & ~trusted
    return ModeSplit(lam_slow=lam_slow, lam_fast=lam3, K=K, L=L, B=B, zero=zero, fallback=fallback)


def _expm_2x2(B: NDArray[np.complex128], t: float) -> NDArray[np.complex128]:
    """``exp(B t)`` for a batch of 2x2 matrices, exact at coalescing eigenvalues."""
    m = 0.5 * (B[:, 0, 0] + B[:, 1, 1])
    delta = np.sqrt((0.5 * (B[:, 0, 0] - B[:, 1, 1])) ** 2 + B[:, 0, 1] * B[:, 1, 0])
    x = delta * t
    small = np.abs(x) <= 1.0
    Bm = B - m[:, None, None] * np.eye(2)
    E = np.empty_like(B)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # |delta t| <= 1: entire functions of delta^2, no cancellation, no overflow.
        xs = x[small]
        tiny = np.abs(xs) < 1e-4
        x2 = xs * xs
        sinhc = np.where(tiny, 1 + x2 / 6 + x2 * x2 / 120, np.sinh(xs) / np.where(tiny, 1, xs))
        em = np.exp(m[small] * t)
        E[small] = em[:, None, None] * (
            np.cosh(xs)[:, None, None] * np.eye(2) + (t * sinhc)[:, None, None] * Bm[small]
        )
        # |delta t| > 1: well-separated eigenvalues, Sylvester's formula.
        big = ~small
        lp = (m + delta)[big]
        lm = (m - delta)[big]
        Bb = B[big]
        eye = np.eye(2)
        E[big] = (
            np.exp(lp * t)[:, None, None] * (Bb - lm[:, None, None] * eye)
            - np.exp(lm * t)[:, None, None] * (Bb - lp[:, None, None] * eye)
        ) / (2 * delta[big])[:, None, None]
    return E


def propagator(e: ModeEntries, t: float, split: ModeSplit | None = None) -> NDArray[np.complex128]:
    """The exact propagator ``U = exp(A(q) t)`` mapping ``(theta, Phi, mu)`` at time 0 to time t.

    Parameters
    ----------
    e
        Operator entries (any shape ``S``).
    t
        Time step (any size: the propagator is exact).
    split
        A precomputed :func:`split_modes` of ``e`` (optional).

    Returns
    -------
    complex array of shape ``(3, 3) + S``
        ``U[i, j]`` multiplies component j of the state to give component i. Where
        ``eps_hat = 0`` the columns of ``mu`` vanish and ``mu(t) = K theta(t)``: equation (3)
        is a constraint.
    """
    shape = e.shape
    fe = _flat(e)
    sp = split if split is not None else split_modes(fe)
    n = fe.eps.size
    E = _expm_2x2(sp.B, t)
    lam3 = sp.lam_fast
    stiff_inf = ~np.isfinite(lam3)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        e3 = np.where(stiff_inf, 0.0, np.exp(np.where(stiff_inf, 0.0, lam3) * t))
    # F = (lam3 - B)^{-1} (e3 - E) c with c = (-2, 0), scaled by 1/lam3 when |lam3| > 1.
    w0 = -2 * (e3 - E[:, 0, 0])
    w1 = 2 * E[:, 1, 0]
    big = np.abs(lam3) > 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scale = np.where(big & ~stiff_inf, lam3, 1.0)
        M00 = np.where(big, 1.0, lam3) - sp.B[:, 0, 0] / scale
        M11 = np.where(big, 1.0, lam3) - sp.B[:, 1, 1] / scale
        M01 = -sp.B[:, 0, 1] / scale
        M10 = -sp.B[:, 1, 0] / scale
        det = M00 * M11 - M01 * M10
        F0 = (M11 * w0 - M01 * w1) / det / scale
        F1 = (-M10 * w0 + M00 * w1) / det / scale
    F0 = np.where(stiff_inf, 0.0, F0)
    F1 = np.where(stiff_inf, 0.0, F1)
    K, L = sp.K, sp.L
    U = np.empty((3, 3, n), dtype=complex)
    U[0, 0] = E[:, 0, 0] - F0 * K
    U[0, 1] = E[:, 0, 1] - F0 * L
    U[1, 0] = E[:, 1, 0] - F1 * K
    U[1, 1] = E[:, 1, 1] - F1 * L
    U[0, 2] = F0
    U[1, 2] = F1
    U[2, 0] = K * U[0, 0] + L * U[1, 0] - e3 * K
    U[2, 1] = K * U[0, 1] + L * U[1, 1] - e3 * L
    U[2, 2] = K * F0 + L * F1 + e3

    z = sp.zero
    if np.any(z):
        g = fe.g
        U[:, :, z] = 0.0
        U[0, 0, z] = 1.0
        U[0, 1, z] = 2 * t if g == 0 else -2 * np.expm1(-g * t) / g
        U[1, 1, z] = np.exp(-g * t)
    fb = sp.fallback
    if np.any(fb):
        sub = ModeEntries(a=fe.a[fb], s=fe.s[fb], eps=fe.eps[fb], g=fe.g, I=fe.I)
        U[:, :, fb] = np.moveaxis(scipy.linalg.expm(operator_matrix(sub) * t), 0, -1)
    return U.reshape((3, 3) + shape)


def exact_frequencies(e: ModeEntries, split: ModeSplit | None = None) -> NDArray[np.complex128]:
    """The exact complex frequencies ``w_j(q) = i lambda_j``, the roots of det M(q, w) = 0.

    Returns
    -------
    complex array of shape ``S + (3,)``
        Columns 0 and 1: the slow pair (the collective modes), ordered by decreasing Re w;
        column 2: the isolated root (the dielectric relaxation ``w ~ -i s/eps_hat`` in the stiff
        limit). Where ``eps_hat = 0`` that root is absent (infinitely fast) and reported as NaN.
        At ``q = 0`` the pair is ``(0, -i g)``: the global phase and the relaxation of Phi.
    """
    shape = e.shape
    sp = split if split is not None else split_modes(e)
    with np.errstate(invalid="ignore"):
        w = 1j * np.column_stack([sp.lam_slow, sp.lam_fast])
    swap = w[:, 1].real > w[:, 0].real
    w[swap, 0], w[swap, 1] = w[swap, 1], w[swap, 0].copy()
    w[~np.isfinite(sp.lam_fast), 2] = np.nan
    if np.any(sp.fallback):
        fe = _flat(e)
        sub = ModeEntries(a=fe.a[sp.fallback], s=fe.s[sp.fallback], eps=fe.eps[sp.fallback], g=fe.g, I=fe.I)
        lam = np.linalg.eigvals(operator_matrix(sub))
        wf = 1j * lam
        order = np.argsort(-wf.real, axis=1)
        w[sp.fallback] = np.take_along_axis(wf, order, axis=1)
    return w.reshape(shape + (3,))


def eigenvector(e: ModeEntries, branch: int, split: ModeSplit | None = None) -> NDArray[np.complex128]:
    """Right eigenvector ``(theta, Phi, mu)`` of A(q) for the root ``exact_frequencies(...)[..., branch]``.

    Built in the block-triangular coordinates, so it is accurate in the stiff limit: for a slow
    root, ``(theta, Phi)`` is the eigenvector of B and ``mu = K theta + L Phi``. Normalised to
    unit Euclidean norm with a real, non-negative largest component.
    """
    shape = e.shape
    fe = _flat(e)
    sp = split if split is not None else split_modes(fe)
    w = exact_frequencies(fe, sp).reshape(-1, 3)[:, branch]
    lam = -1j * w
    B = sp.B
    v = np.zeros((fe.eps.size, 3), dtype=complex)
    if branch < 2:
        r1 = np.stack([B[:, 0, 1], lam - B[:, 0, 0]], axis=1)
        r2 = np.stack([lam - B[:, 1, 1], B[:, 1, 0]], axis=1)
        y = np.where(
            (np.linalg.norm(r1, axis=1) >= np.linalg.norm(r2, axis=1))[:, None], r1, r2
        )
        v[:, :2] = y
        v[:, 2] = sp.K * y[:, 0] + sp.L * y[:, 1]
    else:
        if np.any(~np.isfinite(sp.lam_fast)):
            raise ValueError("the isolated root is absent where eps_hat = 0 (equation (3) is a constraint)")
        M = lam[:, None, None] * np.eye(2) - B
        y = np.linalg.solve(M, np.stack([-2 + 0j * lam, 0 * lam], axis=1)[..., None])[..., 0]
        v[:, :2] = y
        v[:, 2] = sp.K * y[:, 0] + sp.L * y[:, 1] + 1.0
    if np.any(sp.fallback):
        sub = ModeEntries(a=fe.a[sp.fallback], s=fe.s[sp.fallback], eps=fe.eps[sp.fallback], g=fe.g, I=fe.I)
        A = operator_matrix(sub)
        for idx, Ai, li in zip(np.flatnonzero(sp.fallback), A, lam[sp.fallback]):
            _, _, vh = np.linalg.svd(Ai - li * np.eye(3))
            v[idx] = vh[-1].conj()
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    k = np.argmax(np.abs(v), axis=1)
    phase = v[np.arange(v.shape[0]), k]
    v *= (np.abs(phase) / phase)[:, None]
    return v.reshape(shape + (3,))
