"""Tests of tdgl_stt.config: valid run files parse, and every class of bad input raises
ConfigError naming the dotted key with a one-line message."""

from __future__ import annotations

import copy
import math

import pytest

from tdgl_stt.config import (
    FIELDS,
    GridConfig,
    ModelConfig,
    RunConfig,
    available_memory,
    load_config,
    parse_config,
)
from tdgl_stt.errors import ConfigError

DELETE = object()

BASE_1D: dict[str, dict[str, object]] = {
    "model": {
        "Delta": 0.3,
        "T": 1.0,
        "vF": 1.0,
        "d": 3,
        "tau": 10.0,
        "coulomb": "bulk",
        "ks": 50.0,
    },
    "grid": {"n": [64], "L": [100.0]},
    "time": {"dt": 0.5, "n_frames": 20},
}

BASE_2D: dict[str, dict[str, object]] = {
    "model": {
        "Delta": 0.3,
        "T": 1.0,
        "vF": 1.0,
        "d": 2,
        "tau": 10.0,
        "tauE": "inf",
        "ns_over_n": "dirty",
        "grad_T": [1e-3, 0.0],
        "coulomb": "film",
        "ks": 5.0,
    },
    "grid": {"n": [32, 16], "L": [50.0, 25.0]},
    "time": {"dt": 0.25, "n_frames": 4, "integrator": "exact"},
    "initial": {"kind": "mode", "k": [1, -2], "branch": 0, "amplitude": 1e-2, "seed": 7},
    "output": {"path": "run.nc", "fields": ["theta", "mu"]},
}


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(v)


def render(doc: dict[str, dict[str, object]]) -> str:
    """Render a {table: {key: value}} dict as TOML."""
    out = []
    for table, body in doc.items():
        out.append(f"[{table}]")
        out += [f"{k} = {_value(v)}" for k, v in body.items()]
        out.append("")
    return "\n".join(out)


def variant_dict(base: dict, table: str, key: str | None = None, value: object = DELETE) -> dict:
    """Copy of ``base`` with ``table.key`` set to ``value`` (or deleted).

    With ``key=None`` the whole table is replaced by ``value`` (or deleted).
    """
    doc = copy.deepcopy(base)
    if key is None:
        if value is DELETE:
            doc.pop(table, None)
        else:
            doc[table] = value
    elif value is DELETE:
        doc[table].pop(key, None)
    else:
        doc.setdefault(table, {})[key] = value
    return doc


def variant(base: dict, table: str, key: str | None = None, value: object = DELETE) -> str:
    """TOML text of :func:`variant_dict`."""
    return render(variant_dict(base, table, key, value))


def material_run(**material: object) -> str:
    """A run file with ``[material]`` instead of ``[model]``."""
    return render({"material": material, "grid": BASE_1D["grid"], "time": BASE_1D["time"]})


NEUTRAL_1D = variant_dict(variant_dict(BASE_1D, "model", "ks"), "model", "coulomb")


def expect_error(text: str, key: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    err = info.value
    assert err.key == key, f"expected key {key!r}, got {err.key!r}: {err.message}"
    assert "\n" not in err.message and "\n" not in str(err)
    assert err.message.strip()
    return err


# ---------------------------------------------------------------------------------- valid


def test_valid_1d_defaults() -> None:
    text = render(BASE_1D)
    cfg = parse_config(text)
    assert isinstance(cfg, RunConfig)
    assert cfg.source_text == text
    assert cfg.grid == GridConfig(n=(64,), L=(100.0,))
    m = cfg.model
    assert isinstance(m, ModelConfig)
    assert (m.Delta, m.T, m.vF, m.d, m.tau) == (0.3, 1.0, 1.0, 3, 10.0)
    assert m.tauE == math.inf and m.ns_over_n == "clean"
    assert m.grad_T == (0.0,) and m.vT is None and m.coulomb == "bulk" and m.ks == 50.0
    assert cfg.time.dt == 0.5 and cfg.time.n_frames == 20 and cfg.time.integrator == "exact"
    assert cfg.initial.kind == "noise" and cfg.initial.amplitude == 1e-3 and cfg.initial.seed == 0
    assert cfg.output.path == "out.nc" and cfg.output.fields == FIELDS
    assert cfg.material is None and cfg.conversion is None


def test_valid_2d_full() -> None:
    cfg = parse_config(render(BASE_2D))
    assert cfg.grid.n == (32, 16) and cfg.grid.L == (50.0, 25.0)
    assert cfg.model.grad_T == (1e-3, 0.0) and cfg.model.coulomb == "film"
    assert cfg.model.tauE == math.inf and cfg.model.ns_over_n == "dirty"
    assert cfg.initial.k == (1, -2) and cfg.initial.branch == 0 and cfg.initial.seed == 7
    assert cfg.output.fields == ("theta", "mu")


def test_ints_accepted_for_floats_and_inf_for_tau_e() -> None:
    doc = variant_dict(BASE_1D, "model", "tauE", math.inf)
    cfg = parse_config(variant(doc, "model", "tau", 10))
    assert cfg.model.tau == 10.0 and isinstance(cfg.model.tau, float)
    assert cfg.model.tauE == math.inf


def test_overrides_and_t0_limit() -> None:
    """Eq. 7 (T = 0) through overrides: I = 1, D = 0, n_s/n = 1 with a Coulomb kernel."""
    doc = copy.deepcopy(BASE_1D)
    doc["model"].update({"I": 1, "D": 0, "ns_over_n": 1, "c2": 0.5, "vT": [0.01]})
    cfg = parse_config(render(doc))
    assert (cfg.model.I, cfg.model.D, cfg.model.ns_over_n, cfg.model.c2) == (1.0, 0.0, 1.0, 0.5)
    assert cfg.model.vT == (0.01,)


def test_neutral_model() -> None:
    assert parse_config(render(NEUTRAL_1D)).model.coulomb == "none"


def test_gaussian_initial_defaults_center() -> None:
    initial = {"kind": "gaussian", "width": 2.0, "field": "Phi"}
    cfg = parse_config(variant(BASE_2D, "initial", None, initial))
    assert cfg.initial.center == (25.0, 12.5)
    assert cfg.initial.width == 2.0 and cfg.initial.field == "Phi"


def test_load_config(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(render(BASE_1D), encoding="utf-8")
    assert load_config(path).grid.n == (64,)
    assert load_config(str(path)).source_text == render(BASE_1D)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.toml")
    assert info.value.key == "<file>"


def test_material_table() -> None:
    cfg = parse_config(material_run(preset="aluminium", T_over_Tc=0.9, grad_T=[1000.0]))
    assert cfg.material is not None and cfg.material.preset == "aluminium"
    assert cfg.conversion is not None and cfg.conversion["Tc_K"] == 1.2
    assert cfg.model.coulomb == "bulk" and cfg.model.ks is not None
    assert cfg.model.grad_T == pytest.approx((1e-3,))


# ---------------------------------------------------------------------------------- invalid

CASES = [
    # structure
    ("unknown table", variant(BASE_1D, "solver", None, {"x": 1}), "solver"),
    ("unknown key", variant(BASE_1D, "model", "Tau", 1.0), "model.Tau"),
    ("unknown grid key", variant(BASE_1D, "grid", "dx", [1.0]), "grid.dx"),
    ("unknown output key", variant(BASE_1D, "output", "format", "nc"), "output.format"),
    ("missing model", variant(BASE_1D, "model"), "model"),
    ("missing grid", variant(BASE_1D, "grid"), "grid"),
    ("missing time", variant(BASE_1D, "time"), "time"),
    ("both model and material", variant(BASE_1D, "material", None, {"T_over_Tc": 0.5}), "material"),
    ("table is a value", "output = 3\n" + render(BASE_1D), "output"),
    # wrong types
    ("string for number", variant(BASE_1D, "model", "tau", "10"), "model.tau"),
    ("bool for number", variant(BASE_1D, "model", "Delta", True), "model.Delta"),
    ("bool for int", variant(BASE_1D, "time", "n_frames", True), "time.n_frames"),
    ("float for int", variant(BASE_1D, "time", "n_frames", 10.0), "time.n_frames"),
    ("list for scalar", variant(BASE_1D, "time", "dt", [0.5]), "time.dt"),
    ("scalar for list", variant(BASE_1D, "grid", "L", 100.0), "grid.L"),
    ("bool in list", variant(BASE_1D, "grid", "n", [True]), "grid.n"),
    ("bad string", variant(BASE_1D, "model", "coulomb", "3d"), "model.coulomb"),
    ("bad ns_over_n string", variant(BASE_1D, "model", "ns_over_n", "pure"), "model.ns_over_n"),
    ("bad tauE string", variant(BASE_1D, "model", "tauE", "infinity"), "model.tauE"),
    ("bad integrator", variant(BASE_1D, "time", "integrator", "rk4"), "time.integrator"),
    ("bad field", variant(BASE_1D, "output", "fields", ["theta", "rho"]), "output.fields"),
    ("d float", variant(BASE_1D, "model", "d", 3.0), "model.d"),
    # out of range
    ("negative tau", variant(BASE_1D, "model", "tau", -1.0), "model.tau"),
    ("zero Delta", variant(BASE_1D, "model", "Delta", 0), "model.Delta"),
    ("zero T", variant(BASE_1D, "model", "T", 0.0), "model.T"),
    ("zero dt", variant(BASE_1D, "time", "dt", 0.0), "time.dt"),
    ("n_frames 0", variant(BASE_1D, "time", "n_frames", 0), "time.n_frames"),
    ("odd n", variant(BASE_1D, "grid", "n", [63]), "grid.n"),
    ("n too small", variant(BASE_1D, "grid", "n", [0]), "grid.n"),
    ("too many axes", variant(BASE_1D, "grid", "n", [4, 4, 4, 4]), "grid.n"),
    ("empty n", variant(BASE_1D, "grid", "n", []), "grid.n"),
    ("negative L", variant(BASE_1D, "grid", "L", [-1.0]), "grid.L"),
    ("d = 4", variant(BASE_1D, "model", "d", 4), "model.d"),
    ("ns_over_n > 1", variant(BASE_1D, "model", "ns_over_n", 1.5), "model.ns_over_n"),
    ("ns_over_n = 0", variant(BASE_1D, "model", "ns_over_n", 0), "model.ns_over_n"),
    ("negative D", variant(BASE_1D, "model", "D", -0.1), "model.D"),
    ("zero I", variant(BASE_1D, "model", "I", 0), "model.I"),
    ("negative tauE", variant(BASE_1D, "model", "tauE", -1.0), "model.tauE"),
    ("zero ks", variant(BASE_1D, "model", "ks", 0.0), "model.ks"),
    ("negative seed", variant(BASE_1D, "initial", "seed", -1), "initial.seed"),
    ("mode k too large", variant(BASE_2D, "initial", "k", [17, 0]), "initial.k"),
    ("branch > 2 (film: 3 roots)", variant(BASE_2D, "initial", "branch", 3), "initial.branch"),
    ("branch > 1 (neutral: 2 roots)", variant(
        NEUTRAL_1D, "initial", None, {"kind": "mode", "k": [1], "branch": 2}
    ), "initial.branch"),
    ("empty output path", variant(BASE_1D, "output", "path", ""), "output.path"),
    ("empty fields", variant(BASE_1D, "output", "fields", []), "output.fields"),
    ("duplicate fields", variant(BASE_1D, "output", "fields", ["mu", "mu"]), "output.fields"),
    # non-finite
    ("nan tau", variant(BASE_1D, "model", "tau", math.nan), "model.tau"),
    ("inf vF", variant(BASE_1D, "model", "vF", math.inf), "model.vF"),
    ("inf L", variant(BASE_1D, "grid", "L", [math.inf]), "grid.L"),
    ("nan dt", variant(BASE_1D, "time", "dt", math.nan), "time.dt"),
    ("nan tauE", variant(BASE_1D, "model", "tauE", math.nan), "model.tauE"),
    ("-inf tauE", variant(BASE_1D, "model", "tauE", -math.inf), "model.tauE"),
    ("nan amplitude", variant(BASE_1D, "initial", "amplitude", math.nan), "initial.amplitude"),
    ("nan grad_T", variant(BASE_1D, "model", "grad_T", [math.nan]), "model.grad_T"),
    # lengths
    ("grad_T length", variant(BASE_2D, "model", "grad_T", [1.0]), "model.grad_T"),
    ("vT length", variant(BASE_1D, "model", "vT", [0.1, 0.2]), "model.vT"),
    ("L length", variant(BASE_2D, "grid", "L", [1.0]), "grid.L"),
    ("k length", variant(BASE_2D, "initial", "k", [1]), "initial.k"),
    # missing required / inconsistent
    ("missing Delta", variant(BASE_1D, "model", "Delta"), "model.Delta"),
    ("missing ks with bulk", variant(BASE_1D, "model", "ks"), "model.ks"),
    ("missing L", variant(BASE_1D, "grid", "L"), "grid.L"),
    ("missing dt", variant(BASE_1D, "time", "dt"), "time.dt"),
    ("missing k for mode", variant(BASE_1D, "initial", None, {"kind": "mode"}), "initial.k"),
    ("missing width", variant(BASE_1D, "initial", None, {"kind": "gaussian"}), "initial.width"),
    ("k with noise", variant(BASE_1D, "initial", None, {"kind": "noise", "k": [1]}), "initial.k"),
    ("width with mode", variant(
        BASE_1D, "initial", None, {"kind": "mode", "k": [1], "width": 1.0}
    ), "initial.width"),
    ("ks with neutral", variant(NEUTRAL_1D, "model", "ks", 1.0), "model.ks"),
    ("film on a 3D grid", render({
        "model": {**BASE_2D["model"], "grad_T": [0.0, 0.0, 0.0]},
        "grid": {"n": [4, 4, 4], "L": [1.0, 1.0, 1.0]},
        "time": BASE_2D["time"],
    }), "model.coulomb"),
    # material table
    ("unknown preset", material_run(preset="unobtainium", T_over_Tc=0.9), "material.preset"),
    ("material unknown key", material_run(T_over_Tc=0.9, Tc_K=1.0), "material.Tc_K"),
    ("material T_over_Tc = 1", material_run(preset="aluminium", T_over_Tc=1), "material.T_over_Tc"),
    ("material bool", material_run(preset="aluminium", eps_r=True), "material.eps_r"),
    ("material missing T_over_Tc", material_run(preset="aluminium"), "material.T_over_Tc"),
    ("material film, no thickness", material_run(
        preset="aluminium", T_over_Tc=0.9, coulomb="film"
    ), "material.thickness"),
    ("material grad_T length", material_run(
        preset="aluminium", T_over_Tc=0.9, grad_T=[1.0, 2.0]
    ), "material.grad_T"),
    # TOML syntax
    ("toml syntax", "[model]\nDelta = \n", "<file>"),
    ("toml duplicate key", "[time]\ndt = 1.0\ndt = 2.0\n", "<file>"),
]


@pytest.mark.parametrize("text, key", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid(text: str, key: str) -> None:
    expect_error(text, key)


def test_neutral_with_zero_diffusion_is_refused() -> None:
    err = expect_error(variant(NEUTRAL_1D, "model", "D", 0.0), "model.coulomb")
    assert "no dynamics" in err.message and "bulk" in err.message


def test_messages_say_what_was_given_and_allowed() -> None:
    err = expect_error(variant(BASE_1D, "model", "tau", -1.0), "model.tau")
    assert "-1.0" in err.message and "> 0" in err.message
    err = expect_error(variant(BASE_1D, "model", "Delta", True), "model.Delta")
    assert "boolean" in err.message
    err = expect_error(variant(BASE_1D, "model", "Tau", 1.0), "model.Tau")
    assert "allowed keys" in err.message and "tau" in err.message
    err = expect_error(variant(BASE_2D, "model", "grad_T", [1.0]), "model.grad_T")
    assert "1 entry" in err.message and "2 axes" in err.message
    err = expect_error(variant(BASE_1D, "grid", "n", [63]), "grid.n")
    assert "Nyquist" in err.message
    err = expect_error("[model]\nDelta = \n", "<file>")
    assert "line 2" in err.message


@pytest.mark.skipif(available_memory() is None, reason="available memory is not reported on this platform")
def test_grid_too_large_for_memory() -> None:
    huge = {"n": [2**20, 2**20], "L": [1.0, 1.0]}
    doc = variant_dict(BASE_1D, "grid", None, huge)
    doc["model"]["grad_T"] = [0.0, 0.0]
    err = expect_error(render(doc), "grid.n")
    assert "GiB" in err.message and "bytes per point" in err.message


def test_values_that_overflow_together_are_refused() -> None:
    """Each value is valid alone; together they leave float64's range in the coefficients or in
    A(q) on the grid, where the propagator would produce NaN or raise."""
    err = expect_error(variant(BASE_1D, "model", "Delta", 800.0), "model")
    assert "vT" in err.message or "coefficients" in err.message
    err = expect_error(variant(BASE_1D, "grid", "L", [1e-300]), "grid.L")
    assert "|q|" in err.message
    err = expect_error(variant(BASE_1D, "model", "ks", 1e-300), "model")
    assert "eps_hat" in err.message
    err = expect_error(variant(BASE_1D, "model", "vF", 1e120), "model")
    assert "outside 1e-100..1e+100" in err.message
    err = expect_error(variant(BASE_1D, "initial", None, {"kind": "gaussian", "width": 1e300}), "initial.width")
    assert "2 width^2" in err.message
