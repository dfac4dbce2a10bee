r"""Fused compiled kernels of the ETDRK4 step and of the pseudo-spectral forcing (numba).

numpy and numexpr make one pass over memory per operation; the ETDRK4 step of
:mod:`tdgl_stt.integrators.etd` is memory-bound (a few complex multiply-adds per mode and per
coefficient), so each pass costs about as much as the arithmetic. The kernels here do, per
retained Fourier mode or per grid row, everything one stage needs in a single pass, with the
per-mode coefficients stored as one contiguous stream per coefficient (``(k, M)``, vector loads).
They implement no new mathematics: the equations are those of the modules that call them, and
the arithmetic of each kernel is written out in its docstring. Hand-written because no library
fuses a sequence of per-mode 3x3 complex multiply-adds with their FFT gathers (numexpr fuses
only element-wise expressions over arrays of one shape).

Every kernel is compiled once per machine (``cache=True``) and runs on one thread; the order of
the floating-point operations is fixed, so results are bitwise reproducible.

Arrays of the forcing are 2D here, the leading axes flattened into rows: a 1D grid is the case
of one row (``(1, K + 1)`` compact, ``(1, n//2 + 1)`` full). ``rows[i]`` is the full-spectrum
row of compact row ``i``; the retained columns are the leading ``kc`` columns of each row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "divergence_term",
    "etdrk4_final",
    "etdrk4_stage_a",
    "etdrk4_stage_b",
    "etdrk4_stage_c",
    "gather_rows",
    "load_rows",
    "multiply",
    "view_as",
]


def view_as(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` with the given shape as a view; raises if that needs a copy (a kernel writing into
    a silent copy would lose its output)."""
    v = a.view()
    v.shape = shape
    return v


# --------------------------------------------------------------------------- ETDRK4 stages
# The per-mode coefficients are stored as ``C[k, m]`` (coefficient ``k`` of mode ``m``): each of
# them is a contiguous stream, which the compiler turns into vector loads; they are real
# (``float64``) when ``A_ref(q)`` is real and complex otherwise (one compiled version each).
@njit(cache=True, nogil=True)
def etdrk4_stage_a(C: np.ndarray, x: np.ndarray, Nu: np.ndarray, Eu: np.ndarray, st: np.ndarray) -> None:
    r"""``Eu = E_2 u`` (rows theta, psi) and ``a = Eu + P N(u)``.

    ``C = (E_2[0, 0:3], E_2[1, 0:3], P[0, 0:2], P[1, 0:2])`` (10 rows) with ``E_2 = e^{hA/2}`` and
    ``P = (h/2) phi_1(hA/2)`` already multiplied by the forcing's normalisations; ``x`` is
    ``(3, M)``, ``Nu``, ``Eu`` and ``st`` are ``(2, M)``.
    """
    for m in range(x.shape[1]):
        x0 = x[0, m]
        x1 = x[1, m]
        x2 = x[2, m]
        n = Nu[0, m]
        d = Nu[1, m]
        e0 = C[0, m] * x0 + C[1, m] * x1 + C[2, m] * x2
        e1 = C[3, m] * x0 + C[4, m] * x1 + C[5, m] * x2
        Eu[0, m] = e0
        Eu[1, m] = e1
        st[0, m] = e0 + C[6, m] * n + C[7, m] * d
        st[1, m] = e1 + C[8, m] * n + C[9, m] * d


@njit(cache=True, nogil=True)
def etdrk4_stage_b(P: np.ndarray, Eu: np.ndarray, Na: np.ndarray, st: np.ndarray) -> None:
    r"""``b = E_2 u + P N(a)``; ``P = (P[0, 0:2], P[1, 0:2])`` (4 rows)."""
    for m in range(Eu.shape[1]):
        n = Na[0, m]
        d = Na[1, m]
        st[0, m] = Eu[0, m] + P[0, m] * n + P[1, m] * d
        st[1, m] = Eu[1, m] + P[2, m] * n + P[3, m] * d


@njit(cache=True, nogil=True)
def etdrk4_stage_c(C: np.ndarray, x: np.ndarray, Nu: np.ndarray, Na: np.ndarray, Nb: np.ndarray,
                   st: np.ndarray, out: np.ndarray) -> None:
    r"""Stage ``c`` and the first part of the new state, in one pass.

    ``c = E u + (E_2 P - P) N(u) + 2 P N(b)`` (rows theta, psi; ``E_2 a = E u + E_2 P N(u)``) and
    ``out = E u + F_1 N(u) + F_2 (N(a) + N(b))`` (3 rows; ``F_3 N(c)`` is added by
    :func:`etdrk4_final`). ``C = (E[0:3, 0:3] by rows, (E_2 P - P)[0:2, 0:2], 2 P[0:2, 0:2],
    F_1[0:3, 0:2], F_2[0:3, 0:2])``: 29 rows.
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
        e0 = C[0, m] * x0 + C[1, m] * x1 + C[2, m] * x2
        e1 = C[3, m] * x0 + C[4, m] * x1 + C[5, m] * x2
        e2 = C[6, m] * x0 + C[7, m] * x1 + C[8, m] * x2
        st[0, m] = e0 + C[9, m] * nu + C[10, m] * du + C[13, m] * nb + C[14, m] * db
        st[1, m] = e1 + C[11, m] * nu + C[12, m] * du + C[15, m] * nb + C[16, m] * db
        out[0, m] = e0 + C[17, m] * nu + C[18, m] * du + C[23, m] * sn + C[24, m] * sd
        out[1, m] = e1 + C[19, m] * nu + C[20, m] * du + C[25, m] * sn + C[26, m] * sd
        out[2, m] = e2 + C[21, m] * nu + C[22, m] * du + C[27, m] * sn + C[28, m] * sd


@njit(cache=True, nogil=True)
def etdrk4_final(F3: np.ndarray, Nc: np.ndarray, out: np.ndarray) -> None:
    r"""``out += F_3 N(c)``; ``F3 = F_3[0:3, 0:2]`` by rows (6 rows)."""
    for m in range(out.shape[1]):
        n = Nc[0, m]
        d = Nc[1, m]
        out[0, m] = out[0, m] + F3[0, m] * n + F3[1, m] * d
        out[1, m] = out[1, m] + F3[2, m] * n + F3[3, m] * d
        out[2, m] = out[2, m] + F3[4, m] * n + F3[5, m] * d


# --------------------------------------------------------------------------- forcing
@njit(cache=True, nogil=True)
def load_rows(compact: np.ndarray, target: np.ndarray, rows: np.ndarray, zeros: np.ndarray) -> None:
    r"""``target[rows[i]] = compact[i]`` (row copies; the other rows of ``target`` are not
    touched) and ``zeros[...] = 0``: the copy of the retained modes into the input of an inverse
    FFT (:class:`tdgl_stt.integrators.forcing.WorkTransforms`)."""
    for i in range(rows.size):
        src = compact[i]
        dst = target[rows[i]]
        for j in range(src.shape[0]):
            dst[j] = src[j]
    for r in range(zeros.shape[0]):
        z = zeros[r]
        for j in range(z.shape[0]):
            z[j] = 0.0


@njit(cache=True, nogil=True)
def multiply(coeff: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    r"""``out = coeff x``, row by row (vectorised; ``out`` may be ``x``): a product ``(r - 1) psi``,
    ``delta c^2 theta`` or ``w_i theta`` of the forcing, on real grid fields."""
    for r in range(x.shape[0]):
        xr = x[r]
        cr = coeff[r]
        o = out[r]
        for j in range(xr.shape[0]):
            o[j] = cr[j] * xr[j]


@njit(cache=True, nogil=True)
def gather_rows(full: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    r"""``out[i, j] = full[rows[i], j]``: the retained block of a full half-spectrum, compact."""
    for i in range(rows.size):
        r = rows[i]
        for j in range(out.shape[1]):
            out[i, j] = full[r, j]


@njit(cache=True, nogil=True)
def divergence_term(g: np.ndarray, rows: np.ndarray, q_rows: np.ndarray, q_columns: np.ndarray, k: int,
                    d_out: np.ndarray) -> None:
    r"""Term ``k`` of ``d = -|q|^2 F[delta c^2 theta] - i sum_a q_a F[w_a theta]``, the divergence
    of ``j - j_ref``, from ``g`` (rows of the retained columns of that forward FFT): ``k = 0``
    sets ``d = -|q|^2 g``, ``k = a + 1`` adds ``-i q_a g``. The wavevector is separable:
    ``q_rows[a, i]`` is component ``a`` (a leading axis) of compact row ``i``, ``q_columns[j]``
    the last component; ``|q|^2`` sums their squares in axis order."""
    nl = q_rows.shape[0]
    for i in range(rows.size):
        gr = g[rows[i]]
        dr = d_out[i]
        if k == 0:
            lead_q2 = 0.0
            for a in range(nl):
                lead_q2 += q_rows[a, i] * q_rows[a, i]
            for j in range(dr.shape[0]):
                dr[j] = -((lead_q2 + q_columns[j] * q_columns[j]) * gr[j])
        elif k <= nl:
            qa = q_rows[k - 1, i]
            for j in range(dr.shape[0]):
                dr[j] += -1j * (qa * gr[j])
        else:
            for j in range(dr.shape[0]):
                dr[j] += -1j * (q_columns[j] * gr[j])
