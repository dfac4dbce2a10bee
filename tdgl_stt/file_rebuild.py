r"""Rebuild a run file from its intact part: the way out when a killed run cannot be continued in place.

A process killed (SIGKILL, OOM) inside HDF5's metadata flush can leave the chunk index of the
newest frames damaged (``docs/output-format.md``, "What is guaranteed, and the limit"). The file
still opens and its earlier frames and checkpoint read back intact, but writing the frames that
follow may then fail ("NetCDF: HDF error"). :func:`rebuild_run_file` copies what a resume needs
into a new file, written from scratch, and puts it in place of the old one:

* the global attributes, the dimensions, the coordinates and the static fields as they are;
* the frames ``0 .. keep-1`` of every time-dependent variable (``t`` and the fields), with the
  same storage (chunking, compression, fill value) as the original;
* the checkpoint the resume starts from, in its slot, the other slot empty (written with the
  checkpoint module's own protocol, :func:`tdgl_stt.checkpoint.create_slots` and
  :func:`~tdgl_stt.checkpoint.write_slot`).

The new file is written next to the old one and renamed over it only when it is complete, so a
failure during the rebuild leaves the original untouched. Frames are copied one at a time: the
memory needed is one frame, whatever the length of the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import netCDF4

from .checkpoint import (
    GROUP,
    Checkpoint,
    create_slots,
    has_slots,
    stored_spec,
    write_slot,
)
from .errors import OutputError
from .io_netcdf import TIME_DIM

__all__ = ["rebuild_run_file"]


def rebuild_run_file(path: str | os.PathLike, keep: int, checkpoint: Checkpoint | None) -> None:
    """Replace the run file ``path`` by a fresh copy of its frames ``0 .. keep-1``.

    Parameters
    ----------
    path
        A run file written by :class:`tdgl_stt.io_netcdf.RunWriter`.
    keep
        Number of frames to keep (they must read back; a resume has checked them).
    checkpoint
        The checkpoint to keep (of frame ``keep - 1``, as read from the file), written into its
        own slot; the other slot is left empty. None to leave both empty.

    Raises
    ------
    tdgl_stt.errors.OutputError
        The frames to keep cannot be read or the new file cannot be written (the original is
        left as it was).
    """
    target = Path(path)
    tmp = target.with_name(target.name + ".rebuild")
    try:
        with netCDF4.Dataset(target, mode="r") as src, netCDF4.Dataset(tmp, mode="w", format="NETCDF4") as dst:
            src.set_auto_maskandscale(False)
            dst.set_auto_maskandscale(False)
            _copy_group(src, dst, keep)
            if has_slots(src):
                create_slots(dst, stored_spec(src))
                if checkpoint is not None:
                    write_slot(dst, checkpoint.slot, checkpoint.frame, checkpoint.arrays)
        os.replace(tmp, target)
    except (OSError, RuntimeError, IndexError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot rebuild {target} from its first {keep} frames: {exc}") from None


def _copy_group(src: netCDF4.Group, dst: netCDF4.Group, keep: int) -> None:
    """Attributes, dimensions, variables (the first ``keep`` frames of the time-dependent ones)
    and subgroups, but not the checkpoint group."""
    dst.setncatts({name: src.getncattr(name) for name in src.ncattrs()})
    for name, dim in src.dimensions.items():
        dst.createDimension(name, None if dim.isunlimited() else len(dim))
    for name, var in src.variables.items():
        new = _define_like(dst, name, var)
        if var.dimensions and var.dimensions[0] == TIME_DIM:
            for i in range(keep):
                new[i, ...] = var[i, ...]
        else:
            new[...] = var[...]
    for name, group in src.groups.items():
        if name != GROUP:
            _copy_group(group, dst.createGroup(name), keep)


def _define_like(dst: netCDF4.Group, name: str, var: netCDF4.Variable) -> netCDF4.Variable:
    """A variable of ``dst`` with the type, dimensions, storage and attributes of ``var``."""
    filters = var.filters() or {}
    chunking = var.chunking()
    storage = {"contiguous": True} if chunking == "contiguous" else {"chunksizes": tuple(chunking)}
    attrs = {key: var.getncattr(key) for key in var.ncattrs()}
    new = dst.createVariable(name, var.datatype, var.dimensions, fill_value=attrs.pop("_FillValue", None),
                             zlib=bool(filters.get("zlib", False)), complevel=int(filters.get("complevel") or 4),
                             shuffle=bool(filters.get("shuffle", False)), **storage)
    new.setncatts(attrs)
    return new
