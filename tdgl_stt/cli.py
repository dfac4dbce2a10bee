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

    from .analysis.compare import analyze_modes, coefficients_from_attrs, report_dict

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
    return 0


def _analyze_stationary(ds, sel, args: argparse.Namespace) -> int:
    """``analyze --stationary``: averaged periodograms of a noise-driven run, Lorentzian fits
    against the exact roots, and the shape test against the exact expected periodogram."""
    import math
    import tomllib

    from .analysis.compare import coefficients_from_attrs
    from .analysis.spectra import fourier_amplitudes
    from .analysis.stationary import analyze_stationary
    from .errors import ConfigError
    from .noise.config import parse_noise

    if args.csv or args.plot:
        raise TdglSttError("--csv and --plot are not available with --stationary (use --json)")
    dt = float(ds.attrs["dt"])
    nperseg = 256 if args.nperseg is None else args.nperseg
    burn = 0 if args.burn_in is None else int(math.ceil(args.burn_in / dt - 1e-9))
    if args.burn_in is not None and args.burn_in < 0:
        raise TdglSttError(f"--burn-in must be >= 0, got {args.burn_in}")
    try:
        raw = tomllib.loads(str(ds.attrs.get("config_toml", ""))).get("noise")
        noise = parse_noise(raw) if raw is not None else None
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise TdglSttError(f"{args.run}: its stored [noise] table cannot be read: {exc}") from None
    if noise is None or noise.strength == 0:
        print(f"# {args.run} has no [noise] (strength > 0): the spectra are fitted, but without the "
              "shape test against the stationary expectation", file=sys.stderr)
        noise = None
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
    lu = f"1/{ds['x'].attrs.get('units', '1')}"
    print(f"# stationary spectra of {args.run} ({args.field}): Welch, nperseg {nperseg}, {a.shape[0]} frames "
          f"after a burn-in of {burn} frames; Lorentzian fits started at the resolved exact roots")
    print(f"# q in {lu}; centre, FWHM and the exact Re w, 2|Im w| in {ou}; z = (fit - exact)/error; "
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
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .analysis.compare import analyze_modes, coefficients_from_attrs, compare_closed_forms, report_dict

    ds = _open(args.run)
    sel = _selection(ds, args)
    c = coefficients_from_attrs(ds.attrs)
    try:
        modes = analyze_modes(ds, sel, field=args.field) if not args.no_simulation else []
    except ValueError as exc:
        raise TdglSttError(str(exc)) from None
    closed = compare_closed_forms(c, sel.q, modes)
    print("# closed forms of the paper against the exact roots (and the simulation), deviations as they are")
    print(f"{'form':>10}{'|q|':>12}{'br':>3}{'Re w':>13}{'Im w':>13}{'exact Re':>13}{'exact Im':>13}{'dev Re':>11}{'dev Im':>11}  regime")
    import math

    for r in closed:
        print(f"{r.name:>10}{math.hypot(*r.q):12.5g}{r.branch:3d}{r.omega_re:13.5g}{r.omega_im:13.5g}{r.exact_re:13.5g}"
              f"{r.exact_im:13.5g}{r.rel_dev_re:11.3g}{r.rel_dev_im:11.3g}  "
              + ("in" if r.in_regime else "out: " + "; ".join(r.failing_conditions)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report_dict(modes, closed), fh, indent=1)
    return 0


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
        if name == "analyze":
            a.add_argument("--csv", help="write the modes as CSV here")
            a.add_argument("--plot", help="write the dispersion figure (PNG) here")
            a.add_argument("--stationary", action="store_true",
                           help="a noise-driven run: averaged periodograms (Welch), Lorentzian fits of the "
                                "linewidths and centres with errors, against the exact roots")
            a.add_argument("--nperseg", type=int, help="--stationary: frames per Welch segment (default 256)")
            a.add_argument("--burn-in", type=float, metavar="T",
                           help="--stationary: leave out the frames with t < T (run time units; default 0)")
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
