"""``tdgl-stt compare`` and ``--plot`` for stationary (noise-driven) runs (issue 6, item 3).

A small version of runs/thermal_cg.toml (32 points, 8000 frames) is compared with the exact
roots through the command line. The criterion is the one of tests/test_noise_runs.py (derived
there): every deviation within the Bonferroni bound ``norm.isf(1e-3 / (2 n))`` of its standard
error, and ``sum z^2`` inside chi-square with ``n`` degrees of freedom (p > 1e-3). The same
statistics must reject the roots of a wrong model, the torque left out (without it both branches
have FWHM 0.044 rad/(hbar/E0), with it 0.032 and 0.057), so the report can see a disagreement.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from test_reliability import render, run_cli

from tdgl_stt.analysis.compare import coefficients_from_attrs
from tdgl_stt.analysis.spectra import fourier_amplitudes, nearest_wavevectors
from tdgl_stt.analysis.stationary import analyze_stationary, consistency
from tdgl_stt.cli import main
from tdgl_stt.config import parse_config
from tdgl_stt.noise.config import NoiseConfig
from tdgl_stt.runner import run

ROOT = Path(__file__).resolve().parents[1]
Q = ("0.16", "0.28")


def small_thermal_cg(n_frames: int = 8000) -> dict:
    doc = tomllib.loads((ROOT / "runs" / "thermal_cg.toml").read_text())
    doc["grid"] = {"n": [32], "L": doc["grid"]["L"]}
    doc["time"]["n_frames"] = n_frames
    doc["output"] = {"fields": ["theta"]}
    return doc


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stationary") / "thermal.nc"
    res = run(parse_config(render(small_thermal_cg())), output=out, progress=False, log=lambda m: None)
    assert res.status == "complete"
    return out


def cli(args: list[str]) -> tuple[int, str, list[str]]:
    """``tdgl-stt ARGS`` in this process: (exit status, stdout, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue().strip().splitlines()


def test_compare_reports_the_fitted_peaks_against_the_exact_roots(noisy_run, tmp_path):
    report, fig = tmp_path / "cmp.json", tmp_path / "cmp.png"
    code, out, err = cli(["compare", str(noisy_run), "--q", *Q, "--nperseg", "128", "--json", str(report),
                          "--plot", str(fig)])
    assert code == 0, err
    assert "stationary (noise-driven) run" in out and "consistent with the exact roots" in out
    assert "rad/(hbar/E0)" in out and "1/l0" in out  # units on every number
    doc = json.loads(report.read_text())
    assert doc["units"] == {"q": "1/l0", "omega": "rad/(hbar/E0)"}
    peaks = [p for r in doc["stationary"] for p in r["peaks"]]
    assert len(peaks) == 4 and sorted({p["branch"] for p in peaks}) == [0, 1]  # both CG branches at each q
    n = 2 * len(peaks)
    bound = scipy.stats.norm.isf(1e-3 / (2 * n))
    for p in peaks:
        assert p["z_center"] == pytest.approx((p["omega_re"] - p["exact_re"]) / p["omega_re_err"])
        assert p["z_width"] == pytest.approx((p["fwhm"] - p["exact_fwhm"]) / p["fwhm_err"])
        assert p["exact_fwhm"] == pytest.approx(-2 * p["exact_im"])
        assert abs(p["z_center"]) < bound and abs(p["z_width"]) < bound, p
    cons = doc["consistency"]
    assert cons["n_statistics"] == n and cons["consistent"] is True
    assert cons["bound"] == pytest.approx(bound) and cons["p_value"] > 1e-3
    assert cons["chi2"] == pytest.approx(sum(p["z_center"] ** 2 + p["z_width"] ** 2 for p in peaks))
    # the closed forms see the fitted peaks as the simulation's modes
    sims = [r for r in doc["closed_forms"] if r["sim_re"] is not None]
    assert sims and all(any(r["sim_re"] == pytest.approx(p["omega_re"]) for p in peaks) for r in sims)
    assert fig.stat().st_size > 50_000


def test_the_same_statistics_reject_the_roots_of_a_wrong_model(noisy_run):
    """Power: the fitted peaks against the exact roots of the model without the torque (v_T = 0)
    are flagged as inconsistent; against the run's own model they are not."""
    with xr.open_dataset(noisy_run) as ds:
        sel = nearest_wavevectors(ds, np.array([[float(q)] for q in Q]))
        a = fourier_amplitudes(ds, "theta", sel).values
        c = coefficients_from_attrs(ds.attrs)
        dt, L = float(ds.attrs["dt"]), float(np.atleast_1d(ds.attrs["grid_L"])[0])
    noise = NoiseConfig(strength=1.0)
    right = analyze_stationary(a, sel.q, dt, c, noise=noise, volume=L, nperseg=128)
    wrong = analyze_stationary(a, sel.q, dt, replace(c, vT=(0.0,)), noise=noise, volume=L, nperseg=128)
    assert consistency(right)["consistent"] is True
    assert consistency(wrong)["consistent"] is False
    assert consistency(wrong)["max_abs_z"] > 2 * consistency(right)["bound"]


def test_analyze_stationary_plot_and_the_cli_refusals(noisy_run, tmp_path):
    fig = tmp_path / "an.png"
    code, out, err = cli(["analyze", str(noisy_run), "--stationary", "--q", *Q, "--nperseg", "128", "--plot", str(fig)])
    assert code == 0, err
    assert f"# figure: {fig}" in out and fig.stat().st_size > 50_000
    code, lines = run_cli(["compare", str(noisy_run), "--no-simulation", "--plot", str(tmp_path / "x.png")])
    assert code == 2 and len(lines) == 1 and "--no-simulation" in lines[0]
    code, lines = run_cli(["compare", str(noisy_run), "--nperseg", "100000"])
    assert code == 2 and len(lines) == 1 and "--nperseg" in lines[0]
    code, lines = run_cli(["compare", str(noisy_run), "--burn-in", "-3"])
    assert code == 2 and len(lines) == 1 and "--burn-in" in lines[0]
    code, lines = run_cli(["analyze", str(noisy_run), "--stationary", "--csv", str(tmp_path / "x.csv")])
    assert code == 2 and "--csv" in lines[0]
    # the closed forms only: no fit, no figure
    code, out, err = cli(["compare", str(noisy_run), "--no-simulation", "--q", *Q])
    assert code == 0 and "closed forms" in out and "fitted with Lorentzians" not in out


def test_a_ringdown_run_is_still_compared_by_mode_extraction(tmp_path):
    """Without [noise], compare extracts the free decay as before (and --plot draws its
    dispersion figure)."""
    doc = small_thermal_cg(400)
    del doc["noise"]
    doc["initial"] = {"kind": "noise", "seed": 3}
    out = tmp_path / "ring.nc"
    assert run(parse_config(render(doc)), output=out, progress=False, log=lambda m: None).status == "complete"
    code, text, err = cli(["compare", str(out), "--q", *Q, "--plot", str(tmp_path / "ring.png")])
    assert code == 0, err
    assert "stationary" not in text and (tmp_path / "ring.png").stat().st_size > 20_000
    code, lines = run_cli(["compare", str(out), "--nperseg", "64"])
    assert code == 2 and "--stationary" in lines[0]
    # --stationary forces the spectral fit (without the shape test: no [noise]); a free decay is no
    # stationary series, and its fit says so in one line instead of a traceback
    code, text, err = cli(["compare", str(out), "--q", *Q, "--stationary", "--nperseg", "64"])
    assert any("without the shape test" in line for line in err)
    assert code == 2 and err[-1].startswith("tdgl-stt: error:") and "did not converge" in err[-1], err
