"""Planned real FFTs: pyFFTW objects with wisdom cached on disk, scipy.fft as a fallback.

Planned pyFFTW objects are 1.4-2.7x faster than numpy/scipy FFTs on this class of machine and the
``pyfftw.interfaces`` wrappers are slower than both (DESIGN section 5), so only planned objects
are used. Wisdom is stored in ``$TDGL_STT_CACHE`` (default ``$XDG_CACHE_HOME/tdgl-stt`` or
``~/.cache/tdgl-stt``) so the planning cost is paid once per machine and size.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

try:  # pragma: no cover - exercised on machines with and without pyFFTW
    import pyfftw

    HAVE_PYFFTW = True
except ImportError:  # pragma: no cover
    pyfftw = None
    HAVE_PYFFTW = False


def cache_dir() -> Path:
    """Directory for FFTW wisdom."""
    env = os.environ.get("TDGL_STT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tdgl-stt"


def _wisdom_file() -> Path:
    return cache_dir() / "fftw-wisdom.pickle"


def _load_wisdom() -> None:
    try:
        with open(_wisdom_file(), "rb") as fh:
            pyfftw.import_wisdom(pickle.load(fh))
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        pass


def _save_wisdom() -> None:
    try:
        path = _wisdom_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            pickle.dump(pyfftw.export_wisdom(), fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs planning time


@contextmanager
def planning(wisdom: bool) -> Iterator[None]:
    """Context for making pyFFTW plans.

    ``wisdom=True``: plan with the wisdom cached on disk (loaded before, saved after).
    ``wisdom=False``: the wisdom in memory is set aside while planning and restored afterwards,
    so that an ``FFTW_ESTIMATE`` plan, hence every rounding of its results, depends only on the
    shape, the thread count and the FFTW build (FFTW applies any wisdom it holds for a problem
    even to an ESTIMATE plan).
    """
    if wisdom:
        _load_wisdom()
        yield
        _save_wisdom()
        return
    held = pyfftw.export_wisdom()
    pyfftw.forget_wisdom()
    try:
        yield
    finally:
        pyfftw.forget_wisdom()
        pyfftw.import_wisdom(held)


class RealFFT:
    """Real FFTs over all axes of an array of ``shape``, in amplitude normalisation.

    :meth:`forward` returns the Fourier amplitudes ``X_k = rfftn(x)/N`` (a plane wave
    ``A cos(q.x)`` has ``|X_q| = A/2``) and :meth:`inverse` sums them back,
    ``x = sum_k X_k exp(i k.x)``. The 1/N sits on the forward side, which runs once per run,
    so the per-frame inverse transform has no normalisation pass.

    Parameters
    ----------
    shape
        Real-space shape.
    threads
        FFTW threads (pyFFTW threads through OpenMP: ``OMP_NUM_THREADS=1`` silently caps it).
    planner
        FFTW planner effort, e.g. ``"FFTW_MEASURE"``.
    backend
        ``"pyfftw"``, ``"scipy"`` or ``None`` (pyFFTW if importable).
    wisdom
        Plan with the wisdom cached on disk and in memory, and save it (default). With False
        and ``planner="FFTW_ESTIMATE"`` the plan, hence every rounding of the result, depends
        only on the shape, the thread count and the FFTW build: FFTW applies any wisdom it holds
        for a problem even to an ESTIMATE plan, so the wisdom in memory is set aside while
        planning and restored afterwards. Timed plans (MEASURE, PATIENT) can differ from one
        process to the next, and so can their last bits.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        threads: int = 1,
        planner: str = "FFTW_MEASURE",
        backend: str | None = None,
        wisdom: bool = True,
    ) -> None:
        self.shape = tuple(shape)
        self.spectral_shape = self.shape[:-1] + (self.shape[-1] // 2 + 1,)
        self.threads = threads
        self.backend = backend or ("pyfftw" if HAVE_PYFFTW else "scipy")
        axes = tuple(range(len(self.shape)))
        if self.backend == "pyfftw":
            if not HAVE_PYFFTW:
                raise ImportError("pyFFTW is not importable")
            self._rin = pyfftw.empty_aligned(self.shape, dtype="float64")
            self._cout = pyfftw.empty_aligned(self.spectral_shape, dtype="complex128")
            self._cin = pyfftw.empty_aligned(self.spectral_shape, dtype="complex128")
            self._rout = pyfftw.empty_aligned(self.shape, dtype="float64")
            flags = (planner,)
            with planning(wisdom):
                self._fwd = pyfftw.FFTW(self._rin, self._cout, axes=axes, direction="FFTW_FORWARD", flags=flags, threads=threads)
                self._inv = pyfftw.FFTW(self._cin, self._rout, axes=axes, direction="FFTW_BACKWARD", flags=flags + ("FFTW_DESTROY_INPUT",), threads=threads)
        else:
            import scipy.fft

            self._sfft = scipy.fft
            self._axes = axes
        self._norm = 1.0 / float(np.prod(self.shape))

    def forward(self, x: NDArray[np.float64]) -> NDArray[np.complex128]:
        """Fourier amplitudes ``rfftn(x)/N`` as a new array."""
        if self.backend == "pyfftw":
            self._rin[...] = x
            self._fwd.execute()
            return self._cout * self._norm
        return self._sfft.rfftn(x, axes=self._axes, workers=self.threads, norm="forward")

    def output_buffer(self) -> NDArray[np.float64]:
        """A new real-space array that :meth:`inverse` can write into (SIMD-aligned)."""
        if self.backend == "pyfftw":
            return pyfftw.empty_aligned(self.shape, dtype="float64")
        return np.empty(self.shape)

    def inverse(self, X: NDArray[np.complex128], out: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """``sum_k X_k exp(i k.x)``; ``X`` is not modified.

        Parameters
        ----------
        X
            Fourier amplitudes, of shape :attr:`spectral_shape`.
        out
            Where to write the result (from :meth:`output_buffer`). Without it the result is
            an internal buffer, overwritten by the next call: copy it if it must outlive that.
        """
        if self.backend == "pyfftw":
            self._cin[...] = X
            target = self._rout if out is None else out
            self._inv.update_arrays(self._cin, target)
            self._inv.execute()
            return target
        result = self._sfft.irfftn(X, s=self.shape, axes=self._axes, workers=self.threads, norm="forward")
        if out is None:
            return result
        out[...] = result
        return out
