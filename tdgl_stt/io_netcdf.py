"""NetCDF output of a run: the contract between simulation and analysis.

:class:`RunWriter` streams frames of the fields ``theta``, ``Phi`` and ``mu`` (DESIGN.md section 2)
into a NETCDF4 (HDF5) file with an unlimited time dimension ``t``, and :func:`open_run` opens such
a file as an :class:`xarray.Dataset`. The layout is specified in ``docs/output-format.md``.

Crash consistency. Every :meth:`RunWriter.write_frame` is a two-phase commit: the field slabs are
written and the file is synced, then the time stamp ``t[i]`` is written and the file is synced
again. ``t`` is created with ``_FillValue = NaN``, so a frame whose time stamp is NaN was never
committed; :func:`open_run` drops such trailing frames. A process killed between frames (or while
the raw data of a frame is being written) leaves a readable file with every committed frame.
HDF5 itself is not crash-safe: a kill that lands inside HDF5's metadata flush can, rarely, damage
the chunk index of the last few frames; :func:`open_run` then drops the damaged tail with a
warning. ``docs/output-format.md`` gives the measured rates and the remaining risk.
"""

from __future__ import annotations

import datetime
import fcntl
import importlib.util
import math
import numbers
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from ._version import __version__
from .checkpoint import CheckpointSpec, create_slots, has_slots, write_slot
from .errors import InputFileError, OutputError

__all__ = [
    "FIELD_NAMES",
    "STATUSES",
    "RunWriter",
    "check_free_space",
    "check_output_path",
    "format_bytes",
    "open_run",
]

AXIS_SETS: tuple[tuple[str, ...], ...] = (("x",), ("x", "y"), ("x", "y", "z"))
FIELD_NAMES: tuple[str, ...] = ("theta", "Phi", "mu")
STATUSES: tuple[str, ...] = ("running", "complete", "interrupted", "diverged")
RESERVED_ATTRS: frozenset[str] = frozenset(
    {"Conventions", "source", "history", "status", "status_message"}
)
SOURCE_PREFIX = "tdgl-stt"
TIME_DIM = "t"

_FIELD_LONG_NAMES: Mapping[str, str] = MappingProxyType({
    "theta": "superconducting phase theta",
    "Phi": (
        "gauge-invariant potential Phi = mu + (1/2) d theta/dt "
        "(proportional to the quasiparticle charge imbalance)"
    ),
    "mu": "electrostatic potential energy mu = e phi",
})
_AXIS_CF: Mapping[str, str] = MappingProxyType({"x": "X", "y": "Y", "z": "Z"})
_MAX_CHUNK_BYTES = 2**30  # HDF5 limits a chunk to 4 GiB; stay well below.
_MAX_MESSAGE_CHARS = 300
_MAX_DAMAGED_FRAMES = 1024  # open_run gives up beyond this many unreadable tail frames


# --------------------------------------------------------------------------- helpers


def _one_line(text: object, limit: int = _MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace (newlines included) and truncate, for one-line messages."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _exc_text(exc: BaseException) -> str:
    """``"ClassName: message"`` of an exception, on one line."""
    message = _one_line(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _lock_conflict(path: Path, exclusive: bool) -> bool:
    """True if another open file description holds a conflicting ``flock`` on ``path``.

    HDF5 (>= 1.10) takes an exclusive lock on a file opened for writing and a shared lock on a
    file opened for reading, and reports a conflict only as a generic "HDF error". Probing with
    ``exclusive=False`` detects a writer, ``exclusive=True`` any other user. Diagnosis only.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _to_attr_value(key: str, value: Any) -> Any:
    """Convert one global-attribute value to something netCDF4 stores and xarray reads back.

    Rules: ``bool`` -> ``int``; ``None`` -> ``"none"``; integers -> ``int``; reals (inf and nan
    included) -> ``float``; strings unchanged; 1-D sequences of numbers -> float64 arrays;
    1-D sequences of strings -> list of strings. Mappings raise :class:`TypeError` naming the key.
    """
    if isinstance(value, Mapping):
        raise TypeError(f"attribute {key!r}: nested mappings are not allowed, flatten them "
                        f"to dotted keys such as '{key}.name'")
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return _sequence_attr(key, value)
    raise TypeError(f"attribute {key!r}: unsupported type {type(value).__name__} "
                    "(allowed: str, int, float, bool, None, 1-D sequence of numbers or strings)")


def _sequence_attr(key: str, value: list | tuple | np.ndarray) -> Any:
    """Convert a 1-D sequence attribute (see :func:`_to_attr_value`)."""
    if not isinstance(value, np.ndarray) and any(isinstance(item, Mapping) for item in value):
        raise TypeError(f"attribute {key!r}: nested mappings are not allowed")
    if len(value) > 0 and all(isinstance(item, str) for item in value):
        return [str(item) for item in value]
    array = np.asarray(value)
    if array.ndim != 1:
        raise TypeError(f"attribute {key!r}: only 1-D sequences are allowed, got shape "
                        f"{array.shape}")
    if array.size and array.dtype.kind not in "biuf":
        raise TypeError(f"attribute {key!r}: sequence items must all be real numbers or all be "
                        f"strings, got dtype {array.dtype}")
    return array.astype(np.float64)


def _convert_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Validate names and convert values of user attributes; reserved names raise ValueError."""
    converted: dict[str, Any] = {}
    for key, value in attrs.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise TypeError(f"attribute name {key!r}: must be a non-empty string without '/'")
        if key in RESERVED_ATTRS:
            raise ValueError(f"attribute {key!r} is reserved and written by RunWriter itself")
        converted[key] = _to_attr_value(key, value)
    return converted


def _chunk_shape(shape: tuple[int, ...], itemsize: int = 8) -> tuple[int, ...]:
    """Chunk sizes ``(1, *shape)`` (one frame per chunk), split along leading axes if huge."""
    spatial = list(shape)
    for axis in range(len(spatial)):
        while int(np.prod(spatial)) * itemsize > _MAX_CHUNK_BYTES and spatial[axis] > 1:
            spatial[axis] = (spatial[axis] + 1) // 2
    return (1, *spatial)


def _iso_now() -> str:
    """Current UTC time, ISO 8601, seconds resolution."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``: a byte count for messages."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _free_bytes(directory: Path) -> int | None:
    """Bytes available to this process in the file system of ``directory``, or None."""
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return None


#: Free bytes below which a writer whose write failed leaves the attributes alone: HDF5 damages
#: a file's attribute storage when it runs out of space while rewriting it (measured: after a
#: status update on a full tmpfs no attribute of the file could be written again).
_METADATA_ROOM = 1 << 20


def _space_hint(path: Path) -> str:
    """``"; the file system is full (12 KiB free in DIR)"`` when it nearly is, else ``""``.

    HDF5 reports a full disk as a generic "HDF error"; this says what the error was.
    """
    free = _free_bytes(path.parent)
    if free is not None and free < _METADATA_ROOM:
        return f"; the file system is full ({format_bytes(free)} free in {path.parent})"
    return ""


# --------------------------------------------------------------------------- output path


def check_output_path(path: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Check that an output file can be created at ``path``, without creating it.

    Parameters
    ----------
    path
        Path of the NetCDF file to be written.
    overwrite
        If False, an existing file is an error.

    Raises
    ------
    tdgl_stt.errors.OutputError
        One-line message naming the path: the parent directory is missing, is not a directory or
        is not writable (probed by creating and removing a temporary file, so it is right for
        root and read-only file systems too), or ``path`` is a directory, or exists and may not
        be overwritten.
    """
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise OutputError(f"cannot write output file {target}: it is a directory")
    if not parent.exists():
        raise OutputError(f"cannot write output file {target}: directory {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write output file {target}: {parent} is not a directory")
    if target.exists() and not overwrite:
        raise OutputError(f"cannot write output file {target}: it exists (overwrite not allowed)")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write output file {target}: it exists and is not writable")
    _probe_directory(target, parent)


def _probe_directory(target: Path, parent: Path) -> None:
    """Create and delete a temporary file in ``parent``; raise OutputError if impossible."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".tdgl-stt-probe-", dir=parent)
    except OSError as exc:
        reason = exc.strerror or _exc_text(exc)
        raise OutputError(
            f"cannot write output file {target}: directory {parent} is not writable ({reason})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_free_space(path: str | os.PathLike, nbytes: int, what: str = "", *,
                     replaced: bool = True) -> None:
    """Refuse to start a run whose output would not fit on its file system.

    Parameters
    ----------
    path
        The output file.
    nbytes
        Estimated bytes still to be written.
    what
        How the estimate was made, for the message (e.g. "21 frames x 3 fields x ...").
    replaced
        The file, if it exists, is replaced (its size counts as free), not extended.

    Raises
    ------
    tdgl_stt.errors.OutputError
        One line with the estimate and the free space.
    """
    target = Path(path)
    free = _free_bytes(target.parent)
    if free is None:
        return
    if replaced and target.is_file():
        free += target.stat().st_size
    if nbytes > free:
        how = f" ({what})" if what else ""
        raise OutputError(
            f"cannot write output file {target}: it needs about {format_bytes(nbytes)}{how} but "
            f"only {format_bytes(free)} is free in {target.parent}"
        )


# --------------------------------------------------------------------------- writer


class RunWriter:
    """Stream frames of a run into a NETCDF4 file, one synced frame at a time.

    The file has an unlimited dimension ``t`` with coordinate variable ``t(t)``, one fixed
    dimension per spatial axis with coordinate variables ``x(x)`` [``y(y)``, ``z(z)``], and one
    float64 variable ``field(t, x[, y[, z]])`` per requested field, stored one frame per chunk.
    Global attribute ``status`` is ``"running"`` from creation until :meth:`set_status` changes it.

    Parameters
    ----------
    path
        Output file; created (overwritten if ``overwrite``) at construction.
    axes
        ``("x",)``, ``("x", "y")`` or ``("x", "y", "z")``. Field arrays are indexed in this
        order (``indexing="ij"``): ``values["theta"][i, j]`` is at ``(x[i], y[j])``.
    coords
        1-D cell positions for each axis.
    lengths
        Periodic box length per axis (stored as the ``period`` attribute of the coordinate).
    fields
        Non-empty subset of ``("theta", "Phi", "mu")``, stored in the given order.
    attrs
        Global attributes: str, int, float (inf/nan allowed), bool (-> int), None (-> "none"),
        1-D sequences of numbers (-> float64 array) or of strings. Nested mappings raise
        :class:`TypeError`; the names in :data:`RESERVED_ATTRS` raise :class:`ValueError`.
        ``title`` defaults to ``"tdgl-stt run"`` and may be overridden here.
    time_units, length_units, energy_units
        Unit strings for ``t``, the coordinates, and ``Phi``/``mu``. Never use a CF
        ``"<unit> since <date>"`` string: xarray would decode it to datetimes.
    zlib
        Deflate-compress the fields (level 4, with shuffle). Off by default: it made writes
        25-40x slower and files only ~16 % smaller on float64 fields.
    overwrite
        Allow replacing an existing file (default True, like ``netCDF4.Dataset(mode="w")``).
    checkpoint
        State arrays of a restart checkpoint (:mod:`tdgl_stt.checkpoint`): the file gets two
        checkpoint slots, filled by :meth:`write_checkpoint`. None: no checkpoint.
    static
        Time-independent fields on the grid, ``{name: (values, units, long_name)}``, stored as
        float64 variables ``name(x[, y[, z]])`` (the temperature profile and the coefficients
        derived from it). Names must differ from the fields, the coordinates and ``t``.

    Raises
    ------
    tdgl_stt.errors.OutputError
        The file cannot be created (one-line message naming the path).
    TypeError, ValueError
        Invalid arguments (checked before the file is touched).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        axes: Sequence[str],
        coords: Mapping[str, np.ndarray],
        lengths: Sequence[float],
        fields: Sequence[str],
        attrs: Mapping[str, Any],
        time_units: str = "1",
        length_units: str = "1",
        energy_units: str = "1",
        zlib: bool = False,
        overwrite: bool = True,
        checkpoint: CheckpointSpec | None = None,
        static: Mapping[str, tuple[np.ndarray, str, str]] | None = None,
    ) -> None:
        self._path = Path(path)
        self._axes = _check_axes(axes)
        self._coords = _check_coords(self._axes, coords)
        self._lengths = _check_lengths(self._axes, lengths)
        self._fields = _check_fields(fields)
        self._shape = tuple(len(self._coords[axis]) for axis in self._axes)
        self._static = _check_static(static or {}, self._shape, (*self._fields, *self._axes, TIME_DIM))
        user_attrs = _convert_attrs(attrs)
        units = {"time": time_units, "length": length_units, "energy": energy_units}
        for kind, unit in units.items():
            if not isinstance(unit, str):
                raise TypeError(f"{kind}_units must be a string, got {type(unit).__name__}")
            if " since " in unit:
                raise ValueError(f"{kind}_units={unit!r}: '<unit> since <date>' would make "
                                 "xarray decode the values as dates")
        check_output_path(self._path, overwrite=overwrite)
        self._n = 0
        self._last_t = -math.inf
        self._status = "running"
        self._checkpoint_slot: int | None = 0 if checkpoint else None
        self._write_failed = False
        self._ds: netCDF4.Dataset | None = self._create(user_attrs, units, zlib, checkpoint)

    @classmethod
    def reopen(cls, path: str | os.PathLike, *, keep: int, checkpoint_slot: int | None = None,
               note: str = "") -> RunWriter:
        """Open an existing run file to continue it (``tdgl-stt run --resume``).

        Frames ``0 .. keep-1`` are kept; the next :meth:`write_frame` or :meth:`verify_frame`
        is frame ``keep``. Frames stored beyond it stay in the file until they are verified or
        overwritten. The status becomes ``"running"`` and ``note`` is appended to ``history``.

        Parameters
        ----------
        path
            A run file written by :class:`RunWriter`.
        keep
            Number of frames kept (>= 1; each must have a finite time).
        checkpoint_slot
            Slot of the next :meth:`write_checkpoint` (the one *not* holding the checkpoint the
            run resumes from); None if the file has no checkpoint slots.
        note
            Appended to the ``history`` attribute, after the time stamp.

        Raises
        ------
        tdgl_stt.errors.OutputError
            The file cannot be opened for writing (one line naming the path).
        tdgl_stt.errors.InputFileError
            The file is not a run file of this layout, or frame ``keep - 1`` is not committed.
        """
        self = cls.__new__(cls)
        self._path = Path(path)
        try:
            ds = netCDF4.Dataset(self._path, mode="a")
        except (OSError, RuntimeError) as exc:
            raise OutputError(self._create_error(exc).replace("cannot write output file",
                                                               "cannot reopen")) from None
        try:
            ds.set_auto_maskandscale(False)
            self._ds = ds
            self._fields = tuple(name for name in FIELD_NAMES if name in ds.variables)
            if not self._fields:
                raise InputFileError(f"{self._path} holds none of the fields {FIELD_NAMES}")
            self._axes = tuple(ds.variables[self._fields[0]].dimensions[1:])
            if self._axes not in AXIS_SETS:
                raise InputFileError(f"{self._path}: unexpected dimensions {self._axes}")
            self._coords = {axis: np.asarray(ds.variables[axis][:]) for axis in self._axes}
            self._lengths = tuple(float(ds.variables[axis].getncattr("period")) for axis in self._axes)
            self._shape = tuple(len(self._coords[axis]) for axis in self._axes)
            times = ds.variables[TIME_DIM]
            if not 1 <= keep <= len(times) or not math.isfinite(float(times[keep - 1])):
                raise InputFileError(f"{self._path}: frame {keep - 1} is not committed")
            self._n = keep
            self._write_failed = False
            self._last_t = float(times[keep - 1])
            self._status = str(ds.getncattr("status"))
            self._checkpoint_slot = checkpoint_slot if has_slots(ds) else None
            for name in self._fields:
                ds.variables[name].set_var_chunk_cache(size=0, nelems=1, preemption=1.0)
            history = str(ds.getncattr("history")) if "history" in ds.ncattrs() else ""
            entry = f"{_iso_now()}: {note or 'reopened'} ({SOURCE_PREFIX} {__version__})"
            self._put_attrs(ds, {"history": f"{history}\n{entry}" if history else entry})
            self.set_status("running", "")
        except BaseException:
            self._ds = None
            try:
                ds.close()
            except (OSError, RuntimeError):
                pass
            raise
        return self

    # ----------------------------------------------------------------- creation

    def _create(self, user_attrs: dict[str, Any], units: Mapping[str, str],
                zlib: bool, checkpoint: CheckpointSpec | None) -> netCDF4.Dataset:
        """Create and define the file; on failure remove it and raise OutputError."""
        try:
            ds = netCDF4.Dataset(self._path, mode="w", format="NETCDF4")
        except (OSError, RuntimeError) as exc:
            raise OutputError(self._create_error(exc)) from None
        try:
            ds.set_auto_maskandscale(False)
            self._define_global_attrs(ds, user_attrs)
            self._define_coordinates(ds, units)
            self._define_fields(ds, units["energy"], zlib)
            self._define_static(ds)
            if checkpoint:
                create_slots(ds, checkpoint)
            ds.sync()
        except BaseException as exc:
            try:
                ds.close()
            except (OSError, RuntimeError):
                pass
            self._path.unlink(missing_ok=True)
            if isinstance(exc, (OSError, RuntimeError)):
                raise OutputError(f"cannot write output file {self._path}: "
                                  f"{_exc_text(exc)}{_space_hint(self._path)}") from None
            raise
        return ds

    def _create_error(self, exc: BaseException) -> str:
        """One-line message for a failed ``netCDF4.Dataset(mode="w")``."""
        if self._path.exists() and _lock_conflict(self._path, exclusive=True):
            return (f"cannot write output file {self._path}: it is open elsewhere (an HDF5 "
                    "file lock held by this or another process); close it there first")
        return f"cannot write output file {self._path}: {_exc_text(exc)}"

    def _define_global_attrs(self, ds: netCDF4.Dataset, user_attrs: Mapping[str, Any]) -> None:
        """Write Conventions, title, source, history, status and the user attributes."""
        ds.setncattr("Conventions", "CF-1.10")
        ds.setncattr("title", "tdgl-stt run")
        ds.setncattr("source", f"{SOURCE_PREFIX} {__version__}")
        ds.setncattr("history", f"{_iso_now()}: created by {SOURCE_PREFIX} {__version__}")
        ds.setncattr("status", "running")
        ds.setncattr("status_message", "")
        for key, value in user_attrs.items():
            ds.setncattr(key, value)

    def _define_coordinates(self, ds: netCDF4.Dataset, units: Mapping[str, str]) -> None:
        """Create ``t`` (unlimited, NaN fill = "not committed") and the spatial coordinates."""
        ds.createDimension(TIME_DIM, None)
        t = ds.createVariable(TIME_DIM, "f8", (TIME_DIM,), fill_value=np.nan)
        t.setncattr("units", units["time"])
        t.setncattr("long_name", "time")
        t.setncattr("axis", "T")
        for axis, length in zip(self._axes, self._lengths):
            ds.createDimension(axis, len(self._coords[axis]))
            var = ds.createVariable(axis, "f8", (axis,))
            var.setncattr("units", units["length"])
            var.setncattr("long_name", f"position along {axis}")
            var.setncattr("axis", _AXIS_CF[axis])
            var.setncattr("period", float(length))
            var[:] = self._coords[axis]

    def _define_fields(self, ds: netCDF4.Dataset, energy_units: str, zlib: bool) -> None:
        """Create one float64 variable per field, one frame per chunk."""
        dims = (TIME_DIM, *self._axes)
        chunks = _chunk_shape(self._shape)
        for name in self._fields:
            var = ds.createVariable(name, "f8", dims, chunksizes=chunks, fill_value=np.nan,
                                    zlib=zlib, complevel=4, shuffle=zlib)
            var.setncattr("long_name", _FIELD_LONG_NAMES[name])
            var.setncattr("units", "rad" if name == "theta" else energy_units)
            # Frames are written whole and never read back: bypass HDF5's chunk cache, so the
            # raw data goes to the file during the write (measured ~8 % faster at 512^2).
            var.set_var_chunk_cache(size=0, nelems=1, preemption=1.0)

    def _define_static(self, ds: netCDF4.Dataset) -> None:
        """Write the time-independent fields (``static``) once, at creation."""
        for name, (values, units, long_name) in self._static.items():
            var = ds.createVariable(name, "f8", self._axes)
            var.setncattr("units", units)
            var.setncattr("long_name", long_name)
            var[...] = values

    # ----------------------------------------------------------------- public API

    @property
    def path(self) -> Path:
        """The output file."""
        return self._path

    @property
    def n_written(self) -> int:
        """Number of frames committed so far."""
        return self._n

    @property
    def status(self) -> str:
        """Current value of the global ``status`` attribute."""
        return self._status

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._ds is None

    def write_frame(self, t: float, values: Mapping[str, np.ndarray]) -> None:
        """Append one frame and commit it to the file.

        Two-phase commit: the fields are written and the file synced, then ``t[i]`` is written
        and the file synced again. A frame counts as written (:attr:`n_written`) only then.

        Parameters
        ----------
        t
            Time of the frame; finite and strictly larger than the previous frame's.
        values
            One array per field of the writer (exactly those keys), each of the grid's shape,
            real, convertible to float64. NaN and inf are stored as they are.

        Raises
        ------
        ValueError, TypeError
            Bad time, missing/extra fields, wrong shape, complex data.
        tdgl_stt.errors.OutputError
            The writer is closed or the write failed (e.g. disk full).
        """
        ds = self._require_open()
        time = self._check_time(t)
        arrays = self._check_values(values)
        index = self._n
        try:
            for name, array in arrays.items():
                ds.variables[name][index, ...] = array
            ds.sync()
            ds.variables[TIME_DIM][index] = time
            ds.sync()
        except (OSError, RuntimeError) as exc:
            self._write_failed = True
            raise OutputError(f"cannot write frame {index} to {self._path}: "
                              f"{_exc_text(exc)}{_space_hint(self._path)}") from None
        self._n = index + 1
        self._last_t = time

    def write_checkpoint(self, frame: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Store the state after committed frame ``frame`` (:func:`tdgl_stt.checkpoint.write_slot`).

        Slots alternate, so the previous checkpoint stays valid while this one is written.

        Raises
        ------
        ValueError
            The file has no checkpoint slots, or ``frame`` is not a committed frame.
        tdgl_stt.errors.OutputError
            The write failed (e.g. disk full).
        """
        ds = self._require_open()
        if self._checkpoint_slot is None:
            raise ValueError(f"{self._path} has no checkpoint slots")
        if not 0 <= frame < self._n:
            raise ValueError(f"checkpoint of frame {frame}: only frames 0..{self._n - 1} are committed")
        try:
            write_slot(ds, self._checkpoint_slot, frame, arrays)
        except (OSError, RuntimeError) as exc:
            self._write_failed = True
            raise OutputError(f"cannot write the checkpoint of frame {frame} to {self._path}: "
                              f"{_exc_text(exc)}{_space_hint(self._path)}") from None
        self._checkpoint_slot = 1 - self._checkpoint_slot

    def read_frame(self, index: int) -> tuple[float, dict[str, np.ndarray]]:
        """Time and fields of a frame stored in the file (of a reopened file, for checks)."""
        ds = self._require_open()
        try:
            time = float(ds.variables[TIME_DIM][index])
            return time, {name: np.asarray(ds.variables[name][index, ...], dtype=np.float64)
                          for name in self._fields}
        except (OSError, RuntimeError, IndexError) as exc:
            raise InputFileError(f"{self._path}: frame {index} cannot be read: "
                                 f"{_exc_text(exc)}") from None

    def verify_frame(self, t: float, values: Mapping[str, np.ndarray]) -> bool:
        """Accept the frame already stored at index :attr:`n_written` if it is this one, bitwise.

        For a resumed run, whose recomputed frames are on disk already. If the stored frame
        has time ``t`` and exactly ``values``, it counts as written (:attr:`n_written` grows by
        one) and True is returned; otherwise (different, unreadable or absent) nothing changes
        and the caller writes the frame with :meth:`write_frame`.
        """
        ds = self._require_open()
        time = self._check_time(t)
        arrays = self._check_values(values)
        index = self._n
        try:
            if index >= len(ds.dimensions[TIME_DIM]) or float(ds.variables[TIME_DIM][index]) != time:
                return False
            for name, array in arrays.items():
                stored = np.asarray(ds.variables[name][index, ...], dtype=np.float64)
                if stored.tobytes() != array.tobytes():
                    return False
        except (OSError, RuntimeError, IndexError):
            return False
        self._n = index + 1
        self._last_t = time
        return True

    def set_status(self, status: str, message: str = "") -> None:
        """Set the global attributes ``status`` and ``status_message``, then sync.

        Parameters
        ----------
        status
            One of :data:`STATUSES`: ``"running"``, ``"complete"``, ``"interrupted"``,
            ``"diverged"``.
        message
            Free text (collapsed to one line), e.g. why the run stopped.
        """
        if status not in STATUSES:
            raise ValueError(f"status {status!r}: allowed values are {', '.join(STATUSES)}")
        ds = self._require_open()
        self._check_room()
        self._put_attrs(ds, {"status": status, "status_message": _one_line(message, 2000)})
        self._status = status

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        """Add or replace global attributes (same rules as the constructor), then sync."""
        converted = _convert_attrs(attrs)
        ds = self._require_open()
        self._check_room()
        self._put_attrs(ds, converted)

    def close(self) -> None:
        """Close the file (idempotent). The status is left as it is."""
        if self._ds is None:
            return
        ds, self._ds = self._ds, None
        try:
            ds.close()
        except (OSError, RuntimeError) as exc:
            raise OutputError(f"cannot close {self._path}: {_exc_text(exc)}") from None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Close; if an exception escapes while the status is ``"running"``, first mark the
        file ``"interrupted"`` with the exception's class name (and message). The exception is
        never swallowed."""
        try:
            if exc is not None and self._status == "running" and self._ds is not None:
                try:
                    self.set_status("interrupted", _exc_text(exc))
                except Exception:  # noqa: BLE001 - never mask the original exception
                    pass
        finally:
            try:
                self.close()
            except OutputError:
                if exc is None:
                    raise

    def __repr__(self) -> str:
        state = "closed" if self.closed else self._status
        return (f"RunWriter({str(self._path)!r}, axes={self._axes}, shape={self._shape}, "
                f"fields={self._fields}, n_written={self._n}, {state})")

    # ----------------------------------------------------------------- internals

    def _check_room(self) -> None:
        """After a failed write, refuse to touch the attributes while the disk is (nearly) full:
        rewriting them without room damages the file's attribute storage for good, whereas the
        frames, the checkpoint and a later resume survive an untouched file."""
        if not self._write_failed:
            return
        free = _free_bytes(self._path.parent)
        if free is not None and free < _METADATA_ROOM:
            raise OutputError(f"cannot update the attributes of {self._path}: the file system is "
                              f"full ({format_bytes(free)} free in {self._path.parent})")

    def _require_open(self) -> netCDF4.Dataset:
        if self._ds is None:
            raise OutputError(f"cannot write to {self._path}: the writer is closed")
        return self._ds

    def _put_attrs(self, ds: netCDF4.Dataset, attrs: Mapping[str, Any]) -> None:
        try:
            for key, value in attrs.items():
                ds.setncattr(key, value)
            ds.sync()
        except (OSError, RuntimeError) as exc:
            raise OutputError(f"cannot write attributes to {self._path}: "
                              f"{_exc_text(exc)}{_space_hint(self._path)}") from None

    def _check_time(self, t: float) -> float:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
            raise TypeError(f"t must be a real number, got {type(t).__name__}")
        time = float(t)
        if not math.isfinite(time):
            raise ValueError(f"t must be finite, got {time}")
        if time <= self._last_t:
            raise ValueError(f"t must increase: frame {self._n} has t={time!r} after "
                             f"t={self._last_t!r}")
        return time

    def _check_values(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = [name for name in self._fields if name not in values]
        extra = [name for name in values if name not in self._fields]
        if missing or extra:
            raise ValueError(f"write_frame needs exactly the fields {list(self._fields)}; "
                             f"missing {missing}, unexpected {extra}")
        arrays: dict[str, np.ndarray] = {}
        for name in self._fields:
            array = np.asarray(values[name])
            if np.iscomplexobj(array):
                raise TypeError(f"field {name!r} is complex; the fields are real")
            if array.shape != self._shape:
                raise ValueError(f"field {name!r} has shape {array.shape}, the grid is "
                                 f"{self._shape}")
            arrays[name] = np.ascontiguousarray(array, dtype=np.float64)
        return arrays


def _check_axes(axes: Sequence[str]) -> tuple[str, ...]:
    result = tuple(axes)
    if result not in AXIS_SETS:
        raise ValueError(f"axes={result!r}: allowed are {AXIS_SETS}")
    return result


def _check_coords(axes: tuple[str, ...], coords: Mapping[str, np.ndarray]
                  ) -> dict[str, np.ndarray]:
    if set(coords) != set(axes):
        raise ValueError(f"coords must have exactly the keys {list(axes)}, got {list(coords)}")
    checked: dict[str, np.ndarray] = {}
    for axis in axes:
        array = np.asarray(coords[axis], dtype=np.float64)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"coords[{axis!r}] must be a non-empty 1-D array, got shape "
                             f"{array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"coords[{axis!r}] must be finite")
        checked[axis] = array
    return checked


def _check_lengths(axes: tuple[str, ...], lengths: Sequence[float]) -> tuple[float, ...]:
    result = tuple(float(length) for length in lengths)
    if len(result) != len(axes):
        raise ValueError(f"lengths must have one entry per axis {axes}, got {len(result)}")
    for axis, length in zip(axes, result):
        if not (math.isfinite(length) and length > 0):
            raise ValueError(f"length of axis {axis!r} must be finite and > 0, got {length}")
    return result


def _check_static(static: Mapping[str, tuple[np.ndarray, str, str]], shape: tuple[int, ...],
                  taken: Sequence[str]) -> dict[str, tuple[np.ndarray, str, str]]:
    """Validate the time-independent fields: grid-shaped, finite, names not taken."""
    out = {}
    for name, (values, units, long_name) in static.items():
        if not isinstance(name, str) or not name or name in taken:
            raise ValueError(f"static field name {name!r} is empty or taken by a field or coordinate")
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"static field {name!r} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"static field {name!r} is not finite everywhere")
        out[name] = (arr, str(units), str(long_name))
    return out


def _check_fields(fields: Sequence[str]) -> tuple[str, ...]:
    result = tuple(fields)
    if isinstance(fields, str) or not result:
        raise ValueError(f"fields must be a non-empty sequence of names from {FIELD_NAMES}")
    unknown = [name for name in result if name not in FIELD_NAMES]
    if unknown or len(set(result)) != len(result):
        raise ValueError(f"fields={result!r}: names must be distinct and from {FIELD_NAMES}")
    return result


# --------------------------------------------------------------------------- reader


def open_run(path: str | os.PathLike, *, chunks: Mapping | None = None) -> xr.Dataset:
    """Open a tdgl-stt run file as an :class:`xarray.Dataset` (lazily).

    Files whose ``status`` is ``"running"`` or ``"interrupted"`` are opened too: they hold the
    frames committed so far. Trailing frames whose time stamp is NaN (a write that was cut off)
    are dropped, and their number is recorded in ``ds.attrs["frames_dropped"]``. Trailing
    frames whose data cannot be read, or in which a field is NaN everywhere (chunk index damaged
    by a crash inside HDF5; not applied when ``status == "diverged"``), are dropped with a
    :class:`RuntimeWarning`, their number recorded in ``ds.attrs["frames_damaged"]``.
    The number of frames is ``ds.sizes["t"]``.

    Parameters
    ----------
    path
        The NetCDF file.
    chunks
        Passed to :func:`xarray.open_dataset` (needs dask), e.g. ``{"t": 64}``.

    Raises
    ------
    tdgl_stt.errors.InputFileError
        One-line message: the file is missing, empty, not NetCDF, truncated or corrupted,
        locked by a writer, or not a tdgl-stt run.
    ImportError
        ``chunks`` was given but dask is not installed.
    """
    target = Path(path)
    if chunks is not None and importlib.util.find_spec("dask") is None:
        raise ImportError("open_run(..., chunks=...) needs dask; install dask or pass chunks=None")
    _check_input_file(target)
    ds = _open_dataset(target, chunks)
    try:
        _check_is_run(ds, target)
        ds = _drop_uncommitted(ds, target)
        ds = _drop_damaged_tail(ds, target)
    except BaseException:
        ds.close()
        raise
    return ds


def _check_input_file(path: Path) -> None:
    """Missing, directory, unreadable or empty file -> InputFileError."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory, not a NetCDF file")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty (0 bytes)")


def _open_dataset(path: Path, chunks: Mapping | None) -> xr.Dataset:
    """xarray.open_dataset with every failure turned into a one-line InputFileError."""
    try:
        return xr.open_dataset(path, engine="netcdf4", chunks=chunks, decode_timedelta=False)
    except Exception as exc:  # noqa: BLE001 - netCDF4/HDF5 raise OSError, RuntimeError, ...
        if _lock_conflict(path, exclusive=False):
            raise InputFileError(
                f"{path}: is being written by another process (HDF5 file lock); wait for the "
                "run to finish, or set HDF5_USE_FILE_LOCKING=FALSE to read it at your own risk"
            ) from None
        raise InputFileError(f"{path}: cannot be read as NetCDF (not NetCDF, truncated or "
                             f"corrupted): {_exc_text(exc)}") from None


def _check_is_run(ds: xr.Dataset, path: Path) -> None:
    """The ``source`` attribute and the ``t`` dimension identify a tdgl-stt run."""
    source = ds.attrs.get("source")
    if not isinstance(source, str) or not source.startswith(SOURCE_PREFIX):
        found = "no global attribute 'source'" if source is None else f"source={source!r}"
        raise InputFileError(f"{path} is not a tdgl-stt run: {found}")
    if TIME_DIM not in ds.dims or TIME_DIM not in ds.variables:
        raise InputFileError(f"{path} is not a tdgl-stt run: no time coordinate 't'")


def _drop_uncommitted(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """Drop trailing frames whose time stamp is NaN (never committed)."""
    try:
        times = np.asarray(ds[TIME_DIM].values, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001
        raise InputFileError(f"{path}: the time coordinate cannot be read (corrupted file): "
                             f"{_exc_text(exc)}") from None
    finite = np.isfinite(times)
    n_committed = times.size if finite.all() else int(np.argmin(finite))
    if n_committed == times.size:
        return ds
    trimmed = ds.isel({TIME_DIM: slice(0, n_committed)})
    trimmed.attrs["frames_dropped"] = int(times.size - n_committed)
    return trimmed


def _frame_intact(ds: xr.Dataset, index: int, nan_is_damage: bool) -> bool:
    """True if frame ``index`` of every field can be read and, if ``nan_is_damage``, no field
    is NaN everywhere (a chunk missing from a damaged index reads as the NaN fill value)."""
    for name in FIELD_NAMES:
        if name not in ds.data_vars or ds[name].dims[:1] != (TIME_DIM,):
            continue
        try:
            values = ds[name].isel({TIME_DIM: index}).values
        except Exception:  # noqa: BLE001 - HDF5 reports damage as RuntimeError/OSError
            return False
        if nan_is_damage and np.isnan(values).all():
            return False
    return True


def _drop_damaged_tail(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """Drop trailing committed frames that cannot be read or are entirely NaN, with a warning.

    A kill inside HDF5's metadata flush can damage the chunk index of the last few frames
    (docs/output-format.md): reading them fails, or a field reads as the NaN fill value. The
    earlier frames stay readable and are worth keeping. In a file whose status is
    ``"diverged"`` an all-NaN frame is taken as data, not damage.
    """
    nan_is_damage = ds.attrs.get("status") != "diverged"
    n_frames = ds.sizes[TIME_DIM]
    last = n_frames - 1
    while (last >= 0 and n_frames - 1 - last < _MAX_DAMAGED_FRAMES
           and not _frame_intact(ds, last, nan_is_damage)):
        last -= 1
    n_damaged = n_frames - 1 - last
    if n_damaged == 0:
        return ds
    if last < 0 or n_damaged >= _MAX_DAMAGED_FRAMES:
        raise InputFileError(f"{path}: the last {n_damaged} frames cannot be read or are "
                             "entirely NaN (corrupted file)")
    warnings.warn(f"{path}: the last {n_damaged} frame(s) cannot be read or are entirely NaN "
                  f"(damaged by a crash during a write?); opened the first {last + 1} frames",
                  RuntimeWarning, stacklevel=3)
    trimmed = ds.isel({TIME_DIM: slice(0, last + 1)})
    trimmed.attrs["frames_damaged"] = n_damaged
    return trimmed
