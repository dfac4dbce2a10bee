"""Coordinates of the sweep axes in the combined datasets.

Each axis becomes one dimension of the sweep datasets (named by :attr:`SweepSpec.dims`), with an
index coordinate chosen so that ``ds.sel(...)``, plots and contours work on it:

- a numeric axis (``model.tauE``, ``material.T_over_Tc``, ...): its values (``"inf"`` for tauE
  becomes ``inf``);
- a vector axis (``model.grad_T``, ``model.vT``, ``grid.L``, ...) whose vectors all lie on one
  line through 0 (the usual sweep of a gradient's strength, and every vector axis on a 1D grid):
  the signed component along that line's unit vector ``u`` (first non-zero entry positive), so
  in 1D the coordinate is the gradient itself. ``u`` is the coordinate's ``direction``
  attribute, and the vectors themselves are the auxiliary coordinate ``<dim>_vector(<dim>,
  <dim>_component)``;
- a vector axis whose vectors are not parallel (a rotation of the gradient, say): the position
  0, 1, ... along the axis, with the vectors in ``<dim>_vector`` and their lengths in
  ``<dim>_norm``. No scalar would order such vectors meaningfully;
- anything else (``model.coulomb``, ``material.preset``, mixed strings and numbers): the values
  as strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .spec import PARALLEL_RTOL, SweepAxis, SweepSpec, canonical

__all__ = ["AxisCoordinate", "axis_coordinates"]

CoordinateKind = Literal["number", "vector", "index", "label"]


@dataclass(frozen=True)
class AxisCoordinate:
    """The coordinate of one sweep axis (see the module docstring for the rules).

    Attributes
    ----------
    dim
        Dimension name.
    key
        Dotted parameter path.
    values
        Index-coordinate values, one per axis value.
    kind
        ``"number"``, ``"vector"`` (signed component along ``direction``), ``"index"``
        (non-parallel vectors) or ``"label"`` (strings).
    direction
        Unit vector of a ``"vector"`` axis.
    vectors
        The vectors of a vector axis, shape ``(len, ncomp)``.
    log
        The axis was a logarithmic range.
    integer
        Every value is an integer (such an axis is not refined by :meth:`to_value`).
    """

    dim: str
    key: str
    values: NDArray
    kind: CoordinateKind
    direction: tuple[float, ...] | None = None
    vectors: NDArray[np.float64] | None = None
    log: bool = False
    integer: bool = False

    @property
    def numeric(self) -> bool:
        """True when the coordinate is a physical value that can be interpolated."""
        return self.kind in ("number", "vector")

    def to_value(self, coordinate: float) -> Any:
        """The TOML value of the parameter at a numeric coordinate (off the listed values too)."""
        if not self.numeric:
            raise ValueError(f"axis {self.key} has no numeric coordinate ({self.kind})")
        if self.kind == "vector":
            return tuple(float(coordinate) * u for u in self.direction)
        return float(coordinate)

    def attrs(self) -> dict[str, Any]:
        """Attributes of the index coordinate."""
        out: dict[str, Any] = {"sweep_key": self.key, "coordinate_kind": self.kind}
        if self.kind == "vector":
            out["direction"] = list(self.direction)
            along = "" if len(self.direction) == 1 else f" (signed component along {list(self.direction)})"
            out["long_name"] = f"{self.key}{along}"
        elif self.kind == "index":
            out["long_name"] = f"position along the sweep axis {self.key} (vectors in {self.dim}_vector)"
        else:
            out["long_name"] = self.key
        if self.log:
            out["scale"] = "log"
        return out

    def coords(self, values: NDArray | None = None) -> dict[str, tuple]:
        """xarray coordinates of this axis: the index coordinate and, for vector axes, the
        vectors (``<dim>_vector``) and, for non-parallel ones, their norms (``<dim>_norm``).

        ``values`` replaces the index values (a refined numeric axis); the vectors follow.
        """
        index = self.values if values is None else np.asarray(values)
        out: dict[str, tuple] = {self.dim: (self.dim, index, self.attrs())}
        if self.vectors is not None:
            vectors = self.vectors if values is None else index[:, None] * np.asarray(self.direction)[None, :]
            comp = f"{self.dim}_component"
            out[f"{self.dim}_vector"] = ((self.dim, comp), vectors, {"sweep_key": self.key, "long_name": f"{self.key} vectors"})
            if self.kind == "index":
                out[f"{self.dim}_norm"] = (self.dim, np.linalg.norm(vectors, axis=1), {"long_name": f"|{self.key}|"})
        return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_vector(v: Any) -> bool:
    return isinstance(v, tuple) and len(v) > 0 and all(_is_number(x) for x in v)


def _unit_line(vectors: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """The unit vector of the line through 0 holding every vector (first non-zero entry > 0),
    or None if they are not parallel."""
    norms = np.linalg.norm(vectors, axis=1)
    if not np.any(norms > 0):
        u = np.zeros(vectors.shape[1])
        u[0] = 1.0
        return u
    u = vectors[int(np.argmax(norms > 0))] / norms[norms > 0][0]
    if u[np.flatnonzero(u)[0]] < 0:
        u = -u
    residual = vectors - np.outer(vectors @ u, u)
    if np.all(np.linalg.norm(residual, axis=1) <= PARALLEL_RTOL * norms.max()):
        return u
    return None


def _coordinate(axis: SweepAxis, dim: str) -> AxisCoordinate:
    vals = axis.values
    common = {"dim": dim, "key": axis.key, "log": axis.log}
    if all(_is_number(v) or v == "inf" for v in vals) and any(_is_number(v) for v in vals):
        integer = all(isinstance(v, int) for v in vals)
        values = np.array([math.inf if v == "inf" else v for v in vals], dtype=np.int64 if integer else float)
        return AxisCoordinate(values=values, kind="number", integer=integer, **common)
    if all(_is_vector(v) for v in vals) and len({len(v) for v in vals}) == 1:
        vectors = np.array(vals, dtype=float)
        integer = all(isinstance(x, int) for v in vals for x in v)
        u = _unit_line(vectors)
        if u is not None:
            signed = vectors @ u
            if len(np.unique(signed)) == len(signed):
                return AxisCoordinate(values=signed, kind="vector", direction=tuple(float(x) for x in u),
                                      vectors=vectors, integer=integer, **common)
        return AxisCoordinate(values=np.arange(len(vals)), kind="index", vectors=vectors, integer=integer, **common)
    labels = np.array([v if isinstance(v, str) else canonical(v) for v in vals], dtype=object)
    return AxisCoordinate(values=labels, kind="label", **common)


def axis_coordinates(spec: SweepSpec) -> tuple[AxisCoordinate, ...]:
    """The coordinate of every axis of ``spec``, in axis order."""
    return tuple(_coordinate(a, d) for a, d in zip(spec.axes, spec.dims))
