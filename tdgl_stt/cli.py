"""The ``tdgl-stt`` command line: ``run`` and ``modes``.

Errors the user can fix (bad config, unwritable output) print one line and exit with status 2;
an interrupted run exits with 130 after marking its file "interrupted"; a diverged run exits 3.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Sequence

from ._version import __version__
from .api import _parse_q, exact_modes, grid_modes
from .config import load_config
from .errors import TdglSttError
from .runner import Interrupted, run
from .units import unit_labels

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


def _raise_interrupted(signum, frame):  # pragma: no cover - exercised through subprocess tests
    raise Interrupted(f"signal {signum}")


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    progress = False if args.quiet else None
    result = run(config, output=args.output, progress=progress, threads=args.threads)
    if result.status == "complete" and not args.quiet:
        print(f"tdgl-stt: wrote {result.frames_written} frames to {result.path}", file=sys.stderr)
    return {"complete": 0, "interrupted": EXIT_INTERRUPTED, "diverged": EXIT_DIVERGED}[result.status]


def _cmd_modes(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.q:
        try:
            q = _parse_q(args.q, len(config.grid.n))
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
    print(f"# j = 0, 1: collective modes; j = 2: dielectric relaxation (nan: eps_hat = 0, constraint)")
    head = "".join(f"{'q_' + ax:>14}" for ax in "xyz"[: table.q.shape[1]])
    print(head + "".join(f"{'Re w_' + str(j):>16}{'Im w_' + str(j):>16}" for j in range(3)))
    rows = table.q.shape[0] if args.all else min(table.q.shape[0], args.max_rows)
    for qn, wn in zip(table.q[:rows], table.omega[:rows]):
        print("".join(f"{v:14.6g}" for v in qn) + "".join(f"{w.real:16.8g}{w.imag:16.8g}" for w in wn))
    if rows < table.q.shape[0]:
        print(f"# ... {table.q.shape[0] - rows} more wavevectors (use --all or --json)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tdgl-stt",
        description="Superconducting phase/charge dynamics with the thermal (spin-transfer-like) torque.",
    )
    p.add_argument("--version", action="version", version=f"tdgl-stt {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="evolve a config and stream NetCDF")
    r.add_argument("config", help="TOML run configuration")
    r.add_argument("-o", "--output", help="output NetCDF path (default: [output] path)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--threads", type=int, default=1, help="FFTW threads (default 1)")
    r.set_defaults(func=_cmd_run)
    m = sub.add_parser("modes", help="print the exact modes w_j(q) of a config's model")
    m.add_argument("config", help="TOML run configuration")
    m.add_argument("--q", nargs="+", help="wavevectors (1D: 0.1 0.2; 2D: 0.1,0 0,0.1); default: the grid's")
    m.add_argument("--json", action="store_true", help="JSON instead of a table")
    m.add_argument("--all", action="store_true", help="print every grid wavevector")
    m.add_argument("--max-rows", type=int, default=64, help="rows of the table (default 64)")
    m.set_defaults(func=_cmd_modes)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tdgl-stt`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TdglSttError as exc:
        print(f"tdgl-stt: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("tdgl-stt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
