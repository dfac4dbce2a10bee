r"""Fused compiled kernels of the ETDRK4 step and of the pseudo-spectral forcing (numba).

numpy and numexpr make one pass over memory per operation; the ETDRK4 step of
:mod:`tdgl_stt.integrators.etd` is memory-bound (a few complex multiply-adds per mode and per
coefficient), so each pass costs about as much as the arithmetic. The kernels here do, per
retained Fourier mode or per grid row, everything one stage needs in a single pass, with the
per-mode coefficients stored interleaved (``(M, k)``, one cache line serves several of them).
They implement no new mathematics: the equations are those of the modules that call them, and
the arithmetic of each kernel is written out in its docstring. Hand-written because no library
fuses a sequence of per-mode 3x3 complex multiply-adds with their FFT gathers (numexpr fuses
only element-wise expressions over arrays of one shape).

Every kernel is compiled once per machine (``cache=True``) and runs on one thread; the order of
the floating-point operations is fixed, so results are bitwise reproducible.

Compact spectral arrays of the forcing are 2D here: a 1D grid is the case of one row
(``(1, K + 1)`` compact, ``(1, n//2 + 1)`` full). ``rows[i]`` is the full-spectrum row of compact
row ``i``; ``kc`` the number of retained columns (the leading columns of each retained row).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "etdrk4_final",
    "etdrk4_stage_a",
    "etdrk4_stage_b",
    "etdrk4_stage_c",
    "gather_n_and_divergence",
    "scatter_rows",
    "theta_products",
    "view_as",
]


def view_as(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` with the given shape as a view; raises if that needs a copy (a kernel writing into
    a silent copy would lose its output)."""
    v = a.view()
    v.shape = shape
    return v


# --------------------------------------------------------------------------- ETDRK4 stages
@njit(cache=True, nogil=True)
def etdrk4_stage_a(C: np.ndarray, x: np.ndarray, Nu: np.ndarray, Eu: np.ndarray, st: np.ndarray) -> None:
    r"""``Eu = E_2 u`` (rows theta, psi) and ``a = Eu + P N(u)``.

    ``C[m] = (E_2[0, 0:3], E_2[1, 0:3], P[0, 0:2], P[1, 0:2])`` with ``E_2 = e^{hA/2}`` and
    ``P = (h/2) phi_1(hA/2)`` already multiplied by the forcing's normalisations; ``x`` is
    ``(3, M)``, ``Nu``, ``Eu`` and ``st`` are ``(2, M)``.
    """
    for m in range(x.shape[1]):
        x0 = x[0, m]
        x1 = x[1, m]
        x2 = x[2, m]
        n = Nu[0, m]
        d = Nu[1, m]
        e0 = C[m, 0] * x0 + C[m, 1] * x1 + C[m, 2] * x2
        e1 = C[m, 3] * x0 + C[m, 4] * x1 + C[m, 5] * x2
        Eu[0, m] = e0
        Eu[1, m] = e1
        st[0, m] = e0 + C[m, 6] * n + C[m, 7] * d
        st[1, m] = e1 + C[m, 8] * n + C[m, 9] * d


@njit(cache=True, nogil=True)
def etdrk4_stage_b(P: np.ndarray, Eu: np.ndarray, Na: np.ndarray, st: np.ndarray) -> None:
    r"""``b = E_2 u + P N(a)``; ``P[m] = (P[0, 0:2], P[1, 0:2])``."""
    for m in range(Eu.shape[1]):
        n = Na[0, m]
        d = Na[1, m]
        st[0, m] = Eu[0, m] + P[m, 0] * n + P[m, 1] * d
        st[1, m] = Eu[1, m] + P[m, 2] * n + P[m, 3] * d


@njit(cache=True, nogil=True)
def etdrk4_stage_c(C: np.ndarray, x: np.ndarray, Nu: np.ndarray, Na: np.ndarray, Nb: np.ndarray,
                   st: np.ndarray, out: np.ndarray) -> None:
    r"""Stage ``c`` and the first part of the new state, in one pass.

    ``c = E u + (E_2 P - P) N(u) + 2 P N(b)`` (rows theta, psi; ``E_2 a = E u + E_2 P N(u)``) and
    ``out = E u + F_1 N(u) + F_2 (N(a) + N(b))`` (3 rows; ``F_3 N(c)`` is added by
    :func:`etdrk4_final`). ``C[m] = (E[0:3, 0:3] by rows, (E_2 P - P)[0:2, 0:2], 2 P[0:2, 0:2],
    F_1[0:3, 0:2], F_2[0:3, 0:2])``: 29 values.
    """
    for m in range(x.shape[1]):
        x0 = x[0, m]
        x1 = x[1, m]
        x2 = x[2, m]
        nu = Nu[0, m]
        du = Nu[1, m]
        nb = Nb[0, m]
        db = Nb[1, m]
        sn = Na[0, m] + nb
        sd = Na[1, m] + db
        for i in range(3):
            e = C[m, 3 * i] * x0 + C[m, 3 * i + 1] * x1 + C[m, 3 * i + 2] * x2
            if i < 2:
                st[i, m] = e + C[m, 9 + 2 * i] * nu + C[m, 10 + 2 * i] * du + C[m, 13 + 2 * i] * nb + C[m, 14 + 2 * i] * db
            out[i, m] = e + C[m, 17 + 2 * i] * nu + C[m, 18 + 2 * i] * du + C[m, 23 + 2 * i] * sn + C[m, 24 + 2 * i] * sd


@njit(cache=True, nogil=True)
def etdrk4_final(F3: np.ndarray, Nc: np.ndarray, out: np.ndarray) -> None:
    r"""``out += F_3 N(c)``; ``F3[m] = F_3[0:3, 0:2]`` by rows."""
    for m in range(out.shape[1]):
        n = Nc[0, m]
        d = Nc[1, m]
        for i in range(3):
            out[i, m] = out[i, m] + F3[m, 2 * i] * n + F3[m, 2 * i + 1] * d


# --------------------------------------------------------------------------- forcing
@njit(cache=True, nogil=True)
def scatter_rows(compact: np.ndarray, full: np.ndarray, owner: np.ndarray) -> None:
    r"""Copy the compact ``(R, kc)`` array into the retained block of ``full`` and zero the rest
    (the discarded modes of the 2/3 rule), row by row in memory order; ``owner[r]`` is the
    compact row of full row ``r``, or -1 for a discarded row."""
    kc = compact.shape[1]
    for r in range(full.shape[0]):
        i = owner[r]
        if i < 0:
            for j in range(full.shape[1]):
                full[r, j] = 0.0
        else:
            for j in range(kc):
                full[r, j] = compact[i, j]
            for j in range(kc, full.shape[1]):
                full[r, j] = 0.0


@njit(cache=True, nogil=True)
def theta_products(coeffs: np.ndarray, theta: np.ndarray, outs: tuple) -> None:
    r"""``outs[k] = coeffs[k] theta`` for every ``k`` in one pass over ``theta``: the products
    ``delta c^2 theta`` and ``w_i theta`` of the forcing. ``coeffs`` is ``(K, *shape)``."""
    K = coeffs.shape[0]
    for r in range(theta.shape[0]):
        for j in range(theta.shape[1]):
            t = theta[r, j]
            for k in range(K):
                outs[k][r, j] = coeffs[k, r, j] * t


@njit(cache=True, nogil=True)
def gather_n_and_divergence(g: tuple, rows: np.ndarray, q2: np.ndarray, qg: np.ndarray,
                            n_out: np.ndarray, d_out: np.ndarray) -> None:
    r"""From the forward FFTs ``g = (F[2 (r-1) psi], F[delta c^2 theta], F[w_1 theta], ...)``
    (full half-spectra), the compact ``n = g_0`` and
    ``d = -|q|^2 g_1 - i sum_i q_i g_{2+i}`` (the divergence of ``j - j_ref``), in one pass.
    ``q2`` is ``(R, kc)``, ``qg`` is ``(ndim, R, kc)``."""
    nd = qg.shape[0]
    g0 = g[0]
    g1 = g[1]
    for i in range(rows.size):
        r = rows[i]
        for j in range(n_out.shape[1]):
            n_out[i, j] = g0[r, j]
            acc = 0.0j
            for k in range(nd):
                acc += qg[k, i, j] * g[2 + k][r, j]
            d_out[i, j] = -(q2[i, j] * g1[r, j]) - 1j * acc

