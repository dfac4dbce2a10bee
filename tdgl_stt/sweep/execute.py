"""Run every case of a sweep on a dask.distributed cluster, one NetCDF file per case.

The sweep directory holds ``sweep.toml`` (a copy of the sweep file: with it the directory
describes itself), one ``<case>.nc`` per case and ``sweep-report.json`` (the outcome of each case
in the last run, rewritten as cases finish).

Rules
-----
- *Resume*: a case whose file exists, has status ``complete`` or ``diverged`` and holds exactly the
  case's config text (attribute ``config_toml``) is finished and is not run again. A divergence
  is a result of the config (a physical instability or a numerical failure, as the file's
  message says), and rerunning it would reproduce it; a file left ``running`` or
  ``interrupted`` by a killed sweep with the same config continues from its last checkpoint
  (:func:`tdgl_stt.runner.resume`: the result is bitwise that of an uninterrupted run); if it
  cannot be resumed (no checkpoint yet, damaged), or was written from another config, it is
  run again from the start.
- *Failures*: a case whose config is invalid fails at once, on the client, with the config
  error (retrying cannot change it). A case whose run raises on a worker (or whose worker dies)
  is reported with its message and submitted once more; if that fails too, it is recorded as
  ``failed``. Neither stops the other cases.
- *Threads*: each case runs single-threaded (``run(threads=1)`` and ``threadpoolctl`` limiting
  BLAS/OpenMP to one thread inside the task); the default LocalCluster has single-threaded
  worker processes with ``OMP/OPENBLAS/MKL/NUMEXPR_NUM_THREADS=1``, so N workers use N cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from ..errors import ConfigError
from .spec import Case, SweepSpec

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

__all__ = [
    "FINISHED_STATUSES",
    "REPORT_FILE",
    "SWEEP_FILE",
    "CaseOutcome",
    "SweepReport",
    "case_status",
    "run_case",
    "run_sweep",
    "sweep_client",
]

SWEEP_FILE = "sweep.toml"
REPORT_FILE = "sweep-report.json"
#: File statuses that make a case finished (skipped on resume, read by the combined dataset).
FINISHED_STATUSES: tuple[str, ...] = ("complete", "diverged")
#: Seconds between two rewrites of the report while a sweep runs (it is always written at the end).
REPORT_INTERVAL = 2.0
#: Thread-count variables pinned to 1 in the default LocalCluster's worker processes.
PINNED_THREADS_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class CaseOutcome:
    """What happened to one case.

    ``status`` is the run's status (``complete``, ``diverged``, ``interrupted``), ``skipped``
    (finished by an earlier run) or ``failed`` (invalid config, or the run raised twice);
    ``attempts`` counts the submissions in this run; ``message`` is the config error, the
    exception or the run's status message; ``notices`` are the run's one-line notices (e.g. a
    physical instability found at the start).
    """

    name: str
    label: str
    status: str
    attempts: int = 0
    message: str = ""
    frames: int = 0
    notices: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES or self.status == "skipped"


@dataclass(frozen=True)
class SweepReport:
    """The outcome of every case of a sweep run, in case order."""

    directory: Path
    outcomes: tuple[CaseOutcome, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> tuple[CaseOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.finished)

    @property
    def ok(self) -> bool:
        """Every case is finished (complete, diverged or skipped)."""
        return not self.failed

    def summary(self) -> str:
        parts = [f"{len(self.outcomes)} cases"]
        for status in ("complete", "diverged", "skipped", "interrupted", "failed"):
            n = self.count(status)
            if n:
                parts.append(f"{n} {status}" + (" (finished earlier)" if status == "skipped" else ""))
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "summary": self.summary(),
                "cases": [asdict(o) for o in self.outcomes]}


# --------------------------------------------------------------------------------------------
# The task, and the resume rule
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunSummary:
    status: str
    frames: int
    message: str
    notices: tuple[str, ...]


def run_case(text: str, path: str) -> _RunSummary:
    """Run one case (on a worker): validate ``text``, run it to ``path`` single-threaded.

    Runs with ``threads=1`` and BLAS/OpenMP pools limited to one thread (threadpoolctl), so a
    worker process uses one core whatever its environment. Exceptions propagate (the driver
    retries once).
    """
    from threadpoolctl import threadpool_limits

    from ..config import parse_config
    from ..runner import run

    from ..errors import InputFileError
    from ..runner import resume

    notices: list[str] = []
    config = parse_config(text, source=path)
    with threadpool_limits(limits=1):
        if _stored_attrs(path).get("config_toml") == text:
            try:
                result = resume(path, progress=False, threads=1, log=notices.append)
                return _RunSummary(result.status, result.frames_written, result.message, tuple(notices))
            except InputFileError as exc:
                notices.append(f"not resumed, run from the start: {exc}")
        result = run(config, output=path, progress=False, threads=1, log=notices.append)
    return _RunSummary(result.status, result.frames_written, result.message, tuple(notices))


def _stored_attrs(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``status`` and ``config_toml`` attributes of the case file at ``path`` ({} if there is
    no readable file)."""
    import netCDF4

    p = Path(path)
    if not p.is_file():
        return {}
    try:
        with netCDF4.Dataset(p, "r") as ds:
            return {k: ds.getncattr(k) for k in ("status", "config_toml") if k in ds.ncattrs()}
    except (OSError, RuntimeError):
        return {}


def case_status(path: str | os.PathLike[str], text: str) -> str | None:
    """The status of the case file at ``path`` if it is finished (status in
    :data:`FINISHED_STATUSES`) and was written from exactly ``text``; None otherwise (no file,
    unreadable, locked by a writer, another config, or an unfinished status)."""
    attrs = _stored_attrs(path)
    status = attrs.get("status")
    if status in FINISHED_STATUSES and attrs.get("config_toml") == text:
        return str(status)
    return None


# --------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _environ_restored(keys: Sequence[str]) -> Iterator[None]:
    """Restore ``os.environ[k]`` for ``keys`` on exit (distributed's Nanny writes its
    pre-spawn variables, e.g. OMP_NUM_THREADS=1, into the parent process's environment)."""
    saved = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def sweep_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A dask.distributed client for a sweep, closed (with its cluster) on exit.

    Parameters
    ----------
    scheduler
        Address of an existing scheduler (``tcp://host:8786``, a dask-jobqueue cluster's
        ``scheduler_address``) or the path of a scheduler file (``dask scheduler
        --scheduler-file``); its workers must import tdgl_stt and see the sweep directory.
    workers
        Without ``scheduler``: the number of worker processes of a LocalCluster (default: the
        cores available to this process), each single-threaded, with the thread variables of
        :data:`PINNED_THREADS_ENV` set to 1 and no dashboard.
    """
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        where = {"scheduler_file": scheduler} if Path(scheduler).is_file() else {"address": scheduler}
        with Client(**where, set_as_default=False) as client:
            yield client
        return
    n = workers if workers is not None else len(os.sched_getaffinity(0))
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    import dask

    pre_spawn = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    with _environ_restored(list(PINNED_THREADS_ENV) + list(pre_spawn) + ["PYTHONHASHSEED"]):
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR, env=PINNED_THREADS_ENV,
        )
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client


# --------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` atomically (a reader never sees half a file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=True)
    os.replace(tmp, path)


def prepare_directory(spec: SweepSpec, directory: str | os.PathLike[str]) -> Path:
    """Create the sweep directory and write ``sweep.toml`` (the sweep file's text) into it."""
    out = Path(directory).resolve()
    out.mkdir(parents=True, exist_ok=True)
    target = out / SWEEP_FILE
    if not target.exists() or target.read_text(encoding="utf-8") != spec.source_text:
        fd, tmp = tempfile.mkstemp(prefix=f".{SWEEP_FILE}.", dir=out)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(spec.source_text)
        os.replace(tmp, target)
    return out


def plan(cases: Sequence[Case], directory: Path) -> tuple[list[Case], dict[str, CaseOutcome]]:
    """Split ``cases`` into those to run and those already decided: invalid configs
    (``failed``, attempts 0) and finished files in ``directory`` (``skipped``)."""
    todo: list[Case] = []
    decided: dict[str, CaseOutcome] = {}
    for case in cases:
        try:
            case.config()
        except ConfigError as exc:
            decided[case.name] = CaseOutcome(case.name, case.label, "failed", 0, f"invalid config: {exc}")
            continue
        if case_status(directory / case.filename, case.text) is not None:
            decided[case.name] = CaseOutcome(case.name, case.label, "skipped")
        else:
            todo.append(case)
    return todo, decided


def run_sweep(
    spec: SweepSpec,
    directory: str | os.PathLike[str],
    client: Client,
    *,
    retries: int = 1,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run every unfinished case of ``spec`` on ``client``, one NetCDF file per case.

    Parameters
    ----------
    spec
        The sweep (:func:`~tdgl_stt.sweep.load_sweep`).
    directory
        The sweep directory (created); case files are ``<directory>/<case>.nc``.
    client
        A dask.distributed client (:func:`sweep_client`).
    retries
        Submissions after a failed one (default 1: a failed case is retried once).
    progress
        Show a tqdm bar counting the cases (default: when stderr is a terminal).
    log
        Where the one-line failure reports go (default: stderr, above the bar).

    Returns
    -------
    SweepReport
        Also written to ``<directory>/sweep-report.json`` while the cases finish (every
        ``REPORT_INTERVAL`` seconds at most) and at the end.
    """
    from distributed import as_completed

    out = prepare_directory(spec, directory)
    say = log or (lambda msg: tqdm.write(f"tdgl-stt sweep: {msg}", file=sys.stderr))
    cases = spec.cases()
    todo, outcomes = plan(cases, out)
    order = [c.name for c in cases]

    def report() -> SweepReport:
        return SweepReport(out, tuple(outcomes[n] for n in order if n in outcomes))

    for o in outcomes.values():
        if o.status == "failed":
            say(f"{o.name} ({o.label}) failed: {o.message}")
    show = sys.stderr.isatty() if progress is None else progress
    pending: dict[Any, tuple[Case, int]] = {}
    next_report = time.monotonic()
    with tqdm(total=len(order), initial=len(outcomes), unit="case", desc="tdgl-stt sweep",
              disable=not show) as bar:
        try:
            for case in todo:
                pending[client.submit(run_case, case.text, str(out / case.filename), pure=False)] = (case, 1)
            queue = as_completed(list(pending), loop=client.loop)
            for future in queue:
                case, attempt = pending.pop(future)
                if future.status != "finished":
                    message = ("cancelled by the cluster" if future.status == "cancelled"
                               else _one_line(future.exception()))
                    if attempt <= retries:
                        say(f"{case.name} ({case.label}) failed: {message}; retrying")
                        retry = client.submit(run_case, case.text, str(out / case.filename), pure=False)
                        pending[retry] = (case, attempt + 1)
                        queue.add(retry)
                        continue
                    say(f"{case.name} ({case.label}) failed after {attempt} attempts: {message}")
                    outcomes[case.name] = CaseOutcome(case.name, case.label, "failed", attempt, message)
                else:
                    r = future.result()
                    outcomes[case.name] = CaseOutcome(case.name, case.label, r.status, attempt, r.message,
                                                      r.frames, r.notices)
                    if r.status != "complete":
                        say(f"{case.name} ({case.label}) {r.status}: {r.message}")
                bar.update(1)
                if outcomes[case.name].status == "failed":
                    bar.set_postfix(failed=report().count("failed"), refresh=False)
                if time.monotonic() >= next_report:  # at most once per REPORT_INTERVAL seconds
                    _write_json(out / REPORT_FILE, report().to_dict())
                    next_report = time.monotonic() + REPORT_INTERVAL
        finally:
            if pending:
                client.cancel(list(pending))
    final = report()
    _write_json(out / REPORT_FILE, final.to_dict())
    return final
