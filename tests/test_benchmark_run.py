"""benchmarks/run.py compares equal problems: the solve_ivp peers reproduce the exact roots'
evolution, the ladders find the cheapest configuration that meets the target, and the JSON report
has the required ratio keys, with null Dedalus rows when Dedalus is absent (no timing assertions)."""

from __future__ import annotations

import json
import math
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
    assert np.all(ref[:, -1] == 0)  # Nyquist


def test_initial_state_is_real_fields():
    # k and -k conjugate on the k_y = 0 plane: the spectrum survives a round trip through real space
    p = peers.Problem((8, 8), 5)
    back = np.fft.rfftn(np.fft.irfftn(p.x0, s=(8, 8), axes=(1, 2), norm="forward"), axes=(1, 2), norm="forward")
    np.testing.assert_allclose(back, p.x0, atol=1e-15 * np.abs(p.x0).max())
    assert np.all(p.x0[:, peers.nyquist_mask(p.grid)] == 0)


def test_exact_integrator_at_round_off(tiny):
    assert peers.run_exact(tiny).error < 1e-12
    assert peers.run_exact(peers.Problem((8, 8), 20)).error < 1e-12


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


def test_real_space_rhs_is_the_operator(tiny):
    # the hand-written real-space f is the block operator A(q) seen through the FFT
    n = tiny.grid.n[0]
    y0 = np.fft.irfft(tiny.x0, n, axis=-1, norm="forward").reshape(3 * n)
    f = peers.real_space_rhs(tiny)(0.0, y0).reshape(3, n)
    Ax = (peers.jacobian(tiny) @ tiny.x0.reshape(-1)).reshape(tiny.x0.shape)
    expect = np.fft.irfft(Ax, n, axis=-1, norm="forward")
    for i in range(2):
        np.testing.assert_allclose(f[i], expect[i], atol=1e-12 * np.abs(expect[i]).max())
    # mu' is a difference of terms ~2 D k_s^2 mu (1e9 times the mode rates) that cancel on the
    # slow eigenvectors: round-off is relative to those terms, not to the result
    c = tiny.coeffs
    scale = 2 * c.D * c.ks**2 * np.abs(y0[2 * n:]).max()
    np.testing.assert_allclose(f[2], expect[2], atol=1e-13 * scale)


def test_real_space_solve_ivp_reproduces_the_roots(tiny):
    r = peers.run_solve_ivp_real_space(tiny, "BDF", 1e-10)
    assert r.error <= 1e-6, r.error


def _fake_fixed_step(C: float, order: int):
    """A fixed-step method whose error is exactly C (dt/h)^-order and whose time is its steps."""
    def run(spf: int, budget: float) -> peers.Result:
        return peers.Result(float(spf), C * float(spf) ** -order, {"setup_seconds": 0.0})
    return run


@pytest.mark.parametrize("C,order", [(3e-2, 4), (0.7, 3), (5e-4, 2), (1e-7, 3)])
def test_step_ladder_finds_nearly_the_largest_step(C, order):
    rows = bench_run.step_ladder(_fake_fixed_step(C, order), order, 1e9, lambda s: None, "fake", round_off=False)
    chosen = bench_run.best(rows, bench_run.TARGET)
    s_min = max(1, math.ceil((C / bench_run.TARGET) ** (1.0 / order) - 1e-9))  # the fewest steps meeting the target
    # the last probe aims at 0.9 of the target: at most (1/0.9)^(1/order) more steps than needed
    s_max = math.ceil((C / (0.9 * bench_run.TARGET)) ** (1.0 / order))
    assert chosen is not None and s_min <= chosen["steps_per_frame"] <= max(s_min, s_max)


def test_step_ladder_respects_the_budget():
    rows = bench_run.step_ladder(_fake_fixed_step(1.0, 2), 2, 50.0, lambda s: None, "fake", round_off=True)
    assert all(r["seconds"] <= 50.0 for r in rows)
    assert bench_run.best(rows, bench_run.TARGET) is None  # 1000 steps would be needed


def test_tolerance_ladder_stops_at_the_target():
    def run(rtol, budget):
        return peers.Result(-math.log10(rtol), 30 * rtol, {})  # error 30 rtol
    rows = bench_run.tolerance_ladder(run, 1e9, lambda s: None, "fake", round_off=False)
    chosen = bench_run.best(rows, bench_run.TARGET)
    assert chosen["rtol"] == pytest.approx(1e-8 * 10**0.5)  # 1e-7 gives 3e-6; 3.2e-8 gives 9.5e-7
    assert min(r["rtol"] for r in rows) == pytest.approx(1e-8)


TINY = {"uniform": [((32,), 10), ((8, 8), 10)], "hotspot": [((64,), 4), ((32, 32), 4)], "budget": 2.0,
        "runner": (8, 2, 1), "etd": (8, 1, 1), "analyzer": (4, 1)}


def _stub_floors(monkeypatch, **sizes):
    monkeypatch.setitem(bench_run.SIZES, "quick", {**TINY, **sizes})
    monkeypatch.setattr(bench_run, "runner_vs_floor", lambda n, frames, repeats, say: {
        "grid": [n, n], "frames": frames, "run_per_frame_ms": 2.0, "floor_per_frame_ms": 1.0, "ratio_run_over_floor": 2.0})
    monkeypatch.setattr(bench_run, "etd_vs_floor", lambda n, repeats, steps, say: {
        "n": n, "step_ms": 2.0, "floor_ms": 1.0, "ratio": 2.0, "ffts_per_step": 24})
    monkeypatch.setattr(bench_run, "analyzer", lambda n, k, say: {
        "n_series": n, "batch_s": 1.0, "pencil_s_extrapolated": 2.0, "pencil_series_timed": k, "speedup": 2.0,
        "batch_median_err_over_crb": 0.5, "pencil_median_err_over_crb": 0.5})


def test_json_without_dedalus(tmp_path, monkeypatch, capsys):
    _stub_floors(monkeypatch)
    monkeypatch.setattr(bench_run.dedalus_peer, "available", lambda: (False, "ImportError: test"))
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    bench_run.main(["--quick", "--json", str(out), "--markdown", str(md)])
    assert "pip install dedalus" in capsys.readouterr().out  # the install instructions
    data = json.loads(out.read_text())
    assert set(data["ratios"]) == set(bench_run.RATIO_KEYS) | set(bench_run.EXTRA_RATIO_KEYS)
    r = data["ratios"]
    assert r["exact_speedup_vs_dedalus"] is None and r["etdrk4_speedup_vs_dedalus"] is None
    for key in ("exact_speedup_vs_solve_ivp", "exact_speedup_vs_solve_ivp_real_space_mol", "etdrk4_speedup_vs_solve_ivp",
                "exact_cost_vs_floor", "etdrk4_cost_vs_floor", "analyzer_speedup_vs_plain_pencil"):
        assert r[key] is not None and r[key] > 0, key
    for c in data["comparisons"]:
        assert c["dedalus"] is None and c["dedalus_at_target"] is None and c["dedalus_speedup_at_target"] is None
    assert data["comparisons"][0]["solve_ivp_real_space"] and data["comparisons"][1]["solve_ivp_real_space"] is None
    for h in data["hotspot"]:
        assert h["dedalus"] is None and h["speedup_vs_dedalus"] is None
        assert h["reference"]["converged"]
    # the strongest solve_ivp peer is the one the headline ratio uses
    for c in data["comparisons"]:
        rows = c["solve_ivp"] + (c["solve_ivp_real_space"] or [])
        assert c["solve_ivp_at_target"]["seconds"] == min(x["seconds"] for x in rows if x["error"] <= bench_run.TARGET)
    text = md.read_text()
    assert "not importable" in text and "exact path vs solve_ivp" in text


def test_json_with_dedalus(tmp_path, monkeypatch):
    pytest.importorskip("dedalus")
    _stub_floors(monkeypatch, budget=0.5)
    out = tmp_path / "r.json"
    bench_run.main(["--quick", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["dedalus"]["available"]
    for c in data["comparisons"]:
        assert c["dedalus"] and {r["scheme"] for r in c["dedalus"]} == {"RK443", "SBDF2"}
    r = data["ratios"]
    assert r["exact_speedup_vs_dedalus"] is not None and r["exact_speedup_vs_dedalus"] > 0
