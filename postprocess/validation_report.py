"""Regenerate ``docs/validation.md`` and its figures from the canonical runs of ``runs/``.

    python postprocess/validation_report.py [--outputs DIR] [--rerun] [--only NAME ...]

For each regime of ``postprocess/regimes.py`` it runs the config (unless ``DIR/NAME.nc`` is a
complete run of the same config text), extracts the modes at the table wavevectors, matches
them to the exact roots (eigenvalues of A(q), the roots of det M = 0 of Eq. 17), tabulates the
regime's closed forms against the exact roots inside and outside their regimes, and draws
S(q, w) with the modes, the exact roots and the closed forms. Deviations are printed as they
are: nothing is clipped, tuned or hidden.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "postprocess"))

from regimes import REGIMES, Regime

from tdgl_stt.analysis.closed_forms import evaluate_closed_forms
from tdgl_stt.analysis.compare import (
    ClosedFormRow,
    ModeRow,
    analyze_modes,
    coefficients_from_attrs,
    compare_closed_forms,
    exact_at,
)
from tdgl_stt.analysis.plots import angle_figure, dispersion_figure
from tdgl_stt.analysis.spectra import (
    WavevectorSelection,
    all_wavevectors,
    angle_resolved,
    fourier_amplitudes,
    nearest_wavevectors,
    shell,
    spectrum,
)
from tdgl_stt.config import load_config
from tdgl_stt.errors import TdglSttError
from tdgl_stt.io_netcdf import open_run
from tdgl_stt.runner import run


@dataclass(frozen=True)
class Shift:
    """The torque's shift of one branch at one wavevector, exact and closed form."""

    name: str
    q: tuple[float, ...]
    branch: int
    exact: complex
    closed: complex


#: Closed forms that predict the torque's shift of a mode.
TORQUE_FORMS = ("eq20", "eq22")


def torque_shifts(c, names: tuple[str, ...], q_list: np.ndarray) -> list[Shift]:
    """``w(grad T) - w(0)`` for each torque closed form and for the exact root it describes.

    The exact branch is the root at grad T nearest the closed form there, and its partner at
    grad T = 0 the root nearest the closed form at 0 (the shift is small compared with the
    branch spacing in every regime tabulated).
    """
    zero = dataclasses.replace(c, grad_T=tuple(0.0 for _ in c.grad_T), vT=tuple(0.0 for _ in c.vT))
    out = []
    for q in np.asarray(q_list, dtype=float):
        ex, ex0 = exact_at(c, q[None, :])[0], exact_at(zero, q[None, :])[0]
        for name in names:
            if name not in TORQUE_FORMS:
                continue
            cf = evaluate_closed_forms(c, q, (name,))
            cf0 = evaluate_closed_forms(zero, q, (name,))
            for v, v0 in zip(cf, cf0):
                if not (np.isfinite(v.omega) and np.isfinite(v0.omega)):
                    continue
                j = int(np.nanargmin(np.abs(ex - v.omega)))
                j0 = int(np.nanargmin(np.abs(ex0 - v0.omega)))
                out.append(Shift(name, tuple(map(float, q)), v.branch, complex(ex[j] - ex0[j0]), complex(v.omega - v0.omega)))
    return out


@dataclass(frozen=True)
class RegimeResult:
    """What the report says about one regime."""

    regime: Regime
    path: Path
    status: str
    units: tuple[str, str]
    modes: list[ModeRow]
    closed: list[ClosedFormRow]
    figure: Path
    growth: float
    shifts: list[Shift]


def ensure_run(regime: Regime, outputs: Path, rerun: bool) -> Path:
    """The output of ``regime``: reused if it is a complete run of the current config text."""
    config = load_config(ROOT / regime.config)
    path = outputs / f"{regime.name}.nc"
    if path.exists() and not rerun:
        try:
            with open_run(path) as ds:
                if ds.attrs.get("status") == "complete" and ds.attrs.get("config_toml") == config.source_text:
                    return path
        except TdglSttError:
            pass
    print(f"running {regime.config} -> {path}", file=sys.stderr)
    result = run(config, output=path, progress=sys.stderr.isatty())
    if result.status not in ("complete",):
        raise SystemExit(f"{regime.config}: run {result.status}: {result.message}")
    return path


def figure_selection(ds, regime: Regime) -> WavevectorSelection:
    kind = regime.figure[0]
    if kind == "shell":
        return shell(ds, float(regime.figure[1]))
    direction, q_max = np.asarray(regime.figure[1], dtype=float), float(regime.figure[2])
    every = all_wavevectors(ds)
    q = every.q
    d = direction / np.linalg.norm(direction)
    perp = np.linalg.norm(q - (q @ d)[:, None] * d[None, :], axis=1)
    keep = (perp <= 1e-12 * np.linalg.norm(q, axis=1)) & (np.linalg.norm(q, axis=1) <= q_max)
    return WavevectorSelection(k=every.k[keep], L=every.L)


def analyse(regime: Regime, path: Path, figures: Path) -> RegimeResult:
    ds = open_run(path)
    c = coefficients_from_attrs(ds.attrs)
    table_sel = nearest_wavevectors(ds, np.array(regime.table_q, dtype=float))
    modes = analyze_modes(ds, table_sel, field=regime.field)
    closed = [r for r in compare_closed_forms(c, table_sel.q, modes) if r.name in regime.closed_forms]
    fig_sel = figure_selection(ds, regime)
    fig_rows = analyze_modes(ds, fig_sel, field=regime.field)
    S = spectrum(fourier_amplitudes(ds, regime.field, fig_sel))
    figures.mkdir(parents=True, exist_ok=True)
    fig = figures / f"{regime.name}.png"
    if regime.figure[0] == "shell":
        angle_figure(angle_resolved(S, reference=np.asarray(c.grad_T, dtype=float)), fig_rows, c, fig,
                     title=f"{regime.name}: S(angle, w) of {regime.field}")
    else:
        dispersion_figure(S, fig_rows, c, fig, direction=np.asarray(regime.figure[1], dtype=float),
                          title=f"{regime.name}: S(q, w) of {regime.field}")
    units = (ds[ds["x"].dims[0]].attrs.get("units", "1"), f"rad/({ds['t'].attrs.get('units', '1')})")
    shifts = torque_shifts(c, regime.closed_forms, table_sel.q) if any(c.grad_T) else []
    return RegimeResult(regime, path, str(ds.attrs.get("status")), units, modes, closed, fig,
                        float(ds.attrs.get("max_growth_rate", math.nan)), shifts)


def _c(re: float, im: float) -> str:
    return f"{re:.8g} {im:+.8g}i" if math.isfinite(re) and math.isfinite(im) else "-"


def _d(x: float) -> str:
    return f"{x:.2e}" if math.isfinite(x) else "-"


def abs_dev(re: float, im: float, ex_re: float, ex_im: float) -> float:
    """``|w - w_exact| / |w_exact|``: the deviation of the complex frequency as a whole."""
    ref = complex(ex_re, ex_im)
    return abs(complex(re, im) - ref) / abs(ref) if abs(ref) > 0 and math.isfinite(abs(ref)) else math.nan


def worst_mode_deviation(rows: list[ModeRow]) -> float:
    res = [r for r in rows if r.resolved]
    return max((max(abs(r.rel_dev_re), abs(r.rel_dev_im)) for r in res), default=math.nan)


def section(res: RegimeResult, docs: Path) -> str:
    r = res.regime
    lu, wu = res.units
    lines = [f"## {r.title}", "",
             f"Config `{r.config}`; tests {r.tests}. Output `{res.path.name}` (status {res.status}).", ""]
    if r.notes:
        lines += [r.notes, ""]
    if r.verdict:
        lines += [f"**Verdict.** {r.verdict}", ""]
    lines += [f"![{r.name}]({os.path.relpath(res.figure.resolve(), docs.resolve())})", "",
              f"### Simulated modes against the exact roots (q in 1/{lu}, w in {wu})", "",
              "| q | branch | simulated w | +- (Re, Im) | exact w | rel. dev. Re | rel. dev. Im | abs. dev. \\|dw\\|/\\|w\\| | resolved |",
              "|---|---|---|---|---|---|---|---|---|"]
    for m in res.modes:
        lines.append(f"| {', '.join(f'{v:.5g}' for v in m.q)} | {m.branch} | {_c(m.omega_re, m.omega_im)} | "
                     f"{m.omega_re_err:.1e}, {m.omega_im_err:.1e} | {_c(m.exact_re, m.exact_im)} | "
                     f"{_d(m.rel_dev_re)} | {_d(m.rel_dev_im)} | {_d(abs_dev(m.omega_re, m.omega_im, m.exact_re, m.exact_im))} | "
                     f"{'yes' if m.resolved else 'no (decays within a frame)'} |")
    lines += ["", f"Largest deviation of a resolved mode: **{_d(worst_mode_deviation(res.modes))}**.", "",
              "### The paper's closed forms against the exact roots", "",
              "| form | q | branch | closed form w | exact w | rel. dev. Re | rel. dev. Im | abs. dev. \\|dw\\|/\\|w\\| | in regime | failing conditions |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for cf in res.closed:
        lines.append(f"| {cf.name} | {', '.join(f'{v:.5g}' for v in cf.q)} | {cf.branch} | {_c(cf.omega_re, cf.omega_im)} | "
                     f"{_c(cf.exact_re, cf.exact_im)} | {_d(cf.rel_dev_re)} | {_d(cf.rel_dev_im)} | "
                     f"{_d(abs_dev(cf.omega_re, cf.omega_im, cf.exact_re, cf.exact_im))} | "
                     f"{'yes' if cf.in_regime else 'no'} | {'; '.join(cf.failing_conditions) or '-'} |")
    if res.shifts:
        lines += ["", "### The torque's shift dw = w(grad T) - w(0): closed form against exact", "",
                  "| form | q | branch | exact dw | closed-form dw | Re ratio | Im ratio |", "|---|---|---|---|---|---|---|"]
        for sh in res.shifts:
            lines.append(f"| {sh.name} | {', '.join(f'{v:.5g}' for v in sh.q)} | {sh.branch} | {_c(sh.exact.real, sh.exact.imag)} | "
                         f"{_c(sh.closed.real, sh.closed.imag)} | {_ratio(sh.exact.real, sh.closed.real)} | {_ratio(sh.exact.imag, sh.closed.imag)} |")
        lines += ["", "A ratio exact/closed form of 1 means the closed form has the torque's effect right; a negative ratio, the wrong sign."]
    lines.append("")
    return "\n".join(lines)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.4g}" if b != 0 and math.isfinite(a / b) else "-"


def summary(results: list[RegimeResult]) -> str:
    lines = ["| regime | config | worst sim. vs exact (per part) | closed form: worst \\|dw\\|/\\|w\\| in regime (rows in regime / rows) | torque shift, exact / closed form |",
             "|---|---|---|---|---|"]
    for res in results:
        parts = []
        for name in res.regime.closed_forms:
            rows = [r for r in res.closed if r.name == name]
            inside = [r for r in rows if r.in_regime]
            devs = [abs_dev(r.omega_re, r.omega_im, r.exact_re, r.exact_im) for r in inside]
            worst = max((d for d in devs if math.isfinite(d)), default=math.nan)
            parts.append(f"{name}: {_d(worst)} ({len(inside)}/{len(rows)})")
        shift = "-"
        finite = [(sh.exact.real / sh.closed.real, sh.exact.imag / sh.closed.imag) for sh in res.shifts
                  if sh.closed.real != 0 and sh.closed.imag != 0]
        if finite:
            re, im = np.array(finite).T
            shift = f"Re {re.min():.3g} .. {re.max():.3g}; Im {im.min():.3g} .. {im.max():.3g}"
        lines.append(f"| {res.regime.name} | `{res.regime.config}` | {_d(worst_mode_deviation(res.modes))} | {'; '.join(parts)} | {shift} |")
    return "\n".join(lines)


def report(results: list[RegimeResult], docs: Path) -> str:
    head = """# Validation report

Generated by `python postprocess/validation_report.py` from the canonical runs of `runs/`
(regimes listed in `postprocess/regimes.py`). Rerun that command to regenerate this page and
`docs/figures/`.

Every run is compared with the exact linear-response roots: the eigenvalues of A(q), which are
the roots of det M(q, w) = 0 of the paper's Eq. 17 (tested against det M rebuilt independently
in 50-digit arithmetic, `tests/test_exact_roots.py`). The paper's closed forms are asymptotic;
each is tabulated against the exact roots inside and outside its stated regime, with the small
parameters that fail. Relative deviations are `(x - x_exact)/|x_exact|` per part (real,
imaginary), as they are. The re-derivation of each closed form, and why the ones that disagree
disagree, is in `docs/closed-forms.md`.

Fields go as exp(i q.x - i w t): a damped mode has Im w < 0. Units are the run's (natural units
unless the config used `[material]`).

## Summary

"""
    return head + summary(results) + "\n\n" + "\n".join(section(r, docs) for r in results)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outputs", default=str(ROOT / "outputs"), help="directory of the run outputs (default outputs/)")
    ap.add_argument("--rerun", action="store_true", help="rerun every config even if its output is complete")
    ap.add_argument("--only", nargs="+", help="regime names to (re)generate; the report then holds only these")
    ap.add_argument("--markdown", default=str(ROOT / "docs" / "validation.md"), help="report path")
    ap.add_argument("--figures", default=str(ROOT / "docs" / "figures"), help="figure directory (default docs/figures/)")
    args = ap.parse_args(argv)
    outputs = Path(args.outputs)
    outputs.mkdir(parents=True, exist_ok=True)
    chosen = [r for r in REGIMES if not args.only or r.name in args.only]
    results = []
    for regime in chosen:
        path = ensure_run(regime, outputs, args.rerun)
        results.append(analyse(regime, path, Path(args.figures)))
        print(f"{regime.name}: worst simulated-vs-exact deviation {_d(worst_mode_deviation(results[-1].modes))}", file=sys.stderr)
    Path(args.markdown).write_text(report(results, Path(args.markdown).resolve().parent))
    print(f"wrote {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
