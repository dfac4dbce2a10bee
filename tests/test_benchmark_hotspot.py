"""The hot-spot benchmark (benchmarks/hotspot_peers.py) poses one discrete system to every method:
its initial state is what tdgl-stt's ETD stepper loads, its ETDRK4 reference converges at fourth
order, and solve_ivp (independent right-hand side) and Dedalus (IMEX) converge to that reference."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import hotspot_peers as hs  # noqa: E402
from tdgl_stt.integrators.etd import ETDStepper  # noqa: E402


@pytest.fixture(scope="module", params=[(64,), (32, 32)], ids=["1D", "2D"])
def hp(request):
    p = hs.HotspotProblem(request.param, 5)
    p.reference_info = hs.make_reference(p, start=4, tol=1e-10)
    return p


def test_compact_layout_round_trip():
    rng = np.random.default_rng(0)
    f = hs.band_limit(rng.standard_normal((20, 14)), (6, 4))
    np.testing.assert_allclose(hs.band_limit(f, (6, 4)), f, atol=1e-14)
    c = hs.to_compact(f, (6, 4))
    assert c.shape == hs.compact_shape((6, 4)) == (13, 5)
    # the same modes on a larger grid are the same trigonometric polynomial
    g = hs.to_real(c, (6, 4), (30, 18))
    np.testing.assert_allclose(hs.to_compact(g, (6, 4)), c, atol=1e-15)


def test_initial_state_is_what_the_etd_stepper_loads(hp):
    st = ETDStepper(hp.vm, hp.grid, hp.dt, 1, "etdrk4")
    x = hs.gather(st.project(hp.x0), hp.K, hp.grid.shape)
    np.testing.assert_allclose(hp.physical(hp.u0), x, atol=1e-14 * np.abs(x).max())


def test_reference_is_converged(hp):
    info = hp.reference_info
    assert info["converged"] and info["richardson_error_estimate"] <= 1e-10


def test_etdrk4_converges_at_fourth_order(hp):
    e = [hs.run_etd(hp, s).error for s in (1, 2)]
    assert abs(math.log2(e[0] / e[1]) - 4) < 0.7, e


def test_solve_ivp_converges_to_the_reference(hp):
    # an independent right-hand side: were it another system, the error would stall
    e = [hs.run_solve_ivp(hp, "Radau", rtol).error for rtol in (1e-6, 1e-9)]
    assert e[1] < e[0] and e[1] < 1e-8, e


def test_dedalus_converges_to_the_reference(hp):
    # SBDF2 at its order 2; RK443 converges too, but with its order reduced by the explicit
    # variation in the stiff equation (3) (module docstring of benchmarks/run.py's report)
    pytest.importorskip("dedalus")
    e = [hs.run_dedalus(hp, "SBDF2", s).error for s in (4, 8)]
    assert abs(math.log2(e[0] / e[1]) - 2) < 0.5, e
    e = [hs.run_dedalus(hp, "RK443", s).error for s in (4, 8, 16)]
    assert e[0] > e[1] > e[2], e
