"""The command line: exit codes, one-line errors with no output file, clean stops, `modes`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tdgl_stt.api import exact_modes
from tdgl_stt.cli import main
from tdgl_stt.config import parse_config

GOOD = """
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 3
tau = 1.0
grad_T = [1.0e-3]
coulomb = "bulk"
ks = 100.0

[grid]
n = [32]
L = [400.0]

[time]
dt = 2.0
n_frames = 20

[initial]
kind = "noise"
seed = 4

[output]
path = "out.nc"
"""

#: (label, old text, new text, key that the message must name)
BAD = [
    ("unknown key", "tau = 1.0", "tau = 1.0\ntua = 2.0", "model.tua"),
    ("unknown table", "[output]", "[outptu]", "outptu"),
    ("wrong type", "tau = 1.0", 'tau = "one"', "model.tau"),
    ("bool for number", "vF = 1.0", "vF = true", "model.vF"),
    ("negative", "tau = 1.0", "tau = -1.0", "model.tau"),
    ("zero step", "dt = 2.0", "dt = 0.0", "time.dt"),
    ("nan", "Delta = 0.3", "Delta = nan", "model.Delta"),
    ("inf", "vF = 1.0", "vF = inf", "model.vF"),
    ("length mismatch", "grad_T = [1.0e-3]", "grad_T = [1.0e-3, 0.0]", "model.grad_T"),
    ("missing ks", 'ks = 100.0', "", "model.ks"),
    ("bad kernel", 'coulomb = "bulk"', 'coulomb = "yukawa"', "model.coulomb"),
    ("odd grid", "n = [32]", "n = [31]", "grid.n"),
    ("no frames", "n_frames = 20", "n_frames = 0", "time.n_frames"),
    ("bad field", '[output]\npath = "out.nc"', '[output]\npath = "out.nc"\nfields = ["rho"]', "output.fields"),
]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "run.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("label,old,new,key", BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_2_naming_the_key_and_writes_nothing(label, old, new, key, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert old in GOOD
    cfg = write(tmp_path, GOOD.replace(old, new))
    code = main(["run", str(cfg), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("tdgl-stt: error:") and key in err[0], err
    assert not (tmp_path / "out.nc").exists()


def test_missing_config_file_and_unwritable_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err
    cfg = write(tmp_path, GOOD)
    assert main(["run", str(cfg), "-o", str(tmp_path / "missing-dir" / "x.nc")]) == 2
    assert "missing-dir" in capsys.readouterr().err


def test_console_script_prints_no_traceback(tmp_path):
    cfg = write(tmp_path, GOOD.replace("tau = 1.0", "tau = -1.0"))
    proc = subprocess.run(
        [sys.executable, "-m", "tdgl_stt.cli", "run", str(cfg)], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "model.tau" in proc.stderr


def test_run_writes_complete_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = write(tmp_path, GOOD)
    assert main(["run", str(cfg), "-q"]) == 0
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        assert ds.attrs["status"] == "complete"
        assert ds.sizes["t"] == 21
        assert ds.attrs["config_toml"] == cfg.read_text()
        for name in ("coef_I", "coef_c2", "coef_D", "coef_vT", "coef_gamma_G", "coef_v_G", "coef_q_G"):
            assert name in ds.attrs
        assert ds["theta"].attrs["units"] == "rad" and ds["t"].attrs["units"]


def _slow_config(tmp_path: Path) -> Path:
    return write(tmp_path, GOOD.replace("n = [32]", "n = [4096]").replace("n_frames = 20", "n_frames = 200000"))


def _start(tmp_path: Path, out: Path) -> subprocess.Popen:
    cfg = _slow_config(tmp_path)
    return subprocess.Popen(
        [sys.executable, "-m", "tdgl_stt.cli", "run", str(cfg), "-q", "-o", str(out)],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_frames(out: Path, proc: subprocess.Popen, min_bytes: int = 400_000, timeout: float = 60) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if out.exists() and out.stat().st_size > min_bytes:
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    raise AssertionError("run produced no frames")


def _reference_frames(tmp_path: Path, n: int) -> xr.Dataset:
    text = _slow_config(tmp_path).read_text().replace("n_frames = 200000", f"n_frames = {n - 1}")
    ref = tmp_path / "ref.nc"
    from tdgl_stt.runner import run

    run(parse_config(text), output=ref, progress=False)
    return xr.load_dataset(ref)


@pytest.mark.parametrize("trial", range(3))
def test_sigkill_leaves_readable_file_with_the_frames_written(tmp_path, trial):
    out = tmp_path / "killed.nc"
    proc = _start(tmp_path, out)
    _wait_for_frames(out, proc)
    time.sleep(0.05 * trial)
    proc.kill()
    proc.wait()
    from tdgl_stt import open_run

    ds = open_run(out).load()  # drops a frame whose t was never committed (plain xarray shows t = NaN)
    n = ds.sizes["t"]
    assert n >= 1
    assert ds.attrs["status"] == "running"  # it never got to say anything else
    ref = _reference_frames(tmp_path, n)
    for f in ("theta", "Phi", "mu"):
        np.testing.assert_array_equal(ds[f].values, ref[f].values)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_marks_file_and_exits_130(tmp_path, sig):
    out = tmp_path / "stopped.nc"
    proc = _start(tmp_path, out)
    _wait_for_frames(out, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    with xr.open_dataset(out) as ds:
        assert ds.attrs["status"] == "interrupted"
        assert ds.sizes["t"] >= 1
        assert ("SIGINT" if sig == signal.SIGINT else "SIGTERM") in ds.attrs["status_message"]


def test_modes_json_equals_api(tmp_path, capsys):
    cfg = write(tmp_path, GOOD)
    assert main(["modes", str(cfg), "--q", "0.01", "0.2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ref = exact_modes(parse_config(GOOD), np.array([0.01, 0.2])).omega
    got = np.array([[complex(r, i) for r, i in zip(m["omega_re"], m["omega_im"])] for m in data["modes"]])
    np.testing.assert_array_equal(got, ref)
    assert main(["modes", str(cfg)]) == 0
    table = capsys.readouterr().out
    assert "Re w_0" in table and "roots of det M" in table


def test_physical_instability_is_announced_and_stops_as_diverged(tmp_path, capsys):
    """A strong torque makes one branch grow (Im w > 0 among the exact roots): the run says so at
    the start, and when the amplitude passes 1e150 it stops as "diverged", attributing it to the
    physical instability (not to numerics), keeping every finite frame."""
    text = GOOD.replace("grad_T = [1.0e-3]", "grad_T = [2.0]").replace("n = [32]", "n = [16]").replace(
        "n_frames = 20", "n_frames = 100000")
    cfg = write(tmp_path, text)
    out = tmp_path / "unstable.nc"
    code = main(["run", str(cfg), "-q", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert "physical instability" in err and "grows at rate" in err
    with xr.open_dataset(out) as ds:
        assert ds.attrs["status"] == "diverged"
        assert "expected from the physical instability" in ds.attrs["status_message"]
        assert ds.attrs["max_growth_rate"] > 0
        assert np.all(np.isfinite(ds["theta"].values))
