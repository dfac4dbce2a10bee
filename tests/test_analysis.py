"""The analysis half: spectra sign convention, end-to-end extraction against exact roots, the
closed forms in and out of their regimes, the JSON report, and bad input files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from physics_cases import model
from tdgl_stt.analysis.closed_forms import BY_NAME, evaluate_closed_forms
from tdgl_stt.analysis.compare import (
    analyze_modes, coefficients_from_attrs, compare_closed_forms, report_dict, rows_from_dict,
)
from tdgl_stt.analysis.spectra import all_wavevectors, cut, fourier_amplitudes, spectrum
from tdgl_stt.api import exact_modes
from tdgl_stt.cli import main
from tdgl_stt.config import parse_config
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.runner import run

RUN = """
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 3
tau = 1.0
grad_T = {grad}
coulomb = "bulk"
ks = 1.0e4
[grid]
n = {n}
L = {L}
[time]
dt = 2.0
n_frames = {frames}
[initial]
kind = "noise"
seed = 2
"""


@pytest.fixture(scope="module")
def run1d(tmp_path_factory):
    path = tmp_path_factory.mktemp("an") / "run1d.nc"
    run(parse_config(RUN.format(grad="[1.0e-3]", n="[64]", L="[1000.0]", frames=1200)), output=path, progress=False)
    return path


def test_spectrum_sign_convention_travelling_wave(tmp_path):
    """A +x travelling "mode" run (Re w > 0 at q > 0) peaks at omega = +Re w."""
    text = RUN.format(grad="[0.0]", n="[32]", L="[300.0]", frames=400).replace(
        'kind = "noise"', 'kind = "mode"\nk = [4]\nbranch = 0')
    cfg = parse_config(text)
    path = tmp_path / "m.nc"
    run(cfg, output=path, progress=False)
    ds = xr.open_dataset(path)
    q = 2 * math.pi * 4 / 300.0
    w = exact_modes(cfg, np.array([q])).omega[0, 0]
    assert w.real > 0
    S = spectrum(fourier_amplitudes(ds, "theta", all_wavevectors(ds))).sel(mode=3)
    assert float(S["k_x"]) == 4
    peak = float(S["omega"][int(np.argmax(S.values))])
    assert abs(peak - w.real) <= float(S["omega"][1] - S["omega"][0])


def test_extracted_modes_equal_exact_roots_end_to_end(run1d):
    """Every resolved mode of a noise run equals an exact root to 1e-7 relative, both branches
    found at each wavevector."""
    ds = xr.open_dataset(run1d)
    rows = analyze_modes(ds)
    res = [r for r in rows if r.resolved]
    assert len(res) >= 2 * 31 - 2
    for r in res:
        w, ex = complex(r.omega_re, r.omega_im), complex(r.exact_re, r.exact_im)
        assert abs(w - ex) <= 1e-7 * abs(ex), r
    per_q = {}
    for r in res:
        per_q.setdefault(round(r.q[0], 12), set()).add(r.branch)
    assert sum(1 for b in per_q.values() if b == {0, 1}) >= len(per_q) - 1


def test_json_round_trip(run1d, tmp_path):
    ds = xr.open_dataset(run1d)
    c = coefficients_from_attrs(ds.attrs)
    sel = cut(ds, (1,))
    modes = analyze_modes(ds, type(sel)(k=sel.k[:5], L=sel.L))
    closed = compare_closed_forms(c, sel.q[:5], modes)
    doc = report_dict(modes, closed)
    text = json.dumps(doc)
    m2, c2 = rows_from_dict(json.loads(text))
    assert json.dumps(report_dict(m2, c2)) == text
    for key in ("q", "omega_re", "omega_im", "omega_re_err", "omega_im_err", "amplitude", "exact_re", "exact_im"):
        assert key in doc["modes"][0]
    for key in ("name", "q", "branch", "omega_re", "omega_im", "exact_re", "exact_im", "in_regime", "rel_dev_re", "rel_dev_im"):
        assert key in doc["closed_forms"][0]


def test_cg_formula_agrees_in_regime_and_fails_with_strong_coulomb():
    """CG closed form: in its regime (neutral limit, T near T_c, q_G << q) it agrees with the
    exact root; with strong Coulomb coupling (eps_hat w/(D q^2) >> 1) it is out of regime and
    the report shows a large deviation."""
    near_tc = dict(Delta=0.02, tau=1.0)
    c_in = coefficients_from_model(model(coulomb="bulk", ks=1e4, **near_tc))
    q = np.array([5 * c_in.q_G])  # D q^2/w ~ q/(127 q_G) here: the CG window is q << 13 q_G
    row = [r for r in compare_closed_forms(c_in, q[None, :]) if r.name == "cg" and r.branch == 0][0]
    assert row.in_regime, row.failing_conditions
    assert max(abs(row.rel_dev_re), abs(row.rel_dev_im)) < 1e-3
    c_out = coefficients_from_model(model(coulomb="bulk", ks=2e-3, **near_tc))
    row = [r for r in compare_closed_forms(c_out, q[None, :]) if r.name == "cg" and r.branch == 0][0]
    assert not row.in_regime
    assert any("N0 V_q" in f for f in row.failing_conditions)
    assert max(abs(row.rel_dev_re), abs(row.rel_dev_im)) > 0.5


def test_eq7_closed_form_in_regime():
    """T = 0 bulk plasmon with N0 V_q >> 1 (small q/k_s) and w << Delta: Eq. 7's closed form
    w = (2 c^2 q^2 / eps_hat)^(1/2) agrees with the exact root to O(eps_hat)."""
    c = coefficients_from_model(model(coulomb="bulk", ks=1e-2, I=1.0, D=0.0, ns_over_n=1.0, Delta=10.0, vF=0.2))
    q = np.array([1e-4])
    vals = evaluate_closed_forms(c, q, ("eq7",))
    ex = exact_modes(c, q[None, :]).omega[0]
    assert vals[0].in_regime, [(x.description, x.ratio) for x in vals[0].conditions]
    eps = (q[0] / c.ks) ** 2
    assert abs(vals[0].omega - ex[0]) / abs(ex[0]) < eps  # exact: sqrt(1 + eps/2) - 1 ~ eps/4


def test_every_paper_closed_form_is_registered():
    assert set(BY_NAME) == {"eq7", "cg", "eq20", "eq21", "eq22", "eq23", "plasmon2d"}
    for cf in BY_NAME.values():
        assert cf.citation and cf.regime and cf.equation


@pytest.mark.parametrize("kind", ["empty", "foreign", "truncated", "missing"])
def test_bad_files_give_clear_error(kind, run1d, tmp_path, capsys):
    p = tmp_path / f"{kind}.nc"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "foreign":
        xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(p)
    elif kind == "truncated":
        data = run1d.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    code = main(["analyze", str(p)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("tdgl-stt: error:"), err


def test_analyze_cli_writes_json_csv_and_plot(run1d, tmp_path, capsys):
    j, c, png = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    assert main(["analyze", str(run1d), "--q", "0.05", "0.15", "--json", str(j), "--csv", str(c), "--plot", str(png)]) == 0
    doc = json.loads(j.read_text())
    assert len(doc["modes"]) >= 4
    assert c.read_text().startswith("q,")
    assert png.stat().st_size > 10_000
    assert main(["compare", str(run1d), "--q", "0.15", "--json", str(j)]) == 0
    assert {r["name"] for r in json.loads(j.read_text())["closed_forms"]} >= {"cg", "eq20"}  # eq23 is infinite at tau_E = inf and skipped


@pytest.mark.parametrize("name,m,qs", [
    ("plasmon2d", dict(Delta=0.1, ks=0.0026, grad_T=(0.0, 0.0)), [2.5e-4, 6.25e-5, 1.5625e-5]),
    ("eq22", dict(Delta=0.001, ks=1.3e-4, grad_T=(1.66e-10, 0.0)), [4e-8, 1e-8]),
])
def test_film_plasmon_forms_converge_to_the_exact_roots(name, m, qs):
    """The 2D plasmon (below Eq. 9) and Eq. 22, with n/m = N0 vF^2/2 (the paper's Eq. E6), are
    leading-order asymptotics: their error is of the order of the largest small parameter of
    their regime and vanishes with it. (With n/m = N0 vF^2 it would tend to sqrt(2) - 1.)"""
    from tdgl_stt.config import ModelConfig

    c = coefficients_from_model(ModelConfig(T=1.0, vF=1.0, d=2, tau=10.0, coulomb="film", **m))
    devs = []
    for q in qs:
        qv = np.array([q, 0.0])
        ex = compare_exact(c, qv)
        for v in BY_NAME[name].evaluate(c, qv):
            dev = float(np.min(np.abs(ex - v.omega)) / abs(ex[np.argmin(np.abs(ex - v.omega))]))
            h = max(cond.ratio for cond in v.conditions)
            assert dev <= h, (name, q, dev, h)
            devs.append(dev)
    assert max(devs[-2:]) < max(devs[:2]) / 2  # two branches per wavevector; q shrinks 4x or more


def compare_exact(c, qv):
    from tdgl_stt.analysis.compare import exact_at

    return exact_at(c, qv[None, :])[0]


def test_every_closed_form_evaluates_on_every_canonical_run_without_error():
    """Degenerate parameters (T = 0: D = 0; q = 0; a film formula on a neutral run) give a
    non-finite value and a failing regime, never an exception: `tdgl-stt compare` must not
    crash on a valid run."""
    from pathlib import Path

    from tdgl_stt.config import load_config

    for path in sorted((Path(__file__).resolve().parents[1] / "runs").glob("*.toml")):
        c = coefficients_from_model(load_config(path).model)
        ndim = len(load_config(path).grid.n)
        for qa in (0.0, 1e-6, 0.01, 1.0):
            q = np.zeros(ndim)
            q[0] = qa
            for v in evaluate_closed_forms(c, q):
                if not np.isfinite(v.omega):
                    assert not v.in_regime, (path.name, v)


def test_a_field_with_huge_or_nonfinite_values_is_refused_with_a_clear_error(run1d, tmp_path, capsys):
    """Corrupted data (1e300 in a frame) must give exit 2 and one line, not an OverflowError."""
    import shutil

    import netCDF4

    bad = tmp_path / "huge.nc"
    shutil.copy(run1d, bad)
    with netCDF4.Dataset(bad, "a") as nc:
        nc["theta"][5, 3] = 1e300
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "holds values of size" in err and len(err.strip().splitlines()) == 1
