"""The sweep config: the tables of a base run config plus a ``[sweep]`` table of parameter axes.

A sweep file is a run file (:mod:`tdgl_stt.config`) with one more table. Each key of ``[sweep]``
is a quoted dotted parameter path ``"table.key"`` (``table`` one of ``model``, ``material``,
``grid``, ``initial``) and its value is the list of values that parameter takes, or a range
table ``{start, stop, num, log}`` (``numpy.linspace``, or ``numpy.geomspace`` with
``log = true``; ``start`` and ``stop`` may be arrays of one length for vector keys)::

    [sweep]
    "model.tauE" = [10.0, 100.0]
    "model.grad_T" = [[0.0], [1e-5]]
    "material.T_over_Tc" = {start = 0.80, stop = 0.95, num = 4}
    "model.tau" = {start = 0.1, stop = 10.0, num = 5, log = true}

The cases are the Cartesian product of the axes. Each case is the base document with the axis
values substituted, written back to TOML (``tomli_w``) and validated by
:func:`tdgl_stt.config.parse_config`, so a case is exactly a run file: its text is stored in the
case's NetCDF (attribute ``config_toml``) and ``tdgl-stt run`` on it reproduces the case.

A case is named by a hash of its parameter values (``case-3f2a9c1b0d``), not by its position in
the product: adding a value to an axis leaves the names, and so the finished files, of the other
cases unchanged, and a rerun only computes the new ones.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import numpy as np
import tomli_w

from ..config import (
    TABLES,
    GridConfig,
    InitialConfig,
    MaterialConfig,
    ModelConfig,
    RunConfig,
    parse_config,
)
from ..errors import ConfigError

__all__ = ["SWEEP_TABLES", "Case", "SweepAxis", "SweepSpec", "load_sweep", "parse_sweep"]

#: Tables whose keys can be sweep axes.
SWEEP_TABLES: Mapping[str, type] = MappingProxyType(
    {"model": ModelConfig, "material": MaterialConfig, "grid": GridConfig, "initial": InitialConfig}
)
RANGE_KEYS: tuple[str, ...] = ("start", "stop", "num", "log")
#: Names used by run files and the sweep datasets; an axis with one of these short names is
#: given its full dotted path (dots as underscores) as dimension name instead.
RESERVED_NAMES: frozenset[str] = frozenset(
    {"x", "y", "z", "t", "theta", "Phi", "mu", "case", "q", "wavevector", "branch", "axis"}
)
#: Relative tolerance of the test that vector axis values are parallel.
PARALLEL_RTOL = 1e-12


def _fail(key: str, message: str) -> NoReturn:
    raise ConfigError(key, message)


def canonical(value: Any) -> str:
    """A deterministic one-line rendering of a TOML value (used in names and headers)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _plain(value: Any) -> Any:
    """numpy scalars/arrays and tuples -> plain Python values that tomli_w writes."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class SweepAxis:
    """One axis of a sweep: a dotted parameter path and the values it takes.

    Attributes
    ----------
    key
        ``"table.key"``, e.g. ``"model.grad_T"``.
    values
        The values in the order given (plain TOML values; vectors as tuples).
    log
        True when the axis was given as a logarithmic range (used for map scales and
        refinement).
    """

    key: str
    values: tuple[Any, ...]
    log: bool = False

    @property
    def table(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Case:
    """One point of the sweep: the values of every axis and the full run-config text.

    Attributes
    ----------
    name
        ``"case-" + 10 hex digits`` of a hash of ``assignments``; the output file is
        ``name + ".nc"``.
    position
        Index along each axis (``()`` for a case built off the sweep's grid of values).
    assignments
        ``(key, value)`` pairs in axis order.
    text
        The complete run config (TOML), with ``[output] path = "<name>.nc"``.
    """

    name: str
    position: tuple[int, ...]
    assignments: tuple[tuple[str, Any], ...]
    text: str

    @property
    def filename(self) -> str:
        return f"{self.name}.nc"

    @property
    def label(self) -> str:
        """``"model.tauE = 10.0, model.grad_T = [1e-05]"``."""
        return ", ".join(f"{k} = {canonical(v)}" for k, v in self.assignments)

    def config(self) -> RunConfig:
        """The validated run config (raises :class:`~tdgl_stt.errors.ConfigError`)."""
        return parse_config(self.text, source=f"sweep case {self.name} ({self.label})")


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file: the base document, the axes and the source text.

    ``base`` is the sweep file without its ``[sweep]`` table (never mutated: cases are built on
    deep copies).
    """

    base: Mapping[str, Any]
    axes: tuple[SweepAxis, ...]
    source_text: str
    source: str = "<string>"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.axes)

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names of the axes: the short key (``grad_T``), or the full dotted path
        with dots as underscores where short names collide or are reserved."""
        short = [a.field for a in self.axes]
        return tuple(
            s if short.count(s) == 1 and s not in RESERVED_NAMES else a.key.replace(".", "_")
            for s, a in zip(short, self.axes)
        )

    def axis(self, name: str) -> SweepAxis:
        """The axis with dotted key or dimension name ``name``."""
        for dim, a in zip(self.dims, self.axes):
            if name in (dim, a.key):
                return a
        known = ", ".join(f"{d} ({a.key})" for d, a in zip(self.dims, self.axes))
        raise KeyError(f"no sweep axis {name!r}; the axes are {known}")

    def dim(self, name: str) -> str:
        """The dimension name of the axis with dotted key or dimension name ``name``."""
        return self.dims[self.axes.index(self.axis(name))]

    def case(self, values: Mapping[str, Any], position: tuple[int, ...] = ()) -> Case:
        """The case with the axis values ``values`` (dotted key -> value; every axis key).

        The run config is the base document with the values substituted (tables created where
        missing) and ``[output] path`` set to the case's file name, written with ``tomli_w``
        after a one-line comment naming the case. The text depends only on the base and the
        values, so it is the same on every call: the resume rule compares it.
        """
        missing = [a.key for a in self.axes if a.key not in values]
        if missing:
            raise KeyError(f"values for the sweep axes {missing} are missing")
        assignments = tuple((a.key, _plain(values[a.key])) for a in self.axes)
        ident = canonical(sorted(assignments))
        name = "case-" + hashlib.sha1(ident.encode()).hexdigest()[:10]
        doc = copy.deepcopy(dict(self.base))
        for key, value in sorted(assignments):
            table, field = key.split(".", 1)
            doc.setdefault(table, {})[field] = value
        doc.setdefault("output", {})["path"] = f"{name}.nc"
        label = "; ".join(f"{k} = {canonical(v)}" for k, v in sorted(assignments))
        text = f"# tdgl-stt sweep {name}: {label}\n" + tomli_w.dumps(doc)
        return Case(name=name, position=tuple(position), assignments=assignments, text=text)

    def cases(self) -> tuple[Case, ...]:
        """Every case of the Cartesian product, the last axis varying fastest."""
        out = []
        for pos in itertools.product(*(range(len(a)) for a in self.axes)):
            values = {a.key: a.values[i] for a, i in zip(self.axes, pos)}
            out.append(self.case(values, pos))
        return tuple(out)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _number(key: str, value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(key, f"expected a finite number, got {value!r}")
    return value


def _range_values(key: str, spec: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """Expand ``{start, stop, num, log}`` into its values (ints where start and stop are
    integers and every value is integral)."""
    unknown = [k for k in spec if k not in RANGE_KEYS]
    if unknown:
        _fail(key, f"unknown range key(s) {unknown}; a range is {{start, stop, num, log}}")
    for k in ("start", "stop", "num"):
        if k not in spec:
            _fail(key, f"the range needs {k!r} (a range is {{start, stop, num, log}})")
    num = spec["num"]
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        _fail(key, f"range num: expected an integer >= 1, got {num!r}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        _fail(key, f"range log: expected true or false, got {log!r}")
    ends = []
    for k in ("start", "stop"):
        v = spec[k]
        items = v if isinstance(v, list) else [v]
        if not items:
            _fail(key, f"range {k}: expected a number or a non-empty array of numbers")
        ends.append([_number(f"{key} range {k}", x) for x in items])
    if isinstance(spec["start"], list) != isinstance(spec["stop"], list) or len(ends[0]) != len(ends[1]):
        _fail(key, "range start and stop must both be numbers or both arrays of one length")
    start, stop = np.array(ends[0], dtype=float), np.array(ends[1], dtype=float)
    if log and (np.any(start <= 0) or np.any(stop <= 0)):
        _fail(key, "a log range needs start > 0 and stop > 0")
    values = (np.geomspace if log else np.linspace)(start, stop, num)
    if log:  # geomspace is exact at the ends only up to rounding; pin them
        values[0], values[-1] = start, stop
    integral = all(isinstance(x, int) for x in ends[0] + ends[1])
    rounded = np.round(values)
    if integral and np.allclose(values, rounded, rtol=0.0, atol=1e-9):
        values = rounded.astype(np.int64)
    vector = isinstance(spec["start"], list)
    out = [tuple(_plain(v)) if vector else _plain(v[0]) for v in values]
    return out, log


def _axis_values(key: str, raw: Any) -> tuple[list[Any], bool]:
    if isinstance(raw, dict):
        return _range_values(key, raw)
    if not isinstance(raw, list) or not raw:
        _fail(key, f"expected a non-empty array of values or a range table {{start, stop, num, log}}, "
                   f"got {raw!r}")
    values = []
    for i, v in enumerate(raw):
        if isinstance(v, dict):
            _fail(key, f"element {i}: a value cannot be a table")
        values.append(tuple(v) if isinstance(v, list) else v)
    return values, False


def _check_key(key: str, base: Mapping[str, Any]) -> None:
    table, _, field = key.partition(".")
    if not field or table not in SWEEP_TABLES:
        _fail(key, f"a sweep key is a dotted path \"table.key\" with table one of "
                   f"{', '.join(SWEEP_TABLES)}")
    allowed = [f.name for f in fields(SWEEP_TABLES[table])]
    if field not in allowed:
        _fail(key, f"unknown key {field!r} in [{table}]; allowed keys: {', '.join(allowed)}")
    if table in ("model", "material") and table not in base:
        other = "material" if table == "model" else "model"
        _fail(key, f"the base config has no [{table}] table (it uses [{other}]); sweep {other} keys")


def parse_sweep(text: str, *, source: str = "<string>") -> SweepSpec:
    """Parse a sweep file given as TOML text.

    Parameters
    ----------
    text
        The TOML document: base run-config tables plus ``[sweep]``.
    source
        Where ``text`` came from, for messages.

    Returns
    -------
    SweepSpec
        The axes in file order. The cases are not validated here: each is validated on its own
        (:meth:`Case.config`), so one bad value fails one case, not the sweep.

    Raises
    ------
    ConfigError
        Invalid TOML, no or an empty ``[sweep]`` table, an unknown table, an axis key that is not
        a known ``model``/``material``/``grid``/``initial`` key, an empty axis, a bad range or a
        value listed twice on one axis. The key is ``sweep."<axis key>"``.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail("<file>", f"{source}: invalid TOML: {exc}")
    raw = doc.pop("sweep", None)
    if not isinstance(raw, dict) or not raw:
        _fail("sweep", f"{source}: a sweep file needs a non-empty [sweep] table of axes, e.g. "
                       '"model.tauE" = [10.0, 100.0]')
    for name in doc:
        if name not in TABLES:
            _fail(name, f"unknown table [{name}]; allowed tables: {', '.join(TABLES)}, sweep")
    axes = []
    for key, value in raw.items():
        where = f'sweep."{key}"'
        if key in SWEEP_TABLES and isinstance(value, dict):
            _fail(where, 'write each axis as a quoted dotted key, e.g. "model.tau" = [1.0, 2.0]')
        _check_key(key, doc)
        try:
            values, log = _axis_values(key, value)
        except ConfigError as exc:
            _fail(where, exc.message)
        seen = [canonical(_plain(v)) for v in values]
        dup = sorted({s for s in seen if seen.count(s) > 1})
        if dup:
            _fail(where, f"the value(s) {', '.join(dup)} are listed more than once")
        axes.append(SweepAxis(key=key, values=tuple(values), log=log))
    return SweepSpec(base=MappingProxyType(doc), axes=tuple(axes), source_text=text, source=source)


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a sweep file (UTF-8) and parse it with :func:`parse_sweep`."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        _fail("<file>", f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        _fail("<file>", f"{os.fspath(path)!r} is not UTF-8 text: {exc}")
    return parse_sweep(text, source=os.fspath(path))

