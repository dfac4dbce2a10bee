"""TOML configuration -> frozen, validated dataclasses.

Natural units hbar = k_B = 1 with the paper's symbols (Garate, Eqs. 7-23). The table and key
names below are public interface. Every validation failure raises
:class:`tdgl_stt.errors.ConfigError` naming the dotted key and what is allowed.

A run file has the tables ``[grid]``, ``[time]``, optional ``[initial]`` and ``[output]``, and
exactly one of ``[model]`` (paper symbols, natural units) or ``[material]`` (SI front end,
converted by :func:`tdgl_stt.material.material_to_model` and then validated as a ``[model]``
table, so both routes share one validation path). Example::

    [model]
    Delta = 0.3
    T = 1.0
    vF = 1.0
    d = 3
    tau = 10.0
    coulomb = "bulk"
    ks = 50.0

    [grid]
    n = [256]
    L = [100.0]

    [time]
    dt = 0.5
    n_frames = 400

A temperature that varies in space (:mod:`tdgl_stt.profiles`, :mod:`tdgl_stt.variable_model`) is
the sub-table ``[model.temperature_profile]``; the gap then follows from ``Tc`` (BCS), ``Delta``
is not given, and the run uses an exponential integrator (``[time] integrator = "etdrk4"`` by
default, with ``steps_per_frame`` steps per frame)::

    [model]
    T = 0.8
    Tc = 1.0
    ...
    [model.temperature_profile]
    kind = "gaussian"      # or "uniform", "tanh_step", "file"
    amplitude = 0.04
    width = 2.5
    center = [200.0]

Type rules: booleans are never numbers; integers are accepted where a float is expected (not
the reverse); NaN and infinities are refused except for ``tauE`` (``"inf"`` or a TOML ``inf``
mean no inelastic relaxation).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

import numpy as np

from .errors import ConfigError
from .profiles import PROFILE_KINDS, TemperatureProfile

if TYPE_CHECKING:  # tdgl_stt.noise imports the model, which imports this module
    from .noise.config import NoiseConfig

__all__ = [
    "BYTES_PER_GRID_POINT",
    "FIELDS",
    "GridConfig",
    "InitialConfig",
    "MaterialConfig",
    "ModelConfig",
    "OutputConfig",
    "RunConfig",
    "TimeConfig",
    "available_memory",
    "load_config",
    "parse_config",
]

CoulombKind = Literal["none", "bulk", "film"]
InitialKind = Literal["noise", "mode", "gaussian", "packet", "stationary"]
Integrator = Literal["exact", "etdrk4", "etd2", "exp_euler"]
FIELDS: tuple[str, ...] = ("theta", "Phi", "mu")
COULOMB_KINDS: tuple[str, ...] = ("none", "bulk", "film")
INITIAL_KINDS: tuple[str, ...] = ("noise", "mode", "gaussian", "packet", "stationary")
INTEGRATORS: tuple[str, ...] = ("exact", "etdrk4", "etd2", "exp_euler")
#: The exponential integrators of :mod:`tdgl_stt.integrators.etd` (a temperature profile).
ETD_INTEGRATORS: tuple[str, ...] = ("etdrk4", "etd2", "exp_euler")
TABLES: tuple[str, ...] = ("model", "grid", "time", "initial", "output", "material", "noise")

#: Working memory per grid point (fields, spectra, propagator and its construction, FFT buffers):
#: the peak RSS of `tdgl-stt run` grew by 420-530 bytes per point from 512^2 to 2048^2 (3 fields).
BYTES_PER_GRID_POINT = 512
#: The same for a run with a temperature profile (coefficient fields, per-mode phi-functions and
#: ETD coefficient matrices, six FFT buffers): peak RSS grew by ~905 bytes per point from 512^2
#: to 1024^2 (2D hot spot, etdrk4).
BYTES_PER_GRID_POINT_ETD = 1024
#: Magnitudes allowed for the non-zero entries of A(q) on the grid (see ``_check_magnitudes``).
ENTRY_RANGE: tuple[float, float] = (1e-100, 1e100)


@dataclass(frozen=True)
class ModelConfig:
    """The ``[model]`` table: paper symbols in natural units (hbar = k_B = 1).

    ``None`` for an override means "use the paper's default relation".

    ``Tc`` (optional): the critical temperature. Given in place of ``Delta``, the gap is the BCS
    gap ``Delta_BCS(T; Tc)`` (:mod:`tdgl_stt.bcs`) and ``Delta`` holds it. With a
    ``temperature_profile`` (:class:`tdgl_stt.profiles.TemperatureProfile`) ``Tc`` is required,
    the gap follows from ``T(x)`` at each point, and ``Delta`` holds the gap at the base ``T``
    (for ``kind = "file"``, ``T`` is the midrange of the file's ``T(x)``).
    """

    Delta: float
    T: float
    vF: float
    d: int
    tau: float
    tauE: float = math.inf
    ns_over_n: float | Literal["clean", "dirty"] = "clean"
    I: float | None = None
    D: float | None = None
    c2: float | None = None
    vT: tuple[float, ...] | None = None
    grad_T: tuple[float, ...] = (0.0,)
    coulomb: CoulombKind = "none"
    ks: float | None = None
    Tc: float | None = None
    temperature_profile: TemperatureProfile | None = None


@dataclass(frozen=True)
class GridConfig:
    """The ``[grid]`` table: points per axis and periodic box lengths."""

    n: tuple[int, ...]
    L: tuple[float, ...]


@dataclass(frozen=True)
class TimeConfig:
    """The ``[time]`` table: output sampling interval and number of frames after t = 0.

    ``integrator``: ``"exact"`` (the per-mode propagator; uniform coefficients only, the default
    without a temperature profile) or one of the exponential integrators ``"etdrk4"`` (the
    default with a profile), ``"etd2"``, ``"exp_euler"``, which take ``steps_per_frame`` steps
    of ``dt / steps_per_frame`` per frame.
    """

    dt: float
    n_frames: int
    integrator: Integrator = "exact"
    steps_per_frame: int = 1


@dataclass(frozen=True)
class InitialConfig:
    """The ``[initial]`` table."""

    kind: InitialKind = "noise"
    amplitude: float = 1e-3
    seed: int = 0
    k: tuple[int, ...] | None = None
    branch: int | None = None
    width: float | None = None
    center: tuple[float, ...] | None = None
    field: str = "theta"


@dataclass(frozen=True)
class OutputConfig:
    """The ``[output]`` table.

    ``checkpoint_every``: frames between two restart checkpoints of the spectral state (for
    ``tdgl-stt run --resume``); None: the runner's default (checkpoint bytes at most 2 % of the
    frame bytes, :func:`tdgl_stt.runner.checkpoint_interval`).
    """

    path: str = "out.nc"
    fields: tuple[str, ...] = FIELDS
    checkpoint_every: int | None = None


@dataclass(frozen=True)
class MaterialConfig:
    """The ``[material]`` table (SI front end); converted into a :class:`ModelConfig`.

    All values in SI units (K, m/s, s, K/m, J^-1 m^-3, m^-3, m); ``None`` means "not given"
    (a preset value or the default of :func:`tdgl_stt.material.material_to_model` applies).
    ``ns_over_n`` is passed through to ``[model]``; ``"auto"`` (the default) picks the
    paper's clean formula when k_B Tc tau / hbar >= 1 and the dirty one otherwise.
    """

    preset: str | None = None
    Tc: float | None = None
    T_over_Tc: float | None = None
    vF: float | None = None
    tau: float | None = None
    tauE: float | None = None
    grad_T: tuple[float, ...] | None = None
    eps_r: float | None = None
    N0: float | None = None
    n: float | None = None
    thickness: float | None = None
    coulomb: CoulombKind | None = None
    d: int | None = None
    ns_over_n: float | Literal["clean", "dirty", "auto"] | None = None


@dataclass(frozen=True)
class RunConfig:
    """A whole run: what ``tdgl-stt run`` executes."""

    model: ModelConfig
    grid: GridConfig
    time: TimeConfig
    initial: InitialConfig = field(default_factory=InitialConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    material: MaterialConfig | None = None
    conversion: dict[str, float | str] | None = None
    source_text: str = ""
    noise: NoiseConfig | None = None


# --------------------------------------------------------------------------------------------
# Value validators: each takes the dotted key and the raw TOML value, returns the clean value
# or raises ConfigError(key, "expected ..., got ...").
# --------------------------------------------------------------------------------------------

_T = TypeVar("_T")


def _printable(text: str) -> str:
    """``text`` with every non-printable character escaped (a key may hold any unicode)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _fail(key: str, message: str) -> NoReturn:
    """Raise :class:`ConfigError` with a one-line message and a printable key."""
    raise ConfigError(_printable(key), _printable(" ".join(message.split())))


def _describe(value: object) -> str:
    """Short one-line rendering of a TOML value with its TOML type, for error messages."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    kinds = {int: "integer", float: "float", str: "string", list: "array", dict: "table"}
    kind = next((name for typ, name in kinds.items() if isinstance(value, typ)), None)
    kind = kind or type(value).__name__
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _range_text(
    low: float | None, low_open: bool, high: float | None, high_open: bool, integer: bool = False
) -> str:
    noun = "an integer" if integer else "a finite number"
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"{noun} in {left}{_fmt(low)}, {_fmt(high)}{right}"
    if low is not None:
        return f"{noun} {'>' if low_open else '>='} {_fmt(low)}"
    if high is not None:
        return f"{noun} {'<' if high_open else '<='} {_fmt(high)}"
    return noun


def _check_range(
    key: str,
    x: float,
    given: object,
    allowed: str,
    low: float | None,
    low_open: bool,
    high: float | None,
    high_open: bool,
) -> None:
    too_low = low is not None and (x <= low if low_open else x < low)
    too_high = high is not None and (x >= high if high_open else x > high)
    if too_low or too_high:
        _fail(key, f"expected {allowed}, got {_describe(given)}")


def _real(
    key: str,
    value: object,
    *,
    low: float | None = None,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    """A finite real number (TOML integer or float, never boolean) within optional bounds."""
    allowed = _range_text(low, low_open, high, high_open)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(key, f"expected {allowed}, got {_describe(value)}")
    try:
        x = float(value)
    except OverflowError:
        _fail(key, f"expected {allowed}, got an integer too large for a float")
    if not math.isfinite(x):
        _fail(key, f"expected {allowed}, got {_describe(value)}; nan and inf are not allowed")
    _check_range(key, x, value, allowed, low, low_open, high, high_open)
    return x


def _positive(key: str, value: object) -> float:
    """A finite number > 0."""
    return _real(key, value, low=0.0, low_open=True)


#: Bounds of an SI input of [material] (far outside any physical value): the conversion squares
#: and multiplies them with constants like e^2/eps0 ~ 3e-27, so values beyond these would
#: underflow to 0 or overflow to inf there.
SI_MIN, SI_MAX = 1e-100, 1e100


def _si_positive(key: str, value: object) -> float:
    """A positive SI value between :data:`SI_MIN` and :data:`SI_MAX`."""
    return _real(key, value, low=SI_MIN, high=SI_MAX)


def _si_tau_e(key: str, value: object) -> float:
    """tauE in seconds: as :func:`_tau_e`, a finite value within the SI bounds."""
    x = _tau_e(key, value)
    return x if math.isinf(x) else _si_positive(key, x)


def _nonnegative(key: str, value: object) -> float:
    """A finite number >= 0."""
    return _real(key, value, low=0.0)


def _integer(
    key: str,
    value: object,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """A TOML integer (not a float, not a boolean) within optional bounds."""
    allowed = _range_text(low, False, high, False, integer=True)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(key, f"expected {allowed}, got {_describe(value)}")
    _check_range(key, value, value, allowed, low, False, high, False)
    return value


def _choice(key: str, value: object, choices: Sequence[str]) -> str:
    """One string out of ``choices``."""
    allowed = ", ".join(f'"{c}"' for c in choices)
    if not isinstance(value, str) or value not in choices:
        _fail(key, f"expected one of {allowed}, got {_describe(value)}")
    return value


def _tau_e(key: str, value: object) -> float:
    """tauE: a positive finite number, or ``"inf"`` / TOML ``inf`` meaning infinity."""
    if value == "inf" or (isinstance(value, float) and value == math.inf):
        return math.inf
    try:
        return _positive(key, value)
    except ConfigError:
        _fail(
            key,
            'expected a positive number or "inf" (no inelastic relaxation), '
            f"got {_describe(value)}",
        )


def _fraction_or_kind(key: str, value: object, kinds: Sequence[str]) -> float | str:
    """n_s/n: a number in (0, 1] or one of the named formulas ``kinds``."""
    if isinstance(value, str) and value in kinds:
        return value
    try:
        return _real(key, value, low=0.0, low_open=True, high=1.0)
    except ConfigError:
        names = ", ".join(f'"{k}"' for k in kinds)
        _fail(key, f"expected a finite number in (0, 1] or one of {names}, got {_describe(value)}")


def _list(
    key: str,
    value: object,
    item: Callable[[str, object], _T],
    *,
    length: int | None = None,
    length_hint: str = "",
    min_length: int = 1,
    max_length: int | None = None,
) -> tuple[_T, ...]:
    """A TOML array whose elements each pass ``item``; element errors name their index."""
    if not isinstance(value, list):
        _fail(key, f"expected an array, got {_describe(value)}")
    if length is not None and len(value) != length:
        need = length_hint or f"{length} are needed"
        _fail(key, f"has {_plural(len(value), 'entry', 'entries')} but {need}")
    if len(value) < min_length or (max_length is not None and len(value) > max_length):
        if max_length is not None:
            wanted = f"an array of {min_length} to {max_length} entries"
        else:
            wanted = (
                "a non-empty array"
                if min_length == 1
                else f"an array of at least {min_length} entries"
            )
        _fail(key, f"expected {wanted}, got {_plural(len(value), 'entry', 'entries')}")
    out = []
    for i, element in enumerate(value):
        try:
            out.append(item(key, element))
        except ConfigError as exc:
            _fail(key, f"element {i}: {exc.message}")
    return tuple(out)


def _axis_list(
    key: str, value: object, ndim: int, item: Callable[[str, object], _T] = _real
) -> tuple[_T, ...]:
    """One entry per grid axis (``len(grid.n)`` entries)."""
    hint = f"grid.n has {_plural(ndim, 'axis', 'axes')}; give one entry per grid axis"
    return _list(key, value, item, length=ndim, length_hint=hint)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _check_keys(name: str, table: Mapping[str, object], allowed: Sequence[str]) -> None:
    """Refuse keys of ``table`` that are not in ``allowed``."""
    for k in table:
        if k not in allowed:
            _fail(f"{name}.{k}", f"unknown key in [{name}]; allowed keys: {', '.join(allowed)}")


class _Table:
    """Read access to one TOML table that builds dotted keys and applies validators."""

    def __init__(self, name: str, table: Mapping[str, object], allowed: Sequence[str]) -> None:
        _check_keys(name, table, allowed)
        self.name = name
        self.table = table

    def key(self, k: str) -> str:
        return f"{self.name}.{k}"

    def required(self, k: str, check: Callable[[str, object], _T], hint: str = "") -> _T:
        if k not in self.table:
            why = f"; {hint}" if hint else ""
            _fail(self.key(k), f"missing required key in [{self.name}]{why}")
        return check(self.key(k), self.table[k])

    def optional(self, k: str, check: Callable[[str, object], _T], default: Any = None) -> Any:
        if k not in self.table:
            return default
        return check(self.key(k), self.table[k])

    def forbid(self, k: str, reason: str) -> None:
        if k in self.table:
            _fail(self.key(k), f"not allowed here: {reason}; got {_describe(self.table[k])}")


def available_memory() -> int | None:
    """Bytes of memory available for a new allocation: ``MemAvailable`` of ``/proc/meminfo``
    (free memory plus the page cache and other memory the kernel can reclaim), else free
    physical pages from ``sysconf``; None if neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return avail if avail > 0 else None


def _grid_memory_check(n: tuple[int, ...], per_point: int = BYTES_PER_GRID_POINT, key: str = "grid.n") -> None:
    """Refuse a grid whose working set (~``per_point`` bytes per point) exceeds free memory."""
    points = math.prod(n)
    need = points * per_point
    avail = available_memory()
    if avail is not None and need > avail:
        gib = 2.0**30
        _fail(
            key,
            f"{'x'.join(map(str, n))} = {points} points needs about {need / gib:.3g} GiB "
            f"(~{per_point} bytes per point) but only {avail / gib:.3g} GiB of memory "
            "is available; use fewer points",
        )


def _even_points(key: str, value: object) -> int:
    m = _integer(key, value, low=2)
    if m % 2:
        _fail(
            key,
            f"got {m}, an odd number of points; only even numbers are allowed because the "
            "spectral operators follow the Nyquist convention of even grids (wavenumbers "
            "-n/2 .. n/2-1; first derivatives vanish at the Nyquist wavenumber n/2 so real "
            "fields stay real), which has no counterpart on an odd grid",
        )
    return m


def _parse_grid(raw: Mapping[str, object]) -> GridConfig:
    t = _Table("grid", raw, _field_names(GridConfig))
    n = t.required("n", lambda k, v: _list(k, v, _even_points, max_length=3))
    hint = f"grid.n has {_plural(len(n), 'entry', 'entries')}; give one length per axis"
    L = t.required("L", lambda k, v: _list(k, v, _positive, length=len(n), length_hint=hint))
    _grid_memory_check(n)
    return GridConfig(n=n, L=L)


def _parse_model(raw: Mapping[str, object], grid: GridConfig) -> ModelConfig:
    """Validate a ``[model]`` table (given directly or produced by the material front end)."""
    ndim = len(grid.n)
    t = _Table("model", raw, _field_names(ModelConfig))
    coulomb = t.optional("coulomb", lambda k, v: _choice(k, v, COULOMB_KINDS), "none")
    Tc = t.optional("Tc", _positive)
    profile = t.optional("temperature_profile", lambda k, v: _parse_profile(k, v, grid))
    T_field = None
    if profile is not None:
        _grid_memory_check(grid.n, BYTES_PER_GRID_POINT_ETD)
        if Tc is None:
            _fail("model.Tc", "missing required key in [model]; a temperature_profile needs the "
                              "critical temperature Tc: the gap follows from T(x) at each point")
        t.forbid("Delta", "with a temperature_profile the gap follows from T(x) and Tc (BCS) at "
                          "each point")
        for k in ("I", "c2", "vT"):
            t.forbid(k, f"with a temperature_profile {k} follows from T(x) at each point")
        T_field = _profile_temperatures(profile, grid, t, Tc)
        T = 0.5 * (float(T_field.min()) + float(T_field.max())) if profile.kind == "file" else t.required("T", _positive)
    else:
        T = t.required("T", _positive)
        if Tc is not None and "Delta" in t.table:
            _fail("model.Tc", "give Delta or Tc (the gap is then the BCS gap at T), not both")
    if Tc is not None:
        if not T < Tc:
            _fail("model.T", f"T = {T:g} is not below Tc = {Tc:g}: there is no gap")
        from .bcs import bcs_gap

        Delta = bcs_gap(T, Tc)
    else:
        Delta = t.required("Delta", _positive, hint="or give Tc for the BCS gap at T")
    model = ModelConfig(
        Delta=Delta,
        T=T,
        vF=t.required("vF", _positive),
        d=t.required("d", lambda k, v: _integer(k, v, low=1, high=3)),
        tau=t.required("tau", _positive),
        tauE=t.optional("tauE", _tau_e, math.inf),
        ns_over_n=t.optional(
            "ns_over_n", lambda k, v: _fraction_or_kind(k, v, ("clean", "dirty")), "clean"
        ),
        I=t.optional("I", _positive),
        D=t.optional("D", _nonnegative),
        c2=t.optional("c2", _nonnegative),
        vT=t.optional("vT", lambda k, v: _axis_list(k, v, ndim)),
        grad_T=t.optional("grad_T", lambda k, v: _axis_list(k, v, ndim), (0.0,) * ndim),
        coulomb=coulomb,
        ks=(
            t.required(
                "ks", _positive, hint=f'coulomb = "{coulomb}" needs the screening wavenumber ks > 0'
            )
            if coulomb != "none"
            else None
        ),
        Tc=Tc,
        temperature_profile=profile,
    )
    if coulomb == "none":
        t.forbid("ks", 'ks is only used with coulomb = "bulk" or "film"')
        if model.D == 0:
            _fail(
                "model.coulomb",
                'coulomb = "none" with D = 0: the neutral model with D = 0 has no dynamics '
                "(Eq. 7 with 1/V_q = 0 has no collective mode); "
                'choose coulomb = "bulk" or "film"',
            )
    if coulomb == "film" and ndim == 3:
        _fail(
            "model.coulomb",
            'coulomb = "film" is the 2D kernel |q|/ks; it needs a 1D or 2D grid, got a 3D grid',
        )
    _check_magnitudes(model, grid)
    return model


def _center(key: str, value: object, grid: GridConfig) -> tuple[float, ...]:
    return _axis_list(key, value, len(grid.n))


def _parse_profile(key: str, raw: object, grid: GridConfig) -> TemperatureProfile:
    """The ``[model.temperature_profile]`` table (:class:`tdgl_stt.profiles.TemperatureProfile`)."""
    from .grid import AXES

    if not isinstance(raw, dict):
        _fail(key, f"expected a table [model.temperature_profile], got {_describe(raw)}")
    t = _Table(key, raw, _field_names(TemperatureProfile))
    kind = t.required("kind", lambda k, v: _choice(k, v, PROFILE_KINDS))
    uses = {
        "uniform": ("kind", "T_ref"),
        "gaussian": ("kind", "amplitude", "width", "center", "T_ref"),
        "tanh_step": ("kind", "amplitude", "width", "center", "axis", "T_ref"),
        "file": ("kind", "path", "variable", "T_ref"),
    }[kind]
    for k in _field_names(TemperatureProfile):
        if k not in uses:
            t.forbid(k, f'"{k}" is not used with kind = "{kind}" (its keys: {", ".join(uses[1:])})')
    axes = AXES[: len(grid.n)]
    axis = t.optional("axis", lambda k, v: _choice(k, v, axes), "x")
    center: tuple[float, ...] | None = None
    if kind == "gaussian":
        center = t.optional("center", lambda k, v: _center(k, v, grid), tuple(x / 2 for x in grid.L))
    elif kind == "tanh_step":
        center = (t.optional("center", _real, grid.L[axes.index(axis)] / 4),)
    shaped = kind in ("gaussian", "tanh_step")
    return TemperatureProfile(
        kind=kind,
        amplitude=t.required("amplitude", _real) if shaped else 0.0,
        width=t.required("width", _gaussian_width) if shaped else None,
        center=center,
        axis=axis,
        path=t.required("path", _nonempty_string) if kind == "file" else None,
        variable=t.optional("variable", _nonempty_string, "T"),
        T_ref=t.optional("T_ref", _positive),
    )


def _profile_temperatures(profile: TemperatureProfile, grid: GridConfig, t: _Table, Tc: float):
    """``T(x)`` on the grid; refuses a profile that leaves ``(0, Tc)`` or a misplaced ``T``."""
    from .grid import Grid
    from .profiles import temperature_field

    key = "model.temperature_profile"
    if profile.kind == "file":
        t.forbid("T", 'with kind = "file" the file gives T(x)')
        base = None
    else:
        base = t.required("T", _positive)
    T = temperature_field(profile, Grid(tuple(grid.n), tuple(grid.L)), base)
    if not (np.all(T > 0) and np.all(T < Tc)):
        _fail(key, f"T(x) spans {T.min():.6g} .. {T.max():.6g}; it must stay within (0, Tc = {Tc:g}) "
                   "everywhere (the model describes a superconductor)")
    if profile.T_ref is not None and not profile.T_ref < Tc:
        _fail(f"{key}.T_ref", f"expected T_ref < Tc = {Tc:g}, got {profile.T_ref:g}")
    return T


def _check_magnitudes(model: ModelConfig, grid: GridConfig) -> None:
    """Refuse values whose coefficients, or entries of A(q) on the grid, leave float64's safe range.

    Every value may be valid on its own and still overflow in combination (Delta/T = 800 makes
    cosh^2(Delta/2T) of Eq. 15 overflow; L = 1e-300 makes q^2 infinite). The exact propagator
    multiplies up to three entries of A(q), so each non-zero entry must lie within
    :data:`ENTRY_RANGE` at the smallest and the largest wavevector of the grid.
    """
    from .params import coefficients_from_model  # lazy: params imports this module

    inputs = (f"Delta = {model.Delta:g}, T = {model.T:g}, vF = {model.vF:g}, tau = {model.tau:g}, "
              f"d = {model.d}")
    try:
        c = coefficients_from_model(model)
        coefficients = {"I": c.I, "c2": c.c2, "D": c.D, "Delta^2/T": c.torque_prefactor,
                        "|vT|": math.hypot(*c.vT), "1/tauE": c.g}
    except (OverflowError, ZeroDivisionError) as exc:
        _fail("model", f"deriving the coefficients of equations (1)-(3) from {inputs} fails "
                       f"({type(exc).__name__}: {exc}); choose values of moderate size")
    for name, value in coefficients.items():
        if not math.isfinite(value):
            _fail("model", f"the derived coefficient {name} = {value} is not finite ({inputs}); "
                           "choose values of moderate size")
    low, high = ENTRY_RANGE
    q_min = 2.0 * math.pi / max(grid.L)
    q_max = math.hypot(*(math.pi * n / L for n, L in zip(grid.n, grid.L)))
    for q in (q_min, q_max):
        if not low <= q <= high:
            _fail("grid.L", f"the grid's wavevectors reach |q| = {q:.3g}, outside {low:g}..{high:g}; "
                            "choose a length unit in which L and L/n are of moderate size")
        ratio = 0.0 if model.coulomb == "none" else q / model.ks
        eps = ratio * ratio if model.coulomb == "bulk" else ratio  # no ** : it raises on overflow
        entries = {
            "c2 q^2": c.c2 * q * q,
            "(Delta^2/T) |q| |vT|": c.torque_prefactor * q * coefficients["|vT|"],
            "2 D q^2": 2.0 * c.D * q * q,
            "eps_hat(q)": eps,
            "1/tauE": c.g,
            "I": c.I,
        }
        for name, value in entries.items():
            if value != 0 and not low <= abs(value) <= high:
                _fail("model", f"at |q| = {q:.3g} the entry {name} of A(q) is {value:.3g}, outside "
                               f"{low:g}..{high:g} where the exact propagator's float64 arithmetic is "
                               f"safe (I = {c.I:.3g}, c2 = {c.c2:.3g}, D = {c.D:.3g}, "
                               f"Delta^2/T = {c.torque_prefactor:.3g}); choose units in which they are "
                               "of moderate size")


def _parse_time(raw: Mapping[str, object], model: ModelConfig) -> TimeConfig:
    t = _Table("time", raw, _field_names(TimeConfig))
    profile = model.temperature_profile
    varies = profile is not None and not profile.is_uniform
    integrator = t.optional("integrator", lambda k, v: _choice(k, v, INTEGRATORS), "etdrk4" if varies else "exact")
    if integrator == "exact":
        if varies:
            _fail("time.integrator", f'"exact" propagates uniform coefficients only; with the '
                                     f'temperature_profile kind = "{profile.kind}" use "etdrk4", "etd2" or "exp_euler"')
        t.forbid("steps_per_frame", 'the "exact" integrator advances each frame exactly, in one step')
    elif profile is None:
        _fail("time.integrator", f'"{integrator}" integrates a [model.temperature_profile]; '
                                 'without one use "exact" (uniform coefficients)')
    return TimeConfig(
        dt=t.required("dt", _positive),
        n_frames=t.required("n_frames", lambda k, v: _integer(k, v, low=1)),
        integrator=integrator,
        steps_per_frame=t.optional("steps_per_frame", lambda k, v: _integer(k, v, low=1), 1),
    )


def _gaussian_width(key: str, value: object) -> float:
    """A width ``w > 0`` whose ``2 w^2`` is a finite, non-zero float (1e-154 < w < 9e153)."""
    w = _positive(key, value)
    if not 0.0 < 2.0 * w * w < math.inf:
        _fail(key, f"got {_describe(value)}; 2 width^2 must be a finite non-zero float "
                   "(1e-154 < width < 9e153)")
    return w


def _mode_index(grid: GridConfig) -> Callable[[str, object], tuple[int, ...]]:
    def check(key: str, value: object) -> tuple[int, ...]:
        k = _axis_list(key, value, len(grid.n), _integer)
        for i, (ki, ni) in enumerate(zip(k, grid.n)):
            if abs(ki) > ni // 2:
                _fail(
                    key,
                    f"element {i}: |k| = {abs(ki)} exceeds n/2 = {ni // 2} (grid.n[{i}] = {ni})",
                )
        return k

    return check


def _parse_initial(
    raw: Mapping[str, object], grid: GridConfig, model: ModelConfig
) -> InitialConfig:
    t = _Table("initial", raw, _field_names(InitialConfig))
    kind = t.optional("kind", lambda k, v: _choice(k, v, INITIAL_KINDS), "noise")
    n_branches = 2 if model.coulomb == "none" else 3
    if kind not in ("mode", "packet"):
        for k in ("k", "branch"):
            t.forbid(k, f'"{k}" is only used with kind = "mode" or "packet", got kind = "{kind}"')
    if kind not in ("gaussian", "packet"):
        for k in ("width", "center"):
            t.forbid(k, f'"{k}" is only used with kind = "gaussian" or "packet", got kind = "{kind}"')
    if kind == "stationary":
        for k in ("amplitude", "seed"):
            t.forbid(k, f'kind = "stationary" draws the state from the [noise] table\'s stationary '
                        f'distribution with the [noise] seed; "{k}" is not used')
    if kind != "gaussian":
        t.forbid("field", f'"field" is only used with kind = "gaussian", got kind = "{kind}"')
    is_mode, is_gauss = kind in ("mode", "packet"), kind in ("gaussian", "packet")
    if kind == "packet" and "k" in t.table:
        k0 = _mode_index(grid)("initial.k", t.table["k"])
        if all(v == 0 for v in k0):
            _fail("initial.k", "a packet needs a carrier wavevector: k must not be all 0")
    return InitialConfig(
        kind=kind,
        amplitude=t.optional("amplitude", _real, 1e-3),
        seed=t.optional("seed", lambda k, v: _integer(k, v, low=0), 0),
        k=(
            t.required("k", _mode_index(grid), hint=f'kind = "{kind}" needs integer k, one per axis')
            if is_mode
            else None
        ),
        branch=t.optional("branch", lambda k, v: _integer(k, v, low=0, high=n_branches - 1)),
        width=(
            t.required("width", _gaussian_width, hint=f'kind = "{kind}" needs width > 0')
            if is_gauss
            else None
        ),
        center=(
            t.optional(
                "center",
                lambda k, v: _axis_list(k, v, len(grid.n)),
                tuple(x / 2 for x in grid.L),
            )
            if is_gauss
            else None
        ),
        field=t.optional("field", lambda k, v: _choice(k, v, FIELDS), "theta"),
    )


def _nonempty_string(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(key, f"expected a non-empty string, got {_describe(value)}")
    return value


def _field_list(key: str, value: object) -> tuple[str, ...]:
    names = _list(key, value, lambda k, v: _choice(k, v, FIELDS))
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        _fail(key, f"duplicate field names {dup}; each of {', '.join(FIELDS)} may appear once")
    return names


def _parse_output(raw: Mapping[str, object]) -> OutputConfig:
    t = _Table("output", raw, _field_names(OutputConfig))
    return OutputConfig(
        path=t.optional("path", _nonempty_string, "out.nc"),
        fields=t.optional("fields", _field_list, FIELDS),
        checkpoint_every=t.optional("checkpoint_every", lambda k, v: _integer(k, v, low=1)),
    )


def _preset_name(key: str, value: object) -> str:
    from .material import PRESETS  # lazy: material imports this module

    if not isinstance(value, str) or value not in PRESETS:
        names = ", ".join(sorted(PRESETS))
        _fail(key, f"unknown preset {_describe(value)}; available presets: {names}")
    return value


def _material_rules(ndim: int) -> dict[str, Callable[[str, object], object]]:
    """Validator of every ``[material]`` key (SI values), for an ``ndim``-dimensional grid."""
    return {
        "preset": _preset_name,
        "Tc": _si_positive,
        "T_over_Tc": lambda k, v: _real(k, v, low=0.0, low_open=True, high=1.0, high_open=True),
        "vF": _si_positive,
        "tau": _si_positive,
        "tauE": _si_tau_e,
        "grad_T": lambda k, v: _axis_list(k, v, ndim),
        "eps_r": _si_positive,
        "N0": _si_positive,
        "n": _si_positive,
        "thickness": _si_positive,
        "coulomb": lambda k, v: _choice(k, v, COULOMB_KINDS),
        "d": lambda k, v: _integer(k, v, low=1, high=3),
        "ns_over_n": lambda k, v: _fraction_or_kind(k, v, ("clean", "dirty", "auto")),
    }


def _validate_material_values(values: Mapping[str, object], ndim: int) -> dict[str, object]:
    """Validate the given (non-None) ``[material]`` values; unknown keys are refused.

    Used both on the TOML table and, after preset merging, inside
    :func:`tdgl_stt.material.material_to_model`, so the rules live in one place.
    """
    rules = _material_rules(ndim)
    _check_keys("material", values, tuple(rules))
    return {k: rules[k](f"material.{k}", v) for k, v in values.items() if v is not None}


def _parse_material(raw: Mapping[str, object], ndim: int) -> MaterialConfig:
    return MaterialConfig(**_validate_material_values(raw, ndim))


def _sub_table(doc: Mapping[str, object], name: str) -> Mapping[str, object] | None:
    if name not in doc:
        return None
    value = doc[name]
    if not isinstance(value, dict):
        _fail(name, f"expected a table [{name}], got {_describe(value)}")
    return value


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def parse_config(text: str, *, source: str = "<string>") -> RunConfig:
    """Parse and validate a run configuration given as TOML text.

    Parameters
    ----------
    text
        The TOML document.
    source
        Where ``text`` came from (a file name), used in syntax-error messages.

    Returns
    -------
    RunConfig
        Frozen, validated configuration; ``source_text`` is ``text`` verbatim. When the
        ``[material]`` table is used, ``material`` and ``conversion`` (SI inputs and unit
        system, see :mod:`tdgl_stt.material`) are set and ``model`` holds the converted values.

    Raises
    ------
    ConfigError
        On a TOML syntax error (key ``"<file>"``) or any invalid, missing or unknown key
        (key = its dotted path, e.g. ``"model.tau"``).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail("<file>", f"{source}: invalid TOML: {exc}")
    for name in doc:
        if name not in TABLES:
            _fail(name, f"unknown table [{name}]; allowed tables: {', '.join(TABLES)}")
    tables = {name: _sub_table(doc, name) for name in TABLES}
    if tables["model"] is not None and tables["material"] is not None:
        _fail(
            "material",
            "give either [model] (natural units) or [material] (SI front end), not both",
        )
    if tables["model"] is None and tables["material"] is None:
        _fail("model", "missing table: give [model] (natural units) or [material] (SI front end)")
    for name in ("grid", "time"):
        if tables[name] is None:
            _fail(name, f"missing required table [{name}]")

    grid = _parse_grid(tables["grid"])
    material = conversion = None
    if tables["material"] is not None:
        from .material import material_to_model  # lazy: material imports this module

        material = _parse_material(tables["material"], len(grid.n))
        model_dict, conversion = material_to_model(material, ndim=len(grid.n))
        model = _parse_model(model_dict, grid)
    else:
        model = _parse_model(tables["model"], grid)
    time = _parse_time(tables["time"], model)
    initial = _parse_initial(tables["initial"] or {}, grid, model)
    from .noise.config import parse_noise  # lazy: tdgl_stt.noise imports this module

    noise = parse_noise(tables["noise"]) if tables["noise"] is not None else None
    _check_noise(noise, time, initial, model)
    return RunConfig(
        model=model,
        grid=grid,
        time=time,
        initial=initial,
        output=_parse_output(tables["output"] or {}),
        material=material,
        conversion=conversion,
        source_text=text,
        noise=noise,
    )


def _check_noise(noise: NoiseConfig | None, time: TimeConfig, initial: InitialConfig, model: ModelConfig) -> None:
    """``[initial] kind = "stationary"`` needs noise, and a temperature that is constant in space.

    Noise with a temperature profile runs on the ETD path (``docs/noise.md``, section 10). Its
    stationary state is known in closed form only where ``T(x)`` is constant (the uniform
    medium's Lyapunov covariance); where T varies, the position-dependent coefficients couple
    the wavevectors and the profile's gradient drives a torque, so the stationary covariance is
    that of the whole coupled system, which is not computed: the run must reach it itself.
    """
    noisy = noise is not None and noise.strength > 0
    if initial.kind == "stationary" and not noisy:
        _fail("initial.kind", '"stationary" draws the state from the stationary distribution of the '
                              "noise: it needs a [noise] table with strength > 0")
    profile = model.temperature_profile
    if initial.kind == "stationary" and profile is not None and not profile.is_uniform:
        _fail("initial.kind", f'"stationary" with the temperature_profile kind = "{profile.kind}": the stationary '
                              "state of a temperature that varies in space is not known in closed form (the "
                              "profile couples the wavevectors and its gradient drives a torque); start from "
                              'kind = "noise" and leave out a burn-in of a few relaxation times '
                              "(tdgl-stt analyze --stationary --burn-in T)")


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read a TOML run file (UTF-8) and validate it with :func:`parse_config`.

    Raises
    ------
    ConfigError
        If the file cannot be read (key ``"<file>"``) or its contents are invalid.
    """
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except OSError as exc:
        _fail("<file>", f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        _fail("<file>", f"{os.fspath(path)!r} is not UTF-8 text: {exc}")
    return parse_config(text, source=os.fspath(path))
