"""Thermal noise: the fluctuation-dissipation intensities, the exact OU discretisation, sampling,
and the stationary spectra against the linear-response theory and the exact roots.

Statistical tolerances (derived, not tuned; seeds are fixed, so every test is deterministic):

* Stationary covariance from a simulation: each real statistic (diagonal entries, real and
  imaginary parts of off-diagonal ones) of the sample covariance over N frames has variance
  ``(1/N) sum_k gamma(k)`` with ``gamma`` from Isserlis' theorem and the exact lag covariances
  ``Gamma(k) = U^k P`` (Bartlett's formula; derivation in ``docs/noise.md``, section 5). The
  test requires every ``|z| < 4.9`` (two-sided, Bonferroni over the ~300-1300 statistics of a
  case at family-wise 1e-3) and, because different wavevectors are independent processes, the
  mean z of each diagonal entry over the modes within ``4/sqrt(n_modes)`` of 0. A 3 % error of
  the noise factor fails it (seen: max |z| = 5.4 in each of the three cases).
* Periodogram shape: ``chi^2`` of the whitened residuals against the exact expected periodogram
  (M = 128 bins, no fitted parameter) inside the two-sided family-wise 1e-3 band of chi^2_M.
* Peak fits: ``|z| < 4.0`` for every centre and width (Bonferroni over 16 statistics, 8 peaks,
  family-wise 1e-3), with errors below 10 % of the widths and a median below 5 %, so a width
  bias of ~20 % (what an Euler-Maruyama step of ``gamma dt ~ 0.2`` would leave) could not pass.
  The error model was calibrated on 40 seeds of the same case: std of z 1.07 +- 0.05 (centres)
  and 0.99 +- 0.05 (widths); fit and shape p-values uniform (KS p = 0.44, 0.35).
"""

from __future__ import annotations

import json
import math

import numexpr
import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from physics_cases import model
from scipy.integrate import quad_vec

from tdgl_stt.analysis import stationary as st
from tdgl_stt.errors import ConfigError
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.exact import ExactStepper
from tdgl_stt.integrators.noisy_exact import NoisyExactStepper
from tdgl_stt.model import mode_entries, operator_matrix
from tdgl_stt.noise.config import NoiseConfig, parse_noise
from tdgl_stt.noise.covariance import increment_covariance, stationary_covariance
from tdgl_stt.noise.sampler import rng_state_from_array, rng_state_to_array
from tdgl_stt.noise.sources import (
    equipartition_covariance,
    equipartition_scale,
    mode_noise,
)
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.propagator import exact_frequencies, propagator, split_modes

THERMAL = NoiseConfig(kind="thermal", strength=1.0, seed=5)


def noise_at(c, q, volume=1.0, noise=THERMAL):
    """Entries and thermal intensities at wavevectors q of shape (ndim, n)."""
    e = mode_entries(c, q)
    return e, mode_noise(noise, e, np.sum(q**2, axis=0), volume)


def scaled_error(C, ref):
    """max |C - ref| / sqrt(ref_ii ref_jj): the error relative to the scale of each entry."""
    d = np.sqrt(np.abs(np.einsum("...ii->...i", ref)))
    return float(np.max(np.abs(C - ref) / (d[..., :, None] * d[..., None, :])))


def noise_matrix(mn, e):
    Q = np.zeros(e.shape + (3, 3), dtype=complex)
    Q[..., 0, 0], Q[..., 1, 1], Q[..., 2, 2] = mn.q_theta, mn.q_Phi, mn.eta / e.eps**2
    return Q


# --- fluctuation-dissipation --------------------------------------------------------------


@pytest.mark.parametrize("m", [model(coulomb="bulk", ks=3.0, tauE=40.0), model(coulomb="bulk", ks=3.0),
                               model(coulomb="bulk", ks=1e6, tauE=40.0), model(2, coulomb="film", ks=0.5, d=2, tauE=20.0)],
                         ids=["bulk", "bulk-tauE-inf", "bulk-stiff", "film-2d"])
def test_thermal_noise_gives_equipartition_without_torque(m):
    """FDT: with Q = 2 Theta R the solution of A P + P A^H + Q = 0 is Theta H^{-1}, both from
    scipy's solve_continuous_lyapunov (where A is not stiff) and from the package's blockwise
    construction (also in the stiff limit, dielectric rate / mode rate > 1e9)."""
    c = coefficients_from_model(m)
    ndim = len(c.vT)
    q = np.outer(np.eye(ndim)[0] + 0.3 * np.eye(ndim)[-1] * (ndim > 1), [0.2, 1.0, 3.0, 10.0]) * c.q_G
    e, mn = noise_at(c, q, volume=7.0)
    theta = equipartition_scale(THERMAL, 7.0)
    P_eq = equipartition_covariance(e, theta)
    P = stationary_covariance(e, mn)
    assert scaled_error(P, P_eq) < 1e-12
    if m.ks < 1e3:
        A, Q = operator_matrix(e), noise_matrix(mn, e)
        for i in range(q.shape[1]):
            P_scipy = scipy.linalg.solve_continuous_lyapunov(A[i], -Q[i])
            assert scaled_error(P_scipy, P_eq[i]) < 1e-9


def test_neutral_model_equipartition_of_theta_and_phi():
    """eps_hat = 0: (theta, Phi) get Theta diag(1/(c^2 q^2), 1/(4I)); mu is its slow part K theta."""
    c = coefficients_from_model(model(tauE=25.0))
    q = np.array([[0.1, 1.0, 5.0]]) * c.q_G
    e, mn = noise_at(c, q)
    P = stationary_covariance(e, mn)
    theta = equipartition_scale(THERMAL, 1.0)
    np.testing.assert_allclose(P[:, 0, 0].real, theta / (c.c2 * q[0] ** 2), rtol=1e-12)
    np.testing.assert_allclose(P[:, 1, 1].real, theta / (4 * c.I), rtol=1e-12)
    corr = np.abs(P[:, 0, 1]) / np.sqrt(P[:, 0, 0].real * P[:, 1, 1].real)
    assert np.all(corr < 1e-12)
    np.testing.assert_allclose(P[:, 2, 0], e.a / e.s * P[:, 0, 0], rtol=1e-12)


def test_torque_breaks_equipartition():
    """With the torque the stationary state is not Boltzmann (docs/noise.md, section 4): both
    variances grow by the same factor and theta-Phi acquire a complex correlation (a probability
    current). Reported, not tuned: at q = 0.16, grad T = 0.01 (neutral) the factor is 1.467."""
    c = coefficients_from_model(model(grad_T=0.01))
    q = np.array([[0.05, 0.16]])
    e, mn = noise_at(c, q)
    P = stationary_covariance(e, mn)
    P_eq = equipartition_covariance(e, equipartition_scale(THERMAL, 1.0))
    ratio_theta = P[:, 0, 0].real / P_eq[:, 0, 0]
    ratio_phi = P[:, 1, 1].real / P_eq[:, 1, 1]
    np.testing.assert_allclose(ratio_theta, [1.1422, 1.4672], atol=1e-4)
    np.testing.assert_allclose(ratio_theta, ratio_phi, rtol=1e-10)
    corr = P[:, 0, 1] / np.sqrt(P[:, 0, 0] * P[:, 1, 1])
    assert np.all(corr.imag > 0.2)


# --- the exact increment covariance ----------------------------------------------------------


@pytest.mark.parametrize("m", [model(coulomb="bulk", ks=3.0, grad_T=0.02, tauE=40.0),
                               model(coulomb="bulk", ks=40.0, grad_T=0.02, tauE=40.0),
                               model(2, coulomb="film", ks=0.5, d=2, grad_T=0.05, angle=0.7)],
                         ids=["bulk", "bulk-moderately-stiff", "film-torque-2d"])
def test_increment_covariance_matches_quadrature(m):
    """C(dt) = int_0^dt e^{As} Q e^{A^H s} ds against adaptive quadrature of expm (non-stiff),
    at q across q_G (some modes take the split path, some the full one, some grow)."""
    c = coefficients_from_model(m)
    ndim = len(c.vT)
    d = np.ones(ndim) / math.sqrt(ndim)
    q = np.outer(d, [0.15, 1.0, 2.5, 9.0]) * c.q_G
    e, mn = noise_at(c, q, volume=3.0)
    A, Q = operator_matrix(e), noise_matrix(mn, e)
    for dt in (0.3 / c.gamma_G, 4.0 / c.gamma_G):
        ic = increment_covariance(e, mn, dt)
        for i in range(q.shape[1]):
            # break points resolve the initial layer of the fastest root
            fast = np.max(np.abs(np.linalg.eigvals(A[i])))
            pts = [p / fast for p in (1.0, 5.0, 25.0, 125.0) if p / fast < dt]
            ref = quad_vec(lambda s, Ai=A[i], Qi=Q[i]: scipy.linalg.expm(Ai * s) @ Qi @ scipy.linalg.expm(Ai * s).conj().T,
                           0.0, dt, epsabs=0.0, epsrel=1e-13, points=pts, limit=1000)[0]
            assert scaled_error(ic.cov[i], ref) < 1e-10, (dt, i)
            np.testing.assert_allclose(ic.factor[i] @ ic.factor[i].conj().T, ic.cov[i], atol=1e-13 * np.abs(ref).max())


def test_increment_covariance_stiff_limit_lyapunov_identity():
    """Stiff bulk (dielectric rate / mode rate > 1e10), no torque: C(dt) = P - U P U^H with the
    analytic P = Theta H^{-1}. Tolerance per entry: the identity's own round-off,
    eps (|P| + |U||P||U|^T) (it cancels where C << P), plus 1e-13 sqrt(C_ii C_jj) for the
    construction's (the Van Loan exponential and ~10 doublings, each adding ~eps ||W||)."""
    c = coefficients_from_model(model(coulomb="bulk", ks=3e6, tauE=30.0))
    q = np.array([[0.3, 1.0, 7.0, 30.0]]) * c.q_G
    e, mn = noise_at(c, q)
    sp = split_modes(e)
    assert np.min(np.abs(sp.lam_fast) / np.abs(sp.lam_slow).max(axis=1)) > 1e10
    P = equipartition_covariance(e, equipartition_scale(THERMAL, 1.0))
    for dt in (0.2 / c.gamma_G, 5.0 / c.gamma_G):
        U = np.moveaxis(propagator(e, dt, sp), -1, 0)
        ic = increment_covariance(e, mn, dt, sp)
        assert np.all(ic.split_path)
        ref = P - U @ P @ U.conj().transpose(0, 2, 1)
        # round-off of the identity: eps (|P| + |U| |P| |U|^T), entry by entry
        bound = 20 * np.finfo(float).eps * (np.abs(P) + np.abs(U) @ np.abs(P) @ np.abs(U).transpose(0, 2, 1))
        d = np.sqrt(np.einsum("nii->ni", ref).real)
        assert np.all(np.abs(ic.cov - ref) <= bound + 1e-13 * d[:, :, None] * d[:, None, :])


def test_stiff_limit_tends_to_the_neutral_constraint():
    """eps_hat -> 0 (bulk ks -> inf) and eps_hat = 0 (neutral) give the same (theta, Phi) noise:
    the dielectric relaxation turns the current noise into white noise 4 eta/s^2 on theta. The
    difference is O(1/ratio) ~ 1e-12."""
    cs = coefficients_from_model(model(coulomb="bulk", ks=1e8, grad_T=0.03, tauE=30.0))
    cn = coefficients_from_model(model(grad_T=0.03, tauE=30.0))
    q = np.array([[0.2, 1.0, 6.0]]) * cn.q_G
    dt = 1.3 / cn.gamma_G
    Cs = increment_covariance(*noise_at(cs, q), dt).cov[:, :2, :2]
    Cn = increment_covariance(*noise_at(cn, q), dt).cov[:, :2, :2]
    assert scaled_error(Cs, Cn) < 1e-9


def test_global_phase_mode_is_exact():
    """q = 0 (marginal: no Lyapunov identity): Phi_0 is an OU process of rate g and theta_0 its
    integral times 2; C(dt) against the closed form."""
    c = coefficients_from_model(model(tauE=20.0))
    e, mn = noise_at(c, np.zeros((1, 1)))
    g, dt = c.g, 13.0
    qp = float(mn.q_Phi[0])
    C = increment_covariance(e, mn, dt).cov[0]
    x1, x2 = -np.expm1(-g * dt), -np.expm1(-2 * g * dt)
    ref_pp = qp * x2 / (2 * g)
    ref_tp = 2 * qp / g * (x1 / g - x2 / (2 * g))
    ref_tt = 4 * qp / g**2 * (dt - 2 * x1 / g + x2 / (2 * g))
    np.testing.assert_allclose([C[1, 1].real, C[0, 1].real, C[0, 0].real], [ref_pp, ref_tp, ref_tt], rtol=1e-12)
    assert np.all(C[2] == 0) and np.all(C[:, 2] == 0)


# --- sampling: reality, reproducibility, resume ------------------------------------------------


def test_noise_is_the_transform_of_real_fields_in_2d():
    """The draws obey the reality conditions of the rfft half-spectrum (real self-conjugate modes,
    conjugate pairs on the k_y = 0 and Nyquist planes): rfftn(irfftn(xi)) = xi."""
    c = coefficients_from_model(model(2, coulomb="film", ks=0.5, d=2, grad_T=0.03, angle=0.4, tauE=20.0))
    grid = Grid((8, 6), (40.0, 30.0))
    stepper = NoisyExactStepper(c, grid, 2.0, THERMAL)
    xi = stepper.sampler.draw()
    back = np.fft.rfftn(np.fft.irfftn(xi, s=grid.shape, axes=(1, 2)), axes=(1, 2))
    np.testing.assert_allclose(back, xi, atol=1e-14 * np.abs(xi).max())
    assert len(stepper.layout.real) == 4 and len(stepper.layout.src) == 6


def test_same_seed_same_noise_bitwise_any_thread_count_and_resume():
    c = coefficients_from_model(model(coulomb="bulk", ks=1e6, grad_T=0.01, tauE=40.0))
    grid = Grid((64,), (300.0,))
    previous = numexpr.set_num_threads(1)
    try:
        runs = []
        for threads in (1, 2):
            numexpr.set_num_threads(threads)
            s = NoisyExactStepper(c, grid, 5.0, THERMAL)
            x = s.sample_stationary()
            for _ in range(40):
                x = s.step(x)
            runs.append(x.copy())
        np.testing.assert_array_equal(runs[0], runs[1])
        other = NoisyExactStepper(c, grid, 5.0, NoiseConfig(strength=1.0, seed=6))
        assert not np.array_equal(other.step(other.sample_stationary()), runs[0])
        # resume: the state and the generator after frame 25 continue bitwise
        s = NoisyExactStepper(c, grid, 5.0, THERMAL)
        x = s.sample_stationary()
        for _ in range(25):
            x = s.step(x)
        saved_x, saved_rng = x.copy(), s.rng_state_array()
        assert rng_state_from_array(saved_rng) == s.rng_state
        for _ in range(15):
            x = s.step(x)
        r = NoisyExactStepper(c, grid, 5.0, THERMAL)
        r.set_rng_state_array(saved_rng)
        y = saved_x
        for _ in range(15):
            y = r.step(y)
        np.testing.assert_array_equal(x, y)
    finally:
        numexpr.set_num_threads(previous)


def test_zero_strength_is_the_deterministic_stepper():
    c = coefficients_from_model(model(coulomb="bulk", ks=3.0, grad_T=0.02))
    grid = Grid((32,), (100.0,))
    x0 = np.random.default_rng(1).normal(size=(3, 17)) + 0j
    a = ExactStepper(c, grid, 3.0).step(x0.copy())
    b = NoisyExactStepper(c, grid, 3.0, NoiseConfig(strength=0.0)).step(x0.copy())
    np.testing.assert_array_equal(a, b)


def test_noise_config_validation():
    assert parse_noise({"kind": "explicit", "strength": 2, "Phi": 1.0, "seed": 3}).Phi == 1.0
    for bad, key in [({"kind": "hot"}, "noise.kind"), ({"strength": -1.0}, "noise.strength"),
                     ({"seed": True}, "noise.seed"), ({"seed": -2}, "noise.seed"), ({"colour": 1}, "noise.colour"),
                     ({"kind": "thermal", "theta": 1.0}, "noise.kind"), ({"strength": float("nan")}, "noise.strength")]:
        with pytest.raises(ConfigError) as err:
            parse_noise(bad)
        assert err.value.key == key


def test_state_words_round_trip():
    g = np.random.Generator(np.random.PCG64(123456789))
    g.standard_normal(7)
    state = g.bit_generator.state
    assert rng_state_from_array(rng_state_to_array(state)) == state


# --- simulation against the Lyapunov equation --------------------------------------------------


def _z_scores(S, P, U, N, real):
    """Standardised deviations of the sample covariance S (n, 3, 3) over N frames from P.

    Isserlis' theorem with Gamma(k) = U^k P (k >= 0), Gamma(-k) = Gamma(k)^H, for the products
    y = x_i x_j^*: Cov(y_{n+k}, y_n) = Gamma_ii(k) conj Gamma_jj(k) and
    Cov(y_{n+k}, y_n^*) = Gamma_ij(k) conj Gamma_ji(k) (circular modes), so
    Var(Re mean y) = (1/2N) sum_k Re[gamma + pi], Var(Im mean y) = (1/2N) sum_k Re[gamma - pi];
    a real (self-conjugate) mode has Var = (1/N) sum_k Re[gamma + pi]. Returns all z (upper
    triangle, Re and Im) and the diagonal ones per mode, shape (n, 3).
    """
    rho = np.max(np.abs(np.linalg.eigvals(U)), axis=1)
    kmax = int(min(20000, np.max(np.log(1e-12) / np.log(np.clip(rho, 1e-300, 1 - 1e-12)))) + 1)
    G = P.copy()
    acc_g = np.einsum("nii,njj->nij", G, G.conj())
    acc_p = G * np.conj(np.swapaxes(G, 1, 2))
    for _ in range(kmax):
        G = U @ G
        acc_g += 2 * np.einsum("nii,njj->nij", G, G.conj()).real  # lags k and -k
        acc_p += 2 * (G * np.conj(np.swapaxes(G, 1, 2))).real
    var_re = 0.5 * (acc_g + acc_p).real / N
    var_im = 0.5 * (acc_g - acc_p).real / N
    var_re[real] *= 2.0
    z_re = (S.real - P.real) / np.sqrt(var_re)
    z_im = (S.imag - P.imag) / np.sqrt(np.where(var_im > 0, var_im, np.inf))
    up, iu = np.triu_indices(3), np.triu_indices(3, 1)
    z = np.concatenate([z_re[:, up[0], up[1]].ravel(), z_im[~real][:, iu[0], iu[1]].ravel()])
    return z, np.einsum("nii->ni", z_re)


def _simulate_covariance(stepper, n_frames, chunk=500):
    x = stepper.sample_stationary()
    shape = x.shape
    acc = np.zeros((int(np.prod(shape[1:])), 3, 3), dtype=complex)
    buf = np.empty((chunk,) + shape, dtype=complex)
    for start in range(0, n_frames, chunk):
        for j in range(chunk):
            x = stepper.step(x)
            buf[j] = x
        flat = buf.reshape(chunk, 3, -1)
        acc += np.einsum("tim,tjm->mij", flat, flat.conj())
    return acc / n_frames


@pytest.mark.parametrize(
    "label,m,n,L,dt,reference",
    [
        ("bulk-torque-tauE", model(coulomb="bulk", ks=3.0, grad_T=0.01, tauE=40.0), (64,), (300.0,), 6.0, "scipy"),
        ("bulk-stiff-equipartition", model(coulomb="bulk", ks=1e6, tauE=40.0), (64,), (300.0,), 6.0, "equipartition"),
        ("film-torque-2d", model(2, coulomb="film", ks=0.5, d=2, grad_T=0.01, angle=0.7, tauE=20.0), (16, 16), (120.0, 120.0), 6.0, "package"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_simulated_stationary_covariance_matches_lyapunov(label, m, n, L, dt, reference):
    """The sample covariance of every mode over 12000 frames of the stepper equals the Lyapunov
    solution within the derived statistical error (module notes). The reference is scipy's
    solve_continuous_lyapunov (non-stiff), the analytic equipartition Theta H^{-1} (stiff, no
    torque) or the package's blockwise P (2D film with torque; checked against scipy above)."""
    c = coefficients_from_model(m)
    grid = Grid(n, L)
    stepper = NoisyExactStepper(c, grid, dt, THERMAL)
    N = 12000
    S = _simulate_covariance(stepper, N)
    flat = mode_entries(c, grid.q_lap.reshape(len(n), -1), grid.q_grad.reshape(len(n), -1))
    P = stepper.stationary_covariance().reshape(-1, 3, 3)
    if reference == "scipy":
        nz = np.flatnonzero(~stepper.split.zero)
        sub = mode_entries(c, grid.q_lap.reshape(len(n), -1)[:, nz], grid.q_grad.reshape(len(n), -1)[:, nz])
        A = operator_matrix(sub)
        Q = noise_matrix(stepper.noise.ravel().subset(nz), sub)
        for j, i in enumerate(nz):
            P[i] = scipy.linalg.solve_continuous_lyapunov(A[j], -Q[j])
    elif reference == "equipartition":
        P_eq = equipartition_covariance(flat, equipartition_scale(THERMAL, math.prod(L)))
        assert scaled_error(P[1:], P_eq[1:]) < 1e-12
        P = P_eq.astype(complex)
    U = np.moveaxis(propagator(stepper.entries, dt, stepper.split).reshape(3, 3, -1), -1, 0)
    keep = np.flatnonzero(~stepper.split.zero)
    keep = np.setdiff1d(keep, stepper.layout.dst)  # a conjugate partner repeats its source
    real = np.isin(keep, stepper.layout.real)
    z, z_diag = _z_scores(S[keep], P[keep], U[keep], N, real)
    assert np.all(np.isfinite(z))
    bound = scipy.stats.norm.isf(1e-3 / (2 * z.size))
    assert np.max(np.abs(z)) < bound, (label, np.max(np.abs(z)), bound)
    # systematic errors: different wavevectors are independent, so the mean z of each diagonal
    # entry over the modes has standard deviation 1/sqrt(n_modes)
    assert np.all(np.abs(z_diag.mean(axis=0)) < 4 / np.sqrt(z_diag.shape[0])), z_diag.mean(axis=0)


# --- spectra: shape and peak widths ------------------------------------------------------------


@pytest.fixture(scope="module")
def stationary_series():
    """Fourier amplitudes of theta at four wavevectors of a stiff bulk run with torque (the
    dielectric root is unresolved, ~1e11 times faster than the modes)."""
    c = coefficients_from_model(model(coulomb="bulk", ks=1e6, grad_T=0.01, tauE=40.0))
    L = 2 * np.pi / 0.02
    grid = Grid((64,), (L,))
    dt = 10.0
    ks = np.array([8, 12, 16, 24])
    stepper = NoisyExactStepper(c, grid, dt, NoiseConfig(strength=1.0, seed=2024))
    x = stepper.sample_stationary()
    nt = 24000
    a = np.empty((nt, ks.size), dtype=complex)
    for n in range(nt):
        x = stepper.step(x)
        a[n] = x[0, ks]
    q = 2 * np.pi * ks / L
    return c, a, q, dt, L


def test_periodogram_sign_and_exact_expectation():
    """A mode exp(-i w0 t) peaks at +w0; expected_periodogram equals the brute-force
    E|sum w_n a_n e^{i w t_n}|^2 dt / sum w^2 for an arbitrary lag covariance."""
    dt, M = 0.5, 32
    t = np.arange(512) * dt
    per = st.averaged_periodogram(np.exp(-1j * 2.0 * t), dt, M)
    assert abs(per.omega[np.argmax(per.S)] - 2.0) < 2 * np.pi / (M * dt)
    rng = np.random.default_rng(0)
    R = (rng.normal(size=M) + 1j * rng.normal(size=M)) * np.exp(-0.2 * np.arange(M))
    R[0] = 3.0
    w = per.window
    Gam = np.empty((M, M), dtype=complex)
    for i in range(M):
        for j in range(M):
            Gam[i, j] = R[i - j] if i >= j else np.conj(R[j - i])
    brute = []
    for om in per.omega:
        v = w * np.exp(1j * om * np.arange(M) * dt)
        brute.append((v @ Gam @ v.conj()).real * dt / np.sum(w**2))
    np.testing.assert_allclose(st.expected_periodogram(R, w, dt), brute, rtol=1e-12, atol=1e-12 * max(brute))


def test_sampled_spectrum_is_the_alias_sum_of_the_linear_response():
    """dt [(1 - e^{iw dt} U)^{-1} C (...)^{-H}] = sum_m S(w + 2 pi m/dt) (|m| <= 1500 plus the
    1/m^2 tail), and its integral over the band is P: the discrete and continuous spectra are the
    same process."""
    c = coefficients_from_model(model(coulomb="bulk", ks=1e6, grad_T=0.01, tauE=40.0))
    q = np.array([[0.04, 0.16]])
    e, mn = noise_at(c, q)
    dt = 10.0
    U = np.moveaxis(propagator(e, dt), -1, 0)
    C = increment_covariance(e, mn, dt).cov
    om = np.linspace(-np.pi / dt, np.pi / dt, 5)
    for field in ("theta", "Phi"):
        Sd = st.sampled_spectrum(U, C, om, dt, field)
        N = 1500
        total = sum(st.linear_response_spectrum(e, mn, om + 2 * np.pi * k / dt, field) for k in range(-N, N + 1))
        tail = N * (st.linear_response_spectrum(e, mn, om + 2 * np.pi * N / dt, field)
                    + st.linear_response_spectrum(e, mn, om - 2 * np.pi * N / dt, field))
        np.testing.assert_allclose(total + tail, Sd, rtol=2e-6)
    grid_om = 2 * np.pi * np.fft.fftfreq(4096, dt)
    P = stationary_covariance(e, mn)
    integral = st.sampled_spectrum(U, C, grid_om, dt, "theta").sum(axis=1) * (grid_om[1] - grid_om[0]) / (2 * np.pi)
    np.testing.assert_allclose(integral, P[:, 0, 0].real, rtol=1e-10)


def test_periodogram_shape_equals_linear_response(stationary_series):
    """chi^2 of each periodogram against the exact expectation from A(q) and Q (no fit)."""
    c, a, q, dt, L = stationary_series
    per = st.averaged_periodogram(a, dt, 128)
    e, mn = noise_at(c, q[None, :], volume=L, noise=NoiseConfig(strength=1.0))
    P = stationary_covariance(e, mn)
    U = np.moveaxis(propagator(e, dt), -1, 0)
    expected = st.expected_periodogram(st.lag_covariance(U, P, "theta", 128), per.window, dt)
    lo = scipy.stats.chi2.ppf(1e-3 / (2 * q.size), 128)
    hi = scipy.stats.chi2.isf(1e-3 / (2 * q.size), 128)
    for m in range(q.size):
        chi = st.shape_chi_square(per, per.S[m], expected[m])
        assert lo < chi.chi2 < hi, (m, chi)


def test_fitted_peaks_match_exact_roots(stationary_series):
    """Centres and FWHM 2|Im w| of the fitted Lorentzians (started 10 % off the exact roots)
    agree with the exact roots within their standard errors, which are 3-8 % of the widths. The
    torque makes the two branches' widths differ by ~75 %; the fit resolves both."""
    c, a, q, dt, _ = stationary_series
    per = st.averaged_periodogram(a, dt, 128)
    roots = exact_frequencies(mode_entries(c, q[None, :]))
    n_peaks, rel_err = 0, []
    bound = scipy.stats.norm.isf(1e-3 / (2 * 2 * 2 * q.size))
    for m in range(q.size):
        exact = roots[m][st.resolved_roots(roots[m], dt)]
        assert exact.size == 2  # the dielectric root is far outside the band
        fit = st.fit_lorentzians(per, per.S[m], exact.real * 1.1 + 1j * exact.imag * 0.9)
        assert fit.fit.p_value > 1e-4
        for row in st.compare_with_roots(fit, exact):
            n_peaks += 1
            assert abs(row.z_center) < bound and abs(row.z_width) < bound, row
            rel_err.append(row.fwhm_err / row.exact_fwhm)
    assert n_peaks == 8
    # power: a 20 % width bias would be > 4 errors away for at least half of the peaks
    assert max(rel_err) < 0.10 and np.median(rel_err) < 0.05, rel_err


def test_analyze_stationary_report(stationary_series):
    """The one-call report (for the CLI): every resolved root fitted, the shape test present."""
    c, a, q, dt, L = stationary_series
    rows = st.analyze_stationary(a[:, :2], q[:2, None], dt, c, noise=NoiseConfig(strength=1.0), volume=L, nperseg=128)
    assert [len(r.peaks) for r in rows] == [2, 2]
    assert all(r.shape is not None and r.shape.p_value > 1e-4 for r in rows)
    back = json.loads(json.dumps([r.as_dict() for r in rows]))
    assert back[0]["peaks"][0]["fwhm"] == rows[0].peaks[0].fwhm
