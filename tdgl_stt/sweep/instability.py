r"""The instability map: the largest growth rate :math:`\max_q \operatorname{Im} w` against two
sweep axes, from the exact roots and from the simulations, with its zero line.

A mode grows where ``Im w > 0`` (fields go as ``exp(i q.x - i w t)``). For each parameter point
the *exact* map takes the largest ``Im w`` among the exact roots
(:func:`tdgl_stt.propagator.exact_frequencies`) at every wavevector of the case's grid except
``q = 0`` (there the global phase has ``w = 0`` exactly: neutral, not unstable), so it needs no
simulation and can be evaluated on a finer set of parameter values than the sweep's. The
*simulated* map takes the largest ``Im w`` of the resolved modes extracted from each case's run
(:func:`tdgl_stt.sweep.combine.sweep_modes`). The zero line is the level-0 contour of the map,
computed by contourpy (matplotlib's contouring engine) in the plot's coordinates (logarithmic
along an axis given as a log range), so it is the line that the figure draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..config import RunConfig
from ..errors import TdglSttError
from .coords import AxisCoordinate, axis_coordinates
from .spec import SweepSpec

__all__ = ["exact_growth", "exact_growth_map", "max_growth_rate", "plot_coordinate", "simulated_growth_map",
           "zero_line"]


def max_growth_rate(config: RunConfig) -> float:
    """Largest ``Im w`` among the exact roots at the wavevectors of ``config``'s grid, q = 0
    excluded (Nyquist wavevectors included, as the run propagates them)."""
    from ..api import grid_modes

    table = grid_modes(config)
    nonzero = np.any(table.q != 0, axis=1)
    im = table.omega.imag[nonzero]
    return float(np.nanmax(im)) if np.isfinite(im).any() else math.nan


def exact_growth(spec: SweepSpec, values: Mapping[str, Any]) -> float:
    """:func:`max_growth_rate` of the sweep's case with axis values ``values`` (dotted key ->
    TOML value; axes not given take their first value)."""
    full = {a.key: values.get(a.key, a.values[0]) for a in spec.axes}
    return max_growth_rate(spec.case(full).config())


def _numeric(coord: AxisCoordinate) -> None:
    if not coord.numeric:
        raise TdglSttError(f"the sweep axis {coord.key} is not numeric ({coord.kind}): an instability map "
                           "needs two numeric axes")


def _refined(coord: AxisCoordinate, points: int | None) -> NDArray[np.float64]:
    """The axis's coordinate values, or ``points`` values spanning them (geometric for a log
    axis); integer axes keep their values."""
    if points is None or coord.integer:
        return np.asarray(coord.values, dtype=float)
    lo, hi = float(np.min(coord.values)), float(np.max(coord.values))
    if coord.log and lo > 0:
        return np.geomspace(lo, hi, points)
    return np.linspace(lo, hi, points)


def _fixed(spec: SweepSpec, coords: tuple[AxisCoordinate, ...], at: Mapping[str, Any] | None,
           skip: tuple[str, str]) -> dict[str, Any]:
    """Values of the axes other than ``skip``: ``at`` (by key or dimension name; a coordinate
    value, matched to the nearest listed one for numeric axes) or the first listed value."""
    at = dict(at or {})
    fixed: dict[str, Any] = {}
    for axis, coord in zip(spec.axes, coords):
        if axis.key in skip:
            continue
        given = at.pop(axis.key, at.pop(coord.dim, None))
        if given is None:
            i = 0
        elif coord.numeric:
            i = int(np.argmin(np.abs(np.asarray(coord.values, dtype=float) - float(given))))
        else:
            matches = [k for k, v in enumerate(coord.values) if str(v) == str(given)]
            if not matches:
                raise TdglSttError(f"{axis.key} = {given!r} is not a value of the axis ({list(coord.values)})")
            i = matches[0]
        fixed[axis.key] = axis.values[i]
    if at:
        raise TdglSttError(f"--at names no other sweep axis: {', '.join(at)}")
    return fixed


def exact_growth_map(
    spec: SweepSpec,
    x: str,
    y: str,
    *,
    points: int | None = None,
    at: Mapping[str, Any] | None = None,
) -> xr.DataArray:
    """The exact instability map: :func:`exact_growth` on the grid of two axes.

    Parameters
    ----------
    spec
        The sweep.
    x, y
        The two axes (dotted keys or dimension names); numeric.
    points
        Evaluate on ``points`` values spanning each axis (geometric for a log range) instead of
        the listed ones: the exact roots are cheap, so the zero line can be resolved finer than
        the simulations.
    at
        Values of the other axes (default: their first values).

    Returns
    -------
    xarray.DataArray
        ``growth_exact`` with dims ``(y, x)``; attributes name the fixed axes' values.
    """
    coords = axis_coordinates(spec)
    cx, cy = (coords[spec.axes.index(spec.axis(k))] for k in (x, y))
    if cx.key == cy.key:
        raise TdglSttError("the two axes of an instability map must differ")
    for c in (cx, cy):
        _numeric(c)
    fixed = _fixed(spec, coords, at, (cx.key, cy.key))
    xs, ys = _refined(cx, points), _refined(cy, points)
    listed = {c.key: dict(zip(np.asarray(c.values, dtype=float).tolist(), spec.axis(c.key).values)) for c in (cx, cy)}

    def value(c: AxisCoordinate, v: float) -> Any:  # a listed value exactly as the sweep gives it
        return listed[c.key][v] if v in listed[c.key] else c.to_value(v)

    growth = np.array([[exact_growth(spec, fixed | {cx.key: value(cx, xv), cy.key: value(cy, yv)}) for xv in xs]
                       for yv in ys])
    da = xr.DataArray(growth, dims=(cy.dim, cx.dim), name="growth_exact",
                      coords={cy.dim: (cy.dim, ys, cy.attrs()), cx.dim: (cx.dim, xs, cx.attrs())},
                      attrs={"long_name": "largest exact Im w over the grid's wavevectors (q != 0)"})
    da.attrs["fixed_axes"] = "; ".join(f"{k} = {v!r}" for k, v in fixed.items())
    return da


def simulated_growth_map(modes: xr.Dataset, x: str, y: str, *, at: Mapping[str, Any] | None = None) -> xr.DataArray:
    """The simulated instability map from :func:`~tdgl_stt.sweep.combine.sweep_modes`: the
    largest ``Im w`` of the resolved extracted modes of each case, against the axes ``x`` and
    ``y`` (dimension names or dotted keys), the other axes at ``at`` (nearest listed value)
    or their first value. Dims ``(y, x)``."""
    dims = list(modes.attrs.get("sweep_dims", []))
    keys = list(modes.attrs.get("sweep_axes", []))
    name = {k: d for k, d in zip(keys, dims)} | {d: d for d in dims}
    try:
        dx, dy = name[x], name[y]
    except KeyError as exc:
        raise TdglSttError(f"no sweep axis {exc.args[0]!r}; the axes are {', '.join(dims)}") from None
    da = modes["growth_simulated"]
    at = {name.get(k, k): v for k, v in (at or {}).items()}
    for d in dims:
        if d in (dx, dy):
            continue
        if d in at:
            numeric = da[d].dtype.kind in "iuf"
            da = da.sel({d: at.pop(d)}, method="nearest" if numeric else None)
        else:
            da = da.isel({d: 0})
    if at:
        raise TdglSttError(f"--at names no other sweep axis: {', '.join(at)}")
    return da.transpose(dy, dx)


def plot_coordinate(c: xr.DataArray) -> tuple[NDArray[np.float64], bool]:
    """The values of a map coordinate as plotted (``log10`` for a log-range axis) and whether
    the axis is logarithmic."""
    v = np.asarray(c.values, dtype=float)
    log = c.attrs.get("scale") == "log" and bool(np.all(v > 0))
    return (np.log10(v) if log else v), log


def zero_line(growth: xr.DataArray) -> list[NDArray[np.float64]]:
    """The zero contour of a 2D map (dims ``(y, x)``): a list of polylines, each ``(n, 2)``
    with columns ``(x, y)`` in the coordinates' units. Interpolation is linear in the plot's
    coordinates (``log10`` of a log-range axis). NaN cells (missing cases) are masked."""
    import contourpy

    if growth.ndim != 2:
        raise ValueError(f"an instability map has two dims, got {growth.dims}")
    (y, ly), (x, lx) = (plot_coordinate(growth[d]) for d in growth.dims)
    z = np.ma.masked_invalid(np.asarray(growth.values, dtype=float))
    lines = contourpy.contour_generator(x=x, y=y, z=z, line_type="Separate").lines(0.0)
    out = []
    for line in lines:
        pts = np.array(line, dtype=float)
        if lx:
            pts[:, 0] = 10 ** pts[:, 0]
        if ly:
            pts[:, 1] = 10 ** pts[:, 1]
        out.append(pts)
    return out

