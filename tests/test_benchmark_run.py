"""benchmarks/run.py compares equal problems: the solve_ivp peer reproduces the exact roots'
evolution to its stated tolerance, and the JSON report has the required ratio keys (no timing
assertions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402
import run as bench_run  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return peers.Problem((32,), 20)


def test_exact_final_is_the_roots_evolution(tiny):
    # the reference itself: one mode's amplitude at T is c v exp(-i w T)
    ref = tiny.exact_final()
    k = 3
    ratio = ref[:, k] / tiny.x0[:, k]
    np.testing.assert_allclose(ratio, np.exp(-1j * tiny.omega[k] * tiny.t_final), rtol=1e-12)
    assert np.all(ref[:, 0] == 0)


def test_exact_integrator_at_round_off(tiny):
    assert peers.run_exact(tiny).error < 1e-12


@pytest.mark.parametrize("method,rtol,tol", [("Radau", 1e-8, 1e-6), ("BDF", 1e-10, 1e-6), ("Radau", 1e-11, 1e-9)])
def test_solve_ivp_reproduces_the_roots(tiny, method, rtol, tol):
    r = peers.run_solve_ivp(tiny, method, rtol)
    assert r.error <= tol, (method, rtol, r.error)


def test_jacobian_is_the_operator(tiny):
    from tdgl_stt.model import operator_matrix

    J = peers.jacobian(tiny).toarray()
    M = tiny.modes
    A = operator_matrix(type(tiny.entries)(a=tiny.entries.a[1:], s=tiny.entries.s[1:],
                                           eps=tiny.entries.eps[1:], g=tiny.entries.g, I=tiny.entries.I))
    for q in (1, 5, M - 1):
        block = J[np.ix_([q, M + q, 2 * M + q], [q, M + q, 2 * M + q])]
        np.testing.assert_allclose(block, A[q - 1], rtol=1e-14)


def test_json_has_the_ratio_keys(tmp_path, monkeypatch):
    tiny_problems = [peers.Problem((32,), 10), peers.Problem((8, 8), 10)]
    monkeypatch.setattr(bench_run, "RTOLS", (1e-6,))
    monkeypatch.setattr(bench_run.peers, "Problem", lambda n, frames: tiny_problems.pop(0))
    monkeypatch.setattr(bench_run, "runner_vs_floor", lambda n, frames, repeats, say: {
        "grid": [n, n], "frames": frames, "run_per_frame_ms": 2.0, "floor_per_frame_ms": 1.0, "ratio_run_over_floor": 2.0})
    monkeypatch.setattr(bench_run, "etd_vs_floor", lambda n, repeats, steps, say: {
        "n": n, "step_ms": 2.0, "floor_ms": 1.0, "ratio": 2.0, "ffts_per_step": 24})
    monkeypatch.setattr(bench_run, "analyzer", lambda n, k, say: {
        "n_series": n, "batch_s": 1.0, "pencil_s_extrapolated": 2.0, "pencil_series_timed": k, "speedup": 2.0,
        "batch_median_err_over_crb": 0.5, "pencil_median_err_over_crb": 0.5})
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    bench_run.main(["--quick", "--json", str(out), "--markdown", str(md)])
    data = json.loads(out.read_text())
    assert set(data["ratios"]) == set(bench_run.RATIO_KEYS)
    assert data["ratios"]["exact_speedup_vs_solve_ivp"] is not None
    assert "exact_speedup_vs_solve_ivp" in md.read_text()
