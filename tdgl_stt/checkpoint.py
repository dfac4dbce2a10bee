"""Restart checkpoints inside the run file: the integrator state in two alternating slots.

The saved fields are real and rounded; the state of the exact integrator is the complex
spectral array ``x`` of shape ``(3, *spectral_shape)``, and recovering it from the fields is not
bitwise. ``tdgl-stt run --resume`` therefore restarts from a copy of the state itself, written
into the NetCDF file next to the frames (``docs/output-format.md``, "Checkpoint").

Layout: a NetCDF4 group ``checkpoint`` (plain ``xarray.open_dataset`` opens the root group only
and never sees it) with a dimension ``slot`` of size 2, an int64 variable ``frame(slot)`` and one
variable per named state array, ``<name>(slot, <name>_d0, <name>_d1, ...)``. A complex array is
stored as float64 with a last dimension ``<name>_ri`` of size 2 (real, imaginary), bit for bit.
The set of arrays is a :data:`CheckpointSpec`, so integrators with more state (an ETDRK4
stage, the bit-generator state of a noise source; see :func:`generator_to_array`) add entries
without changing the format.

Crash safety. The variables have a fixed size and contiguous storage: after creation a
checkpoint write changes raw data in place and no HDF5 metadata. Slot ``s`` is written in three
synced steps::

    frame[s] = -1; sync      # the slot is now invalid
    arrays of slot s; sync   # the state
    frame[s] = k; sync       # the slot is valid for frame k

A process killed anywhere in this sequence leaves slot ``s`` invalid (``frame = -1``) or valid
and complete, and never touches the other slot, which holds the previous checkpoint. The writer
alternates slots, so one valid checkpoint survives any kill.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import netCDF4
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FORMAT_VERSION",
    "GROUP",
    "Checkpoint",
    "CheckpointSpec",
    "create_slots",
    "generator_from_array",
    "generator_to_array",
    "has_slots",
    "read_latest",
    "read_valid",
    "stored_spec",
    "write_slot",
]

GROUP = "checkpoint"
FORMAT_VERSION = 1
_N_SLOTS = 2
_EMPTY = -1
_DTYPES: tuple[str, ...] = ("float64", "complex128", "int64", "uint64", "uint8")

#: Named state arrays of a checkpoint: ``{name: (shape, dtype)}``; dtype one of float64,
#: complex128, int64, uint64, uint8.
CheckpointSpec = Mapping[str, tuple[tuple[int, ...], np.dtype]]


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run right after frame ``frame`` was committed.

    Attributes
    ----------
    frame
        Index of the frame (``t = frame * dt``) whose state this is.
    slot
        The slot it was read from (0 or 1).
    arrays
        The named state arrays, read-only copies.
    """

    frame: int
    slot: int
    arrays: Mapping[str, NDArray]


def _check_spec(spec: CheckpointSpec) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    checked = {}
    for name, (shape, dtype) in spec.items():
        dt = np.dtype(dtype)
        if not name.isidentifier() or name == "frame":
            raise ValueError(f"checkpoint array name {name!r}: must be an identifier other than 'frame'")
        if dt.name not in _DTYPES:
            raise TypeError(f"checkpoint array {name!r}: dtype {dt} not supported ({', '.join(_DTYPES)})")
        checked[name] = (tuple(int(n) for n in shape), dt)
    if not checked:
        raise ValueError("a checkpoint needs at least one array")
    return checked


def _stored_dtype(dtype: np.dtype) -> str:
    return "f8" if dtype.kind in "fc" else {"int64": "i8", "uint64": "u8", "uint8": "u1"}[dtype.name]


def create_slots(ds: netCDF4.Dataset, spec: CheckpointSpec) -> None:
    """Define the ``checkpoint`` group with two empty slots in an open, writable dataset.

    Parameters
    ----------
    ds
        The run file, open for writing.
    spec
        The state arrays (name -> (shape, dtype)).
    """
    checked = _check_spec(spec)
    grp = ds.createGroup(GROUP)
    grp.setncattr("format_version", FORMAT_VERSION)
    grp.setncattr("description", (
        "restart state of tdgl-stt run --resume: two alternating slots; frame[s] is the frame "
        "whose state slot s holds, -1 if empty or being written; complex arrays are stored as "
        "(real, imaginary) pairs along a last dimension of size 2"))
    grp.createDimension("slot", _N_SLOTS)
    frame = grp.createVariable("frame", "i8", ("slot",), contiguous=True)
    frame[:] = np.full(_N_SLOTS, _EMPTY, dtype=np.int64)
    for name, (shape, dtype) in checked.items():
        dims = [f"{name}_d{i}" for i in range(len(shape))]
        for dim, size in zip(dims, shape):
            grp.createDimension(dim, size)
        if dtype.kind == "c":
            grp.createDimension(f"{name}_ri", 2)
            dims.append(f"{name}_ri")
        var = grp.createVariable(name, _stored_dtype(dtype), ("slot", *dims), contiguous=True)
        var.setncattr("dtype", dtype.name)
        # Allocate the storage now, so that later checkpoint writes change no metadata.
        var[:] = np.zeros(var.shape, dtype=var.dtype)


def has_slots(ds: netCDF4.Dataset) -> bool:
    """True if ``ds`` has a checkpoint group of a format this version reads."""
    grp = ds.groups.get(GROUP)
    if grp is None or "format_version" not in grp.ncattrs():
        return False
    return int(grp.getncattr("format_version")) == FORMAT_VERSION


def stored_spec(ds: netCDF4.Dataset) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The :data:`CheckpointSpec` of the slots in ``ds``."""
    grp = ds.groups[GROUP]
    spec = {}
    for name, var in grp.variables.items():
        if name == "frame":
            continue
        dtype = np.dtype(var.getncattr("dtype"))
        shape = var.shape[1:-1] if dtype.kind == "c" else var.shape[1:]
        spec[name] = (tuple(shape), dtype)
    return spec


def _as_stored(array: NDArray, shape: tuple[int, ...], dtype: np.dtype, name: str) -> NDArray:
    a = np.asarray(array)
    if a.shape != shape or a.dtype != dtype:
        raise ValueError(f"checkpoint array {name!r}: expected {dtype} of shape {shape}, got "
                         f"{a.dtype} of shape {a.shape}")
    a = np.ascontiguousarray(a)
    return a.view(np.float64).reshape(shape + (2,)) if dtype.kind == "c" else a


def write_slot(ds: netCDF4.Dataset, slot: int, frame: int, arrays: Mapping[str, NDArray]) -> None:
    """Write the state of frame ``frame`` into ``slot`` with the three-step synced protocol.

    Parameters
    ----------
    ds
        The run file, open for writing, with :func:`create_slots` applied.
    slot
        0 or 1: the slot *not* holding the newest valid checkpoint.
    frame
        Index of the committed frame the state belongs to (>= 0).
    arrays
        Exactly the arrays of the stored spec, each of its shape and dtype.
    """
    grp = ds.groups[GROUP]
    spec = stored_spec(ds)
    if set(arrays) != set(spec):
        raise ValueError(f"checkpoint arrays {sorted(arrays)} do not match the file's {sorted(spec)}")
    if slot not in range(_N_SLOTS) or frame < 0:
        raise ValueError(f"bad checkpoint slot {slot} or frame {frame}")
    stored = {name: _as_stored(arrays[name], *spec[name], name) for name in spec}
    grp.variables["frame"][slot] = _EMPTY
    ds.sync()
    for name, data in stored.items():
        grp.variables[name][slot, ...] = data
    ds.sync()
    grp.variables["frame"][slot] = frame
    ds.sync()


def _read_slot(grp: netCDF4.Group, slot: int, frame: int,
               spec: Mapping[str, tuple[tuple[int, ...], np.dtype]]) -> Checkpoint | None:
    arrays = {}
    for name, (shape, dtype) in spec.items():
        try:
            raw = np.asarray(grp.variables[name][slot, ...])
        except (OSError, RuntimeError, IndexError):
            return None
        if dtype.kind == "c":
            raw = np.ascontiguousarray(raw, dtype=np.float64).view(np.complex128).reshape(shape)
        else:
            raw = np.ascontiguousarray(raw, dtype=dtype).reshape(shape)
        if dtype.kind in "fc" and not np.all(np.isfinite(raw)):
            return None
        raw.setflags(write=False)
        arrays[name] = raw
    return Checkpoint(frame=frame, slot=slot, arrays=MappingProxyType(arrays))


def read_valid(ds: netCDF4.Dataset, max_frame: int) -> list[Checkpoint]:
    """The valid checkpoints whose frame is ``<= max_frame``, newest first (at most two).

    A slot is valid when its ``frame`` is ``>= 0``, its arrays can be read and its floating-point
    arrays are finite.
    """
    if not has_slots(ds):
        return []
    grp = ds.groups[GROUP]
    spec = stored_spec(ds)
    frames = np.asarray(grp.variables["frame"][:], dtype=np.int64)
    found = []
    for slot in sorted(range(_N_SLOTS), key=lambda s: -int(frames[s])):
        frame = int(frames[slot])
        if 0 <= frame <= max_frame:
            checkpoint = _read_slot(grp, slot, frame, spec)
            if checkpoint is not None:
                found.append(checkpoint)
    return found


def read_latest(ds: netCDF4.Dataset, max_frame: int) -> Checkpoint | None:
    """The newest valid checkpoint whose frame is ``<= max_frame`` (:func:`read_valid`), or None."""
    valid = read_valid(ds, max_frame)
    return valid[0] if valid else None


# --------------------------------------------------------------------------- random generators


def generator_to_array(rng: np.random.Generator, size: int = 1024) -> NDArray[np.uint8]:
    """The bit-generator state of ``rng`` as a fixed-size uint8 array (JSON, zero padded).

    For checkpoints of stochastic integrators: declare ``("rng", ((size,), np.uint8))`` in the
    :data:`CheckpointSpec` and store this array; :func:`generator_from_array` restores a
    generator that continues the same stream bit for bit.
    """
    text = json.dumps(rng.bit_generator.state, sort_keys=True).encode()
    if len(text) > size:
        raise ValueError(f"generator state needs {len(text)} bytes, more than {size}")
    out = np.zeros(size, dtype=np.uint8)
    out[: len(text)] = np.frombuffer(text, dtype=np.uint8)
    return out


def generator_from_array(array: NDArray[np.uint8]) -> np.random.Generator:
    """Inverse of :func:`generator_to_array`."""
    text = bytes(np.asarray(array, dtype=np.uint8)).rstrip(b"\0").decode()
    state = json.loads(text)
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
