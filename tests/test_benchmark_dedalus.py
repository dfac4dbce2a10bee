"""The Dedalus peer (benchmarks/dedalus_peer.py) solves the same problem as tdgl-stt: the amplitude
normalisation of its fields, one mode against its exact root, and the 2D problem. Skipped where
Dedalus is not installed."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dedalus")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import dedalus_peer as dp  # noqa: E402
import peers  # noqa: E402


def test_amplitudes_round_trip_and_realfourier_layout():
    # 1D: a single mode X_k = c (amplitude normalisation, rfft(f)/N) is Dedalus' RealFourier
    # coefficients cos = 2 Re c, -sin = 2 Im c at positions 2k, 2k + 1 (its documented layout)
    n, k, c = 16, 3, 0.3 - 0.7j
    dom = dp.Domain.build((n,), (10.0,), dealias=1.0)
    f = dom.field("f")
    X = np.zeros(n // 2 + 1, complex)
    X[k] = c
    dp.set_amplitudes(f, X, (n,))
    coeffs = np.array(f["c"])
    expect = np.zeros(n)
    expect[2 * k], expect[2 * k + 1] = 2 * c.real, 2 * c.imag
    np.testing.assert_allclose(coeffs, expect, atol=1e-15)
    np.testing.assert_allclose(dp.amplitudes(f), X, atol=1e-16)
    # 2D: the spectrum of real fields survives the round trip
    p = peers.Problem((8, 6), 1)
    dom = dp.Domain.build((8, 6), (5.0, 7.0), dealias=1.0)
    g = dom.field("g")
    dp.set_amplitudes(g, p.x0[0], (8, 6))
    np.testing.assert_allclose(dp.amplitudes(g), p.x0[0], atol=1e-15 * np.abs(p.x0[0]).max())


def _one_mode(n: tuple[int, ...], k: tuple[int, ...], frames: int) -> peers.Problem:
    p = peers.Problem(n, frames)
    keep = np.zeros(p.grid.spectral_shape, dtype=bool)
    keep[k] = True
    p._raw = np.where(keep[None], p._raw, 0.0)
    p.x0 = p.real_fields(p._raw)
    return p


@pytest.mark.parametrize("n,k", [((32,), (5,)), ((16, 16), (3, 2))])
def test_one_mode_converges_to_its_exact_root(n, k):
    # error against c v exp(-i w T) at RK443's third order: a wrong normalisation, sign or
    # operator would leave an error that does not shrink with the step
    p = _one_mode(n, k, 10)
    e = [dp.run_uniform(p, "RK443", s).error for s in (4, 8)]
    order = math.log2(e[0] / e[1])
    assert 2.5 < order < 3.5, e
    assert e[1] < 1e-6, e


@pytest.mark.parametrize("n", [(64,), (16, 16)])
def test_both_schemes_converge_at_their_order_on_the_benchmark_problem(n):
    p = peers.Problem(n, 20)
    for scheme, nominal in (("RK443", 3), ("SBDF2", 2)):
        e = [dp.run_uniform(p, scheme, s).error for s in (1, 2)]
        assert abs(math.log2(e[0] / e[1]) - nominal) < 0.5, (scheme, e)
