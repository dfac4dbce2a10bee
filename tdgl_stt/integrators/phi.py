r"""The phi-functions ``phi_k(h A(q))`` of the per-mode operator, accurate in every limit.

Exponential integrators (``tdgl_stt.integrators.etd``) need, for every Fourier mode, the matrix
functions

.. math::

    \varphi_0(Z) = e^{Z}, \qquad \varphi_k(Z) = \sum_{j \ge 0} \frac{Z^j}{(j + k)!}
    = \int_0^1 e^{(1-s) Z} \frac{s^{k-1}}{(k-1)!}\, ds \quad (k \ge 1),

of ``Z = h A(q)``, the 3x3 operator of equations (1)-(3) (:mod:`tdgl_stt.model`). ``A(q)`` is not
normal, it is oscillatory (the Carlson-Goldman mode), its two slow roots merge at ``q = q_G``, its
isolated root (the dielectric relaxation) is ``1e10`` times faster than the slow ones in the stiff
limit, and at ``eps_hat = 0`` equation (3) is a constraint. A contour integral over a half circle
is wrong for oscillatory operators (DESIGN section 5) and an ``expm`` of ``h A`` loses the slow
modes to round-off in the stiff limit, so the construction follows the exact propagator
(:mod:`tdgl_stt.propagator`, ``docs/numerics.md`` section 4):

* In ``y = (theta, Phi)``, ``z = mu - K theta - L Phi`` the operator is block upper triangular,
  ``[[B, c], [0, lambda_3]]`` with ``c = (-2, 0)``. For any function ``f``

  .. math::  f(hA) = \begin{pmatrix} f(hB) & X \\ 0 & f(h\lambda_3) \end{pmatrix}, \qquad
             X = (B - \lambda_3)^{-1}\,[f(hB) - f(h\lambda_3)]\, c ,

  (from ``A f(A) = f(A) A``). Where the isolated root is stiff, ``|h lambda_3| >= 1`` and
  ``|lambda_3| >= 4 |eig B|``, this divided difference has no cancellation and is used.
* ``phi_k`` of the 2x2 block ``hB`` (and, where the isolated root is not stiff, of the 3x3
  ``hA`` itself, which is then well scaled) comes from *scaling and modified squaring*
  (Skaflestad and Wright, Appl. Numer. Math. 59, 783 (2009)): a 16-term Taylor series at ``Z / 2^s`` with
  ``||Z / 2^s||_1 <= 1/2`` (truncation error below ``1e-20``), then ``s`` doublings
  ``phi_0(2Z) = phi_0(Z)^2``,
  ``phi_k(2Z) = 2^{-k} [phi_0(Z) phi_k(Z) + sum_{j=1}^{k} phi_j(Z)/(k - j)!]``, after a diagonal
  (power-of-two) balancing of the non-normal matrix. This is the augmented-matrix exponential
  ``exp([[Z, I, 0, 0], [0, 0, I, 0], ...])`` of the literature, evaluated block by block.
* The scalar ``phi_k(h lambda_3)``: Taylor series for ``|z| < 2``, the recursion
  ``phi_k = (phi_{k-1} - 1/(k-1)!)/z`` (started from ``expm1``) for ``|z| >= 2``.
* ``eps_hat = 0``: ``lambda_3 = -inf``, ``phi_k(h lambda_3) = 0`` and ``X = 0``; equation (3) is
  the constraint ``mu = K theta + L Phi`` (``L = 0``), which every ``phi_k(hA)`` respects.
* Where the isolated root is not stiff (``|h lambda_3| < 1`` or comparable to the slow roots), or
  the propagator does not trust the split (non-stiff, near-triple roots), the 3x3 ``h A`` itself
  goes through scaling and modified squaring: its entries are then of moderate size, and every
  entry, down to the ``O(h^2)`` ones of a tiny step, is accurate to round-off.
* ``q = 0``: ``mu_0 = 0`` (the gauge), ``(theta_0, Phi_0)`` evolve with ``B_0 = [[0, 2], [0, -g]]``.

The response to a charge source
-------------------------------
With non-uniform coefficients, equation (3) receives ``eps_hat d mu/dt = ... + R`` where ``R`` is
the divergence of a current (``tdgl_stt.variable_model``), i.e. a forcing ``R / eps_hat`` on
``mu``, huge where ``eps_hat`` is small and infinite where it vanishes. The product
``phi_k(hA) e_mu / eps_hat`` is finite in every limit; it is returned as
:attr:`PhiMatrices.source`, computed from ``X / eps_hat = (eps_hat B + beta)^{-1} [f(hB) -
f(h lambda_3)] c`` and ``phi_k(h lambda_3)/eps_hat`` with ``beta = -eps_hat lambda_3`` (which tends
to ``s = 2 D q^2`` as ``eps_hat -> 0``: ``phi_k(h lambda_3)/eps_hat -> 1/((k-1)! h beta)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import ModeEntries, operator_matrix
from ..propagator import ModeSplit, split_modes

__all__ = ["PhiMatrices", "phi_batch", "phi_matrices", "phi_scalar"]

#: Scaled norm bound and Taylor terms of the scaling-and-squaring step: 0.5^17/17! < 1e-20.
_THETA = 0.5
_TERMS = 16
#: The divided-difference form is used where |h lambda_3| >= _STIFF_Z and |lambda_3| >= _SEP |eig B|.
_STIFF_Z = 1.0
_SEP = 4.0


def phi_scalar(z: NDArray[np.complex128], kmax: int) -> NDArray[np.complex128]:
    """``phi_0(z) .. phi_kmax(z)`` for complex scalars, shape ``(kmax + 1,) + z.shape``.

    Taylor series (40 terms, remainder below ``2^41/41! ~ 1e-37``) for ``|z| < 2``; for ``|z| >= 2``
    ``phi_1 = expm1(z)/z`` and the recursion ``phi_k(z) = (phi_{k-1}(z) - 1/(k-1)!)/z``, which loses
    less than a factor ``k`` to cancellation there. ``z = -inf`` (a constraint) gives ``phi_k = 0``.
    """
    z = np.asarray(z, dtype=complex)
    out = np.zeros((kmax + 1,) + z.shape, dtype=complex)
    neg_inf = np.isneginf(z.real)
    small = (np.abs(z) < 2.0) & ~neg_inf
    large = ~small & ~neg_inf
    zs = z[small]
    for k in range(kmax + 1):
        acc = np.zeros_like(zs)
        for j in range(40, -1, -1):
            acc = acc * zs + 1.0 / math.factorial(j + k)
        out[k][small] = acc
    zl = z[large]
    with np.errstate(over="ignore", invalid="ignore"):
        out[0][large] = np.exp(zl)
        if kmax >= 1:
            prev = _expm1(zl) / zl
            out[1][large] = prev
            for k in range(2, kmax + 1):
                prev = (prev - 1.0 / math.factorial(k - 1)) / zl
                out[k][large] = prev
    return out


def _expm1(z: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """``exp(z) - 1`` for complex z without cancellation: ``expm1(x) cos y - 2 sin^2(y/2) + i e^x sin y``."""
    x, y = z.real, z.imag
    with np.errstate(over="ignore", invalid="ignore"):
        re = np.expm1(x) * np.cos(y) - 2.0 * np.sin(0.5 * y) ** 2
        im = np.exp(x) * np.sin(y)
    return re + 1j * im


def _balance(Z: NDArray[np.complex128]) -> NDArray[np.float64]:
    """Power-of-two diagonal ``d`` making the off-diagonal row and column sums of
    ``diag(d)^-1 Z diag(d)`` comparable (Parlett-Reinsch sweeps, batched)."""
    n, m, _ = Z.shape
    d = np.ones((n, m))
    absZ = np.abs(Z)
    off = ~np.eye(m, dtype=bool)
    for _ in range(4):
        for i in range(m):
            W = absZ * (d[:, None, :] / d[:, :, None])
            r = np.sum(np.where(off[i], W[:, i, :], 0.0), axis=1)
            c = np.sum(np.where(off[:, i], W[:, :, i], 0.0), axis=1)
            ok = (r > 0) & (c > 0) & np.isfinite(r) & np.isfinite(c)
            f = np.ones(n)
            with np.errstate(divide="ignore", invalid="ignore"):
                f[ok] = np.exp2(np.round(0.5 * np.log2(r[ok] / c[ok])))
            d[:, i] *= f
    return d


def phi_batch(Z: NDArray[np.complex128], kmax: int) -> NDArray[np.complex128]:
    """``phi_0(Z_n) .. phi_kmax(Z_n)`` for a stack of small matrices ``Z`` of shape ``(N, m, m)``.

    Scaling and modified squaring (module docstring): balance, scale by ``2^-s`` with
    ``s = ceil(log2(||Z||_1 / 0.5))`` per matrix, Taylor series, then ``s`` doublings.

    Returns
    -------
    complex array of shape ``(kmax + 1, N, m, m)``
    """
    Z = np.asarray(Z, dtype=complex)
    n, m, _ = Z.shape
    out = np.zeros((kmax + 1, n, m, m), dtype=complex)
    if n == 0:
        return out
    d = _balance(Z)
    Zb = Z * (d[:, None, :] / d[:, :, None])
    norm = np.max(np.sum(np.abs(Zb), axis=1), axis=1)
    with np.errstate(divide="ignore"):
        s = np.where(norm > _THETA, np.ceil(np.log2(norm / _THETA)), 0.0).astype(int)
    Zs = Zb / np.exp2(s)[:, None, None]
    eye = np.broadcast_to(np.eye(m, dtype=complex), (n, m, m))
    for k in range(kmax + 1):
        acc = eye / math.factorial(_TERMS + k)
        for j in range(_TERMS - 1, -1, -1):
            acc = Zs @ acc + eye / math.factorial(j + k)
        out[k] = acc
    for level in range(int(s.max(initial=0))):
        idx = np.flatnonzero(s > level)
        P = out[:, idx]
        new = np.empty_like(P)
        new[0] = P[0] @ P[0]
        for k in range(1, kmax + 1):
            acc = P[0] @ P[k]
            for j in range(1, k + 1):
                acc = acc + P[j] / math.factorial(k - j)
            new[k] = acc / 2.0**k
        out[:, idx] = new
    # Undo the balancing: phi(Z) = D phi(Zb) D^-1.
    return out * (d[None, :, :, None] / d[None, :, None, :])


def _flat(e: ModeEntries) -> ModeEntries:
    """``e`` with every array flattened to one dimension."""
    return ModeEntries(a=np.ravel(e.a).astype(complex), s=np.ravel(e.s).astype(float),
                       eps=np.ravel(e.eps).astype(float), g=float(e.g), I=float(e.I))


@dataclass(frozen=True)
class PhiMatrices:
    """``phi_k(h A(q))``, ``k = 0 .. kmax``, for a flat batch of N modes.

    Attributes
    ----------
    h : float
        The step.
    full : complex array (kmax + 1, 3, 3, N)
        ``phi_k(hA)`` in the basis ``(theta, Phi, mu)``: ``full[k, i, j]`` maps component j to i.
        Where ``eps_hat = 0`` the ``mu`` columns vanish (equation (3) is a constraint) and at
        ``q = 0`` the ``mu`` row vanishes (the gauge ``mu_0 = 0``).
    source : complex array (kmax + 1, 3, N)
        ``phi_k(hA) e_mu / eps_hat``: the response to a charge source ``R`` entering
        ``eps_hat d mu/dt = ... + R``; finite at ``eps_hat = 0``, zero at ``q = 0``.
    method : int array (N,)
        How each mode was computed: 0 the stiff divided difference, 1 scaling and squaring of
        the 3x3 ``hA`` (non-stiff isolated root), 2 the same where the propagator does not trust
        the split, 3 ``q = 0``, 4 the constraint ``eps_hat = 0``.
    """

    h: float
    full: NDArray[np.complex128]
    source: NDArray[np.complex128]
    method: NDArray[np.int_]


def phi_matrices(e: ModeEntries, h: float, kmax: int = 3, split: ModeSplit | None = None) -> PhiMatrices:
    """``phi_k(h A(q))`` for ``k = 0 .. kmax`` and every mode of ``e`` (flattened).

    Parameters
    ----------
    e
        Operator entries of equations (1)-(3) (any shape; flattened in the result).
    h
        Step (> 0).
    kmax
        Highest phi-function.
    split
        A precomputed :func:`tdgl_stt.propagator.split_modes` of ``e``.
    """
    fe = _flat(e)
    sp = split if split is not None else split_modes(fe)
    n = fe.eps.size
    K, L, B, lam3 = sp.K, sp.L, sp.B, sp.lam_fast
    eps = fe.eps
    full = np.zeros((kmax + 1, 3, 3, n), dtype=complex)
    source = np.zeros((kmax + 1, 3, n), dtype=complex)
    method = np.full(n, -1, dtype=int)

    zero = sp.zero
    constraint = ~np.isfinite(lam3) & ~zero
    fallback = sp.fallback & ~zero & ~constraint
    rest = ~zero & ~constraint & ~fallback
    with np.errstate(invalid="ignore", over="ignore"):
        eig_b = np.max(np.abs(sp.lam_slow), axis=1)
        stiff = rest & (np.abs(h * lam3) >= _STIFF_Z) & (np.abs(lam3) >= _SEP * eig_b)
    direct = (rest & ~stiff) | fallback
    dd = stiff | constraint

    # Block y: phi_k(hB) for every mode that uses the divided difference or q = 0.
    need_b = dd | zero
    idx_b = np.flatnonzero(need_b)
    PB = phi_batch(h * B[idx_b], kmax)  # (k, nb, 2, 2)
    PB_full = np.zeros((kmax + 1, n, 2, 2), dtype=complex)
    PB_full[:, idx_b] = PB

    # Stiff divided difference and constraint: X = (B - lam3)^{-1} [phi(hB) - phi(h lam3)] c.
    idx = np.flatnonzero(dd)
    if idx.size:
        l3 = lam3[idx]
        con = ~np.isfinite(l3)
        ps = phi_scalar(np.where(con, -np.inf, h * np.where(con, 0.0, l3)), kmax)  # (k, nd)
        beta = np.where(con, fe.s[idx], -eps[idx] * np.where(con, 0.0, l3))
        Bi = B[idx]
        ep = eps[idx]
        # M = eps B + beta (= eps (B - lam3)); its inverse applied to w = (phi(hB) - phi(hl3)) c.
        M00 = ep * Bi[:, 0, 0] + beta
        M01 = ep * Bi[:, 0, 1]
        M10 = ep * Bi[:, 1, 0]
        M11 = ep * Bi[:, 1, 1] + beta
        det = M00 * M11 - M01 * M10
        Kd, Ld = K[idx], L[idx]
        for k in range(kmax + 1):
            P = PB_full[k, idx]
            w0 = -2.0 * (P[:, 0, 0] - ps[k])
            w1 = -2.0 * P[:, 1, 0]
            Xs0 = (M11 * w0 - M01 * w1) / det  # X / eps
            Xs1 = (-M10 * w0 + M00 * w1) / det
            X0, X1 = ep * Xs0, ep * Xs1
            with np.errstate(invalid="ignore", divide="ignore"):
                zs = np.where(con, 0.0 if k == 0 else 1.0 / (math.factorial(k - 1) * h * beta), ps[k] / np.where(con, 1.0, ep))
            z = np.where(con, 0.0, ps[k])
            _assemble(full[k], source[k], idx, P, X0, X1, z, Xs0, Xs1, zs, Kd, Ld)
        method[idx] = np.where(con, 4, 0)

    # Non-stiff isolated root, or an untrusted split: the 3x3 h A itself, which is well scaled.
    idx = np.flatnonzero(direct)
    if idx.size:
        sub = ModeEntries(a=fe.a[idx], s=fe.s[idx], eps=eps[idx], g=fe.g, I=fe.I)
        P3 = phi_batch(h * operator_matrix(sub), kmax)
        for k in range(kmax + 1):
            full[k][:, :, idx] = np.moveaxis(P3[k], 0, -1)
            source[k][:, idx] = np.moveaxis(P3[k][:, :, 2], 0, -1) / eps[idx]
        method[idx] = np.where(fallback[idx], 2, 1)

    # q = 0: (theta_0, Phi_0) evolve with B_0, mu_0 = 0 is the gauge.
    idx = np.flatnonzero(zero)
    if idx.size:
        for k in range(kmax + 1):
            P = PB_full[k, idx]
            full[k][:2, :2, idx] = np.moveaxis(P, 0, -1).reshape(2, 2, idx.size)
        method[idx] = 3
    return PhiMatrices(h=float(h), full=full, source=source, method=method)


def _assemble(full_k, source_k, idx, P, X0, X1, z, Xs0, Xs1, zs, K, L) -> None:
    """Write ``T^{-1} [[P, X], [0, z]] T`` (``T``: ``(theta, Phi, mu) -> (y, z)``) into ``full_k``
    and ``T^{-1} (X/eps, z/eps)`` into ``source_k`` at modes ``idx``.

    With ``z_coord = mu - K theta - L Phi``: column theta of the y-z matrix is
    ``[P e_0 - K X, -K z]``, column Phi is ``[P e_1 - L X, -L z]``, column mu is ``[X, z]``; the
    row mu of the result is row z plus ``K`` row theta plus ``L`` row Phi.
    """
    cols = (
        (P[:, 0, 0] - K * X0, P[:, 1, 0] - K * X1, -K * z),
        (P[:, 0, 1] - L * X0, P[:, 1, 1] - L * X1, -L * z),
        (X0, X1, z),
    )
    for j, (y0, y1, zz) in enumerate(cols):
        full_k[0, j, idx] = y0
        full_k[1, j, idx] = y1
        full_k[2, j, idx] = zz + K * y0 + L * y1
    source_k[0, idx] = Xs0
    source_k[1, idx] = Xs1
    source_k[2, idx] = zs + K * Xs0 + L * Xs1
