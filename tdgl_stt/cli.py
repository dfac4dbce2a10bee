"""The ``tdgl-stt`` command line: ``run``, ``modes``, ``analyze`` and ``compare``.

Errors the user can fix (bad config, unwritable output) print one line and exit with status 2;
an interrupted run exits with 130 after marking its file "interrupted"; a diverged run exits 3.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._version import __version__
from .api import parse_wavevectors, exact_modes, grid_modes
from .config import load_config
from .errors import TdglSttError
from .runner import StopRequest, resume, run
from .units import unit_labels

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


def _cmd_run(args: argparse.Namespace) -> int:
    if (args.config is None) == (args.resume is None):
        raise TdglSttError("give a config file (tdgl-stt run CONFIG) or a file to resume "
                           "(tdgl-stt run --resume OUT.nc), not both")
    if args.resume is not None and args.output is not None:
        raise TdglSttError("--resume continues the file in place; -o/--output cannot be used with it")
    if args.threads < 1:
        raise TdglSttError(f"--threads must be >= 1, got {args.threads}")
    config = load_config(args.config) if args.config is not None else None
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    progress = False if args.quiet else None
    try:
        if config is not None:
            result = run(config, output=args.output, progress=progress, threads=args.threads, stop=stop)
        else:
            result = resume(args.resume, progress=progress, threads=args.threads, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if result.status == "complete" and not args.quiet:
        print(f"tdgl-stt: wrote {result.frames_written} frames to {result.path}", file=sys.stderr)
    return {"complete": 0, "interrupted": EXIT_INTERRUPTED, "diverged": EXIT_DIVERGED}[result.status]


def _cmd_modes(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.q:
        try:
            q = parse_wavevectors(args.q, len(config.grid.n))
        except ValueError as exc:
            raise TdglSttError(str(exc)) from None
        table = exact_modes(config, q)
    else:
        table = grid_modes(config)
    if args.json:
        print(json.dumps(table.to_dict(), indent=1))
        return 0
    units = unit_labels(config)
    print(f"# exact modes w_j(q) = roots of det M(q, w) = 0 (Eq. 17); fields ~ exp(i q.x - i w t)")
    print(f"# q in 1/{units.length}; w in {units.energy} (angular frequency, hbar = 1); Im w < 0 is damping")
    print("# j = 0, 1: the slow pair; j = 2: the isolated root (the dielectric relaxation when the Coulomb "
          "coupling is stiff; nan: eps_hat = 0, constraint)")
    head = "".join(f"{'q_' + ax:>14}" for ax in "xyz"[: table.q.shape[1]])
    print(head + "".join(f"{'Re w_' + str(j):>16}{'Im w_' + str(j):>16}" for j in range(3)))
    rows = table.q.shape[0] if args.all else min(table.q.shape[0], args.max_rows)
    for qn, wn in zip(table.q[:rows], table.omega[:rows]):
        print("".join(f"{v:14.6g}" for v in qn) + "".join(f"{w.real:16.8g}{w.imag:16.8g}" for w in wn))
    if rows < table.q.shape[0]:
        print(f"# ... {table.q.shape[0] - rows} more wavevectors (use --all or --json)")
    return 0


def _selection(ds, args):

    from .analysis.spectra import all_wavevectors, cut, grid_of, nearest_wavevectors, shell

    axes, n, _ = grid_of(ds)
    if sum(bool(v) for v in (args.q, args.direction, args.shell)) > 1:
        raise TdglSttError("give at most one of --q, --direction and --shell")
    try:
        if args.shell:
            return shell(ds, args.shell)
        if args.q:
            return nearest_wavevectors(ds, parse_wavevectors(args.q, len(n)))
        if len(n) == 1:
            return all_wavevectors(ds)
        d = tuple(int(v) for v in args.direction.split(",")) if args.direction else (1,) + (0,) * (len(n) - 1)
        return cut(ds, d)
    except ValueError as exc:
        raise TdglSttError(str(exc)) from None


def _open(path: str):
    from .io_netcdf import open_run

    return open_run(path)


def _fmt(v: float) -> str:
    return f"{v:13.6g}"


def _cmd_analyze(args: argparse.Namespace) -> int:
    import csv
    import math

    from .analysis.compare import analyze_modes, report_dict
    from .sweep.combine import is_sweep_directory

    if is_sweep_directory(args.run):
        from .sweep.cli import analyze_sweep

        return analyze_sweep(args)
    ds = _open(args.run)
    sel = _selection(ds, args)
    if args.stationary:
        return _analyze_stationary(ds, sel, args)
    if args.nperseg is not None or args.burn_in is not None:
        raise TdglSttError("--nperseg and --burn-in are options of --stationary")
    if _is_noisy_run(ds):
        print(f"# {args.run} is driven by noise: its modes are those of a stationary spectrum, which "
              "--stationary fits (the ringdown extraction below assumes free decay)", file=sys.stderr)
    try:
        rows = analyze_modes(ds, sel, field=args.field)
    except ValueError as exc:
        raise TdglSttError(str(exc)) from None
    ou = f"rad/({ds['t'].attrs.get('units', '1')})"
    print(f"# modes of {args.run} ({args.field}); w in {ou}; gamma = -Im w, FWHM = 2 gamma; rel dev = (sim - exact)/|exact| per part")
    print("".join(f"{h:>13}" for h in ("|q|", "Re w", "+-", "Im w", "+-", "exact Re", "exact Im", "rel dev Re", "rel dev Im")) + "  resolved")
    for r in rows:
        vals = (math.hypot(*r.q), r.omega_re, r.omega_re_err, r.omega_im, r.omega_im_err, r.exact_re, r.exact_im, r.rel_dev_re, r.rel_dev_im)
        print("".join(_fmt(v) for v in vals) + f"  {'yes' if r.resolved else 'no (decays within a frame)'}")
    res = [r for r in rows if r.resolved]
    if res:
        worst = max(max(abs(r.rel_dev_re), abs(r.rel_dev_im)) for r in res)
        whole = max((abs(complex(r.omega_re - r.exact_re, r.omega_im - r.exact_im)) / abs(complex(r.exact_re, r.exact_im))
                     for r in res if abs(complex(r.exact_re, r.exact_im)) > 0), default=float("nan"))
        print(f"# {len(res)} resolved modes at {len(sel.k)} wavevectors; largest |w - w_exact|/|w_exact| {whole:.3g}, "
              f"largest per-part relative deviation {worst:.3g} (a part much smaller than |w| is only as accurate as |w|)")
    doc = report_dict(rows, [])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            fields = list(doc["modes"][0].keys()) if doc["modes"] else ["q"]
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            for m in doc["modes"]:
                w.writerow({k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in m.items()})
    if args.plot:
        _mode_plot(ds, sel, rows, args)
    return 0


@dataclass(frozen=True)
class _StationaryResult:
    """The stationary analysis of a run, with what its reports print."""

    rows: list
    nperseg: int
    burn: int
    n_frames: int
    ou: str
    lu: str


def _is_noisy_run(ds) -> bool:
    """True for a file written by a run with ``[noise]`` (strength > 0)."""
    try:
        return float(ds.attrs.get("noise_strength", 0.0)) > 0
    except (TypeError, ValueError):
        return False


def _stationary_rows(ds, sel, args: argparse.Namespace) -> _StationaryResult:
    """Averaged periodograms at the selected wavevectors, Lorentzian fits against the exact
    roots, and the shape test against the exact expected periodogram (``--stationary``)."""
    import math
    import tomllib

    from .analysis.compare import coefficients_from_attrs
    from .analysis.spectra import fourier_amplitudes, grid_of
    from .analysis.stationary import analyze_stationary
    from .errors import ConfigError
    from .noise.config import parse_noise

    dt = float(ds.attrs["dt"])
    nperseg = 256 if args.nperseg is None else args.nperseg
    if args.burn_in is not None and args.burn_in < 0:
        raise TdglSttError(f"--burn-in must be >= 0, got {args.burn_in}")
    burn = 0 if args.burn_in is None else int(math.ceil(args.burn_in / dt - 1e-9))
    try:
        raw = tomllib.loads(str(ds.attrs.get("config_toml", ""))).get("noise")
        noise = parse_noise(raw) if raw is not None else None
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise TdglSttError(f"{args.run}: its stored [noise] table cannot be read: {exc}") from None
    if noise is None or noise.strength == 0:
        print(f"# {args.run} has no [noise] (strength > 0): the spectra are fitted, but without the "
              "shape test against the stationary expectation", file=sys.stderr)
        noise = None
    if "temperature_profile_kind" in ds.attrs and int(ds.attrs.get("profile_uniform", 1)) == 0:
        print(f"# {args.run} has a temperature profile (T from {float(ds.attrs.get('T_min', math.nan)):.6g} to "
              f"{float(ds.attrs.get('T_max', math.nan)):.6g}): the exact roots and the expected spectrum are "
              f"those of the uniform medium at T = {float(ds.attrs['coef_T']):.6g}, which it has only far "
              "from the profile", file=sys.stderr)
    a = fourier_amplitudes(ds, args.field, sel).values[burn:]
    if nperseg < 8 or a.shape[0] < nperseg:
        raise TdglSttError(f"--nperseg must be >= 8 and at most the {a.shape[0]} frames after the "
                           f"burn-in, got {nperseg}")
    L = tuple(float(v) for v in np.atleast_1d(ds.attrs["grid_L"]))
    try:
        rows = analyze_stationary(a, sel.q, dt, coefficients_from_attrs(ds.attrs), noise=noise,
                                  volume=math.prod(L), field=args.field, nperseg=nperseg)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise TdglSttError(f"{args.run}: {exc}") from None
    ou = f"rad/({ds['t'].attrs.get('units', '1')})"
    lu = f"1/{ds[grid_of(ds)[0][0]].attrs.get('units', '1')}"
    return _StationaryResult(rows=rows, nperseg=nperseg, burn=burn, n_frames=int(a.shape[0]), ou=ou, lu=lu)


def _stationary_plot(ds, res: _StationaryResult, args: argparse.Namespace) -> None:
    from .analysis.compare import coefficients_from_attrs
    from .analysis.plots import stationary_figure

    stationary_figure(res.rows, coefficients_from_attrs(ds.attrs), args.plot, q_units=res.lu, omega_units=res.ou,
                      title=f"{args.run}: stationary spectra of {args.field} (Welch, nperseg {res.nperseg}, "
                            f"{res.n_frames} frames) against the exact roots")
    print(f"# figure: {args.plot}")


def _analyze_stationary(ds, sel, args: argparse.Namespace) -> int:
    """``analyze --stationary``: averaged periodograms of a noise-driven run, Lorentzian fits
    against the exact roots, and the shape test against the exact expected periodogram."""
    import math

    if args.csv:
        raise TdglSttError("--csv is not available with --stationary (use --json)")
    res = _stationary_rows(ds, sel, args)
    rows, nperseg, burn = res.rows, res.nperseg, res.burn
    print(f"# stationary spectra of {args.run} ({args.field}): Welch, nperseg {nperseg}, {res.n_frames} frames "
          f"after a burn-in of {burn} frames; Lorentzian fits started at the resolved exact roots")
    print(f"# q in {res.lu}; centre, FWHM and the exact Re w, 2|Im w| in {res.ou}; z = (fit - exact)/error; "
          "shape p: chi-square of the periodogram against its exact expectation")
    print("".join(f"{h:>13}" for h in ("|q|", "centre", "+-", "FWHM", "+-", "exact Re w", "ex. 2|Im w|",
                                        "z centre", "z FWHM")) + "  fit p    shape p")
    for r in rows:
        shape = f"{r.shape.p_value:9.3g}" if r.shape is not None else "      n/a"
        if not r.peaks:
            print(f"{math.hypot(*r.q):13.6g}  no resolved root (every root decays within a frame or is "
                  f"beyond Nyquist){'':>4}{r.fit.p_value:9.3g}{shape}")
        for p in r.peaks:
            vals = (math.hypot(*r.q), p.omega.real, p.omega_err.real, p.fwhm, p.fwhm_err, p.exact.real,
                    p.exact_fwhm, p.z_center, p.z_width)
            print("".join(_fmt(v) for v in vals) + f"{r.fit.p_value:9.3g}{shape}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"stationary": [r.as_dict() for r in rows], "field": args.field, "nperseg": nperseg,
                       "burn_in_frames": burn}, fh, indent=1)
    if args.plot:
        _stationary_plot(ds, res, args)
    return 0


def _compare_stationary(ds, sel, args: argparse.Namespace) -> int:
    """``compare`` of a noise-driven run: the fitted peak centres and widths of the stationary
    spectra against Re w and 2|Im w| of the exact roots (deviation in units and in standard
    errors, and their consistency as a whole), then the paper's closed forms against the exact
    roots and the fitted peaks."""
    import math

    from .analysis.compare import coefficients_from_attrs, compare_closed_forms, report_dict
    from .analysis.stationary import consistency, peaks_as_mode_rows

    if args.plot and args.no_simulation:
        raise TdglSttError("--plot needs the simulation: leave out --no-simulation")
    c = coefficients_from_attrs(ds.attrs)
    res = None if args.no_simulation else _stationary_rows(ds, sel, args)
    peaks = peaks_as_mode_rows(res.rows) if res is not None else []
    if res is not None:
        print(f"# {args.run}: a stationary (noise-driven) run; the peaks of the Welch spectrum S(q, w) of {args.field} "
              f"(nperseg {res.nperseg}, {res.n_frames} frames after a burn-in of {res.burn}) fitted with Lorentzians, "
              "against the exact roots w of det M = 0")
        print(f"# q in {res.lu}; centre, FWHM, Re w, 2|Im w| and dev = fit - exact in {res.ou}; "
              "z = dev / (the fit's standard error)")
        print(f"{'|q|':>11}{'root':>5}{'centre':>12}{'+-':>11}{'exact Re w':>12}{'dev':>11}{'z':>7}"
              f"{'FWHM':>12}{'+-':>11}{'ex. 2|Im w|':>12}{'dev':>11}{'z':>7}")
        for r in res.rows:
            for p in r.peaks:
                print(f"{math.hypot(*r.q):11.5g}{p.branch:5d}{p.omega.real:12.5g}{p.omega_err.real:11.3g}"
                      f"{p.exact.real:12.5g}{p.omega.real - p.exact.real:11.3g}{p.z_center:7.2f}"
                      f"{p.fwhm:12.5g}{p.fwhm_err:11.3g}{p.exact_fwhm:12.5g}{p.fwhm - p.exact_fwhm:11.3g}"
                      f"{p.z_width:7.2f}")
        cons = consistency(res.rows)
        if cons["n_statistics"]:
            verdict = ("consistent with the exact roots" if cons["consistent"] else
                       "NOT consistent with the exact roots at family-wise 1e-3")
            print(f"# {len(peaks)} peaks, {cons['n_statistics']} deviations: largest |z| {cons['max_abs_z']:.3g} "
                  f"(bound {cons['bound']:.3g}: Bonferroni, family-wise 1e-3), sum z^2 = {cons['chi2']:.4g} "
                  f"(chi-square, {cons['n_statistics']} dof, p = {cons['p_value']:.3g}): {verdict}")
        else:
            print("# no resolved exact root at these wavevectors: nothing to compare")
    closed = compare_closed_forms(c, sel.q, peaks)
    _print_closed_forms(closed, "the fitted peaks" if res is not None else "")
    if args.json:
        doc = report_dict([], closed)
        del doc["modes"]
        if res is not None:
            doc.update({"stationary": [r.as_dict() for r in res.rows], "consistency": consistency(res.rows),
                        "field": args.field, "nperseg": res.nperseg, "burn_in_frames": res.burn,
                        "units": {"q": res.lu, "omega": res.ou}})
        with open(args.json, "w") as fh:
            json.dump(_json_clean(doc), fh, indent=1)
    if args.plot:
        _stationary_plot(ds, res, args)
    return 0


def _json_clean(obj):
    """NaN and inf become null (strict JSON)."""
    import math

    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, list):
        return [_json_clean(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _json_clean(v) for k, v in obj.items()}
    return obj


def _print_closed_forms(closed, sim: str = "the simulation") -> None:
    import math

    print(f"# closed forms of the paper against the exact roots (and {sim or 'the simulation'}), deviations as they are")
    print(f"{'form':>10}{'|q|':>12}{'br':>3}{'Re w':>13}{'Im w':>13}{'exact Re':>13}{'exact Im':>13}{'dev Re':>11}{'dev Im':>11}  regime")
    for r in closed:
        print(f"{r.name:>10}{math.hypot(*r.q):12.5g}{r.branch:3d}{r.omega_re:13.5g}{r.omega_im:13.5g}{r.exact_re:13.5g}"
              f"{r.exact_im:13.5g}{r.rel_dev_re:11.3g}{r.rel_dev_im:11.3g}  "
              + ("in" if r.in_regime else "out: " + "; ".join(r.failing_conditions)))


def _cmd_compare(args: argparse.Namespace) -> int:
    from .analysis.compare import analyze_modes, coefficients_from_attrs, compare_closed_forms, report_dict

    ds = _open(args.run)
    sel = _selection(ds, args)
    if args.stationary or _is_noisy_run(ds):
        return _compare_stationary(ds, sel, args)
    if args.nperseg is not None or args.burn_in is not None:
        raise TdglSttError("--nperseg and --burn-in are options of the stationary comparison (--stationary)")
    if args.plot and args.no_simulation:
        raise TdglSttError("--plot needs the simulation: leave out --no-simulation")
    c = coefficients_from_attrs(ds.attrs)
    try:
        modes = analyze_modes(ds, sel, field=args.field) if not args.no_simulation else []
    except ValueError as exc:
        raise TdglSttError(str(exc)) from None
    closed = compare_closed_forms(c, sel.q, modes)
    _print_closed_forms(closed)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report_dict(modes, closed), fh, indent=1)
    if args.plot:
        _mode_plot(ds, sel, modes, args)
    return 0


def _mode_plot(ds, sel, rows, args: argparse.Namespace) -> None:
    """The dispersion (or, with --shell, angle-resolved) figure of a ringdown analysis."""
    from .analysis.compare import coefficients_from_attrs
    from .analysis.plots import angle_figure, dispersion_figure
    from .analysis.spectra import angle_resolved, fourier_amplitudes, spectrum

    c = coefficients_from_attrs(ds.attrs)
    S = spectrum(fourier_amplitudes(ds, args.field, sel))
    if args.shell:
        Sa = angle_resolved(S, reference=np.asarray(c.grad_T, dtype=float))
        angle_figure(Sa, rows, c, args.plot, title=f"{args.run}: {args.field}, S(angle, w) at |q| ~ {args.shell}")
    else:
        direction = None
        if args.direction:
            direction = np.array([float(v) for v in args.direction.split(",")])
        dispersion_figure(S, rows, c, args.plot, direction=direction, title=f"{args.run}: {args.field}")
    print(f"# figure: {args.plot}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tdgl-stt",
        description="Superconducting phase/charge dynamics with the thermal (spin-transfer-like) torque.",
    )
    p.add_argument("--version", action="version", version=f"tdgl-stt {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="evolve a config and stream NetCDF, or resume an interrupted run")
    r.add_argument("config", nargs="?", help="TOML run configuration")
    r.add_argument("--resume", metavar="OUT.nc",
                   help="continue this interrupted or killed run in place, with the config stored in it")
    r.add_argument("-o", "--output", help="output NetCDF path (default: [output] path)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--threads", type=int, default=1,
                   help="threads for the propagator and the field transforms (default 1); "
                        "the output is bitwise the same for any value")
    r.set_defaults(func=_cmd_run)
    m = sub.add_parser("modes", help="print the exact modes w_j(q) of a config's model")
    m.add_argument("config", help="TOML run configuration")
    m.add_argument("--q", nargs="+", help="wavevectors (1D: 0.1 0.2; 2D: 0.1,0 0,0.1); default: the grid's")
    m.add_argument("--json", action="store_true", help="JSON instead of a table")
    m.add_argument("--all", action="store_true", help="print every grid wavevector")
    m.add_argument("--max-rows", type=int, default=64, help="rows of the table (default 64)")
    m.set_defaults(func=_cmd_modes)
    for name, func, helptext in (
        ("analyze", _cmd_analyze, "extract mode frequencies and linewidths from a run and match them to the exact roots"),
        ("compare", _cmd_compare, "tabulate the paper's closed forms against the exact roots and the simulation"),
    ):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("run", help="a tdgl-stt NetCDF output")
        a.add_argument("--q", nargs="+", help="wavevectors (nearest grid ones are used); default: all (1D) or a cut (2D)")
        a.add_argument("--direction", help="2D/3D: integer lattice direction of the cut, e.g. 1,0 (default: x)")
        a.add_argument("--shell", type=float, metavar="Q",
                       help="2D/3D: every wavevector with |q| within one grid spacing of Q (angle-resolved; "
                            "--plot then draws S(angle, w), angles from grad T)")
        a.add_argument("--field", default="theta", choices=("theta", "Phi", "mu"), help="field to analyse (default theta)")
        a.add_argument("--json", help="write the public JSON report here")
        a.add_argument("--plot", help="write the figure (PNG) here: the dispersion figure, or for a stationary "
                                      "run the Welch spectra with the fitted Lorentzians and the dispersion of the "
                                      "fitted peaks, over the exact roots")
        a.add_argument("--stationary", action="store_true",
                       help="a noise-driven run: averaged periodograms (Welch), Lorentzian fits of the "
                            "linewidths and centres with errors, against the exact roots"
                            + (" (compare does this by itself for a run with [noise])" if name == "compare" else ""))
        a.add_argument("--nperseg", type=int, help="stationary: frames per Welch segment (default 256)")
        a.add_argument("--burn-in", type=float, metavar="T",
                       help="stationary: leave out the frames with t < T (run time units; default 0)")
        if name == "analyze":
            a.add_argument("--csv", help="write the modes as CSV here")
        else:
            a.add_argument("--no-simulation", action="store_true", help="closed forms against exact roots only")
        a.set_defaults(func=func)
    from .sweep.cli import add_sweep_commands

    add_sweep_commands(sub)
    return p


def _protect_negative_vectors(argv: Sequence[str]) -> list[str]:
    """Let ``--q -3e-8,3e-8`` through argparse, which would read ``-3e-8,3e-8`` as an option:
    a token with a space is never an option, and ``float(" -3e-8")`` is -3e-8."""
    return [f" {a}" if re.match(r"^-[0-9.]", a) else a for a in argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tdgl-stt`` console script."""
    args = build_parser().parse_args(_protect_negative_vectors(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except TdglSttError as exc:
        print(f"tdgl-stt: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except RuntimeError as exc:  # netCDF-C/HDF5 failing to read data of a file that opened: damage
        if not str(exc).startswith("NetCDF:"):
            raise
        where = getattr(args, "run", None) or getattr(args, "resume", None) or "a NetCDF file"
        print(f"tdgl-stt: error: {where}: cannot be read ({exc}): the file is truncated or corrupted",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("tdgl-stt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into head & co.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
