"""Reliability (issue 9): bad input, interruption and resume, determinism, divergence, the
analyzer on damaged files, and a full or unwritable output path.

Every test here would fail if the behaviour were wrong: configs are fuzzed through the real
command line, runs are killed in real subprocesses and resumed, and every comparison of
fields is bitwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tdgl_stt import open_run
from tdgl_stt.checkpoint import generator_from_array, generator_to_array
from tdgl_stt.cli import main
from tdgl_stt.config import (
    BYTES_PER_GRID_POINT,
    GridConfig,
    InitialConfig,
    MaterialConfig,
    ModelConfig,
    OutputConfig,
    TimeConfig,
    available_memory,
    parse_config,
)
from tdgl_stt.errors import ConfigError
from tdgl_stt.io_netcdf import RunWriter
from tdgl_stt.runner import StopRequest, resume, run

FIELDS = ("theta", "Phi", "mu")

# --------------------------------------------------------------------------- helpers


def toml_value(v: object) -> str:
    """A Python value as a TOML value (floats bit-exact, strings escaped, nested lists/tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        out = []
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_value(k)


def render(doc: dict) -> str:
    """``{table: {key: value}}`` (a non-dict table value is written as a top-level key)."""
    lines = [f"{toml_key(name)} = {toml_value(body)}" for name, body in doc.items() if not isinstance(body, dict)]
    for name, body in doc.items():
        if isinstance(body, dict):
            lines.append(f"[{toml_key(name)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def run_cli(args: list[str]) -> tuple[int, list[str]]:
    """``tdgl-stt ARGS`` in this process: (exit status, stderr lines). An exception escaping
    ``main`` is a traceback for the user, and fails the calling test."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue().strip().splitlines()


def load_fields(path: Path) -> dict[str, np.ndarray]:
    with xr.open_dataset(path) as ds:
        out = {name: ds[name].values.copy() for name in FIELDS if name in ds}
        out["t"] = ds["t"].values.copy()
    return out


def assert_bitwise_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray], what: str = "") -> None:
    assert a.keys() == b.keys(), what
    for name in a:
        assert a[name].shape == b[name].shape, f"{what}: {name} shape {a[name].shape} != {b[name].shape}"
        assert a[name].tobytes() == b[name].tobytes(), f"{what}: {name} differs"


# --------------------------------------------------------------------------- 1. config fuzzing

TINY_1D = {
    "model": {"Delta": 0.3, "T": 1.0, "vF": 1.0, "d": 3, "tau": 1.0, "grad_T": [1.0e-3],
              "coulomb": "bulk", "ks": 100.0},
    "grid": {"n": [8], "L": [40.0]},
    "time": {"dt": 2.0, "n_frames": 2},
    "initial": {"kind": "noise", "seed": 3},
}
TINY_2D = {
    "model": {"Delta": 0.3, "T": 1.0, "vF": 1.0, "d": 2, "tau": 10.0, "tauE": "inf", "ns_over_n": "dirty",
              "grad_T": [1e-3, 0.0], "coulomb": "film", "ks": 5.0},
    "grid": {"n": [4, 6], "L": [50.0, 25.0]},
    "time": {"dt": 0.25, "n_frames": 2, "integrator": "exact"},
    "initial": {"kind": "mode", "k": [1, -1], "branch": 0, "amplitude": 1e-2, "seed": 7},
    "output": {"path": "run.nc", "fields": ["theta", "mu"], "checkpoint_every": 1},
}
TINY_MATERIAL = {
    "material": {"preset": "aluminium", "T_over_Tc": 0.9, "grad_T": [1000.0]},
    "grid": {"n": [8], "L": [1e-6]},
    "time": {"dt": 1e-12, "n_frames": 2},
    "initial": {"kind": "gaussian", "width": 1e-7, "field": "Phi"},
}
BASES = [TINY_1D, TINY_2D, TINY_MATERIAL]
for _base in BASES:
    assert parse_config(render(_base))  # the starting points are valid

KNOWN_KEYS = sorted({k for b in BASES for t in b.values() for k in t} | {
    "vT", "I", "D", "c2", "width", "center", "field", "k", "branch", "path", "fields", "amplitude",
    "Tc", "vF", "tau", "tauE", "eps_r", "N0", "n", "thickness", "coulomb", "d", "ns_over_n"})

SCHEMA_KEYS = {"model", "grid", "time", "initial", "output", "material"} | {
    f"{table}.{f.name}" for table, cls in (("model", ModelConfig), ("grid", GridConfig), ("time", TimeConfig),
                                           ("initial", InitialConfig), ("output", OutputConfig),
                                           ("material", MaterialConfig)) for f in dataclasses.fields(cls)}
junk_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
special_floats = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e-308, 1e308, -1.0, 1e-300, 1e300])
special_ints = st.sampled_from([0, -1, 1, 2, 3, 4, 7, -(2**63), 2**63 - 1, 2**31])
scalars = st.one_of(
    special_floats, st.floats(allow_nan=True, allow_infinity=True), special_ints,
    st.integers(-(2**63), 2**63 - 1), st.booleans(), junk_text,
    st.sampled_from(["inf", "nan", "clean", "dirty", "bulk", "film", "none", "noise", "mode", "gaussian",
                     "theta", "Phi", "mu", "exact", "aluminium", "auto", "", " "]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=5), st.dictionaries(junk_text, scalars, max_size=2))
# Grids are tiny (runs stay fast) or far beyond any memory (refused before allocation).
grid_n = st.one_of(
    st.lists(st.sampled_from([2, 4, 6, 8]), min_size=1, max_size=3),
    st.lists(st.sampled_from([2**20, 2**21, 2**31, 2**40]), min_size=2, max_size=3),
    st.lists(st.sampled_from([0, 1, 3, -2, 2**62]), min_size=1, max_size=4),
    values,
)
# Frame counts are tiny, absurd (refused by the free-space check) or invalid.
n_frames = st.one_of(st.sampled_from([1, 2, 3, 0, -1, 2**63 - 1, 2**40]), st.floats(), st.booleans(), junk_text)


extreme_floats = st.one_of(st.floats(min_value=-1e300, max_value=1e300),
                           st.sampled_from([1e-300, 1e300, 5e-324, 1e-12, 1e12, -1e-300, 0.5, 2.0]))


def same_type(value: object) -> st.SearchStrategy:
    """Values of the type of ``value`` (lists keep their length), of any size."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-3, 9)
    if isinstance(value, float):
        return extreme_floats
    if isinstance(value, list):
        return st.tuples(*(same_type(v) for v in value)).map(list)
    return st.just(value)


@st.composite
def mutated_config(draw) -> tuple[str, str]:
    """(TOML text, dotted key that was mutated) from a valid tiny config."""
    doc = {t: dict(b) if isinstance(b, dict) else b for t, b in draw(st.sampled_from(BASES)).items()}
    table = draw(st.sampled_from(list(doc) * 4 + ["output", "initial", "solver", "material", "model"]))
    action = draw(st.sampled_from(["set"] * 3 + ["perturb"] * 3 + ["delete", "delete_table", "resize", "table_value"]))
    if action == "delete_table":
        doc.pop(table, None)
        return render(doc), table
    if action == "table_value":
        doc[table] = draw(scalars)
        return render(doc), table
    body = doc.setdefault(table, {})
    source = draw(st.sampled_from(["present"] * 6 + ["known"] * 3 + ["junk"]))
    if source == "present" and body:
        key = draw(st.sampled_from(sorted(body)))
    elif source == "junk":
        key = draw(junk_text)
    else:
        key = draw(st.sampled_from(KNOWN_KEYS))
    if action == "delete":
        body.pop(key, None)
    elif action == "resize":
        old = body.get(key, [1.0])
        old = old if isinstance(old, list) else [old]
        size = draw(st.integers(0, 5))
        body[key] = (old * 5)[:size]
    elif action == "perturb":  # a value of the same type: valid or not only by its size
        body[key] = draw(same_type(body.get(key, 1.0)))
    elif (table, key) == ("grid", "n"):
        body[key] = draw(grid_n)
    elif (table, key) == ("time", "n_frames"):
        body[key] = draw(n_frames)
    elif (table, key) == ("output", "path"):
        body[key] = draw(st.one_of(junk_text.filter(lambda p: "/" not in p and "\\" not in p),
                                   st.sampled_from(["", ".", "..", "\x00", "a\x00b", " ", "out.nc"])))
    else:
        body[key] = draw(values)
    return render(doc), f"{table}.{key}"


random_documents = st.one_of(
    st.dictionaries(st.sampled_from(["model", "grid", "time", "initial", "output", "material", "x"]) | junk_text,
                    st.one_of(st.dictionaries(st.sampled_from(KNOWN_KEYS) | junk_text, values, max_size=6), scalars),
                    max_size=6).map(render),
    junk_text.map(lambda s: s + "\n"),
    st.sampled_from(["[model", "= 1", "[grid]\nn = [8,\n", "[[time]]\n", "a.b.c = 1\n", '"\\q" = 1\n']),
)


def _check_outcome(text: str | bytes, named: set[str]) -> None:
    """Run a config file through ``tdgl-stt run`` in an empty directory: either it runs (exit 0
    or 3, a file with that status) or it exits 2 with one line naming a key and leaves no file."""
    with tempfile.TemporaryDirectory() as d:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            cfg = Path(d) / "cfg.toml"
            cfg.write_bytes(text if isinstance(text, bytes) else text.encode())
            code, err = run_cli(["run", str(cfg), "-q"])
            produced = sorted(p.name for p in Path(d).iterdir() if p.name != "cfg.toml")
        finally:
            os.chdir(cwd)
        event(f"exit {code}")
        if code == 2:
            event(f"refused: {err[0][len('tdgl-stt: error: '):].split(': ', 1)[0]}"[:60])
            assert len(err) == 1 and err[0].startswith("tdgl-stt: error: "), err
            assert "Traceback" not in err[0]
            assert produced == [], f"exit 2 but files were left: {produced}"
            message = err[0][len("tdgl-stt: error: "):]
            printable = {"".join(c if c.isprintable() else repr(c)[1:-1] for c in k) for k in named | SCHEMA_KEYS}
            # the message is "<key>: <why>"; a fuzzed key may itself hold ": ", so match whole keys
            names_a_key = any(message.startswith(k + ": ") for k in printable | {"<file>"})
            assert names_a_key or message.startswith("cannot write output file"), (message.split(": ", 1)[0], err)
        else:
            assert code in (0, 3), (code, err)
            assert len(produced) == 1, produced
            with xr.open_dataset(Path(d) / produced[0]) as ds:
                assert ds.attrs["status"] == ("complete" if code == 0 else "diverged")


def _keys_of(text: str) -> set[str]:
    try:
        import tomllib

        doc = tomllib.loads(text)
    except Exception:  # noqa: BLE001
        return set()
    keys = set(doc)
    for name, body in doc.items():
        if isinstance(body, dict):
            keys |= {f"{name}.{k}" for k in body}
    return keys


FUZZ = settings(max_examples=1000, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(mutated_config())
@example(case=('[material]\npreset = "aluminium"\nT_over_Tc = 0.9\neps_r = 5e-324\n[grid]\nn = [8]\nL = [1e-06]\n'
               '[time]\ndt = 1e-12\nn_frames = 2\n', "material.eps_r"))  # eps0 eps_r underflowed to 0
def test_fuzzed_configs_run_or_exit_2_naming_the_key(case: tuple[str, str]) -> None:
    text, key = case
    _check_outcome(text, _keys_of(text) | {key, key.split(".")[0]})


@settings(FUZZ, max_examples=300)
@given(random_documents)
def test_random_toml_documents_exit_2_naming_the_key(text: str) -> None:
    _check_outcome(text, _keys_of(text))


@settings(FUZZ, max_examples=50)
@given(st.binary(max_size=64))
def test_random_bytes_exit_2(data: bytes) -> None:
    _check_outcome(data, {"<file>", "model", "grid", "time"})


def test_grid_beyond_memory_is_refused_before_allocation_with_the_estimate(monkeypatch) -> None:
    monkeypatch.setattr("tdgl_stt.config.available_memory", lambda: 2**30)
    doc = {**TINY_1D, "grid": {"n": [8192, 8192], "L": [1.0e3, 1.0e3]},
           "model": {**TINY_1D["model"], "grad_T": [0.0, 0.0]}}
    with pytest.raises(ConfigError) as info:
        parse_config(render(doc))
    need = 8192 * 8192 * BYTES_PER_GRID_POINT / 2**30
    assert info.value.key == "grid.n"
    assert f"{need:.3g} GiB" in info.value.message and "only 1 GiB" in info.value.message
    monkeypatch.setattr("tdgl_stt.config.available_memory", lambda: 2**40)
    assert parse_config(render(doc)).grid.n == (8192, 8192)  # enough memory: accepted (not run)


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="no /proc/meminfo")
def test_available_memory_is_memavailable_of_proc_meminfo() -> None:
    """MemAvailable counts the page cache the kernel can drop; free pages alone
    (SC_AVPHYS_PAGES) would refuse grids that fit on a machine with a full cache."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            expected = int(line.split()[1]) * 1024
    assert abs(available_memory() - expected) < 64 * 2**20  # read a moment apart


# --------------------------------------------------------------------------- 2. resume

SLOW = {
    "model": {"Delta": 0.3, "T": 1.0, "vF": 1.0, "d": 3, "tau": 1.0, "grad_T": [1.0e-3, 0.0],
              "coulomb": "bulk", "ks": 100.0},
    "grid": {"n": [128, 128], "L": [400.0, 400.0]},
    "time": {"dt": 2.0, "n_frames": 400},
    "initial": {"kind": "noise", "seed": 4},
}
#: checkpoint_every of the trials: every frame, every 7 frames, and the default (51 here).
INTERVALS = (1, 7, None)


def slow_config(every: int | None) -> str:
    doc = {**SLOW, "output": {"checkpoint_every": every} if every else {}}
    return render(doc)


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict:
    """Uninterrupted runs of the trial configs, computed in this process."""
    d = tmp_path_factory.mktemp("references")
    out = {}
    for every in INTERVALS:
        res = run(parse_config(slow_config(every)), output=d / f"ref{every}.nc", progress=False, log=lambda m: None)
        assert res.status == "complete"
        out[every] = load_fields(d / f"ref{every}.nc")
    return out


def _start_run(cfg: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tdgl_stt.cli", "run", str(cfg), "-q", "-o", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def _wait_until_writing(out: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until the first frames are in the file (header ~20 kB + checkpoint slots ~800 kB)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if out.exists() and out.stat().st_size > 1_500_000:
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.005)
    raise AssertionError("the run wrote no frame")


def test_resume_after_random_sigint_sigterm_sigkill_is_bitwise_an_uninterrupted_run(references, tmp_path) -> None:
    """Runs killed at random moments (SIGINT, SIGTERM: clean stop; SIGKILL: no warning at all),
    then resumed with ``tdgl-stt run --resume``, end bitwise equal to uninterrupted runs. The
    next run starts while the previous one is being resumed, to keep the test short."""
    rng = random.Random(9)
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL] * 8
    resumed, attempts = [], 0

    def launch() -> tuple[subprocess.Popen, Path, int | None]:
        nonlocal attempts
        attempts += 1
        every = INTERVALS[attempts % len(INTERVALS)]
        cfg, out = tmp_path / f"cfg{attempts}.toml", tmp_path / f"run{attempts}.nc"
        cfg.write_text(slow_config(every))
        return _start_run(cfg, out), out, every

    pending = launch()
    while signals:
        proc, out, every = pending
        sig = signals[0]
        _wait_until_writing(out, proc)
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        with xr.open_dataset(out) as ds:
            status = ds.attrs["status"]
        finished = status == "complete"  # before the signal arrived: not a trial
        if not finished:
            signals.pop(0)
        assert attempts < 40, f"only {len(resumed)} runs were interrupted in {attempts} attempts"
        pending = launch() if signals else None
        if finished:
            continue
        if sig == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL and status == "running"
        else:
            assert proc.returncode == 130 and status == "interrupted", err
        code, lines = run_cli(["run", "--resume", str(out), "-q"])
        assert code == 0, lines
        assert_bitwise_equal(load_fields(out), references[every], f"{sig.name}, checkpoint_every={every}")
        with xr.open_dataset(out) as ds:
            assert ds.attrs["status"] == "complete"
            assert "resumed from the checkpoint at frame" in ds.attrs["history"]
        resumed.append((sig.name, every))
        out.unlink()
    assert len(resumed) == 24
    assert {name for name, _ in resumed} == {"SIGINT", "SIGTERM", "SIGKILL"}


def test_a_killed_resume_resumes_again(references, tmp_path) -> None:
    """SIGKILL the run, SIGKILL its resume too, resume again: still the uninterrupted run."""
    cfg, out = tmp_path / "cfg.toml", tmp_path / "run.nc"
    cfg.write_text(slow_config(7))
    proc = _start_run(cfg, out)
    _wait_until_writing(out, proc)
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    size = out.stat().st_size
    proc = subprocess.Popen([sys.executable, "-m", "tdgl_stt.cli", "run", "--resume", str(out), "-q"],
                            stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while out.stat().st_size <= size + 500_000:  # it is writing new frames
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() - t0 < 60
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    with xr.open_dataset(out) as ds:
        assert ds.attrs["status"] == "running" and ds.sizes["t"] < 401
    code, lines = run_cli(["run", "--resume", str(out), "-q"])
    assert code == 0, lines
    assert_bitwise_equal(load_fields(out), references[7])


def _interrupted_run(text: str, out: Path, after: int) -> None:
    """Run ``text`` and stop it cleanly (as SIGINT does) after frame ``after``."""
    stop = StopRequest()
    calls = {"n": 0}

    def log(message: str) -> None:
        pass

    from tdgl_stt.integrators.exact import ExactStepper

    original = ExactStepper.step

    def step(self, x):
        calls["n"] += 1
        if calls["n"] == after:
            stop.signal_name = "SIGINT"
        return original(self, x)

    ExactStepper.step = step
    try:
        result = run(parse_config(text), output=out, progress=False, log=log, stop=stop)
    finally:
        ExactStepper.step = original
    assert result.status == "interrupted" and result.frames_written == after + 1


SMALL = {**TINY_1D, "grid": {"n": [32], "L": [400.0]}, "time": {"dt": 2.0, "n_frames": 30},
         "output": {"checkpoint_every": 4}}


@pytest.fixture()
def small_reference(tmp_path) -> dict:
    run(parse_config(render(SMALL)), output=tmp_path / "ref.nc", progress=False)
    return load_fields(tmp_path / "ref.nc")


def _set_checkpoint_frames(path: Path, frames: dict[int, int]) -> None:
    with netCDF4.Dataset(path, "a") as nc:
        for slot, frame in frames.items():
            nc["checkpoint"]["frame"][slot] = frame


def _checkpoint_frames(path: Path) -> list[int]:
    with netCDF4.Dataset(path) as nc:
        return [int(v) for v in nc["checkpoint"]["frame"][:]]


def test_a_checkpoint_cut_off_mid_write_falls_back_to_the_other_slot(tmp_path, small_reference) -> None:
    """A kill inside a checkpoint write leaves its slot marked -1: the other slot is used."""
    out = tmp_path / "run.nc"
    _interrupted_run(render(SMALL), out, after=10)  # checkpoints at 8, and 10 on the clean stop
    assert sorted(_checkpoint_frames(out)) == [8, 10]
    newest = _checkpoint_frames(out).index(10)
    _set_checkpoint_frames(out, {newest: -1})
    result = resume(out, progress=False, log=lambda m: None)
    assert result.status == "complete" and result.resumed_from == 8
    assert_bitwise_equal(load_fields(out), small_reference)


def test_a_damaged_checkpoint_is_passed_over(tmp_path, small_reference) -> None:
    """Finite but wrong numbers in the newest slot: it does not reproduce its frame on disk,
    so the older slot is used; with both damaged the resume is refused and the file untouched."""
    out = tmp_path / "run.nc"
    _interrupted_run(render(SMALL), out, after=10)
    slots = _checkpoint_frames(out)
    with netCDF4.Dataset(out, "a") as nc:
        nc["checkpoint"]["state"][slots.index(10), 0, 3, 0] = 0.123
    notes = []
    result = resume(out, progress=False, log=notes.append)
    assert result.resumed_from == 8 and any("passed over the checkpoint of frame 10" in n for n in notes)
    assert_bitwise_equal(load_fields(out), small_reference)

    _interrupted_run(render(SMALL), out, after=10)
    with netCDF4.Dataset(out, "a") as nc:
        nc["checkpoint"]["state"][:, 0, 3, 0] = 0.123
    before = out.read_bytes()
    code, lines = run_cli(["run", "--resume", str(out)])
    assert code == 2 and len(lines) == 1 and "no checkpoint reproduces its frame" in lines[0], lines
    assert out.read_bytes() == before


def _mark_killed(path: Path) -> None:
    """The status a SIGKILL leaves: the run never got to say it stopped."""
    with netCDF4.Dataset(path, "a") as nc:
        nc.setncattr("status", "running")


def _first_write_fails(monkeypatch, message: str = "NetCDF: HDF error") -> list[int]:
    """RunWriter.write_frame raises OutputError once, as extending a file whose chunk index a
    kill damaged does; returns the list counting the failures."""
    from tdgl_stt.errors import OutputError

    original = RunWriter.write_frame
    failures: list[int] = []

    def write_frame(self, t, values):
        if not failures:
            failures.append(self.n_written)
            raise OutputError(f"cannot write frame {self.n_written} to {self.path}: {message}")
        return original(self, t, values)

    monkeypatch.setattr(RunWriter, "write_frame", write_frame)
    return failures


def test_a_killed_run_that_cannot_be_extended_in_place_is_rebuilt_and_resumed(tmp_path, small_reference, monkeypatch) -> None:
    """A kill inside HDF5's metadata flush can leave a file that opens and reads but cannot be
    extended. The resume then copies frames 0..k and the checkpoint of frame k into a new file,
    puts it in place of the old one and resumes once more: bitwise the uninterrupted run."""
    out = tmp_path / "run.nc"
    _interrupted_run(render(SMALL), out, after=10)
    _mark_killed(out)
    failures = _first_write_fails(monkeypatch)
    said: list[str] = []
    result = resume(out, progress=False, log=said.append)
    assert failures == [11] and result.status == "complete"
    assert any("rebuilding it from frames 0..10 and the checkpoint of frame 10" in m for m in said), said
    assert_bitwise_equal(load_fields(out), small_reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.nc", "run.nc"]  # no copy left behind
    with xr.open_dataset(out) as ds:
        assert ds.attrs["status"] == "complete" and "resumed from the checkpoint at frame 10" in ds.attrs["history"]


def test_a_write_error_of_a_cleanly_stopped_run_is_not_taken_for_damage(tmp_path, monkeypatch) -> None:
    """A run stopped by SIGINT/SIGTERM wrote its file to the end: a write error on its resume (a
    full disk, say) is reported as it is, without a rebuild."""
    from tdgl_stt.errors import OutputError

    out = tmp_path / "run.nc"
    _interrupted_run(render(SMALL), out, after=10)
    _first_write_fails(monkeypatch, "No space left on device")
    said: list[str] = []
    with pytest.raises(OutputError, match="No space left on device"):
        resume(out, progress=False, log=said.append)
    assert not any("rebuilding" in m for m in said)


def test_a_rebuilt_file_is_the_original_cut_after_its_checkpoint(tmp_path) -> None:
    """rebuild_run_file on a complete run with a temperature profile: attributes, coordinates and
    static coefficient fields unchanged, frames 0..k bitwise, the checkpoint of frame k in its
    slot and the other slot empty; resumed, the file is the complete run again, bit for bit."""
    from tdgl_stt.checkpoint import read_valid
    from tdgl_stt.file_rebuild import rebuild_run_file

    doc = {"model": {"T": 0.8, "Tc": 1.0, "vF": 1.0, "d": 1, "tau": 10.0, "coulomb": "none",
                     "temperature_profile": {"kind": "gaussian", "amplitude": 0.02, "width": 5.0}},
           "grid": {"n": [48], "L": [60.0]},
           "time": {"dt": 2.0, "n_frames": 12, "integrator": "etdrk4", "steps_per_frame": 2},
           "initial": {"kind": "noise", "seed": 2, "amplitude": 1e-3},
           "output": {"checkpoint_every": 4}}
    ref, out = tmp_path / "ref.nc", tmp_path / "run.nc"
    run(parse_config(render(doc)), output=ref, progress=False, log=lambda m: None)
    shutil.copy(ref, out)
    with netCDF4.Dataset(out) as nc:
        checkpoint = next(c for c in read_valid(nc, 12) if c.frame == 8)
    rebuild_run_file(out, keep=9, checkpoint=checkpoint)
    with xr.open_dataset(ref) as a, xr.open_dataset(out) as b:
        assert a.attrs.keys() == b.attrs.keys()
        assert all(np.array_equal(a.attrs[k], b.attrs[k]) for k in a.attrs)
        assert b.sizes["t"] == 9 and set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            expected = a[name].isel(t=slice(0, 9)) if "t" in a[name].dims else a[name]
            assert expected.values.tobytes() == b[name].values.tobytes(), name
        assert a["t"].values[:9].tobytes() == b["t"].values.tobytes()
    with netCDF4.Dataset(out) as nc:
        (kept,) = read_valid(nc, 12)
        assert kept.frame == 8 and kept.slot == checkpoint.slot
        assert all(kept.arrays[k].tobytes() == checkpoint.arrays[k].tobytes() for k in checkpoint.arrays)
        assert int(nc["checkpoint"]["frame"][1 - checkpoint.slot]) == -1
    _mark_killed(out)
    assert resume(out, progress=False, log=lambda m: None).status == "complete"
    assert_bitwise_equal(load_fields(out), load_fields(ref))


def test_resume_keeps_frames_on_disk_and_rewrites_only_what_differs(tmp_path, small_reference) -> None:
    """Frames after the checkpoint are recomputed and compared; one altered on disk is rewritten,
    the others are left as they are."""
    out = tmp_path / "run.nc"
    _interrupted_run(render(SMALL), out, after=15)  # checkpoints 12 and 15
    _set_checkpoint_frames(out, {_checkpoint_frames(out).index(15): -1})  # resume from 12
    with netCDF4.Dataset(out, "a") as nc:
        nc["Phi"][14, 5] = 42.0
    notes = []
    result = resume(out, progress=False, log=notes.append)
    assert result.resumed_from == 12 and result.frames_written == 31
    assert any("1 recomputed frames differed" in n for n in notes), notes
    assert_bitwise_equal(load_fields(out), small_reference)


def _refusal(path: Path, reason: str) -> None:
    before = path.read_bytes() if path.is_file() else None
    code, lines = run_cli(["run", "--resume", str(path)])
    assert code == 2 and len(lines) == 1 and lines[0].startswith("tdgl-stt: error:"), lines
    assert str(path) in lines[0] and reason in lines[0], lines
    if before is not None:
        assert path.read_bytes() == before, "a refused resume changed the file"


def test_resume_refuses_files_it_cannot_continue(tmp_path) -> None:
    complete = tmp_path / "complete.nc"
    run(parse_config(render(SMALL)), output=complete, progress=False)
    _refusal(complete, "the run is complete (31 frames)")

    diverged = tmp_path / "diverged.nc"
    unstable = {**SMALL, "model": {**SMALL["model"], "grad_T": [2.0]}, "grid": {"n": [16], "L": [400.0]},
                "time": {"dt": 2.0, "n_frames": 100000}}
    assert run(parse_config(render(unstable)), output=diverged, progress=False, log=lambda m: None).status == "diverged"
    _refusal(diverged, "the run diverged")

    no_checkpoint = tmp_path / "old.nc"
    with xr.open_dataset(complete) as ds:
        attrs = {k: v for k, v in ds.attrs.items() if k not in ("Conventions", "source", "history", "status", "status_message")}
        frames = {name: ds[name].values for name in FIELDS}
    with RunWriter(no_checkpoint, axes=("x",), coords={"x": np.arange(32) * 12.5}, lengths=(400.0,),
                   fields=FIELDS, attrs=attrs) as writer:
        for i in range(3):
            writer.write_frame(2.0 * i, {name: frames[name][i] for name in FIELDS})
        writer.set_status("interrupted", "stopped by SIGINT")
    _refusal(no_checkpoint, "it has no checkpoint")

    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("t", np.arange(3.0))}, attrs={"source": "WRF"}).to_netcdf(foreign)
    _refusal(foreign, "is not a tdgl-stt run")
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    _refusal(empty, "file is empty")
    _refusal(tmp_path / "absent.nc", "no such file")

    interrupted = tmp_path / "interrupted.nc"
    _interrupted_run(render(SMALL), interrupted, after=5)
    with netCDF4.Dataset(interrupted, "a") as nc:
        nc.setncattr("config_toml", render(SMALL).replace("n = [32]", "n = [64]"))
    _refusal(interrupted, "do not match its own config")
    with netCDF4.Dataset(interrupted, "a") as nc:
        nc.setncattr("config_toml", "[model]\nDelta = -1\n")
    _refusal(interrupted, "its stored config is not valid")
    _set_checkpoint_frames(interrupted, {0: -1, 1: -1})
    with netCDF4.Dataset(interrupted, "a") as nc:
        nc.setncattr("config_toml", render(SMALL))
    _refusal(interrupted, "no valid checkpoint")

    cfg = tmp_path / "cfg.toml"
    cfg.write_text(render(SMALL))
    for args, reason in ((["run", str(cfg), "--resume", str(interrupted)], "not both"),
                         (["run"], "not both"),
                         (["run", "--resume", str(interrupted), "-o", "x.nc"], "-o/--output"),
                         (["run", str(cfg), "--threads", "0"], "--threads")):
        code, lines = run_cli(args)
        assert code == 2 and len(lines) == 1 and reason in lines[0], lines


def test_checkpoint_slots_carry_more_state_for_future_integrators(tmp_path) -> None:
    """A checkpoint is a set of named arrays: a noise source adds its generator state."""
    from tdgl_stt.checkpoint import read_latest

    rng = np.random.default_rng(5)
    rng.standard_normal(17)
    spec = {"state": ((3, 4, 3), np.dtype(np.complex128)), "rng": ((1024,), np.dtype(np.uint8)),
            "stage": ((2,), np.dtype(np.float64))}
    out = tmp_path / "run.nc"
    with RunWriter(out, axes=("x", "y"), coords={"x": np.arange(4.0), "y": np.arange(4.0)}, lengths=(4.0, 4.0),
                   fields=("theta",), attrs={}, checkpoint=spec) as writer:
        state = np.arange(36).reshape(3, 4, 3) * (1 + 2j) / 7
        for i in range(3):
            writer.write_frame(float(i), {"theta": np.full((4, 4), float(i))})
            writer.write_checkpoint(i, {"state": state * i, "rng": generator_to_array(rng), "stage": np.array([i, -i], float)})
        with pytest.raises(ValueError, match="only frames 0..2"):
            writer.write_checkpoint(3, {"state": state, "rng": generator_to_array(rng), "stage": np.zeros(2)})
    with netCDF4.Dataset(out) as nc:
        latest = read_latest(nc, max_frame=99)
        older = read_latest(nc, max_frame=1)
    assert latest.frame == 2 and older.frame == 1
    assert latest.arrays["state"].tobytes() == (state * 2).tobytes()
    assert latest.arrays["stage"].tolist() == [2.0, -2.0]
    restored = generator_from_array(latest.arrays["rng"])
    assert restored.standard_normal(5).tobytes() == rng.standard_normal(5).tobytes()
    with xr.open_dataset(out) as ds:  # the checkpoint group is invisible to plain xarray
        assert set(ds.data_vars) == {"theta"}


# --------------------------------------------------------------------------- 3. determinism


@pytest.mark.parametrize("grid", [{"n": [128], "L": [400.0]}, {"n": [48, 64], "L": [300.0, 400.0]}],
                         ids=["1D-128", "2D-48x64"])
def test_output_is_bitwise_the_same_for_1_and_2_threads(grid, tmp_path) -> None:
    """FFTW's own threads change the rounding for these shapes (1D 128, 48 with 2 threads,
    measured); the runner never uses them, so the thread count cannot change a bit. A MEASURE
    plan of the same shape planned in this process (wisdom in memory, which FFTW would apply
    to any plan) does not change the output either, and neither does another process."""
    from tdgl_stt.fft import RealFFT

    ndim = len(grid["n"])
    doc = {**TINY_1D, "grid": grid, "time": {"dt": 2.0, "n_frames": 12},
           "model": {**TINY_1D["model"], "grad_T": [1e-3] + [0.0] * (ndim - 1)}}
    text = render(doc)
    outputs = {}
    for threads in (1, 2):
        run(parse_config(text), output=tmp_path / f"t{threads}.nc", progress=False, threads=threads)
        outputs[threads] = load_fields(tmp_path / f"t{threads}.nc")
    RealFFT(tuple(grid["n"]), threads=2, planner="FFTW_MEASURE")
    run(parse_config(text), output=tmp_path / "measured.nc", progress=False, threads=2)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(text)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    subprocess.run([sys.executable, "-m", "tdgl_stt.cli", "run", str(cfg), "-q", "--threads", "2",
                    "-o", str(tmp_path / "cli.nc")], check=True, env=env)
    for other in (outputs[2], load_fields(tmp_path / "measured.nc"), load_fields(tmp_path / "cli.nc")):
        assert_bitwise_equal(outputs[1], other)


# --------------------------------------------------------------------------- 4. divergence

UNSTABLE = {**TINY_1D, "model": {**TINY_1D["model"], "grad_T": [2.0]}, "grid": {"n": [16], "L": [400.0]},
            "time": {"dt": 2.0, "n_frames": 100000}}


def _inject(monkeypatch, at: int, value: float) -> None:
    """Make the stepper return ``value`` everywhere at step ``at``: a numerical blow-up that
    no exact mode predicts."""
    from tdgl_stt.integrators.exact import ExactStepper

    original, calls = ExactStepper.step, {"n": 0}

    def step(self, x):
        out = original(self, x)
        calls["n"] += 1
        if calls["n"] == at:
            out[...] = value
        return out

    monkeypatch.setattr(ExactStepper, "step", step)


@pytest.mark.parametrize("value,what", [(math.nan, "NaN/Inf"), (1e200, "amplitude above 1e+150")])
def test_numerical_blow_up_is_reported_as_numerical(value, what, tmp_path, monkeypatch) -> None:
    """A NaN or an overflow with no growing exact mode: status diverged, the message says it is
    a numerical failure, nothing announced a physical instability, finite frames kept."""
    _inject(monkeypatch, at=64, value=value)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(render({**SMALL, "time": {"dt": 2.0, "n_frames": 200}}))
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(tmp_path / "out.nc")])
    assert code == 3
    assert not any("physical instability" in line for line in lines), lines
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        assert ds.attrs["status"] == "diverged" and ds.attrs["max_growth_rate"] <= 0
        assert what in ds.attrs["status_message"] and "numerical failure" in ds.attrs["status_message"]
        assert "frame 64" in ds.attrs["status_message"] and ds.sizes["t"] == 64
        assert np.all(np.isfinite(ds["theta"].values))


def test_numerical_blow_up_during_a_physical_instability_is_still_numerical(tmp_path, monkeypatch) -> None:
    """A growing exact mode exists, but a NaN far earlier than its growth can explain is not
    blamed on it."""
    _inject(monkeypatch, at=3, value=math.nan)
    result = run(parse_config(render(UNSTABLE)), output=tmp_path / "out.nc", progress=False, log=lambda m: None)
    assert result.status == "diverged" and result.growth.rate > 0
    assert "numerical failure" in result.message and "expected from the physical" not in result.message


def test_physical_growth_that_stays_finite_completes_with_its_rate_recorded(tmp_path) -> None:
    """Announced at the start with its wavevector, rate and overflow time; the run completes."""
    doc = {**UNSTABLE, "time": {"dt": 2.0, "n_frames": 20}}
    notes = []
    result = run(parse_config(render(doc)), output=tmp_path / "out.nc", progress=False, log=notes.append)
    assert result.status == "complete" and result.growth.rate > 0
    assert len(notes) == 1 and "physical instability" in notes[0] and "grows at rate" in notes[0]
    assert f"{result.growth.rate:.6g}" in notes[0] and "reaches 1e+150 at t ~" in notes[0]
    with xr.open_dataset(tmp_path / "out.nc") as ds:
        assert ds.attrs["status"] == "complete"
        assert ds.attrs["max_growth_rate"] == result.growth.rate
        assert np.atleast_1d(ds.attrs["max_growth_q"]).tolist() == list(result.growth.q)


# --------------------------------------------------------------------------- 5. output path


def _unwritable_dir(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        return locked
    for candidate in ("/sys", "/proc"):  # root ignores permission bits; these refuse new files
        try:
            (Path(candidate) / ".tdgl-stt-probe").touch()
        except OSError:
            return Path(candidate)
        (Path(candidate) / ".tdgl-stt-probe").unlink()
    pytest.skip("no directory is unwritable for root here")


def test_unwritable_output_path_is_refused_before_any_work(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(render(SMALL))
    built = []
    monkeypatch.setattr("tdgl_stt.runner._prepare", lambda *a: built.append(a))  # the work
    target = _unwritable_dir(tmp_path) / "out.nc"
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(target)])
    assert code == 2 and len(lines) == 1 and str(target) in lines[0] and "not writable" in lines[0], lines
    assert not target.exists() and built == []


def test_output_larger_than_the_free_space_is_refused_before_any_work(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "cfg.toml"
    doc = {**SMALL, "grid": {"n": [256, 256], "L": [1e3, 1e3]}, "time": {"dt": 1.0, "n_frames": 999},
           "model": {**SMALL["model"], "grad_T": [0.0, 0.0]}}
    cfg.write_text(render(doc))
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr("tdgl_stt.io_netcdf.shutil.disk_usage", lambda p: usage._replace(free=100 * 2**20))
    built = []
    monkeypatch.setattr("tdgl_stt.runner._prepare", lambda *a: built.append(a))
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(tmp_path / "out.nc")])
    assert code == 2 and len(lines) == 1, lines
    # 1000 frames x 3 fields x 65536 points x 8 bytes = 1.46 GiB, plus the checkpoint slots
    assert "needs about 1.47 GiB (1000 frames x 3 fields x 65536 grid points x 8 bytes" in lines[0], lines
    assert "only 100 MiB is free in" in lines[0]
    assert not (tmp_path / "out.nc").exists() and built == []


class _FailingSync:
    """A netCDF4.Dataset whose ``sync`` fails like a full disk once armed."""

    def __init__(self, ds, fail_after: int) -> None:
        self._ds, self._left = ds, fail_after

    def sync(self) -> None:
        self._left -= 1
        if self._left < 0:
            raise OSError(28, "No space left on device")
        self._ds.sync()

    def __getattr__(self, name):
        return getattr(self._ds, name)


@pytest.mark.parametrize("fail_after", [0, 1], ids=["fields-sync", "time-sync"])
def test_a_write_error_mid_run_stops_cleanly_keeping_the_frames(fail_after, tmp_path, monkeypatch) -> None:
    """An OSError inside the writer (here injected into one of the two syncs of frame 12, as a
    full disk raises it): one line, exit 2, status "interrupted", every committed frame kept
    bitwise (frame 12 too if its time stamp reached the file after all); then resumable."""
    reference = tmp_path / "ref.nc"
    run(parse_config(render(SMALL)), output=reference, progress=False)
    original = RunWriter.write_frame

    def write_frame(self, t, values):
        if self.n_written != 12:
            return original(self, t, values)
        healthy, self._ds = self._ds, _FailingSync(self._ds, fail_after=fail_after)
        try:
            return original(self, t, values)
        finally:
            self._ds = healthy

    monkeypatch.setattr(RunWriter, "write_frame", write_frame)
    cfg, out = tmp_path / "cfg.toml", tmp_path / "out.nc"
    cfg.write_text(render(SMALL))
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(out)])
    assert code == 2 and len(lines) == 1, lines
    assert "No space left on device" in lines[0] and "tdgl-stt run --resume" in lines[0], lines
    assert "cannot write frame 12" in lines[0] and "keeps the 12 frames" in lines[0], lines
    monkeypatch.setattr(RunWriter, "write_frame", original)
    ds = open_run(out)
    with ds:
        kept = ds.sizes["t"]
        assert ds.attrs["status"] == "interrupted" and kept == 12 + fail_after
        assert "No space left on device" in ds.attrs["status_message"]
        ref = load_fields(reference)
        for name in FIELDS:
            assert ds[name].values.tobytes() == ref[name][:kept].tobytes()
    assert run_cli(["run", "--resume", str(out), "-q"])[0] == 0
    assert_bitwise_equal(load_fields(out), load_fields(reference))


@pytest.fixture()
def small_tmpfs(tmp_path):
    """A 3 MiB tmpfs (needs root and mount rights); unmounted afterwards."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk(small_tmpfs, tmp_path) -> None:
    """On a 3 MiB file system: a run whose output cannot fit is refused before it starts; one
    started anyway (the check disabled) stops cleanly when the disk fills, keeps every committed
    frame, and completes with --resume once there is room."""
    doc = {**SMALL, "grid": {"n": [64, 64], "L": [400.0, 400.0]}, "time": {"dt": 2.0, "n_frames": 40},
           "model": {**SMALL["model"], "grad_T": [1e-3, 0.0]}}
    cfg, out = tmp_path / "cfg.toml", small_tmpfs / "out.nc"
    cfg.write_text(render(doc))
    code, lines = run_cli(["run", str(cfg), "-q", "-o", str(out)])
    assert code == 2 and "needs about" in lines[0] and "free in" in lines[0] and not out.exists(), lines

    # In a child process (HDF5 keeps a file whose close failed open until the process ends):
    child = ("import sys, tdgl_stt.runner as r; r.check_free_space = lambda *a: None; "
             "from tdgl_stt.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", child, "run", str(cfg), "-q", "-o", str(out)],
                          capture_output=True, text=True, check=False)
    lines = [line for line in done.stderr.splitlines() if line.startswith("tdgl-stt")]
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "the file system is full" in lines[0] and "tdgl-stt run --resume" in lines[0], lines
    kept = int(re.search(r"keeps the (\d+) frames", lines[0]).group(1))
    reference = tmp_path / "ref.nc"
    run(parse_config(render(doc)), output=reference, progress=False)
    ref = load_fields(reference)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ds = open_run(out)
    with ds:
        n = ds.sizes["t"]
        assert 0 < n <= kept
        for name in FIELDS:
            assert ds[name].values.tobytes() == ref[name][:n].tobytes()
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    code, lines = run_cli(["run", "--resume", str(out), "-q"])
    assert code == 0, lines
    assert_bitwise_equal(load_fields(out), ref)


# --------------------------------------------------------------------------- 6. the analyzer

ANALYSABLE = {**SMALL, "time": {"dt": 2.0, "n_frames": 150}, "output": {}}


def _damage_first_chunk_index_leaf(path: Path) -> None:
    """Break the left-most leaf of every multi-leaf chunk B-tree (HDF5 v1 B-tree "TREE",
    type 1, level 0, no left sibling, a right sibling): frames 0-63 become unreadable while
    the newest frames, which open_run checks, stay intact."""
    data = bytearray(path.read_bytes())
    undefined = b"\xff" * 8
    pos, hits = data.find(b"TREE"), 0
    while pos >= 0:
        if data[pos + 4] == 1 and data[pos + 5] == 0 and data[pos + 8:pos + 16] == undefined \
                and data[pos + 16:pos + 24] != undefined:
            data[pos:pos + 4] = b"XXXX"
            hits += 1
        pos = data.find(b"TREE", pos + 4)
    assert hits >= 1, "layout of the HDF5 chunk index changed; update this test"
    path.write_bytes(bytes(data))


def test_analyzer_on_damaged_files_prints_one_line_and_exits_2(tmp_path) -> None:
    good = tmp_path / "good.nc"
    run(parse_config(render(ANALYSABLE)), output=good, progress=False)
    assert run_cli(["analyze", str(good), "--q", "0.1"])[0] == 0
    cases = {}
    cases["damaged chunk index"] = tmp_path / "index.nc"
    shutil.copy(good, cases["damaged chunk index"])
    _damage_first_chunk_index_leaf(cases["damaged chunk index"])
    data = good.read_bytes()
    cases["superblock"] = tmp_path / "superblock.nc"
    cases["superblock"].write_bytes(data[:8] + bytes(64) + data[72:])
    cases["truncated to 1 kB"] = tmp_path / "short.nc"
    cases["truncated to 1 kB"].write_bytes(data[:1024])
    cases["no frames"] = tmp_path / "empty_run.nc"
    with xr.open_dataset(good) as ds:
        attrs = {k: v for k, v in ds.attrs.items() if k not in ("Conventions", "source", "history", "status", "status_message")}
    RunWriter(cases["no frames"], axes=("x",), coords={"x": np.arange(32) * 12.5}, lengths=(400.0,),
              fields=FIELDS, attrs=attrs).close()
    for label, path in cases.items():
        for command in ("analyze", "compare"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                code, lines = run_cli([command, str(path)])
            assert code == 2 and len(lines) == 1 and lines[0].startswith("tdgl-stt: error:"), (label, command, lines)
            assert "Traceback" not in lines[0]


def test_the_file_of_an_interrupted_or_killed_run_can_be_analysed(tmp_path) -> None:
    interrupted = tmp_path / "interrupted.nc"
    _interrupted_run(render(ANALYSABLE), interrupted, after=100)
    code, lines = run_cli(["analyze", str(interrupted), "--q", "0.1"])
    assert code == 0, lines

    cfg, killed = tmp_path / "cfg.toml", tmp_path / "killed.nc"
    cfg.write_text(render({**ANALYSABLE, "grid": {"n": [4096], "L": [4e4]}, "time": {"dt": 2.0, "n_frames": 100000}}))
    proc = _start_run(cfg, killed)
    _wait_until_writing(killed, proc)
    while killed.stat().st_size < 4_000_000:  # > 40 frames of 4096 points
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    with xr.open_dataset(killed) as ds:
        assert ds.attrs["status"] == "running"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["analyze", str(killed), "--q", "0.05", "0.1"]) == 0
    assert "resolved modes" in out.getvalue()
