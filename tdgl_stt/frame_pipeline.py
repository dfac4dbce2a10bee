"""Overlap the write of one output frame with the computation of the next.

The frame loop of :mod:`tdgl_stt.runner` spends its time in three C libraries that release the
GIL: numexpr (the propagator multiply), FFTW (the inverse transforms) and netCDF-C/HDF5 (the
write and its syncs). Writing frame ``n`` on a background thread while frame ``n + 1`` is
computed therefore uses a second core when there is one; on one core it costs a thread switch.

One thread at a time touches the file (the caller only after :meth:`BackgroundFrameWriter.wait`),
frames are committed in order by the same two-phase commit of
:meth:`tdgl_stt.io_netcdf.RunWriter.write_frame`, and at most one frame is in flight.
A crash therefore loses at most the frame being written, exactly as without the pipeline, and
a file read after a crash holds a prefix of the frames.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Mapping

import numpy as np

from .io_netcdf import RunWriter


class BackgroundFrameWriter:
    """Hands frames to ``writer.write_frame`` on one background thread, one frame in flight.

    The caller must not modify the arrays of a submitted frame (and of its checkpoint) until the
    *next* call to :meth:`submit` (or :meth:`wait`) has returned: two alternating buffer sets
    suffice.
    An error of a write (:class:`tdgl_stt.errors.OutputError`, e.g. a full disk) is raised in
    the caller's thread by the next :meth:`submit` or :meth:`wait`.

    Parameters
    ----------
    writer
        An open :class:`~tdgl_stt.io_netcdf.RunWriter`; it is used from the background thread
        only while a frame is in flight.
    """

    def __init__(self, writer: RunWriter) -> None:
        self._writer = writer
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tdgl-stt-writer")
        self._pending: Future | None = None

    def submit(self, t: float, values: Mapping[str, np.ndarray],
               checkpoint: Mapping[str, np.ndarray] | None = None) -> None:
        """Wait for the frame in flight (re-raising its error), then start writing this one.

        With ``checkpoint``, the state arrays are written after the frame is committed
        (:meth:`~tdgl_stt.io_netcdf.RunWriter.write_checkpoint`), as the checkpoint of this frame;
        the same rule holds for them as for ``values``.
        """
        self.wait()
        self._pending = self._pool.submit(self._write, t, values, checkpoint)

    def _write(self, t: float, values: Mapping[str, np.ndarray],
               checkpoint: Mapping[str, np.ndarray] | None) -> None:
        self._writer.write_frame(t, values)
        if checkpoint is not None:
            self._writer.write_checkpoint(self._writer.n_written - 1, checkpoint)

    def wait(self) -> None:
        """Block until the frame in flight is committed; re-raise its error if it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    @property
    def n_written(self) -> int:
        """Frames committed so far (exact after :meth:`wait`)."""
        return self._writer.n_written

    def close(self) -> None:
        """Wait for the frame in flight and stop the thread."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> BackgroundFrameWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Always let the frame in flight finish before the file can be closed; when another
        exception is already propagating, an error of that last write does not mask it."""
        try:
            self.close()
        except Exception:
            if exc is None:
                raise
