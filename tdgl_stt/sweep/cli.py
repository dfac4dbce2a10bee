"""The sweep commands: ``tdgl-stt sweep``, ``tdgl-stt instability-map`` and ``tdgl-stt analyze DIR``.

:func:`add_sweep_commands` registers the first two on the ``tdgl-stt`` parser;
:func:`analyze_sweep` is what ``tdgl-stt analyze`` runs when given a sweep directory
(:func:`~tdgl_stt.sweep.combine.is_sweep_directory`). Heavy imports (distributed, matplotlib)
happen inside the commands, so registering them costs nothing.

Exit status of ``sweep``: 0 when every case is finished, 1 when some failed (each reported
with its message), 2 for an error the user can fix (a bad sweep file), 130 on Ctrl-C (the
finished cases are kept; rerunning resumes).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TdglSttError

__all__ = ["add_sweep_commands", "analyze_sweep", "build_parser", "main"]

EXIT_FAILED_CASES = 1


def _say(msg: str) -> None:
    print(f"tdgl-stt sweep: {msg}", file=sys.stderr)


def sweep_command(args: argparse.Namespace) -> int:
    """``tdgl-stt sweep SWEEP.toml [--scheduler ADDRESS] [--workers N] [-o DIR]``."""
    from .execute import case_status, run_sweep, sweep_client
    from .spec import load_sweep

    spec = load_sweep(args.sweep)
    if args.scheduler and args.workers is not None:
        raise TdglSttError("--workers sets the size of the local cluster; with --scheduler the cluster is yours")
    if args.workers is not None and args.workers < 1:
        raise TdglSttError(f"--workers must be >= 1, got {args.workers}")
    directory = Path(args.output_dir) if args.output_dir else Path.cwd() / Path(args.sweep).stem
    axes = ", ".join(f"{a.key} ({len(a)})" for a in spec.axes)
    n_cases = math.prod(spec.shape)
    if args.dry_run:
        print(f"# {n_cases} cases over {axes}; directory {directory}")
        for case in spec.cases():
            try:
                case.config()
                done = case_status(directory / case.filename, case.text)
                state = f"finished ({done})" if done else "to run"
            except TdglSttError as exc:
                state = f"invalid: {exc}"
            print(f"{case.name}  {case.label}  -> {state}")
        return 0
    if not args.quiet:
        where = args.scheduler or f"a local cluster of {args.workers or 'all available'} single-threaded workers"
        _say(f"{n_cases} cases over {axes} -> {directory}, on {where}")
    with sweep_client(args.scheduler, args.workers) as client:
        report = run_sweep(spec, directory, client, progress=False if args.quiet else None)
    if not args.quiet or not report.ok:
        _say(f"{report.summary()}; report in {report.directory / 'sweep-report.json'}")
    return 0 if report.ok else EXIT_FAILED_CASES


def _selection(args: argparse.Namespace):
    from .combine import Selection

    q = None
    if getattr(args, "q", None):
        try:
            q = tuple(tuple(float(p) for p in v.replace(";", ",").split(",") if p.strip()) for v in args.q)
        except ValueError:
            raise TdglSttError(f"--q {args.q}: wavevectors are numbers, 2D ones as qx,qy") from None
    direction = None
    if getattr(args, "direction", None):
        direction = tuple(int(v) for v in args.direction.split(","))
    return Selection(q=q, direction=direction, shell=getattr(args, "shell", None))


def _json_ready(obj: Any) -> Any:
    """NaN and inf -> None, numpy scalars -> Python (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:12.5g}"
    return f"{v!s:>12}"


def analyze_sweep(args: argparse.Namespace) -> int:
    """``tdgl-stt analyze DIR`` for a sweep directory: the modes of every case as one dataset.

    Uses ``args.run`` (the directory), ``args.q`` / ``args.direction`` / ``args.shell``,
    ``args.field``, ``args.json``, ``args.csv`` and ``args.plot`` like the single-run command.
    Writes ``DIR/sweep-modes.nc`` (open it with ``xarray.open_dataset``), prints one line per
    case and returns 0.
    """
    from .combine import sweep_modes

    directory = Path(args.run)
    try:
        modes = sweep_modes(directory, _selection(args), field=getattr(args, "field", "theta"))
    except ValueError as exc:
        raise TdglSttError(str(exc)) from None
    out = directory / "sweep-modes.nc"
    modes.to_netcdf(out)
    dims = list(modes.attrs["sweep_dims"])
    print(f"# modes of every case of {directory} ({modes.attrs['field']}); dataset: {out}")
    print("# growth = largest Im w (> 0: a growing mode); rel dev = largest |w - w_exact|/|w_exact| of a resolved mode")
    print("".join(f"{d:>12}" for d in dims) + f"{'modes':>8}{'growth sim':>13}{'growth exact':>13}{'rel dev':>10}")
    stacked = modes.stack(case=dims)
    for i in range(stacked.sizes["case"]):
        c = stacked.isel(case=i)
        ok = c["resolved"].values == 1.0
        w = c["omega_re"].values + 1j * c["omega_im"].values
        ex = c["exact_re"].values + 1j * c["exact_im"].values
        dev = np.abs(w - ex)[ok] / np.abs(ex)[ok]
        worst = float(dev.max()) if dev.size else math.nan
        print("".join(_fmt(c[d].item()) for d in dims) + f"{int(ok.sum()):8d}"
              f"{float(c['growth_simulated']):13.5g}{float(c['growth_exact']):13.5g}{worst:10.2g}")
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump(_json_ready(modes.to_dict(data="list")), fh, indent=1)
    if getattr(args, "csv", None):
        keep = ["omega_re", "omega_im", "omega_re_err", "omega_im_err", "amplitude", "resolved", "exact_re", "exact_im"]
        modes[keep].to_dataframe().to_csv(args.csv)
    if getattr(args, "plot", None):
        from .plots import modes_figure

        modes_figure(modes, args.plot, title=f"{directory}: modes of every case ({modes.attrs['field']})")
        print(f"# figure: {args.plot}")
    return 0


def _parse_at(items: Sequence[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise TdglSttError(f"--at {item!r}: expected AXIS=VALUE, e.g. tauE=100.0")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        out[name.strip()] = value
    return out


def _zero_crossings(lines: list[np.ndarray]) -> str:
    if not lines:
        return "no zero crossing in the map"
    pts = np.concatenate(lines)
    return "; ".join(f"({x:.5g}, {y:.5g})" for x, y in pts[:: max(1, len(pts) // 12)])


def instability_map_command(args: argparse.Namespace) -> int:
    """``tdgl-stt instability-map DIR|SWEEP.toml [--x AXIS] [--y AXIS] [--at AXIS=VALUE ...]
    [--points N] [--plot F.png] [--output F.nc] [--exact-only]``."""
    import xarray as xr

    from .combine import is_sweep_directory, sweep_modes
    from .execute import SWEEP_FILE
    from .instability import exact_growth_map, simulated_growth_map, zero_line
    from .spec import load_sweep

    source = Path(args.source)
    is_dir = is_sweep_directory(source)
    spec = load_sweep(source / SWEEP_FILE if is_dir else source)
    if len(spec.axes) < 2:
        raise TdglSttError("an instability map needs a sweep of at least two axes")
    x = args.x or spec.dims[0]
    y = args.y or next(d for d in spec.dims if spec.axis(d).key != spec.axis(x).key)
    at = _parse_at(args.at)
    try:
        exact = exact_growth_map(spec, x, y, points=args.points, at=at)
    except KeyError as exc:
        raise TdglSttError(str(exc.args[0])) from None
    simulated = None
    if is_dir and not args.exact_only:
        simulated = simulated_growth_map(sweep_modes(source), x, y, at=at)
    print(f"# instability map max_q Im w over ({exact.dims[1]}, {exact.dims[0]}); {exact.attrs['fixed_axes'] or 'no other axes'}")
    print(f"# exact zero line (x, y): {_zero_crossings(zero_line(exact))}")
    if simulated is not None:
        print(f"# simulated zero line (x, y): {_zero_crossings(zero_line(simulated))}")
    if args.output:
        maps = [exact.rename({d: f"{d}_exact" for d in exact.dims})] if args.points else [exact]
        if simulated is not None:
            maps.append(simulated.drop_vars([c for c in simulated.coords if c not in simulated.dims]))
        xr.merge(maps).to_netcdf(args.output)
        print(f"# maps: {args.output}")
    if args.plot:
        from .plots import instability_figure

        instability_figure(exact, simulated, args.plot, title=f"{source}: instability map")
        print(f"# figure: {args.plot}")
    return 0


def add_sweep_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep`` and ``instability-map`` on the ``tdgl-stt`` sub-command parsers."""
    s = subparsers.add_parser(
        "sweep", help="run every case of a parameter sweep on a dask.distributed cluster",
        description="Run the Cartesian product of the [sweep] axes, one NetCDF file per case in DIR. "
                    "Finished cases are skipped, so rerunning resumes a stopped sweep.")
    s.add_argument("sweep", metavar="SWEEP.toml", help="a run config plus a [sweep] table (docs/sweeps.md)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing dask scheduler: its address (e.g. tcp://host:8786) or scheduler file "
                        "(dask scheduler --scheduler-file); default: a local cluster")
    s.add_argument("--workers", type=int, metavar="N",
                   help="single-threaded worker processes of the local cluster (default: the available cores)")
    s.add_argument("-o", "--output-dir", metavar="DIR", help="sweep directory (default: ./<name of SWEEP.toml>)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary (failures are still reported)")
    s.add_argument("--dry-run", action="store_true", help="list the cases and their state, run nothing")
    s.set_defaults(func=sweep_command)
    m = subparsers.add_parser(
        "instability-map", help="largest growth rate max_q Im w against two sweep axes, exact and simulated",
        description="The exact map needs only the sweep file (no simulation); a sweep directory adds the map "
                    "from the extracted modes of the runs. Prints the zero lines; --plot draws the maps.")
    m.add_argument("source", metavar="DIR|SWEEP.toml", help="a sweep directory or a sweep file")
    m.add_argument("--x", metavar="AXIS", help="x axis: dimension name or dotted key (default: the first axis)")
    m.add_argument("--y", metavar="AXIS", help="y axis (default: the next axis)")
    m.add_argument("--at", nargs="+", metavar="AXIS=VALUE", help="values of the other axes (default: their first)")
    m.add_argument("--points", type=int, metavar="N",
                   help="exact map on N values per axis spanning the listed ones (default: the listed values)")
    m.add_argument("--plot", metavar="F.png", help="write the figure here")
    m.add_argument("--output", metavar="F.nc", help="write the map(s) as NetCDF here")
    m.add_argument("--exact-only", action="store_true", help="skip the map from the simulations")
    m.set_defaults(func=instability_map_command)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``python -m tdgl_stt.sweep``): ``sweep``, ``instability-map`` and
    ``analyze DIR``."""
    p = argparse.ArgumentParser(prog="python -m tdgl_stt.sweep", description="tdgl-stt parameter sweeps")
    sub = p.add_subparsers(dest="command", required=True)
    add_sweep_commands(sub)
    a = sub.add_parser("analyze", help="the modes of every case of a sweep directory as one dataset")
    a.add_argument("run", metavar="DIR", help="a sweep directory")
    a.add_argument("--q", nargs="+", help="wavevectors (nearest grid ones are used)")
    a.add_argument("--direction", help="2D/3D: integer lattice direction of the cut, e.g. 1,0")
    a.add_argument("--shell", type=float, metavar="Q", help="2D/3D: every wavevector within one grid spacing of |q| = Q")
    a.add_argument("--field", default="theta", choices=("theta", "Phi", "mu"))
    a.add_argument("--json", help="write the dataset as JSON here")
    a.add_argument("--csv", help="write the modes as CSV here")
    a.add_argument("--plot", help="write the dispersion of every case (PNG) here")
    a.set_defaults(func=analyze_sweep)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tdgl_stt.sweep`` (same error handling as ``tdgl-stt``)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TdglSttError as exc:
        print(f"tdgl-stt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tdgl-stt: interrupted", file=sys.stderr)
        return 130
