r"""Fourier amplitudes ``a_q(t)`` and spectra ``S(q, w)`` of a run, with the sign convention of
DESIGN section 2: fields go as ``exp(i q.x - i w t)``, so with ``q > 0`` a wave travelling
towards +x has ``Re w > 0``.

- Spatial transform: no window (the grid is periodic), amplitude normalisation
  ``a_q = (1/N) sum_x f(x) exp(-i q.x)``, so ``A cos(q.x - w t)`` has ``|a_q| = A/2``.
- Time transform: ``S(q, w) = |sum_n w_n a_q(t_n) exp(+i w t_n)|^2 / (sum_n w_n)^2`` with a
  window ``w_n`` (Hann by default): a mode ``exp(-i w0 t)`` peaks at ``w = +w0``. numpy's
  forward FFT has the opposite sign (it would put a +x travelling wave at negative frequency),
  so the inverse FFT is used.

The file is read in blocks of frames (dask) and only the selected wavevectors are kept, so a file
larger than memory can be analysed, and a selection of q (a cut, a shell, a list) costs the
spatial FFTs and the selected amplitudes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

#: Frames read per block.
BLOCK_FRAMES = 256


@dataclass(frozen=True)
class WavevectorSelection:
    """Integer wavenumbers ``k`` (one row per wavevector) on a run's grid, ``q = 2 pi k / L``."""

    k: NDArray[np.int64]
    L: tuple[float, ...]

    @property
    def q(self) -> NDArray[np.float64]:
        return 2 * np.pi * self.k / np.asarray(self.L)[None, :]


def grid_of(ds: xr.Dataset) -> tuple[tuple[str, ...], tuple[int, ...], tuple[float, ...]]:
    """Axes, points per axis and box lengths of a run."""
    axes = tuple(a for a in ("x", "y", "z") if a in ds.dims)
    n = tuple(int(ds.sizes[a]) for a in axes)
    L = tuple(float(ds[a].attrs.get("period", ds.sizes[a] * float(ds[a][1] - ds[a][0]))) for a in axes)
    return axes, n, L


def all_wavevectors(ds: xr.Dataset, *, include_zero: bool = False) -> WavevectorSelection:
    """Every wavevector of the rfft half-spectrum except Nyquist ones (ambiguous sign)."""
    _, n, L = grid_of(ds)
    ranges = [np.arange(-(ni // 2) + 1, ni // 2) for ni in n[:-1]] + [np.arange(0, n[-1] // 2)]
    k = np.array(np.meshgrid(*ranges, indexing="ij")).reshape(len(n), -1).T
    keep = (k[:, -1] > 0) | np.any(k[:, :-1] > 0, axis=1) & (k[:, -1] == 0)
    if include_zero:
        keep |= np.all(k == 0, axis=1)
    return WavevectorSelection(k=k[keep], L=L)


def cut(ds: xr.Dataset, direction: tuple[int, ...]) -> WavevectorSelection:
    """Wavevectors ``m * d`` (m = 1, 2, ...) along an integer lattice direction ``d`` below Nyquist.

    In 2D, ``(1, 0)`` is the x axis; with ``grad T`` along x that is the cut parallel to it and
    ``(0, 1)`` the perpendicular one. Other directions need integer ``d`` (e.g. ``(1, 1)``).
    """
    _, n, L = grid_of(ds)
    d = np.asarray(direction, dtype=int)
    if d.shape != (len(n),) or not np.any(d):
        raise ValueError(f"direction must be {len(n)} integers, not all zero; got {direction}")
    d = d // math.gcd(*map(int, d))
    ms = []
    m = 1
    while np.all(2 * np.abs(m * d) < np.asarray(n)):
        ms.append(m * d)
        m += 1
    return WavevectorSelection(k=np.array(ms, dtype=int).reshape(-1, len(n)), L=L)


def shell(ds: xr.Dataset, q_abs: float, width: float | None = None) -> WavevectorSelection:
    """Every half-spectrum wavevector (below Nyquist) with ``| |q| - q_abs | <= width/2``.

    The input of the angle-resolved view (:func:`angle_resolved`) in 2D. ``width`` defaults to
    the coarsest grid spacing in q, ``max_i 2 pi / L_i``, so the shell is one lattice spacing
    thick and holds ~``pi q_abs L / (2 pi)`` wavevectors over the half circle.
    """
    _, n, L = grid_of(ds)
    if len(n) < 2:
        raise ValueError("a shell of wavevectors needs a 2D or 3D run; in 1D use --q or the whole axis")
    width = float(width) if width is not None else max(2 * math.pi / Li for Li in L)
    if not (q_abs > 0 and math.isfinite(q_abs) and width > 0):
        raise ValueError(f"a shell needs |q| > 0 and a positive width, got |q| = {q_abs}, width = {width}")
    every = all_wavevectors(ds)
    qn = np.linalg.norm(every.q, axis=1)
    keep = np.abs(qn - q_abs) <= width / 2
    if not np.any(keep):
        raise ValueError(f"no grid wavevector within {width:.3g} of |q| = {q_abs} below the Nyquist wavenumber")
    return WavevectorSelection(k=every.k[keep], L=L)


def angle_resolved(S: xr.DataArray, reference: NDArray[np.float64] | None = None) -> xr.DataArray:
    """``S(angle, w)`` on the full circle from a spectrum of a :func:`shell` (2D).

    The half-spectrum holds ``+q`` only; a real field has ``a_{-q}(t) = conj(a_q(t))``, so
    ``S(-q, w) = S(q, -w)`` and the other half circle is the mirror image. ``angle`` is measured
    from ``reference`` (the direction of grad T, say; default +x), counter-clockwise, in
    ``[-pi, pi)``; ``q_abs`` is kept as a coordinate (it varies across a shell by its width).
    """
    qx = np.asarray(S["q_x"].values, dtype=float)
    qy = np.asarray(S["q_y"].values, dtype=float)
    ref = np.array([1.0, 0.0]) if reference is None else np.asarray(reference, dtype=float)[:2]
    if not np.any(ref):
        ref = np.array([1.0, 0.0])
    phi = np.arctan2(qy, qx) - math.atan2(ref[1], ref[0])
    values = np.asarray(S.values)
    angle = np.concatenate([phi, phi + math.pi])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    omega = np.asarray(S["omega"].values)
    if np.allclose(omega[::-1], -omega):  # odd number of frames: the grid is its own mirror
        mirrored = values[:, ::-1]
    elif np.allclose(omega[1:][::-1], -omega[1:]):
        # even: omega[0] = -Nyquist, which aliases onto +Nyquist and so is its own mirror
        mirrored = np.concatenate([values[:, :1], values[:, 1:][:, ::-1]], axis=1)
    else:
        raise ValueError("the omega grid must be that of spectrum() (symmetric about 0)")
    full = np.concatenate([values, mirrored], axis=0)  # S(-q, w) = S(q, -w)
    qabs = np.hypot(qx, qy)
    order = np.argsort(angle, kind="stable")
    da = xr.DataArray(
        full[order], dims=("angle", "omega"),
        coords={"angle": angle[order], "omega": omega, "q_abs": ("angle", np.concatenate([qabs, qabs])[order]),
                "q_x": ("angle", np.concatenate([qx, -qx])[order]), "q_y": ("angle", np.concatenate([qy, -qy])[order])},
        name="S",
    )
    da.attrs = dict(S.attrs)
    da.attrs["long_name"] = S.attrs.get("long_name", "power spectrum") + ", angle-resolved"
    da["angle"].attrs = {"long_name": "angle of q from the reference direction (counter-clockwise)", "units": "rad",
                         "reference_direction": ref.tolist()}
    da["omega"].attrs = dict(S["omega"].attrs)
    for k in ("q_x", "q_y"):
        da[k].attrs = dict(S[k].attrs)
    da["q_abs"].attrs = {"long_name": "|q|", "units": S["q_x"].attrs.get("units", "1")}
    return da


def nearest_wavevectors(ds: xr.Dataset, q: NDArray[np.float64]) -> WavevectorSelection:
    """The grid wavevectors nearest to the requested ones (shape ``(N, ndim)``)."""
    _, n, L = grid_of(ds)
    q = np.atleast_2d(np.asarray(q, dtype=float))
    if q.shape[1] != len(n):
        raise ValueError(f"wavevectors need {len(n)} components, got {q.shape[1]}")
    k = np.rint(q * np.asarray(L)[None, :] / (2 * np.pi)).astype(int)
    if np.any(2 * np.abs(k) >= np.asarray(n)[None, :]):
        raise ValueError("a requested wavevector is at or above the Nyquist wavenumber of the grid")
    return WavevectorSelection(k=k, L=L)


def _block_amplitudes(block: NDArray[np.float64], idx: tuple, conj: NDArray[np.bool_]) -> NDArray[np.complex128]:
    """``a_q(t)`` of one block of frames ``(nt_block, *grid)`` at the half-spectrum indices ``idx``."""
    F = np.fft.rfftn(np.asarray(block, dtype=float), axes=tuple(range(1, block.ndim)), norm="forward")
    vals = F[(slice(None),) + idx]
    return np.where(conj[None, :], np.conj(vals), vals)


def fourier_amplitudes(ds: xr.Dataset, field: str, sel: WavevectorSelection) -> xr.DataArray:
    """``a_q(t)`` for the selected wavevectors, as a complex DataArray with dims ``(t, mode)``.

    The ``-q`` half of the spectrum is the complex conjugate (real fields), so ``+q`` carries
    both propagation directions: ``Re w > 0`` travels along ``+q``.

    The field is read as a dask array in blocks of :data:`BLOCK_FRAMES` frames (or in the
    dataset's own time chunks when it was opened with ``chunks=``), each block transformed and
    reduced to the selected wavevectors, so memory holds a few blocks, never the file; blocks
    are transformed on dask's threads.
    """
    axes, n, _ = grid_of(ds)
    var = ds[field]
    conj = sel.k[:, -1] < 0  # stored as the conjugate of -k in the half-spectrum
    kk = np.where(conj[:, None], -sel.k, sel.k)
    idx = tuple(np.mod(kk[:, i], n[i]) for i in range(len(n) - 1)) + (kk[:, -1],)
    data = var.data if var.chunks is not None else var.chunk({"t": BLOCK_FRAMES}).data
    data = data.rechunk({i: -1 for i in range(1, data.ndim)})  # whole frames per block
    lazy = data.map_blocks(
        _block_amplitudes, idx, conj, dtype=complex,
        drop_axis=list(range(2, data.ndim)), chunks=(data.chunks[0], (sel.k.shape[0],)),
    )
    out = lazy.compute()
    q = sel.q
    coords = {"t": ds["t"].values, "mode": np.arange(sel.k.shape[0])}
    for i, ax in enumerate(axes):
        coords[f"q_{ax}"] = ("mode", q[:, i])
        coords[f"k_{ax}"] = ("mode", sel.k[:, i])
    lu = ds[axes[0]].attrs.get("units", "1")
    da = xr.DataArray(out, dims=("t", "mode"), coords=coords, name=f"{field}_hat")
    da.attrs = {"long_name": f"Fourier amplitude of {field}, (1/N) sum_x f exp(-i q.x)", "units": var.attrs.get("units", "1")}
    for i, ax in enumerate(axes):
        da[f"q_{ax}"].attrs = {"long_name": f"wavevector component q_{ax}", "units": f"1/{lu}"}
    da["t"].attrs = dict(ds["t"].attrs)
    return da


def _window(name: str, n: int) -> NDArray[np.float64]:
    if name in ("none", "boxcar", "rect"):
        return np.ones(n)
    import scipy.signal

    return scipy.signal.get_window(name, n, fftbins=False)


def spectrum(amplitudes: xr.DataArray, window: str = "hann") -> xr.DataArray:
    """``S(q, w)`` from :func:`fourier_amplitudes`: dims ``(mode, omega)``, omega ascending.

    ``omega`` is an angular frequency (the conjugate of t in the run's units): a mode
    ``exp(-i w0 t)`` peaks at ``omega = +w0``.
    """
    a = np.asarray(amplitudes.values)
    t = np.asarray(amplitudes["t"].values)
    nt = a.shape[0]
    if nt < 2:
        raise ValueError("a spectrum needs at least two frames")
    dt = float(t[1] - t[0])
    w = _window(window, nt)
    X = np.fft.ifft(w[:, None] * a, axis=0) * nt / w.sum()  # sum_n w_n a_n e^{+i w t_n} / sum w
    X *= np.exp(1j * 2 * np.pi * np.fft.fftfreq(nt, d=dt)[:, None] * t[0])
    S = np.abs(np.fft.fftshift(X, axes=0)) ** 2
    omega = np.fft.fftshift(2 * np.pi * np.fft.fftfreq(nt, d=dt))
    coords = {k: v for k, v in amplitudes.coords.items() if k != "t"}
    coords["omega"] = omega
    da = xr.DataArray(S.T, dims=("mode", "omega"), coords=coords, name="S")
    tu = amplitudes["t"].attrs.get("units", "1")
    da["omega"].attrs = {"long_name": "angular frequency omega (fields ~ exp(i q.x - i omega t))", "units": f"rad/({tu})"}
    da.attrs = {"long_name": f"power spectrum |a_q(omega)|^2, {window} window", "window": window,
                "units": f"({amplitudes.attrs.get('units', '1')})^2"}
    return da
