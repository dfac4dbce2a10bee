"""Temperature profiles, the pointwise coefficients derived from T(x), the uniform limit (exactly
the uniform model's A(q)) and the pseudo-spectral variation N(x) (2/3 rule, conservative form)."""

from __future__ import annotations

from dataclasses import replace

import netCDF4
import numpy as np
import pytest

from tdgl_stt.bcs import bcs_gap
from tdgl_stt.config import ModelConfig
from tdgl_stt.errors import ConfigError
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.forcing import PseudoSpectralForcing, SpectralBand
from tdgl_stt.model import mode_entries
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.profiles import TemperatureProfile, spectral_gradient, temperature_field
from tdgl_stt.variable_model import gap_field, local_coefficients, variable_model

TC = 1.0


def base_model(ndim: int = 1, **kw) -> ModelConfig:
    args = {"Delta": 1.0, "T": 0.8, "vF": 1.0, "d": 3, "tau": 2.0, "coulomb": "bulk", "ks": 3.0, "grad_T": (0.0,) * ndim}
    args.update(kw)
    return ModelConfig(**args)


def test_profiles_are_periodic_and_have_their_shape():
    grid = Grid((96, 64), (50.0, 30.0))
    g = temperature_field(TemperatureProfile("gaussian", amplitude=0.1, width=4.0, center=(49.0, 1.0)), grid, 0.8)
    # The spot straddles the corner: the periodic image sum makes it whole and smooth.
    X = grid.mesh()
    expected = 0.8 + sum(
        0.1 * np.exp(-((X[0] - 49.0 + i * 50.0) ** 2 + (X[1] - 1.0 + j * 30.0) ** 2) / 32.0)
        for i in range(-3, 4) for j in range(-3, 4)
    )
    np.testing.assert_allclose(g, expected, atol=1e-15)
    assert np.unravel_index(np.argmax(g), g.shape) == (94, 2)  # the grid point nearest (49, 1)
    s = temperature_field(TemperatureProfile("tanh_step", amplitude=0.05, width=4.0, center=(10.0,), axis="y"), grid, 0.8)
    y = grid.coords()["y"]
    assert np.all(s == s[:1])  # uniform along x
    expected = 0.8 + sum(0.025 * (np.tanh((y - 10.0 + m * 30) / 4.0) - np.tanh((y - 25.0 + m * 30) / 4.0)) for m in range(-6, 7))
    np.testing.assert_allclose(s[0], expected, atol=1e-15)
    # Smooth and periodic (resolved: 7.5 points per width): the spectral derivative is the
    # analytic one.
    d = spectral_gradient(s, grid)[1][0]
    dexp = sum(0.025 / 4.0 * (1 / np.cosh((y - 10.0 + m * 30) / 4.0) ** 2 - 1 / np.cosh((y - 25.0 + m * 30) / 4.0) ** 2) for m in range(-6, 7))
    np.testing.assert_allclose(d, dexp, atol=1e-14)
    assert np.all(temperature_field(TemperatureProfile("uniform"), grid, 0.7) == 0.7)


def test_profile_from_file(tmp_path):
    grid = Grid((16, 8), (4.0, 2.0))
    T = 0.7 + 0.01 * np.random.default_rng(0).random(grid.shape)
    path = tmp_path / "T.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 16)
        ds.createDimension("y", 8)
        ds.createVariable("Tx", "f8", ("x", "y"))[:] = T
    prof = TemperatureProfile("file", path=str(path), variable="Tx")
    np.testing.assert_array_equal(temperature_field(prof, grid, None), T)
    with pytest.raises(ConfigError, match="no variable"):
        temperature_field(replace(prof, variable="T"), grid, None)
    with pytest.raises(ConfigError, match="shape"):
        temperature_field(prof, Grid((8, 8), (4.0, 2.0)), None)


def test_gap_field_matches_the_gap_equation():
    T = np.linspace(0.05, 0.999, 5000)  # many values: the interpolated path
    direct = np.array([bcs_gap(t, TC) for t in T[::97]])
    np.testing.assert_allclose(gap_field(T, TC)[::97], direct, rtol=1e-13)
    few = np.array([0.3, 0.3, 0.9])
    assert np.array_equal(gap_field(few, TC), [bcs_gap(0.3, TC), bcs_gap(0.3, TC), bcs_gap(0.9, TC)])


@pytest.mark.parametrize("ns", ["clean", "dirty", 0.3])
def test_local_relations_are_the_uniform_ones(ns):
    """Pointwise coefficients equal coefficients_from_model at each point's T and grad T."""
    m = base_model(ns_over_n=ns, grad_T=(0.02,))
    T = np.array([0.5, 0.8, 0.95])
    grad = np.array([[0.01, -0.03, 0.2]])
    f = local_coefficients(m, T, grad, gap_field(T, TC))
    for i in range(3):
        c = coefficients_from_model(replace(m, T=float(T[i]), Delta=bcs_gap(float(T[i]), TC), grad_T=(float(grad[0, i]),)))
        for name, val in (("I", c.I), ("ns_over_n", c.ns_over_n), ("c2", c.c2)):
            assert getattr(f, name)[i] == pytest.approx(val, rel=1e-14)
        assert f.vT[0, i] == pytest.approx(c.vT[0], rel=1e-14)
        assert f.torque[0, i] == pytest.approx(c.torque_prefactor * c.vT[0], rel=1e-14)
        assert f.D == c.D


@pytest.mark.parametrize("coulomb,ks", [("none", None), ("bulk", 3.0), ("film", 0.5)])
def test_uniform_profile_gives_exactly_the_uniform_operator(coulomb, ks):
    """A uniform T(x) with Tc: the reference is the uniform model with Delta = Delta_BCS(T),
    bit for bit, and the variation N vanishes identically."""
    grid = Grid((32, 16), (40.0, 20.0))
    m = base_model(2, coulomb=coulomb, ks=ks, grad_T=(0.03, -0.01), d=2)
    vm = variable_model(m, TC, TemperatureProfile("uniform"), grid)
    uniform = coefficients_from_model(replace(m, Delta=bcs_gap(m.T, TC)))
    assert vm.uniform and vm.reference == uniform
    e1 = mode_entries(vm.reference, grid.q_lap, grid.q_grad)
    e2 = mode_entries(uniform, grid.q_lap, grid.q_grad)
    for name in ("a", "s", "eps"):
        assert np.array_equal(getattr(e1, name), getattr(e2, name))
    assert not np.any(vm.dc2) and not np.any(vm.w) and not np.any(vm.r_minus_1)
    np.testing.assert_array_equal(vm.fields.vT[0], uniform.vT[0])
    # A zero-amplitude spot is uniform too.
    assert variable_model(m, TC, TemperatureProfile("gaussian", amplitude=0.0, width=3.0), grid).uniform


def test_profile_must_stay_superconducting():
    grid = Grid((32,), (40.0,))
    with pytest.raises(ConfigError, match="Tc"):
        variable_model(base_model(), TC, TemperatureProfile("gaussian", amplitude=0.25, width=3.0), grid)
    with pytest.raises(ConfigError, match="T_ref"):
        variable_model(base_model(), TC, TemperatureProfile("uniform", T_ref=1.2), grid)
    with pytest.raises(ConfigError, match="override"):
        variable_model(base_model(I=0.3), TC, TemperatureProfile("gaussian", amplitude=0.05, width=3.0), grid)


def _upsample(f: np.ndarray, r: int) -> np.ndarray:
    """Trigonometric interpolation of a band-limited real field to an r-times finer grid."""
    F = np.fft.fftshift(np.fft.fftn(f))
    G = np.pad(F, [((r - 1) * n // 2, (r - 1) * n // 2) for n in f.shape])
    return np.fft.ifftn(np.fft.ifftshift(G)).real * r**f.ndim


def _coarse_amplitudes(f: np.ndarray, r: int) -> np.ndarray:
    """rfft amplitudes (rfftn/N) on the coarse grid of the modes of a fine-grid field."""
    F = np.fft.fftshift(np.fft.fftn(f)) / f.size
    block = tuple(slice((r - 1) * (n // r) // 2, (r - 1) * (n // r) // 2 + n // r) for n in f.shape)
    full = np.fft.ifftshift(F[block])
    return full[..., : full.shape[-1] // 2 + 1]


def _direct_divergence(vm, grid, theta, band):
    """div(dc2 grad theta - 2 (torque - torque_ref) theta), the conservative form itself, evaluated
    on a 3x finer grid where the products of the band-limited fields are exact."""
    r = 3
    fine = Grid(tuple(r * n for n in grid.n), grid.L)
    nd = grid.ndim
    dc2 = band.band_limit(vm.dc2)
    two_dtorque = [band.band_limit(vm.w[i]) - spectral_gradient(dc2, grid)[i] for i in range(nd)]
    th = _upsample(theta, r)
    grad = spectral_gradient(th, fine)
    c2f = _upsample(dc2, r)
    flux = [c2f * grad[i] - _upsample(two_dtorque[i], r) * th for i in range(nd)]
    div = sum(spectral_gradient(flux[i], fine)[i] for i in range(nd))
    return band.gather(_coarse_amplitudes(div, r))


FORCING_GRIDS = [
    ((64,), (40.0,), (15.0,)),
    ((48, 32), (30.0, 20.0), (12.0, 9.0)),
    ((18, 12, 16), (12.0, 9.0, 10.0), (5.0, 4.0, 6.0)),
]


@pytest.mark.parametrize("n,L,center", FORCING_GRIDS, ids=["1d", "2d", "3d"])
def test_forcing_is_the_conservative_divergence_without_aliasing(n, L, center):
    """d = lap(dc2 theta) - div(theta w) equals div(dc2 grad theta - 2 dtorque theta) computed on
    a 3x finer grid, on every retained mode; its q = 0 component is exactly 0 (charge). In 2D and
    3D the forcing's transforms are pruned (leading axes on the retained columns only); this
    checks them against full numpy transforms."""
    grid = Grid(n, L)
    nd = grid.ndim
    m = base_model(nd, grad_T=(0.01,) + (0.0,) * (nd - 1), d=min(nd, 2) if nd < 3 else 3)
    vm = variable_model(m, TC, TemperatureProfile("gaussian", amplitude=0.12, width=3.0, center=center), grid)
    band = SpectralBand(grid, dealias=True)
    f = PseudoSpectralForcing(vm, grid, band)
    rng = np.random.default_rng(5)
    theta = band.band_limit(rng.normal(size=grid.shape))
    psi = band.band_limit(rng.normal(size=grid.shape))
    th_c = band.gather(np.fft.rfftn(theta) / grid.size)
    ps_c = band.gather(np.fft.rfftn(psi) / grid.size)
    n_out = np.empty(band.shape, complex)
    d_out = np.empty(band.shape, complex)
    f(th_c, ps_c, n_out, d_out)
    d = f.d_scale * d_out
    ref = _direct_divergence(vm, grid, theta, band)
    np.testing.assert_allclose(d, ref, atol=1e-13 * np.abs(ref).max())
    assert d_out.flat[0] == 0
    # n = F[2 (r - 1) psi] on the band
    expected_n = band.gather(np.fft.rfftn(2 * band.band_limit(vm.r_minus_1) * psi) / grid.size)
    np.testing.assert_allclose(f.n_scale * n_out, expected_n, atol=1e-14 * np.abs(expected_n).max())


def test_band_gather_scatter_round_trip():
    for n in ((64,), (48, 30), (12, 18, 10)):
        grid = Grid(n, tuple(1.0 for _ in n))
        band = SpectralBand(grid, dealias=True)
        K = band.kmax
        assert all(3 * k < nn for k, nn in zip(K, n)) and all(3 * (k + 1) >= nn for k, nn in zip(K, n))
        X = np.random.default_rng(1).normal(size=grid.spectral_shape) + 0j
        full = np.full(grid.spectral_shape, 7.0 + 0j)
        band.scatter(band.gather(X), full)
        m = band.mask()
        assert np.array_equal(full[m], X[m]) and not np.any(full[~m])
        assert m.sum() == band.size


def test_stability_diagnostics_reduce_to_the_exact_roots():
    """Uniform T with T_ref offset: the frozen-coefficient growth is the exact uniform model's, and
    the explicit rate is the largest shift of a slow root between T and T_ref."""
    from tdgl_stt.propagator import exact_frequencies
    from tdgl_stt.stability import explicit_rate, local_growth

    grid = Grid((64,), (200.0,))
    m = base_model(grad_T=(0.2,), coulomb="none", ks=None)
    vm = variable_model(m, TC, TemperatureProfile("uniform", T_ref=0.75), grid)
    exact = coefficients_from_model(replace(m, Delta=bcs_gap(m.T, TC)))
    ql = grid.q_lap[:, 1:]
    qg = grid.q_grad[:, 1:]
    w = exact_frequencies(mode_entries(exact, ql, qg))
    lg = local_growth(vm, grid)
    assert lg.rate == pytest.approx(np.nanmax(w.imag), rel=1e-12)
    assert lg.rate > 0  # this gradient makes a branch grow (Lambda > 1)
    w_ref = exact_frequencies(mode_entries(vm.reference, ql, qg))
    assert explicit_rate(vm, grid) == pytest.approx(np.max(np.abs(w[:, :2] - w_ref[:, :2])), rel=1e-12)
    assert explicit_rate(variable_model(m, TC, TemperatureProfile("uniform"), grid), grid) == 0.0
