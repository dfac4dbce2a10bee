"""Parameter sweeps: the [sweep] config, runs on dask.distributed, resume, combined datasets,
the instability map.

One LocalCluster of two single-threaded workers (built by the package's own ``sweep_client``)
serves the whole module; the runs are 16-point grids.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
from scipy.optimize import brentq

from tdgl_stt import open_run, parse_config, run
from tdgl_stt.cli import main
from tdgl_stt.errors import ConfigError
from tdgl_stt.sweep import (
    axis_coordinates,
    case_status,
    exact_growth,
    exact_growth_map,
    load_sweep,
    open_sweep,
    parse_sweep,
    run_sweep,
    sweep_client,
    sweep_modes,
    zero_line,
)

BASE = """
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 3
tau = 1.0
grad_T = [1.0e-3]
coulomb = "bulk"
ks = 1.0e4

[grid]
n = [16]
L = [200.0]

[time]
dt = 2.0
n_frames = {n_frames}

[initial]
kind = "noise"
seed = 1
"""

FOUR_CASES = BASE.format(n_frames=64) + """
[sweep]
"model.grad_T" = [[0.0], [0.03]]
"model.T" = {start = 0.9, stop = 1.1, num = 2}
"""


@pytest.fixture(scope="module")
def client():
    before = os.environ.get("OMP_NUM_THREADS")
    with sweep_client(workers=2) as c:
        assert os.environ.get("OMP_NUM_THREADS") == before  # the parent's environment is left alone
        yield c


@pytest.fixture(scope="module")
def four_case_sweep(client, tmp_path_factory):
    """A finished 4-case sweep (2 x 2) run on the two workers, and the same cases run serially."""
    root = tmp_path_factory.mktemp("sweep4")
    (root / "four.toml").write_text(FOUR_CASES)
    spec = load_sweep(root / "four.toml")
    serial = root / "serial"
    serial.mkdir()
    # First, so that where FFT plans come from cached FFTW wisdom, the workers load the plans used here.
    for case in spec.cases():
        run(parse_config(case.text), output=serial / case.filename, progress=False)
    report = run_sweep(spec, root / "out", client, progress=False)
    return spec, root / "out", serial, report


def test_sweep_axes_lists_ranges_and_product():
    spec = parse_sweep(BASE.format(n_frames=8) + """
[sweep]
"model.tauE" = [10.0, "inf"]
"grid.n" = {start = [16], stop = [64], num = 3, log = true}
"initial.seed" = {start = 0, stop = 2, num = 3}
"model.grad_T" = {start = [0.0], stop = [1e-3], num = 2}
""")
    assert spec.keys == ("model.tauE", "grid.n", "initial.seed", "model.grad_T")
    assert spec.axis("grid.n").values == ((16,), (32,), (64,)) and spec.axis("n").log
    assert spec.axis("seed").values == (0, 1, 2)
    assert all(isinstance(v, int) for v in spec.axis("seed").values)
    assert spec.axis("grad_T").values == ((0.0,), (1e-3,))
    cases = spec.cases()
    assert len(cases) == 2 * 3 * 3 * 2 == math.prod(spec.shape)
    last = cases[-1].config()
    assert (last.model.tauE, last.grid.n, last.initial.seed, last.model.grad_T) == (math.inf, (64,), 2, (1e-3,))
    assert last.output.path == cases[-1].filename
    assert len({c.name for c in cases}) == len(cases)
    # A case's name and text depend on its values only: extending an axis keeps the other cases.
    longer = parse_sweep(spec.source_text.replace('[10.0, "inf"]', '[10.0, "inf", 1.0]'))
    assert {(c.name, c.text) for c in cases} <= {(c.name, c.text) for c in longer.cases()}


@pytest.mark.parametrize(
    "table, key, words",
    [
        ('"model.tau" = []', 'sweep."model.tau"', "non-empty array"),
        ('"model.tauu" = [1.0]', "model.tauu", "unknown key 'tauu' in [model]"),
        ('"time.dt" = [1.0]', "time.dt", "table one of model, material, grid, initial"),
        ('"material.Tc" = [1.0]', "material.Tc", "has no [material] table"),
        ('"model.tau" = [1.0, 1.0]', 'sweep."model.tau"', "more than once"),
        ('"model.tau" = {start = 1.0, stop = 2.0}', 'sweep."model.tau"', "needs 'num'"),
        ('"model.tau" = {start = 0.0, stop = 2.0, num = 3, log = true}', 'sweep."model.tau"', "start > 0"),
    ],
)
def test_bad_sweep_tables_name_the_key(table, key, words):
    with pytest.raises(ConfigError) as err:
        parse_sweep(BASE.format(n_frames=8) + "\n[sweep]\n" + table + "\n")
    assert err.value.key == key and words in err.value.message


def test_vector_axis_coordinates():
    text = BASE.format(n_frames=8).replace("n = [16]", "n = [16, 16]").replace("L = [200.0]", "L = [200.0, 200.0]")
    text = text.replace("grad_T = [1.0e-3]", "grad_T = [0.0, 0.0]")
    parallel = parse_sweep(text + '[sweep]\n"model.grad_T" = [[0.0, 0.0], [-3e-3, -4e-3], [3e-3, 4e-3]]\n')
    (c,) = axis_coordinates(parallel)
    assert c.kind == "vector" and c.direction == pytest.approx((0.6, 0.8))
    assert c.values == pytest.approx([0.0, -5e-3, 5e-3])
    assert c.to_value(1e-2) == pytest.approx((6e-3, 8e-3))
    rotated = parse_sweep(text + '[sweep]\n"model.grad_T" = [[1e-3, 0.0], [0.0, 1e-3]]\n')
    (c,) = axis_coordinates(rotated)
    coords = c.coords()
    assert c.kind == "index" and list(c.values) == [0, 1]
    assert coords["grad_T_vector"][1].tolist() == [[1e-3, 0.0], [0.0, 1e-3]]
    assert coords["grad_T_norm"][1] == pytest.approx([1e-3, 1e-3])


def test_four_case_sweep_on_two_workers_equals_serial_runs_bitwise(client, four_case_sweep):
    spec, out, serial, report = four_case_sweep
    assert client.nthreads() and set(client.nthreads().values()) == {1}
    pinned = client.run(lambda: [os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")])
    assert all(v == ["1", "1"] for v in pinned.values())
    assert report.ok and report.count("complete") == 4
    ds = open_sweep(out)
    assert ds.theta.dims == ("grad_T", "T", "t", "x") and ds.theta.chunks is not None
    assert ds["grad_T"].values.tolist() == [0.0, 0.03] and ds["T"].values.tolist() == [0.9, 1.1]
    for case in spec.cases():
        ref = open_run(serial / case.filename)
        one = ds.isel(grad_T=case.position[0], T=case.position[1])
        assert str(one["config_toml"].values) == case.text  # each file describes its case
        assert parse_config(case.text).model.T == float(one["T"])
        for name in ("theta", "Phi", "mu"):
            assert np.array_equal(one[name].values, ref[name].values)  # bitwise
        assert np.array_equal(one["t"].values, ref["t"].values)
        ref.close()


def test_modes_of_the_sweep_match_the_exact_roots(four_case_sweep):
    _, out, _, _ = four_case_sweep
    modes = sweep_modes(out)
    assert modes.omega_re.dims == ("grad_T", "T", "q", "branch")
    ok = modes.resolved == 1.0
    dev = np.abs((modes.omega_re + 1j * modes.omega_im) - (modes.exact_re + 1j * modes.exact_im)).where(ok)
    assert int(ok.sum()) >= 4 * 10 and float(dev.max()) < 1e-6
    # simulated and exact largest growth rates agree, and grad_T = 0.03 is unstable
    np.testing.assert_allclose(modes.growth_simulated, modes.growth_exact, rtol=1e-6)
    assert (modes.growth_exact.sel(grad_T=0.0) < 0).all() and (modes.growth_exact.sel(grad_T=0.03) > 0).all()


def test_commands_on_an_existing_scheduler(client, four_case_sweep, tmp_path, capsys):
    """The sweep commands through the real `tdgl-stt` entry point (tdgl_stt.cli.main)."""
    spec, out, _, _ = four_case_sweep
    target = tmp_path / "again"
    assert main(["sweep", str(out / "sweep.toml"), "--scheduler", client.scheduler_info()["address"],
                 "-o", str(target), "-q"]) == 0
    assert all(case_status(target / c.filename, c.text) == "complete" for c in spec.cases())
    png = tmp_path / "map.png"
    assert main(["instability-map", str(out), "--x", "grad_T", "--y", "model.T", "--plot", str(png)]) == 0
    assert png.stat().st_size > 0
    assert "exact zero line" in capsys.readouterr().out
    assert main(["analyze", str(out)]) == 0 and (out / "sweep-modes.nc").is_file()
    assert "growth sim" in capsys.readouterr().out


def test_bad_value_fails_with_a_clear_message_while_the_others_complete(client, tmp_path):
    (tmp_path / "bad.toml").write_text(BASE.format(n_frames=32) + '[sweep]\n"model.tau" = [1.0, -1.0, 2.0]\n')
    spec = load_sweep(tmp_path / "bad.toml")
    good, invalid, unwritable = spec.cases()
    out = tmp_path / "bad"
    (out / unwritable.filename).mkdir(parents=True)  # the run raises on the worker: retried, then failed
    lines: list[str] = []
    report = run_sweep(spec, out, client, progress=False, log=lines.append)
    by_name = {o.name: o for o in report.outcomes}
    assert by_name[good.name].status == "complete"
    assert case_status(out / good.filename, good.text) == "complete"
    bad = by_name[invalid.name]
    assert (bad.status, bad.attempts) == ("failed", 0)
    assert "model.tau: expected a finite number > 0, got -1.0" in bad.message
    assert not (out / invalid.filename).exists()
    broken = by_name[unwritable.name]
    assert (broken.status, broken.attempts) == ("failed", 2) and "is a directory" in broken.message
    assert sum("retrying" in line and unwritable.name in line for line in lines) == 1
    assert any(invalid.name in line and "model.tau" in line for line in lines)
    assert not report.ok and "2 failed" in report.summary()
    ds = open_sweep(out)  # the finished case only; the others are NaN
    assert np.isfinite(ds.theta.sel(tau=1.0).values).all() and np.isnan(ds.theta.sel(tau=-1.0).values).all()
    assert str(ds.status.sel(tau=2.0).values) == ""


def test_killed_sweep_resumes_and_completes(client, tmp_path, capsys):
    sweep = tmp_path / "kill.toml"
    sweep.write_text(BASE.format(n_frames=1500) + '[sweep]\n"initial.seed" = [1, 2, 3, 4]\n')
    spec = load_sweep(sweep)
    cases = spec.cases()
    out = tmp_path / "kill"
    cmd = [sys.executable, "-m", "tdgl_stt.sweep", "sweep", str(sweep), "-o", str(out), "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
        while not any(case_status(out / c.filename, c.text) for c in cases):
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "no case finished"
            time.sleep(0.05)
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, alive = psutil.wait_procs(children, timeout=30)  # workers exit when their parent dies
        for p in alive:
            p.kill()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    finished = {c.name for c in cases if case_status(out / c.filename, c.text)}
    assert 1 <= len(finished) < len(cases)  # killed mid-way
    partial = [c for c in cases if c.name not in finished and (out / c.filename).exists()]
    mtimes = {n: (out / f"{n}.nc").stat().st_mtime_ns for n in finished}
    report = run_sweep(spec, out, client, progress=True)
    assert report.ok and report.count("skipped") == len(finished)
    assert report.count("complete") == len(cases) - len(finished)
    assert all(case_status(out / c.filename, c.text) == "complete" for c in cases)
    assert {n: (out / f"{n}.nc").stat().st_mtime_ns for n in finished} == mtimes  # not run again
    assert f"{len(cases)}/{len(cases)}" in capsys.readouterr().err  # the bar counts cases
    # the case killed mid-run continued from its checkpoint (or, if it had none yet, started
    # over): either way its frames are bitwise those of an uninterrupted run
    by_name = {o.name: o for o in report.outcomes}
    for c in partial:
        assert any(n.startswith("resuming") or n.startswith("not resumed") for n in by_name[c.name].notices)
        fresh = tmp_path / f"fresh-{c.name}.nc"
        run(parse_config(c.text), output=fresh, progress=False, log=lambda _: None)
        with open_run(out / c.filename) as got, open_run(fresh) as ref:
            for name in ("theta", "Phi", "mu"):
                assert np.array_equal(got[name].values, ref[name].values), (c.name, name)


def test_exact_zero_line_matches_brentq_root():
    spec = parse_sweep(BASE.format(n_frames=8) + """
[sweep]
"model.grad_T" = {start = [0.0], stop = [0.04], num = 5}
"model.T" = [0.9, 1.0, 1.1]
""")
    growth = exact_growth_map(spec, "grad_T", "T", points=21)
    assert growth.dims == ("T", "grad_T")
    h = float(growth["grad_T"][1] - growth["grad_T"][0])
    row = 10
    T = float(growth["T"][row])
    assert growth.values[row, 0] < 0 < growth.values[row, -1]
    crossings = [
        float(x)
        for line in zero_line(growth)
        for (x, y) in line
        if y == T
    ]
    root = brentq(lambda g: exact_growth(spec, {"model.grad_T": (g,), "model.T": T}), 0.0, 0.04, xtol=1e-15)
    assert len(crossings) == 1
    assert abs(crossings[0] - root) < 0.02 * h
    # the map is the growth of the cases: a listed point equals its case's exact growth
    listed = exact_growth_map(spec, "grad_T", "T")
    assert listed.values[1, 2] == exact_growth(spec, {"model.grad_T": (0.02,), "model.T": 1.0})
