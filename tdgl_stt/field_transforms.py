"""The transforms of a run's saved fields, with results independent of the thread count.

A run must give the same bits with 1 or N threads (issue 9) and after a resume in another
process. FFTW's own threads do not allow that: a threaded plan splits the work differently from
a serial one, and its sums round differently. Measured with FFTW 3.3 (pyFFTW 0.15), even with
``FFTW_ESTIMATE`` plans 23 of 108 shapes (1D 48, 128, 256, 1024; 2D 4x32, 100x64, ...) gave
different last bits with 2, 3 or 4 threads than with 1; ``FFTW_MEASURE`` plans differed at
512^2 and also between processes, depending on the timings of the planner.

So every transform here is a single-threaded ``FFTW_ESTIMATE`` plan made without wisdom (its
arithmetic depends only on the shape and the FFTW build), and ``threads > 1`` runs the
transforms of different fields at the same time, one field per thread: the arithmetic of each
is unchanged. The price: ESTIMATE plans were up to 10 % slower than MEASURE plans at 512^2
(0.86 vs 0.78 ms per inverse transform) and 50 % slower at 1024^2 (4.9 vs 3.2 ms), and a run
that saves one field does not use a second thread for its transform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from .fft import RealFFT

__all__ = ["FieldTransforms"]


class FieldTransforms:
    """Forward and inverse real FFTs of the fields of a run; bitwise the same for any ``threads``.

    Parameters
    ----------
    shape
        Real-space grid shape.
    fields
        Names of the saved fields, each with the index of its component in the spectral state
        (``{"theta": 0, "mu": 2}``).
    threads
        Fields transformed at the same time (one single-threaded plan per field).
    """

    def __init__(self, shape: tuple[int, ...], fields: Mapping[str, int], threads: int = 1) -> None:
        if not fields:
            raise ValueError("at least one field is needed")
        self._index = dict(fields)
        self._ffts = {
            name: RealFFT(shape, threads=1, planner="FFTW_ESTIMATE", wisdom=False) for name in self._index
        }
        workers = min(max(1, threads), len(self._index))
        self._pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tdgl-stt-fft") if workers > 1 else None
        )

    @property
    def fields(self) -> Sequence[str]:
        """The field names, in order."""
        return tuple(self._index)

    def forward(self, real: NDArray[np.float64]) -> NDArray[np.complex128]:
        """Fourier amplitudes ``rfftn(real)/N`` of one real array (see :class:`RealFFT`)."""
        return next(iter(self._ffts.values())).forward(real)

    def output_buffers(self) -> dict[str, NDArray[np.float64]]:
        """A new set of real-space arrays, one per field, for :meth:`inverse`."""
        return {name: fft.output_buffer() for name, fft in self._ffts.items()}

    def inverse(self, x: NDArray[np.complex128], out: Mapping[str, NDArray[np.float64]]) -> dict[str, NDArray[np.float64]]:
        """Each saved field of the spectral state ``x`` (shape ``(3, *spectral_shape)``) into ``out``.

        Returns
        -------
        dict
            ``{name: out[name]}``, filled.
        """
        if self._pool is None:
            return {name: fft.inverse(x[self._index[name]], out=out[name]) for name, fft in self._ffts.items()}
        jobs = {
            name: self._pool.submit(fft.inverse, x[self._index[name]], out[name]) for name, fft in self._ffts.items()
        }
        return {name: job.result() for name, job in jobs.items()}

    def close(self) -> None:
        """Stop the worker threads (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> FieldTransforms:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
