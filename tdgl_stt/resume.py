"""Where an interrupted run can continue from: its stored config, frames and checkpoint.

:func:`find_resume_point` reads a run file without changing it and either returns what
``tdgl-stt run --resume`` needs or raises :class:`tdgl_stt.errors.InputFileError` with one line
that says why the file cannot be resumed: it is missing, empty, corrupted or not a tdgl-stt run
(the reasons of :func:`tdgl_stt.io_netcdf.open_run`), complete, diverged, has no frame, no config
or no valid checkpoint, or does not match its own config.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np

from .checkpoint import GROUP, Checkpoint, read_valid, stored_spec
from .config import RunConfig, parse_config
from .errors import ConfigError, InputFileError
from .grid import Grid
from .io_netcdf import open_run
from .steppers import state_spec as stepper_state_spec

__all__ = ["RESUMABLE", "ResumePoint", "find_resume_point", "state_spec"]

#: Statuses of a file that can be resumed ("running": its writer was killed).
RESUMABLE: tuple[str, ...] = ("running", "interrupted")


def state_spec(grid: Grid) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The checkpoint of the exact integrator: the spectral state ``x`` of (theta, Phi, mu).
    (Any run: :func:`tdgl_stt.steppers.state_spec`.)"""
    return {"state": ((3, *grid.spectral_shape), np.dtype(np.complex128))}


@dataclass(frozen=True)
class ResumePoint:
    """A run file and the checkpoint it continues from.

    Attributes
    ----------
    path
        The run file.
    config
        The run's configuration, parsed from the file's ``config_toml`` attribute.
    candidates
        The valid checkpoints at or before the last intact frame, newest first (one or two),
        each with the stored fields of its frame, to check it against: a checkpoint is used only
        if it reproduces its frame.
    frames_on_disk
        Committed, readable frames (as :func:`tdgl_stt.io_netcdf.open_run` returns them).
    status
        The file's status: "running" (its writer was killed) or "interrupted".
    notes
        What :func:`~tdgl_stt.io_netcdf.open_run` warned about (a damaged tail), one line each.
    """

    path: Path
    config: RunConfig
    candidates: tuple[tuple[Checkpoint, Mapping[str, np.ndarray]], ...]
    frames_on_disk: int
    status: str
    notes: tuple[str, ...] = ()


def _refuse(path: Path, why: str) -> InputFileError:
    return InputFileError(f"cannot resume {path}: {why}")


def find_resume_point(path: str | Path) -> ResumePoint:
    """Check that ``path`` is a resumable run file and find its newest usable checkpoint.

    The file is only read.

    Raises
    ------
    tdgl_stt.errors.InputFileError
        One line naming the file and the reason it cannot be resumed.
    """
    target = Path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        ds = open_run(target)
    notes = tuple(" ".join(str(w.message).split()) for w in caught if issubclass(w.category, RuntimeWarning))
    with ds:
        attrs = dict(ds.attrs)
        frames = int(ds.sizes["t"])
        fields = [name for name in ("theta", "Phi", "mu") if name in ds.data_vars]
        shape = tuple(int(ds.sizes[ax]) for ax in ("x", "y", "z") if ax in ds.sizes)
    status = str(attrs.get("status", ""))
    if status == "complete":
        raise _refuse(target, f"the run is complete ({frames} frames); there is nothing to resume")
    if status == "diverged":
        raise _refuse(target, f"the run diverged ({attrs.get('status_message', '')}); it would "
                      "diverge again: change the config and start a new run")
    if status not in RESUMABLE:
        raise _refuse(target, f"unknown status {status!r}")
    text = attrs.get("config_toml")
    if not isinstance(text, str) or not text.strip():
        raise _refuse(target, "it has no stored config (global attribute config_toml)")
    try:
        config = parse_config(text, source=f"{target} (config_toml)")
    except ConfigError as exc:
        raise _refuse(target, f"its stored config is not valid: {exc}") from None
    grid = Grid(tuple(config.grid.n), tuple(float(v) for v in config.grid.L))
    if shape != grid.shape or fields != list(config.output.fields):
        raise _refuse(target, f"its grid {list(shape)} and fields {fields} do not match its own "
                      f"config (grid {list(grid.shape)}, fields {list(config.output.fields)})")
    if frames == 0:
        raise _refuse(target, "no frame was committed; start the run again with tdgl-stt run")
    candidates = _read_checkpoints(target, config, grid, frames)
    return ResumePoint(path=target, config=config, candidates=candidates, frames_on_disk=frames,
                       status=status, notes=notes)


def _read_checkpoints(path: Path, config: RunConfig, grid: Grid, frames: int
                      ) -> tuple[tuple[Checkpoint, dict[str, np.ndarray]], ...]:
    """The valid checkpoints at frames ``< frames``, newest first, each with its frame's fields."""
    try:
        with netCDF4.Dataset(path, mode="r") as nc:
            nc.set_auto_maskandscale(False)
            if GROUP not in nc.groups:
                raise _refuse(path, "it has no checkpoint (written by an older tdgl-stt or "
                              "without one); run the config again")
            expected = stepper_state_spec(config, grid)
            try:
                found_spec = stored_spec(nc)
            except (KeyError, AttributeError, TypeError, ValueError):
                found_spec = None
            if found_spec != expected:
                raise _refuse(path, "its checkpoint is not one this version of tdgl-stt can read")
            valid = read_valid(nc, max_frame=frames - 1)
            if not valid:
                raise _refuse(path, f"no valid checkpoint at or before its last intact frame "
                              f"({frames - 1}); run the config again")
            candidates = tuple(
                (c, {name: np.asarray(nc.variables[name][c.frame, ...], dtype=np.float64)
                     for name in ("theta", "Phi", "mu") if name in nc.variables})
                for c in valid
            )
    except (OSError, RuntimeError) as exc:
        raise _refuse(path, f"its checkpoint cannot be read: {type(exc).__name__}: "
                      f"{' '.join(str(exc).split())}") from None
    return candidates
