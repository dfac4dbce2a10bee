"""Thermal noise wired into ``tdgl-stt run`` and ``tdgl-stt analyze --stationary`` (issue 6):
config, output attributes, the checkpoint of the noise generator, resume after SIGKILL, same
seed -> same file, and the fitted linewidths of runs/thermal_cg.toml against the exact roots.

The statistical criteria are those of tests/test_noise.py (derived there, not tuned): every
``|z| < norm.isf(1e-3 / (2 * n_statistics))`` (Bonferroni, family-wise 1e-3), fit p-values
above 1e-4, width errors below 10 % of the widths with a median below 5 % (power against a
20 % width bias), and the shape chi-square inside its family-wise 1e-3 band (p-value > 1e-3 / n).
"""

from __future__ import annotations

import json
import random
import signal
import time
import tomllib
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import scipy.stats
import xarray as xr
from test_reliability import (
    _start_run,
    _wait_until_writing,
    assert_bitwise_equal,
    load_fields,
    render,
    run_cli,
)

from tdgl_stt.config import parse_config
from tdgl_stt.errors import ConfigError
from tdgl_stt.runner import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "runs" / "thermal_cg.toml"


def quiet_run(text: str, out: Path):
    res = run(parse_config(text), output=out, progress=False, log=lambda m: None)
    assert res.status == "complete", res.message
    return res


def example(**time) -> dict:
    doc = tomllib.loads(EXAMPLE.read_text())
    doc["time"].update(time)
    return doc


# --------------------------------------------------------------------------- config


def test_noise_config_is_parsed_and_refused_where_not_available():
    cfg = parse_config(render(example(n_frames=10)))
    assert cfg.noise is not None and cfg.noise.strength == 1.0 and cfg.noise.seed == 2024
    assert cfg.initial.kind == "stationary"
    doc = example(n_frames=10)
    doc["noise"]["colour"] = "pink"
    with pytest.raises(ConfigError, match="noise.colour"):
        parse_config(render(doc))
    doc = example(n_frames=10)
    del doc["noise"]
    with pytest.raises(ConfigError, match="initial.kind.*needs a \\[noise\\] table"):
        parse_config(render(doc))
    doc = example(n_frames=10)
    doc["initial"]["seed"] = 3
    with pytest.raises(ConfigError, match="initial.seed"):
        parse_config(render(doc))
    doc = example(n_frames=10)
    doc["model"].update(Tc=1.1)
    del doc["model"]["Delta"]
    doc["model"]["temperature_profile"] = {"kind": "gaussian", "amplitude": 0.01, "width": 30.0}
    with pytest.raises(ConfigError, match="initial.kind.*not known in closed form"):
        parse_config(render(doc))  # a stationary start where T varies (tests/test_noisy_etd.py)
    doc["initial"] = {"kind": "noise"}
    assert parse_config(render(doc)).noise.strength == 1.0  # noise with a profile: the ETD path


def test_stationary_start_refused_when_the_torque_makes_a_mode_grow(tmp_path):
    doc = example(n_frames=5)
    doc["model"]["grad_T"] = [5.0]
    code, lines = run_cli(["run", str(_write(tmp_path / "c.toml", doc)), "-q", "-o", str(tmp_path / "o.nc")])
    assert code == 2 and "no stationary state" in lines[-1], lines


def _write(path: Path, doc: dict) -> Path:
    path.write_text(render(doc))
    return path


# --------------------------------------------------------------------------- output, determinism


def test_same_seed_same_file_bitwise_and_the_noise_attributes(tmp_path):
    text = render(example(n_frames=300))
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    quiet_run(text, a)
    quiet_run(text, b)
    assert_bitwise_equal(load_fields(a), load_fields(b), "same seed")
    doc = example(n_frames=300)
    doc["noise"]["seed"] = 7
    quiet_run(render(doc), tmp_path / "c.nc")
    assert load_fields(tmp_path / "c.nc")["theta"].tobytes() != load_fields(a)["theta"].tobytes()
    with xr.open_dataset(a) as ds:
        assert ds.attrs["noise_kind"] == "thermal" and ds.attrs["noise_seed"] == 2024
        assert ds.attrs["noise_strength"] == 1.0
        assert ds.attrs["noise_Theta"] == pytest.approx(2.0 / ds.attrs["grid_L"])
    with netCDF4.Dataset(a) as nc:
        grp = nc.groups["checkpoint"]
        assert grp.variables["noise_rng"].shape == (2, 6) and grp.variables["noise_rng"].dtype == np.uint64


def test_zero_strength_is_the_deterministic_run(tmp_path):
    doc = example(n_frames=20)
    doc["initial"] = {"kind": "noise", "seed": 3}
    quiet_run(render(doc), tmp_path / "quiet0.nc")
    doc["noise"]["strength"] = 0.0
    quiet_run(render(doc), tmp_path / "s0.nc")
    del doc["noise"]
    quiet_run(render(doc), tmp_path / "none.nc")
    assert_bitwise_equal(load_fields(tmp_path / "s0.nc"), load_fields(tmp_path / "none.nc"))
    with xr.open_dataset(tmp_path / "s0.nc") as ds:
        assert "noise_kind" not in ds.attrs


# --------------------------------------------------------------------------- resume

NOISY_SLOW = {
    "model": {"Delta": 0.3, "T": 1.0, "vF": 1.0, "d": 3, "tau": 1.0, "tauE": 40.0,
              "coulomb": "bulk", "ks": 100.0},
    "grid": {"n": [128, 128], "L": [400.0, 400.0]},
    "time": {"dt": 2.0, "n_frames": 300},
    "initial": {"kind": "stationary"},
    "noise": {"kind": "thermal", "strength": 1.0, "seed": 11},
}
INTERVALS = (1, 7, None)


def _noisy_config(every: int | None) -> str:
    return render({**NOISY_SLOW, "output": {"checkpoint_every": every} if every else {}})


def test_noisy_run_resumed_after_sigkill_is_bitwise_an_uninterrupted_one(tmp_path):
    """SIGKILL at random moments (three trials, checkpoints every frame, every 7 frames and the
    default interval), resume: the file is bitwise the uninterrupted run's, noise included."""
    rng = random.Random(6)
    refs = {}
    for every in INTERVALS:
        quiet_run(_noisy_config(every), tmp_path / f"ref{every}.nc")
        refs[every] = load_fields(tmp_path / f"ref{every}.nc")
    trials = 0
    for attempt in range(12):
        every = INTERVALS[trials % len(INTERVALS)]
        cfg, out = tmp_path / f"cfg{attempt}.toml", tmp_path / f"run{attempt}.nc"
        cfg.write_text(_noisy_config(every))
        proc = _start_run(cfg, out)
        _wait_until_writing(out, proc)
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        with xr.open_dataset(out) as ds:
            status = ds.attrs["status"]
        if status == "complete":  # finished before the signal: not a trial
            continue
        assert status == "running"
        code, lines = run_cli(["run", "--resume", str(out), "-q"])
        assert code == 0, lines
        assert_bitwise_equal(load_fields(out), refs[every], f"SIGKILL, checkpoint_every={every}")
        trials += 1
        if trials == 3:
            break
    assert trials == 3


# --------------------------------------------------------------------------- the example


def test_thermal_cg_example_widths_match_the_exact_roots(tmp_path):
    """runs/thermal_cg.toml with 16000 of its 24000 frames, through the command line: every
    fitted centre and FWHM within its error of the exact root (Bonferroni over 2 x 4 peaks),
    the errors small enough to reject a 20 % width bias, and the spectra's shape the exact one."""
    cfg = _write(tmp_path / "thermal_cg.toml", example(n_frames=16000))
    out, report = tmp_path / "thermal_cg.nc", tmp_path / "report.json"
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(out)])
    assert code == 0, lines
    code, lines = run_cli(["analyze", str(out), "--stationary", "--nperseg", "128", "--q", "0.32", "0.48",
                           "--json", str(report)])
    assert code == 0, lines
    rows = json.loads(report.read_text())["stationary"]
    assert len(rows) == 2
    peaks = [p for r in rows for p in r["peaks"]]
    assert len(peaks) == 4  # both CG branches at each q; the dielectric root is unresolved
    bound = scipy.stats.norm.isf(1e-3 / (2 * 2 * len(peaks)))
    for p in peaks:
        assert abs(p["z_center"]) < bound and abs(p["z_width"]) < bound, p
        assert p["exact_fwhm"] == pytest.approx(-2 * p["exact_im"])
    for r in rows:
        assert r["fit_p_value"] > 1e-4, r
        assert r["shape_p_value"] > 1e-3 / len(rows), r
    rel = [p["fwhm_err"] / p["exact_fwhm"] for p in peaks]
    assert max(rel) < 0.10 and np.median(rel) < 0.05, rel
