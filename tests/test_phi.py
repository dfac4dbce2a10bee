"""phi_k(h A(q)) against 60-digit references: tiny h A, the stiff limit (dielectric rate 1e10
times the mode rates and more), the Carlson-Goldman point q = q_G, q = 0 and eps_hat = 0, and the
scalar and batched building blocks. The reference is mpmath's exponential of the augmented matrix
[[hA, I, 0, 0], [0, 0, I, 0], [0, 0, 0, I], [0, 0, 0, 0]], whose first block row is
(e^{hA}, phi_1, phi_2, phi_3)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from physics_cases import model

from tdgl_stt.integrators.phi import phi_batch, phi_matrices, phi_scalar
from tdgl_stt.model import ModeEntries, mode_entries
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.propagator import propagator, split_modes

KMAX = 3


def _mp_phi(M: mp.matrix, kmax: int = KMAX) -> list[mp.matrix]:
    """phi_0..phi_kmax of the square mpmath matrix M by the augmented-matrix exponential."""
    m = M.rows
    n = m * (kmax + 1)
    W = mp.zeros(n, n)
    for i in range(m):
        for j in range(m):
            W[i, j] = M[i, j]
    for k in range(kmax):
        for i in range(m):
            W[m * k + i, m * (k + 1) + i] = 1
    E = mp.expm(W)
    return [E[0:m, m * k : m * (k + 1)] for k in range(kmax + 1)]


def _mp_operator(e: ModeEntries, i: int, eps_override: float | None = None) -> mp.matrix:
    a = mp.mpc(complex(e.a.ravel()[i]))
    s = mp.mpf(float(e.s.ravel()[i]))
    eps = mp.mpf(float(e.eps.ravel()[i]) if eps_override is None else eps_override)
    g, I = mp.mpf(e.g), mp.mpf(e.I)
    return mp.matrix([[0, 2, -2], [-a / (2 * I), -g, 0], [a / eps, 0, -s / eps]])


def _reference(e: ModeEntries, h: float, eps_override: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(full (k, 3, 3, N), source (k, 3, N)) in 60 digits."""
    n = e.a.size
    full = np.zeros((KMAX + 1, 3, 3, n), complex)
    src = np.zeros((KMAX + 1, 3, n), complex)
    with mp.workdps(60):
        for i in range(n):
            eps = mp.mpf(float(e.eps.ravel()[i]) if eps_override is None else eps_override)
            P = _mp_phi(mp.mpf(h) * _mp_operator(e, i, eps_override))
            for k in range(KMAX + 1):
                for r in range(3):
                    for c in range(3):
                        full[k, r, c, i] = complex(P[k][r, c])
                    src[k, r, i] = complex(P[k][r, 2] / eps)
    return full, src


def _scaled_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest entrywise error of 3x3 matrices (shape (3, 3, N)) relative to
    sqrt(max |row i| * max |column j|).

    The fields theta, Phi, mu have different natural units; this measure does not change when
    they are rescaled, and it is the plain relative error for an entry as large as its row and
    column. An entry whose row or column vanishes must vanish exactly."""
    row = np.max(np.abs(ref), axis=1)[:, None, :]
    col = np.max(np.abs(ref), axis=0)[None, :, :]
    scale = np.sqrt(row * col)
    diff = np.abs(got - ref)
    if np.any(diff[scale == 0] != 0):
        return math.inf
    return float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)))


def _check(e: ModeEntries, h: float, tol: float = 1e-12, eps_override: float | None = None) -> np.ndarray:
    P = phi_matrices(e, h, KMAX)
    full, src = _reference(e, h, eps_override)
    for k in range(KMAX + 1):
        err = _scaled_error(P.full[k], full[k])
        assert err < tol, f"phi_{k}: scaled error {err:.2e}"
        norm = np.linalg.norm(P.full[k] - full[k], axis=(0, 1)) / np.linalg.norm(full[k], axis=(0, 1))
        assert norm.max() < tol, f"phi_{k}: normwise error {norm.max():.2e}"
        serr = np.abs(P.source[k] - src[k]) / np.max(np.abs(src[k]), axis=0)
        assert serr.max() < tol, f"phi_{k} source column: {serr.max():.2e}"
    return P.method


def test_phi_scalar_against_mpmath():
    """Taylor branch, recursion branch and the switch between them; z = -inf is a constraint."""
    zs = np.array([0, 1e-12, -1e-8 + 2e-8j, 0.3 - 0.2j, 0.999, -1.0, 1.0001j, 1.9999, -2.0001j, -3 + 4j, 12.0, -40.0, -1e6 + 5j, 30j])
    got = phi_scalar(zs, 4)
    with mp.workdps(50):
        for i, z in enumerate(zs):
            zm = mp.mpc(complex(z))
            ref = [mp.e**zm]
            for k in range(1, 5):
                # phi_k(z) = (phi_{k-1}(z) - 1/(k-1)!)/z, exact in 50 digits away from 0
                ref.append((ref[-1] - mp.mpf(1) / mp.factorial(k - 1)) / zm if z != 0 else mp.mpf(1) / mp.factorial(k))
            if abs(z) < 1e-6:  # the recursion cancels in mpmath too: use the series
                ref = [mp.nsum(lambda j, zz=zm, kk=k: zz**j / mp.factorial(j + kk), [0, mp.inf]) for k in range(5)]
            for k in range(5):
                assert abs(got[k, i] - complex(ref[k])) <= 2e-15 * abs(complex(ref[k])), (z, k)
    np.testing.assert_array_equal(phi_scalar(np.array([-np.inf]), 3), 0.0)


def test_phi_batch_against_mpmath():
    """Random, badly scaled, Jordan and oscillatory matrices, norms from 1e-9 to 1e3."""
    rng = np.random.default_rng(3)
    mats = [rng.normal(size=(3, 3)) * 1e-9, rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)),
            np.array([[-2.0, 1.0, 0], [0, -2.0, 1.0], [0, 0, -2.0]]) * 7,
            np.array([[0, 1e3, 0], [-1e-1, 0, 0], [0, 0, -5.0]]),
            np.diag([1e-3, -300.0, 40j]) + np.triu(rng.normal(size=(3, 3)), 1)]
    got = phi_batch(np.array(mats, dtype=complex), KMAX)
    with mp.workdps(60):
        for i, M in enumerate(mats):
            ref = _mp_phi(mp.matrix(M.tolist()))
            for k in range(KMAX + 1):
                R = np.array(ref[k].tolist(), dtype=complex)
                err = np.linalg.norm(got[k, i] - R) / np.linalg.norm(R)
                assert err < 1e-13, (i, k, err)


@pytest.mark.parametrize("kernel", ["bulk", "film"])
def test_tiny_h_A(kernel):
    """|h A| ~ 1e-8: every entry, down to the O(h^2) ones, to 1e-12 relative."""
    m = model(coulomb=kernel, ks=3.0, grad_T=0.05, tauE=30.0) if kernel == "bulk" else model(2, coulomb="film", ks=0.5, d=2, grad_T=0.05, angle=0.4)
    c = coefficients_from_model(m)
    ndim = len(c.vT)
    q = np.array([[0.3], [1.0], [5.0]]) * c.q_G * np.ones(ndim)
    e = mode_entries(c, q.T)
    sp = split_modes(e)
    rate = np.max(np.abs(np.column_stack([sp.lam_slow, sp.lam_fast])))
    _check(e, 1e-8 / rate)


def test_stiff_limit():
    """Dielectric rate / mode rate > 1e10 with torque and tau_E, for h from below to far above the
    mode time scales: the stiff divided difference (method 0) is used and exact."""
    c = coefficients_from_model(model(coulomb="bulk", ks=3e6, grad_T=0.05, tauE=30.0))
    q = np.array([[0.3 * c.q_G], [c.q_G], [7 * c.q_G], [-2.0]])
    e = mode_entries(c, q.T)
    sp = split_modes(e)
    assert (np.abs(sp.lam_fast) / np.abs(sp.lam_slow).max(axis=1)).min() > 1e10
    for h in (0.05 / c.gamma_G, 1.0 / c.gamma_G, 20.0 / c.gamma_G):
        assert np.all(_check(e, h) == 0)


def test_carlson_goldman_point():
    """At the q where the slow pair merges (B is a Jordan block: its discriminant vanishes)."""
    from scipy.optimize import brentq

    c = coefficients_from_model(model(coulomb="bulk", ks=1e4, grad_T=0.0))

    def disc(qq: float) -> float:
        B = split_modes(mode_entries(c, np.array([[qq]]))).B[0]
        return float((0.25 * (B[0, 0] - B[1, 1]) ** 2 + B[0, 1] * B[1, 0]).real)

    qs = np.linspace(0.05, 5.0, 200) * c.q_G
    vals = np.array([disc(v) for v in qs])
    i = int(np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))[0])
    q = brentq(disc, qs[i], qs[i + 1], xtol=1e-16, rtol=1e-15)
    e = mode_entries(c, np.array([[q]]))
    sp = split_modes(e)
    assert abs(sp.lam_slow[0, 0] - sp.lam_slow[0, 1]) < 1e-6 * abs(sp.lam_slow[0, 0])
    for h in (0.3 / c.gamma_G, 4.0 / c.gamma_G):
        _check(e, h)


def test_non_stiff_isolated_root_and_direct_method():
    """Dielectric root comparable to the slow ones (ks of order q): the 3x3 h A directly (method 1)."""
    c = coefficients_from_model(model(coulomb="bulk", ks=0.05, grad_T=0.05))
    q = np.array([[0.02], [0.05], [0.1]])
    e = mode_entries(c, q.T)
    methods = _check(e, 5.0)
    assert np.any(methods == 1)


def test_q_zero_gauge_and_phase():
    """q = 0: (theta, Phi) evolve with B_0 = [[0, 2], [0, -g]], mu_0 = 0 is the gauge."""
    c = coefficients_from_model(model(coulomb="bulk", ks=3.0, tauE=7.0))
    e = mode_entries(c, np.zeros((1, 1)))
    h = 2.5
    P = phi_matrices(e, h, KMAX)
    assert P.method[0] == 3
    with mp.workdps(50):
        ref = _mp_phi(mp.mpf(h) * mp.matrix([[0, 2], [0, -mp.mpf(c.g)]]))
    for k in range(KMAX + 1):
        R = np.array(ref[k].tolist(), dtype=complex)
        np.testing.assert_allclose(P.full[k, :2, :2, 0], R, rtol=1e-14, atol=1e-300)
        assert np.all(P.full[k, 2, :, 0] == 0) and np.all(P.full[k, :, 2, 0] == 0)
        assert np.all(P.source[k, :, 0] == 0)


def test_constraint_eps_hat_zero_is_the_limit():
    """eps_hat = 0: phi_k equals the eps_hat -> 0 limit of the full operator (reference at
    eps_hat = 1e-40, 60 digits), the mu columns vanish and every output obeys mu = K theta."""
    c = coefficients_from_model(model(grad_T=0.05, tauE=25.0))
    q = np.array([[0.2 * c.q_G], [c.q_G], [9 * c.q_G]])
    e = mode_entries(c, q.T)
    assert np.all(e.eps == 0)
    for h in (0.1 / c.gamma_G, 3.0 / c.gamma_G):
        P = phi_matrices(e, h, KMAX)
        assert np.all(P.method == 4)
        full, src = _reference(e, h, eps_override=1e-40)
        for k in range(KMAX + 1):
            assert _scaled_error(P.full[k], full[k]) < 1e-12
            np.testing.assert_allclose(P.source[k], src[k], rtol=1e-12)
            np.testing.assert_array_equal(P.full[k][:, 2], 0.0)
            np.testing.assert_allclose(P.full[k][2, :2], (e.a / e.s) * P.full[k][0, :2], rtol=1e-14)


def test_phi0_is_the_exact_propagator():
    """phi_0(hA) = exp(hA) of tdgl_stt.propagator, on a whole grid of modes with every method."""
    for m in (model(coulomb="bulk", ks=1e6, grad_T=0.05, tauE=40.0), model(grad_T=0.05), model(coulomb="bulk", ks=0.05)):
        c = coefficients_from_model(m)
        q = np.linspace(-3, 3, 61)[None, :] * c.q_G
        e = mode_entries(c, q)
        for h in (0.2 / c.gamma_G, 5 / c.gamma_G):
            P = phi_matrices(e, h, 1)
            U = propagator(e, h)
            assert _scaled_error(P.full[0], U) < 1e-12


def test_phi_recurrence_identity():
    """phi_k(Z) = Z phi_{k+1}(Z) + I/k! away from the stiff limit (an independent identity)."""
    c = coefficients_from_model(model(coulomb="bulk", ks=3.0, grad_T=0.05, tauE=30.0))
    q = np.linspace(0.1, 4, 9)[None, :] * c.q_G
    e = mode_entries(c, q)
    from tdgl_stt.model import operator_matrix

    A = np.moveaxis(operator_matrix(e), 0, -1)
    h = 1.3 / c.gamma_G
    P = phi_matrices(e, h, KMAX)
    for k in range(KMAX):
        lhs = P.full[k]
        rhs = h * np.einsum("ijn,jkn->ikn", A, P.full[k + 1]) + np.eye(3)[:, :, None] / math.factorial(k)
        assert _scaled_error(rhs, lhs) < 1e-11
