"""Exponential integrators for non-uniform T(x): the uniform limit (the exact propagator), the
orders of convergence (against an exact reference and self-convergence on a hot spot), charge
conservation to round-off, and the constraint eps_hat = 0."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from tdgl_stt.bcs import bcs_gap
from tdgl_stt.config import ModelConfig
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.etd import ETDStepper
from tdgl_stt.integrators.exact import ExactStepper
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.profiles import TemperatureProfile
from tdgl_stt.variable_model import variable_model

TC = 1.0


def model(ndim: int = 1, **kw) -> ModelConfig:
    args = {"Delta": 1.0, "T": 0.9, "vF": 1.0, "d": 3, "tau": 1.0, "coulomb": "none", "ks": None, "grad_T": (0.01,) + (0.0,) * (ndim - 1)}
    args.update(kw)
    return ModelConfig(**args)


def noise_state(grid: Grid, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    axes = tuple(range(1, grid.ndim + 1))
    return np.fft.rfftn(rng.normal(size=(3,) + grid.shape), axes=axes) / grid.size


def packet_state(grid: Grid, x0: float, width: float) -> np.ndarray:
    x = grid.coords()["x"]
    real = np.zeros((3,) + grid.shape)
    real[0] = np.exp(-((x - x0) ** 2) / (2 * width**2))
    return np.fft.rfft(real, axis=-1) / grid.size


def run(stepper, x0: np.ndarray, frames: int) -> np.ndarray:
    x = stepper.project(x0.copy())
    for _ in range(frames):
        x = stepper.step(x)
    return x


UNIFORM_CASES = [
    ("neutral", model()),
    ("bulk-stiff-tauE", model(coulomb="bulk", ks=1e5, tauE=30.0)),
    ("bulk", model(coulomb="bulk", ks=3.0)),
    ("film-2d", model(2, coulomb="film", ks=0.5, d=2, grad_T=(0.01, -0.02))),
]


@pytest.mark.parametrize("label,m", UNIFORM_CASES, ids=[c[0] for c in UNIFORM_CASES])
@pytest.mark.parametrize("scheme", ["etdrk4", "etd2", "exp_euler"])
def test_uniform_profile_equals_the_exact_propagator(label, m, scheme):
    """T(x) = T: the ETD state after 25 frames of 7 steps equals the exact stepper's to 1e-10
    (the variation N vanishes, so every scheme is exp(h A_ref) seven times per frame)."""
    grid = Grid((64,) if len(m.grad_T) == 1 else (32, 16), (200.0,) if len(m.grad_T) == 1 else (100.0, 60.0))
    vm = variable_model(m, TC, TemperatureProfile("uniform"), grid)
    exact = ExactStepper(coefficients_from_model(replace(m, Delta=bcs_gap(m.T, TC))), grid, 5.0)
    etd = ETDStepper(vm, grid, 5.0, 7, scheme)
    x0 = noise_state(grid)
    x, y = exact.project(x0), etd.project(x0.copy())
    for _ in range(25):
        x = exact.step(x).copy()
        y = etd.step(y)
    assert np.abs(y - x).max() <= 1e-10 * np.abs(x).max()


@pytest.mark.parametrize("coulomb,ks", [("none", None), ("bulk", 1e5)])
def test_orders_against_the_exact_solution(coulomb, ks):
    """Uniform T(x) = 0.9 Tc integrated with the reference operator at T_ref = 0.88 Tc: the
    variation N is uniform and the exact solution is the exact propagator at 0.9 Tc. The error
    falls as h^4 (etdrk4), h^2 (etd2), h (exp_euler) on theta and Phi (and on mu at eps_hat = 0)."""
    m = model(coulomb=coulomb, ks=ks)
    grid = Grid((64,), (200.0,))
    vm = variable_model(m, TC, TemperatureProfile("uniform", T_ref=0.88), grid)
    assert not vm.uniform
    exact = ExactStepper(coefficients_from_model(replace(m, Delta=bcs_gap(m.T, TC))), grid, 5.0)
    x0 = noise_state(grid)
    x = exact.project(x0)
    for _ in range(10):
        x = exact.step(x).copy()
    fields = (0, 1, 2) if coulomb == "none" else (0, 1)
    for scheme, order in (("etdrk4", 4), ("etd2", 2), ("exp_euler", 1)):
        errs = []
        for spf in (8, 16, 32):
            etd = ETDStepper(vm, grid, 5.0, spf, scheme)
            y = run(etd, x0, 10)
            m_ = etd.band.mask()
            errs.append([np.abs(y[i][m_] - x[i][m_]).max() / np.abs(x[i]).max() for i in fields])
        errs = np.array(errs)
        orders = np.log2(errs[:-1] / errs[1:])
        assert np.all(np.abs(orders[-1] - order) < 0.3), (scheme, orders)


def hot_spot(coulomb: str, ks: float | None):
    m = ModelConfig(Delta=1.0, T=0.8, vF=1.0, d=3, tau=1.0, coulomb=coulomb, ks=ks, grad_T=(0.0,))
    grid = Grid((128,), (200.0,))
    prof = TemperatureProfile("gaussian", amplitude=0.1, width=10.0, center=(100.0,))
    return variable_model(m, TC, prof, grid), grid


@pytest.mark.parametrize("coulomb,ks", [("none", None), ("bulk", 1e5)])
def test_self_convergence_on_a_hot_spot(coulomb, ks):
    """A smooth hot spot (T from 0.8 to 0.9 Tc, c^2 varies by 44 %) crossed by a phase pulse:
    errors against a 16x finer step give order 4 +- 0.3 (etdrk4) and 2 +- 0.3 (etd2) on theta and
    Phi. mu: the same where eps_hat = 0 (the constraint is evaluated at the new state); in the
    stiff bulk case (dielectric rate / mode rate 1e10) Cox-Matthews' mu is the quasi-static
    response to its last stage and converges at order 3 (documented in docs/hotspot.md)."""
    vm, grid = hot_spot(coulomb, ks)
    x0 = packet_state(grid, 60.0, 8.0)
    ref = run(ETDStepper(vm, grid, 4.0, 256, "etdrk4"), x0, 10)
    for scheme, order in (("etdrk4", 4), ("etd2", 2)):
        errs = []
        for spf in (4, 8, 16):
            y = run(ETDStepper(vm, grid, 4.0, spf, scheme), x0, 10)
            errs.append([np.abs(y[i] - ref[i]).max() / np.abs(ref[i]).max() for i in range(3)])
        errs = np.array(errs)
        orders = np.log2(errs[:-1] / errs[1:])[-1]
        expected = [order, order, order if (coulomb == "none" or scheme != "etdrk4") else 3]
        assert np.all(np.abs(orders - expected) < 0.3), (scheme, orders)


@pytest.mark.parametrize("tauE", [math.inf, 20.0])
def test_charge_is_conserved_to_round_off(tauE):
    """With a strongly non-uniform T(x) (a 2D hot spot and a background gradient), the mean of
    psi = I Phi / I_ref, i.e. the charge int I Phi moved into the quasiparticle imbalance by the
    supercurrent, is constant to round-off over 200 steps (tau_E = inf) or decays exactly as
    exp(-t/tau_E); the divergence d has a zero mean exactly, so int eps_hat mu is conserved."""
    m = model(2, coulomb="film", ks=0.5, d=2, tauE=tauE, T=0.85, grad_T=(0.005, 0.0))
    grid = Grid((48, 32), (60.0, 40.0))
    prof = TemperatureProfile("gaussian", amplitude=0.1, width=6.0, center=(20.0, 25.0))
    vm = variable_model(m, TC, prof, grid)
    etd = ETDStepper(vm, grid, 2.0, 4, "etdrk4")
    y = etd.project(noise_state(grid, 3))
    psi0 = etd.internal_state()[1].flat[0]
    assert abs(psi0) > 1e-3
    for frame in range(1, 51):
        y = etd.step(y)
        assert etd._N[1].flat[0] == 0
        expected = psi0 * math.exp(-frame * 2.0 / tauE)
        assert abs(etd.internal_state()[1].flat[0] - expected) <= 1e-14 * abs(psi0)


def test_charge_is_conserved_to_round_off_in_3d():
    """The same conservation law on a 3D grid with a hot spot (the forcing's kernels see the
    leading axes flattened into rows; 3D runs with a profile once died there)."""
    m = ModelConfig(Delta=1.0, T=0.85, vF=1.0, d=3, tau=1.0, coulomb="bulk", ks=2.0, grad_T=(0.0, 0.0, 0.0))
    grid = Grid((12, 10, 14), (20.0, 18.0, 24.0))
    prof = TemperatureProfile("gaussian", amplitude=0.08, width=4.0, center=(8.0, 9.0, 10.0))
    etd = ETDStepper(variable_model(m, TC, prof, grid), grid, 1.0, 3, "etdrk4")
    y = etd.project(noise_state(grid, 4))
    psi0 = etd.internal_state()[1].flat[0]
    assert abs(psi0) > 1e-3
    for _ in range(20):
        y = etd.step(y)
        assert etd._N[1].flat[0] == 0
        assert abs(etd.internal_state()[1].flat[0] - psi0) <= 1e-14 * abs(psi0)
    assert np.all(np.isfinite(y))


def test_constraint_holds_at_every_frame():
    """eps_hat = 0 with a hot spot: mu solves 0 = 2 D lap mu - div j (the full, non-uniform j) on
    every retained mode, to round-off."""
    vm, grid = hot_spot("none", None)
    etd = ETDStepper(vm, grid, 4.0, 8, "etdrk4")
    y = etd.project(noise_state(grid, 2))
    band = etd.band
    q2 = np.sum(band.gather(grid.q_lap) ** 2, axis=0)
    for _ in range(5):
        y = etd.step(y)
        x = etd.internal_state()
        n, d = np.empty(band.shape, complex), np.empty(band.shape, complex)
        etd.forcing(x[0], x[1], n, d)
        a_ref = etd.entries.a.reshape(band.shape)
        div_j = -a_ref * x[0] + etd.forcing.d_scale * d  # div j_ref + div(j - j_ref)
        residual = -2 * vm.reference.D * q2 * x[2] - div_j
        assert np.abs(residual).max() <= 1e-13 * np.abs(div_j).max()


def test_stiff_steps_stay_stable_and_accurate():
    """Dielectric relaxation 1e10 times faster than the modes and steps 1e12 times its time:
    no instability, and the answer agrees with a 4x finer step to the etdrk4 error."""
    vm, grid = hot_spot("bulk", 1e6)
    x0 = packet_state(grid, 60.0, 8.0)
    a = run(ETDStepper(vm, grid, 40.0, 10, "etdrk4"), x0, 5)
    b = run(ETDStepper(vm, grid, 40.0, 40, "etdrk4"), x0, 5)
    assert np.all(np.isfinite(a))
    assert np.abs(a[:2] - b[:2]).max() < 1e-6 * np.abs(b[:2]).max()


def test_real_reference_operator_gives_real_coefficients(monkeypatch):
    """With no uniform background gradient A_ref(q) is real, and so are its exponential and
    phi-functions: the per-mode ETDRK4 coefficients are stored as real numbers. The imaginary
    parts that the complex arithmetic produces, and which are dropped, must be round-off; and a
    background gradient (complex A_ref) must keep complex coefficients."""
    from tdgl_stt.integrators import etd as etd_module

    seen = []
    original = etd_module._coefficient_streams

    def spy(coefficients, real):
        seen.append((np.stack([np.asarray(c, complex).reshape(-1) for c in coefficients]), real))
        return original(coefficients, real)

    monkeypatch.setattr(etd_module, "_coefficient_streams", spy)
    vm, grid = hot_spot("bulk", 1e5)
    stepper = ETDStepper(vm, grid, 4.0, 8, "etdrk4")
    assert stepper._Cc.dtype == np.float64 and len(seen) == 4
    for stacked, real in seen:
        assert real
        scale = np.abs(stacked).max(axis=1, keepdims=True)
        assert np.all(np.abs(stacked.imag) <= 1e-14 * scale)
    seen.clear()
    m = ModelConfig(Delta=1.0, T=0.8, vF=1.0, d=3, tau=1.0, coulomb="bulk", ks=1e5, grad_T=(0.01,))
    prof = TemperatureProfile("gaussian", amplitude=0.1, width=10.0, center=(100.0,))
    stepper = ETDStepper(variable_model(m, TC, prof, grid), grid, 4.0, 8, "etdrk4")
    assert stepper._Cc.dtype == np.complex128 and not any(real for _, real in seen)


def test_internal_state_round_trip_is_exact():
    """A checkpoint of the internal state resumes bit for bit."""
    vm, grid = hot_spot("bulk", 3.0)
    x0 = packet_state(grid, 60.0, 8.0)
    a = ETDStepper(vm, grid, 4.0, 3, "etdrk4")
    y = a.project(x0.copy())
    for _ in range(3):
        y = a.step(y)
    saved = a.internal_state()
    for _ in range(4):
        y = a.step(y)
    b = ETDStepper(vm, grid, 4.0, 3, "etdrk4")
    b.set_internal_state(saved)
    z = None
    for _ in range(4):
        b.advance(b.steps_per_frame)
    z = b.physical_state()
    assert np.array_equal(y, z)
