r"""Temperature profiles ``T(x)`` on a periodic grid: uniform, a Gaussian hot (or cold) spot, a
smooth step with its periodic return, or a field read from a NetCDF file.

The box is periodic, so every profile is periodic too:

* ``gaussian``: ``T(x) = T + amplitude * sum_m exp(-|x - center + m L|^2 / (2 width^2))``, the sum
  over periodic images ``m`` (integer vectors) being the exact periodic continuation of the spot
  (the images beyond the nearest few are below ``1e-300``); ``amplitude < 0`` is a cold spot.
* ``tanh_step``: along one ``axis``, ``T(x) = T + amplitude * S(x)`` with
  ``S(x) = sum_m (1/2) [tanh((x - center + m L)/width) - tanh((x - center - L/2 + m L)/width)]``:
  a rise by ``amplitude`` over ``~width`` at ``center`` (the region between two reservoirs) and
  the smooth periodic return half a box further on. ``S`` is 1/2 at ``center``.
* ``file``: the variable ``variable`` of a NetCDF file, an array of the grid's shape holding the
  absolute temperature ``T(x)`` in the energy unit of ``[model]``.
* ``uniform``: ``T(x) = T``.

The local gradient ``grad T`` (which enters ``v_T`` of Eq. 15) is the spectral derivative of the
profile on the grid (:func:`spectral_gradient`), exact to round-off for a resolved profile and
exactly zero for a uniform one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .grid import AXES, Grid

__all__ = ["PROFILE_KINDS", "TemperatureProfile", "spectral_gradient", "spectral_tail", "temperature_field"]

ProfileKind = Literal["uniform", "gaussian", "tanh_step", "file"]
PROFILE_KINDS: tuple[str, ...] = ("uniform", "gaussian", "tanh_step", "file")


@dataclass(frozen=True)
class TemperatureProfile:
    """The ``[model.temperature_profile]`` table.

    Attributes
    ----------
    kind
        ``"uniform"``, ``"gaussian"``, ``"tanh_step"`` or ``"file"``.
    amplitude
        Temperature change of the spot or step (energy units of ``[model]``); may be negative.
    width
        Gaussian standard deviation, or the tanh width.
    center
        Gaussian: the spot's position, one entry per grid axis (default: the box centre).
        tanh_step: one entry, the position of the rise along ``axis`` (default: a quarter box).
    axis
        tanh_step only: the axis along which T varies (``"x"``, ``"y"`` or ``"z"``).
    path, variable
        file only: the NetCDF file and the variable holding T(x).
    T_ref
        The temperature of the uniform reference operator that the exponential integrator treats
        exactly (default: the midrange ``(min T + max T)/2``, which minimises the largest
        coefficient variation that is integrated explicitly).
    """

    kind: ProfileKind = "uniform"
    amplitude: float = 0.0
    width: float | None = None
    center: tuple[float, ...] | None = None
    axis: str = "x"
    path: str | None = None
    variable: str = "T"
    T_ref: float | None = None

    @property
    def is_uniform(self) -> bool:
        """True when ``T(x)`` is the constant ``T`` by construction."""
        return self.kind == "uniform" or (self.kind in ("gaussian", "tanh_step") and self.amplitude == 0.0)


def _image_range(width: float, L: float, reach: float) -> range:
    """Periodic images ``m`` with ``|m| L <= reach * width + L`` (the rest are negligible)."""
    m = math.ceil(reach * width / L) + 1
    return range(-m, m + 1)


def _gaussian(grid: Grid, profile: TemperatureProfile) -> NDArray[np.float64]:
    width = float(profile.width)  # type: ignore[arg-type]
    center = profile.center if profile.center is not None else tuple(0.5 * L for L in grid.L)
    X = grid.mesh()
    # 40 widths: exp(-800) underflows to 0, so the image sum is the exact periodic continuation.
    images = [_image_range(width, L, 40.0) for L in grid.L]
    total = np.zeros(grid.shape)
    for m in itertools.product(*images):
        r2 = sum((X[i] - center[i] + m[i] * grid.L[i]) ** 2 for i in range(grid.ndim))
        total += np.exp(-r2 / (2.0 * width**2))
    return profile.amplitude * total


def _tanh_step(grid: Grid, profile: TemperatureProfile) -> NDArray[np.float64]:
    width = float(profile.width)  # type: ignore[arg-type]
    ax = AXES.index(profile.axis)
    L = grid.L[ax]
    c = profile.center[0] if profile.center else 0.25 * L
    x = grid.coords()[profile.axis]
    s = np.zeros_like(x)
    # tanh(u) = +-1 to double precision for |u| > 19: 40 widths leave every omitted pair at 0.
    for m in _image_range(width, L, 40.0):
        s += 0.5 * (np.tanh((x - c + m * L) / width) - np.tanh((x - c - 0.5 * L + m * L) / width))
    shape = [1] * grid.ndim
    shape[ax] = grid.n[ax]
    return profile.amplitude * np.broadcast_to(s.reshape(shape), grid.shape).copy()


def _from_file(grid: Grid, profile: TemperatureProfile) -> NDArray[np.float64]:
    import netCDF4

    path = Path(str(profile.path))
    key = "model.temperature_profile.path"
    try:
        with netCDF4.Dataset(path, mode="r") as ds:
            if profile.variable not in ds.variables:
                names = ", ".join(ds.variables) or "none"
                raise ConfigError(
                    "model.temperature_profile.variable",
                    f"{str(path)!r} has no variable {profile.variable!r}; variables: {names}",
                )
            var = ds.variables[profile.variable]
            var.set_auto_mask(False)
            values = np.array(var[...], dtype=float)
    except OSError as exc:
        raise ConfigError(key, f"cannot read {str(path)!r} as NetCDF: {exc}") from None
    if values.shape != grid.shape:
        raise ConfigError(
            "model.temperature_profile.variable",
            f"{profile.variable!r} in {str(path)!r} has shape {list(values.shape)} but the grid is {list(grid.shape)}",
        )
    if not np.all(np.isfinite(values)):
        raise ConfigError("model.temperature_profile.variable", f"{profile.variable!r} holds NaN or Inf values")
    return values


def temperature_field(profile: TemperatureProfile, grid: Grid, T: float | None) -> NDArray[np.float64]:
    """``T(x)`` on the grid points (shape ``grid.shape``).

    Parameters
    ----------
    profile
        The profile.
    grid
        The periodic grid.
    T
        The base temperature of ``[model]`` (unused for ``kind = "file"``, which gives T(x)).
    """
    if profile.kind == "file":
        return _from_file(grid, profile)
    if T is None:
        raise ConfigError("model.T", f'temperature_profile kind = "{profile.kind}" needs the base temperature T')
    base = np.full(grid.shape, float(T))
    if profile.is_uniform:
        return base
    if profile.kind == "gaussian":
        return base + _gaussian(grid, profile)
    if profile.kind == "tanh_step":
        return base + _tanh_step(grid, profile)
    raise ConfigError("model.temperature_profile.kind", f"unknown kind {profile.kind!r}")  # pragma: no cover


def spectral_gradient(field: NDArray[np.float64], grid: Grid) -> NDArray[np.float64]:
    """``grad f`` by spectral differentiation (first derivative zero at Nyquist wavenumbers),
    shape ``(ndim,) + grid.shape``. A constant field has exactly zero gradient."""
    out = np.zeros((grid.ndim,) + grid.shape)
    if np.ptp(field) == 0:
        return out
    axes = tuple(range(grid.ndim))
    F = np.fft.rfftn(field, axes=axes)
    for i in range(grid.ndim):
        out[i] = np.fft.irfftn(1j * grid.q_grad[i] * F, s=grid.shape, axes=axes)
    return out


def spectral_tail(field: NDArray[np.float64], grid: Grid, keep: NDArray[np.bool_]) -> float:
    """Fraction of the (non-mean) spectral norm of ``field`` outside the mask ``keep`` of the rfft
    half-spectrum: a resolution diagnostic for the 2/3 rule (0 for a band-limited field)."""
    F = np.fft.rfftn(field - np.mean(field), axes=tuple(range(grid.ndim)))
    total = float(np.sum(np.abs(F) ** 2))
    if total == 0.0:
        return 0.0
    return math.sqrt(float(np.sum(np.abs(F[~keep]) ** 2)) / total)
