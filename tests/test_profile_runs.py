"""`tdgl-stt run` with a temperature profile: the config rules of [model.temperature_profile],
Tc and the integrators, the output (profile and coefficient fields), the uniform limit through
the whole pipeline, and a bitwise resume of an interrupted ETD run."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from tdgl_stt import open_run
from tdgl_stt.bcs import bcs_gap
from tdgl_stt.cli import main
from tdgl_stt.config import parse_config
from tdgl_stt.errors import ConfigError
from tdgl_stt.runner import StopRequest, resume, run

BASE = """
[model]
T = 0.8
Tc = 1.0
vF = 1.0
d = 1
tau = 10.0
coulomb = "none"
[model.temperature_profile]
kind = "gaussian"
amplitude = 0.04
width = 2.5
center = [50.0]
[grid]
n = [256]
L = [100.0]
[time]
dt = 4.0
n_frames = 6
steps_per_frame = 8
[initial]
kind = "packet"
k = [8]
width = 8.0
center = [25.0]
"""


def quiet(msg: str) -> None:
    pass


@pytest.mark.parametrize(
    "old,new,key",
    [
        ("Tc = 1.0\n", "", "model.Tc"),
        ("T = 0.8\n", "T = 0.8\nDelta = 1.2\n", "model.Delta"),
        ("T = 0.8\n", "T = 0.8\nI = 1.2\n", "model.I"),
        ("amplitude = 0.04", "amplitude = 0.25", "model.temperature_profile"),
        ("steps_per_frame = 8", 'steps_per_frame = 8\nintegrator = "exact"', "time.integrator"),
        ('kind = "gaussian"', 'kind = "gaussian"\naxis = "x"', "model.temperature_profile.axis"),
        ('kind = "gaussian"', 'kind = "hot"', "model.temperature_profile.kind"),
        ("width = 2.5\n", "", "model.temperature_profile.width"),
        ("steps_per_frame = 8", "steps_per_frame = 0", "time.steps_per_frame"),
        ("T = 0.8", "T = 1.2", "model.temperature_profile"),
        ("k = [8]", "k = [0]", "initial.k"),
    ],
)
def test_profile_config_errors_name_the_key(old, new, key):
    text = BASE.replace(old, new)
    assert text != BASE
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.key == key


def test_tc_replaces_delta_and_the_integrator_defaults():
    cfg = parse_config(BASE.replace("steps_per_frame = 8\n", ""))
    assert cfg.model.Delta == bcs_gap(0.8, 1.0) and cfg.time.integrator == "etdrk4" and cfg.time.steps_per_frame == 1
    no_profile = BASE.split("[model.temperature_profile]")[0] + BASE.split('center = [50.0]\n')[1]
    no_profile = no_profile.replace("steps_per_frame = 8\n", "")
    cfg = parse_config(no_profile)
    assert cfg.model.Delta == bcs_gap(0.8, 1.0) and cfg.time.integrator == "exact"
    with pytest.raises(ConfigError, match="not both"):
        parse_config(no_profile.replace("Tc = 1.0", "Tc = 1.0\nDelta = 1.0"))
    with pytest.raises(ConfigError) as err:
        parse_config(no_profile.replace("n_frames = 6", 'n_frames = 6\nintegrator = "etdrk4"'))
    assert err.value.key == "time.integrator"
    with pytest.raises(ConfigError) as err:
        parse_config(BASE.replace("steps_per_frame = 8", 'integrator = "exact"\nsteps_per_frame = 8').replace('kind = "gaussian"', 'kind = "uniform"').replace("amplitude = 0.04\nwidth = 2.5\ncenter = [50.0]\n", ""))
    assert err.value.key == "time.steps_per_frame"


def test_profile_from_a_file(tmp_path):
    T = 0.8 + 0.03 * np.exp(-((np.arange(256) * 100.0 / 256 - 50.0) ** 2) / 12.5)
    path = tmp_path / "T.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 256)
        ds.createVariable("T", "f8", ("x",))[:] = T
    text = BASE.replace('kind = "gaussian"\namplitude = 0.04\nwidth = 2.5\ncenter = [50.0]', f'kind = "file"\npath = "{path}"')
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert err.value.key == "model.T"  # the file gives T(x)
    cfg = parse_config(text.replace("T = 0.8\n", ""))
    assert cfg.model.T == pytest.approx(0.815)
    res = run(cfg, output=tmp_path / "f.nc", progress=False, log=quiet)
    assert res.status == "complete"
    with open_run(tmp_path / "f.nc") as ds:
        np.testing.assert_array_equal(ds["T_local"].values, T)


def test_run_writes_the_profile_and_the_coefficient_fields(tmp_path, capsys):
    path = tmp_path / "hot.toml"
    path.write_text(BASE)
    assert main(["run", str(path), "-o", str(tmp_path / "hot.nc"), "-q"]) == 0
    with open_run(tmp_path / "hot.nc") as ds:
        assert ds.attrs["status"] == "complete" and ds.attrs["integrator"] == "etdrk4"
        assert ds.attrs["steps_per_frame"] == 8 and ds.attrs["T_ref"] == pytest.approx(0.82)
        x = ds["x"].values
        expected = 0.8 + sum(0.04 * np.exp(-((x - 50.0 + m * 100.0) ** 2) / 12.5) for m in (-1, 0, 1))
        np.testing.assert_allclose(ds["T_local"].values, expected, atol=1e-15)
        D = ds["Delta_local"].values
        assert D[0] == pytest.approx(bcs_gap(0.8, 1.0), rel=1e-13) and D.min() == pytest.approx(bcs_gap(0.84, 1.0), rel=1e-12)
        np.testing.assert_allclose(ds["I_local"].values, np.pi * D / (4 * ds["T_local"].values), rtol=1e-15)
        for name in ("ns_over_n_local", "c2_local", "vT_x_local"):
            assert name in ds and np.all(np.isfinite(ds[name].values))
        assert np.all(np.isfinite(ds["theta"].values)) and ds.sizes["t"] == 7


def test_uniform_profile_run_equals_the_exact_run(tmp_path):
    """The whole pipeline: a uniform profile integrated by etdrk4 gives the fields of the exact
    propagator with Delta = Delta_BCS(T) to 1e-10."""
    uniform = BASE.replace('kind = "gaussian"\namplitude = 0.04\nwidth = 2.5\ncenter = [50.0]', 'kind = "uniform"')
    uniform = uniform.replace("steps_per_frame = 8", 'integrator = "etdrk4"\nsteps_per_frame = 3')
    exact = BASE.split("[model.temperature_profile]")[0] + BASE.split('center = [50.0]\n')[1]
    exact = exact.replace("steps_per_frame = 8\n", "")
    a = run(parse_config(uniform), output=tmp_path / "u.nc", progress=False, log=quiet)
    b = run(parse_config(exact), output=tmp_path / "e.nc", progress=False, log=quiet)
    # A uniform profile's default integrator is the exact one: the same bits, plus the profile.
    on_exact = uniform.replace('integrator = "etdrk4"\nsteps_per_frame = 3\n', "")
    c = run(parse_config(on_exact), output=tmp_path / "x.nc", progress=False, log=quiet)
    assert a.status == b.status == c.status == "complete"
    with open_run(tmp_path / "x.nc") as dx, open_run(tmp_path / "e.nc") as de:
        assert dx.attrs["integrator"] == "exact" and np.all(dx["T_local"].values == 0.8)
        for name in ("theta", "Phi", "mu"):
            assert np.array_equal(dx[name].values, de[name].values)
    with open_run(tmp_path / "u.nc") as du, open_run(tmp_path / "e.nc") as de:
        for name in ("theta", "Phi", "mu"):
            u, e = du[name].values, de[name].values
            assert np.abs(u - e).max() <= 1e-10 * np.abs(e).max()


class _StopAfter(StopRequest):
    """A stop request raised after ``n`` frames (as a SIGTERM between frames would)."""

    def __init__(self, n: int) -> None:
        self._n, self._calls = n, 0

    @property
    def signal_name(self) -> str | None:
        self._calls += 1
        return "SIGTERM" if self._calls > self._n else None

    @signal_name.setter
    def signal_name(self, value: str | None) -> None:
        pass


def test_interrupted_etd_run_resumes_bit_for_bit(tmp_path):
    """The checkpoint holds the ETD stepper's internal state (theta, psi, mu on the retained
    modes): the resumed file equals the uninterrupted one bit for bit."""
    text = BASE.replace("n_frames = 6", "n_frames = 12").replace("[initial]", "[output]\ncheckpoint_every = 5\n[initial]")
    cfg = parse_config(text)
    full = run(cfg, output=tmp_path / "full.nc", progress=False, log=quiet)
    part = run(cfg, output=tmp_path / "part.nc", progress=False, log=quiet, stop=_StopAfter(7))
    assert full.status == "complete" and part.status == "interrupted"
    done = resume(tmp_path / "part.nc", progress=False, log=quiet)
    assert done.status == "complete" and done.resumed_from is not None
    with netCDF4.Dataset(tmp_path / "full.nc") as a, netCDF4.Dataset(tmp_path / "part.nc") as b:
        for name in ("t", "theta", "Phi", "mu", "T_local", "c2_local"):
            assert np.array_equal(a[name][:], b[name][:]), name
        assert "etd_state" in b.groups["checkpoint"].variables
