"""The exact propagator U(q, t) = exp(A(q) t): against an independent stiff ODE solve, its
conservation law, reality, the gauge at q = 0, the semigroup property and the Eq. 23 limit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from physics_cases import CASES, model
from tdgl_stt.api import exact_modes
from tdgl_stt.grid import Grid
from tdgl_stt.model import mode_entries, operator_matrix
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.propagator import propagator, split_modes


def entries_at(c, q):
    q = np.atleast_2d(np.asarray(q, dtype=float))
    return mode_entries(c, q.T)


@pytest.mark.parametrize(
    "label,m",
    [(l, m) for l, m in CASES if m.coulomb != "none" and m.ks < 1e3],
    ids=[l for l, m in CASES if m.coulomb != "none" and m.ks < 1e3],
)
def test_propagator_matches_radau_from_random_states(label, m):
    """scipy's Radau (implicit, order 5) at rtol = 1e-12 on dx/dt = A(q) x from random states."""
    c = coefficients_from_model(m)
    rng = np.random.default_rng(7)
    ndim = len(c.vT)
    for qmag in (0.3 * c.q_G, c.q_G, 4 * c.q_G):
        qdir = rng.normal(size=ndim)
        q = qmag * qdir / np.linalg.norm(qdir)
        e = entries_at(c, q)
        A = operator_matrix(e)[0]
        Areal = np.block([[A.real, -A.imag], [A.imag, A.real]])  # Radau is real-only
        x0 = rng.normal(size=3) + 1j * rng.normal(size=3)
        t = 1.2 / c.gamma_G
        sol = solve_ivp(
            lambda _t, y: Areal @ y, (0, t), np.concatenate([x0.real, x0.imag]),
            method="Radau", jac=Areal, rtol=1e-12, atol=1e-14 * np.abs(x0).max(),
        )
        ref = sol.y[:3, -1] + 1j * sol.y[3:, -1]
        U = propagator(e, t)[..., 0]
        np.testing.assert_allclose(U @ x0, ref, rtol=0, atol=2e-9 * max(np.abs(x0).max(), np.abs(ref).max()))


def test_semigroup_and_identity_in_stiff_limit():
    """U(t1) U(t2) = U(t1 + t2) and U(0) = 1 (eps_hat > 0) to round-off, with the dielectric
    rate 1e12 times the mode rates."""
    c = coefficients_from_model(model(coulomb="bulk", ks=3e6, grad_T=0.05, tauE=30.0))
    q = np.array([[0.3 * c.q_G], [c.q_G], [7 * c.q_G], [-2.0]])
    e = mode_entries(c, q.T)
    sp = split_modes(e)
    rate = np.abs(sp.lam_fast) / np.abs(sp.lam_slow).max(axis=1)
    assert rate.min() > 1e10
    U1 = np.moveaxis(propagator(e, 0.37 / c.gamma_G), -1, 0)
    U2 = np.moveaxis(propagator(e, 1.91 / c.gamma_G), -1, 0)
    U12 = np.moveaxis(propagator(e, 2.28 / c.gamma_G), -1, 0)
    np.testing.assert_allclose(U1 @ U2, U12, atol=1e-13 * np.abs(U12).max())
    np.testing.assert_allclose(np.moveaxis(propagator(e, 0.0), -1, 0), np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-15)


def test_constraint_projection_when_eps_hat_is_zero():
    """eps_hat = 0: U(0) projects onto mu = a theta / s (equation (3) as a constraint), and
    every U(t) output obeys it."""
    c = coefficients_from_model(model(grad_T=0.05, tauE=25.0))
    q = np.array([[0.2 * c.q_G], [c.q_G], [9 * c.q_G]])
    e = mode_entries(c, q.T)
    K = e.a / e.s
    for t in (0.0, 0.4 / c.gamma_G, 13.0 / c.gamma_G):
        U = propagator(e, t)
        np.testing.assert_allclose(U[2, :2], K * U[0, :2], rtol=1e-14, atol=0)
        np.testing.assert_array_equal(U[:, 2], 0.0)


def test_charge_like_invariant_is_conserved_at_zero_temperature():
    """With D = 0 and tau_E = inf there is no normal current and no relaxation, so equations
    (2)-(3) give d/dt (2 I Phi + eps_hat mu) = 0 mode by mode: an exact invariant."""
    c = coefficients_from_model(model(coulomb="bulk", ks=2.0, I=1.0, D=0.0, ns_over_n=1.0))
    q = np.linspace(0.05, 3.0, 9)[:, None]
    e = mode_entries(c, q.T)
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=(3, 9)) + 1j * rng.normal(size=(3, 9))
    inv0 = 2 * c.I * x0[1] + e.eps * x0[2]
    for t in (0.3, 17.0, 2000.0):
        x = np.einsum("ijn,jn->in", propagator(e, t), x0)
        np.testing.assert_allclose(2 * c.I * x[1] + e.eps * x[2], inv0, rtol=1e-12)


def test_zero_wavevector_gauge_and_global_phase():
    """q = 0: mu_0 = 0 (gauge), Phi_0 relaxes at 1/tau_E and theta_0 drifts by 2 int Phi_0 dt."""
    for tauE in (math.inf, 12.0):
        c = coefficients_from_model(model(coulomb="bulk", ks=3.0, grad_T=0.05, tauE=tauE))
        e = mode_entries(c, np.zeros((1, 1)))
        t = 5.0
        U = propagator(e, t)[..., 0]
        g = 0.0 if math.isinf(tauE) else 1 / tauE
        drift = 2 * t if g == 0 else 2 * (1 - math.exp(-g * t)) / g
        np.testing.assert_allclose(U, [[1, drift, 0], [0, math.exp(-g * t), 0], [0, 0, 0]], atol=1e-15)


def test_real_fields_stay_real_through_full_complex_fft():
    """Propagating every wavevector of a full complex FFT (both signs, Nyquist included) keeps a
    real field real: U(-q) = conj U(q), including the torque term at Nyquist."""
    c = coefficients_from_model(model(2, coulomb="film", ks=0.5, d=2, grad_T=0.07, angle=0.4, tauE=9.0))
    grid = Grid((8, 6), (40.0, 30.0))
    kx = 2 * np.pi * np.fft.fftfreq(8, d=5.0)
    ky = 2 * np.pi * np.fft.fftfreq(6, d=5.0)
    Q = np.array(np.meshgrid(kx, ky, indexing="ij"))
    Qg = Q.copy()
    Qg[0][4, :] = 0.0
    Qg[1][:, 3] = 0.0
    e = mode_entries(c, Q, Qg)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3,) + grid.shape)
    X = np.fft.fftn(x, axes=(1, 2))
    Y = np.einsum("ij...,j...->i...", propagator(e, 3.3), X)
    y = np.fft.ifftn(Y, axes=(1, 2))
    assert np.abs(y.imag).max() < 1e-14 * np.abs(y.real).max()


def test_slow_mode_tends_to_eq23_when_omega_tauE_small():
    """eps_hat = 0 and w tau_E << 1: the slow root tends to Eq. 23's single mode
    w23 = -i a(q) (tau_E/I + 1/(D q^2)), a = c^2 q^2 + 2 i (Delta^2/T) q.v_T.

    Eq. 23 replaces w + i/tau_E by i/tau_E in both lines. With u = Phi/theta - a/s, which is
    itself O(tau_E), the exact relation is u = -a tau_E / (2 I (1 - i w tau_E)): the error is
    O(w tau_E) * O(tau_E), so the relative deviation must fall as tau_E^2.
    """
    q = np.array([0.004, 0.01])
    devs = []
    for tauE in (1e-1, 1e-2, 1e-3):
        c = coefficients_from_model(model(grad_T=0.05, tauE=tauE))
        w = exact_modes(c, q).omega[:, :2]
        a = c.c2 * q**2 + 2j * c.torque_prefactor * q * c.vT[0]
        w23 = -1j * a * (c.tauE / c.I + 1 / (c.D * q**2))
        slow = w[np.arange(len(q)), np.argmin(np.abs(w), axis=1)]
        devs.append(np.abs(slow - w23) / np.abs(w23))
    devs = np.array(devs)
    assert devs[-1].max() < 1e-8
    np.testing.assert_allclose(devs[:-1] / devs[1:], 100.0, rtol=0.05)
