"""Tests of the BCS gap (tdgl_stt.bcs) and the SI material front end (tdgl_stt.material)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import constants
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import zeta

from tdgl_stt.bcs import DELTA0_OVER_TC, bcs_gap, bcs_gap_array, gap_equation_residual
from tdgl_stt.config import MaterialConfig
from tdgl_stt.errors import ConfigError
from tdgl_stt.material import (
    PRESETS,
    UNIT_LENGTH_M,
    UNIT_TIME_S,
    density_of_states_free_electron,
    material_to_model,
    screening_wavenumber,
)

# ------------------------------------------------------------------------------------ BCS


def test_gap_at_zero_temperature() -> None:
    expected = math.pi * math.exp(-np.euler_gamma)
    assert expected == pytest.approx(1.7638769, abs=1e-7)
    assert DELTA0_OVER_TC == pytest.approx(expected, rel=1e-15)
    assert bcs_gap(0.0, 2.5) == pytest.approx(expected * 2.5, rel=1e-15)
    # the solver branch just above the T -> 0 cut-off agrees with Delta(0)
    assert bcs_gap(1.001e-3, 1.0) == pytest.approx(expected, rel=1e-13)
    # low-T asymptote Delta(0) - Delta(T) = sqrt(2 pi Delta0 T) exp(-Delta0/T)
    t = 0.1
    shortfall = expected - bcs_gap(t, 1.0)
    asym = math.sqrt(2 * math.pi * expected * t) * math.exp(-expected / t)
    assert shortfall == pytest.approx(asym, rel=0.05)


def test_gap_vanishes_at_and_above_tc() -> None:
    assert bcs_gap(1.0, 1.0) == 0.0
    assert bcs_gap(3.0, 1.0) == 0.0


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
def test_gap_near_tc(eps: float) -> None:
    """Delta -> Tc sqrt(8 pi^2 / (7 zeta(3))) sqrt(1 - T/Tc), with an O(1 - T/Tc) correction."""
    gl = math.sqrt(8 * math.pi**2 / (7 * zeta(3))) * math.sqrt(eps)
    ratio = bcs_gap(1 - eps, 1.0) / gl
    assert abs(ratio - 1) < 1.0 * eps  # measured deviation 0.41 (1 - T/Tc)


def test_gap_near_tc_tight() -> None:
    gl = math.sqrt(8 * math.pi**2 / (7 * zeta(3))) * math.sqrt(1e-4)
    assert bcs_gap(1 - 1e-4, 1.0) / gl == pytest.approx(1.0, abs=1e-3)


def test_gap_against_energy_integral() -> None:
    """Independent check at T = Tc/2: ln(Tc/T) = int_0^inf [tanh(xi/2T)/xi - tanh(E/2T)/E] dxi."""
    T = 0.5

    def integrand(xi: float, delta: float) -> float:
        E = math.hypot(xi, delta)
        first = math.tanh(xi / (2 * T)) / xi if xi > 0 else 1 / (2 * T)
        return first - math.tanh(E / (2 * T)) / E

    def residual(delta: float) -> float:
        opts = dict(args=(delta,), epsabs=1e-15, epsrel=1e-13, limit=200)
        head = quad(integrand, 0, 60 * T, **opts)[0]
        tail = quad(integrand, 60 * T, np.inf, **opts)[0]
        return head + tail - math.log(1 / T)

    delta_quad = brentq(residual, 0.5, 1.9, xtol=1e-14, rtol=1e-14)
    assert bcs_gap(T, 1.0) == pytest.approx(delta_quad, rel=1e-8)
    assert gap_equation_residual(delta_quad, T, 1.0) == pytest.approx(0.0, abs=1e-10)


def test_gap_is_monotonic_and_array_form() -> None:
    t = np.array([0.0, 0.2, 0.5, 0.8, 0.95, 0.999, 1.0])
    gaps = bcs_gap_array(t, 1.0)
    assert gaps.shape == t.shape
    assert np.all(np.diff(gaps) < 0)
    assert gaps[2] == bcs_gap(0.5, 1.0)


@pytest.mark.parametrize("T, Tc", [(-0.1, 1.0), (0.5, 0.0), (math.nan, 1.0), (0.5, math.inf)])
def test_gap_rejects_bad_input(T: float, Tc: float) -> None:
    with pytest.raises(ValueError):
        bcs_gap(T, Tc)


# ------------------------------------------------------------------------------- material

AL = dict(PRESETS["aluminium"])


def test_unit_system() -> None:
    assert UNIT_TIME_S == pytest.approx(7.638e-12, rel=1e-3)
    assert UNIT_LENGTH_M == 1e-6


def test_conversion_round_trip() -> None:
    mat = MaterialConfig(preset="aluminium", T_over_Tc=0.9, grad_T=(1e3, -2e3))
    model, conv = material_to_model(mat, ndim=2)
    L, t = conv["unit_length_m"], conv["unit_time_s"]
    assert model["vF"] * L / t == pytest.approx(AL["vF"], rel=1e-12)
    assert model["tau"] * t == pytest.approx(AL["tau"], rel=1e-12)
    assert model["tauE"] * t == pytest.approx(AL["tauE"], rel=1e-12)
    assert [g / L for g in model["grad_T"]] == pytest.approx([1e3, -2e3], rel=1e-12)
    assert model["ks"] / L == pytest.approx(conv["ks_per_m"], rel=1e-12)
    assert model["T"] == pytest.approx(0.9 * 1.2, rel=1e-15)
    assert conv["unit_energy_J"] == constants.k
    assert all(isinstance(v, (str, float, int)) for v in conv.values())
    assert conv["vF_m_per_s"] == AL["vF"] and conv["Tc_K"] == AL["Tc"]


def test_delta_from_bcs() -> None:
    model, conv = material_to_model(MaterialConfig(preset="aluminium", T_over_Tc=0.5), ndim=1)
    assert model["Delta"] == bcs_gap(0.6, 1.2)
    assert conv["Delta_K"] == model["Delta"]


def test_aluminium_bulk_screening_is_thomas_fermi() -> None:
    """ks is the Thomas-Fermi wavenumber of Al with the per-spin N0 of the paper.

    Ashcroft & Mermin Eq. 17.55 (total density of states): k_TF = 0.815 k_F (r_s/a_0)^(1/2);
    for Al (k_F = 1.75e10 m^-1, r_s/a_0 = 2.07) k_TF = 2.05e10 m^-1. The paper's N0 is per spin
    (its sigma = 2 N0 e^2 D), so ks^2 = e^2 N0 / eps0 = k_TF^2 / 2.
    """
    _, conv = material_to_model(MaterialConfig(preset="aluminium", T_over_Tc=0.9), ndim=1)
    k_tf_textbook = 0.815 * 1.75e10 * math.sqrt(2.07)
    assert k_tf_textbook == pytest.approx(2.05e10, rel=0.01)
    assert conv["ks_per_m"] * math.sqrt(2) == pytest.approx(k_tf_textbook, rel=0.02)
    # free-electron N0 per spin = m k_F / (2 pi^2 hbar^2)
    kF = (3 * math.pi**2 * AL["n"]) ** (1 / 3)
    n0 = constants.m_e * kF / (2 * math.pi**2 * constants.hbar**2)
    assert conv["N0_per_J_m3"] == pytest.approx(n0, rel=0.01)  # preset vF is rounded
    assert conv["N0_per_J_m3"] == density_of_states_free_electron(AL["n"], AL["vF"])


def test_dielectric_relaxation_rate_is_sigma_over_eps0() -> None:
    """2 D ks^2 = sigma / eps0 with sigma = 2 N0 e^2 D (the paper's conductivity)."""
    n0, D = 7e46, 1e-3
    ks = screening_wavenumber(n0, 1.0, "bulk")
    sigma = 2 * n0 * constants.e**2 * D
    assert 2 * D * ks**2 == pytest.approx(sigma / constants.epsilon_0, rel=1e-12)


def test_film_screening() -> None:
    mat = MaterialConfig(
        preset="aluminium", T_over_Tc=0.9, coulomb="film", thickness=10e-9, eps_r=2.0
    )
    model, conv = material_to_model(mat, ndim=2)
    n0 = conv["N0_per_J_m3"]
    expected = constants.e**2 * n0 * 10e-9 / (2 * constants.epsilon_0 * 2.0)
    assert conv["ks_per_m"] == pytest.approx(expected, rel=1e-14)
    assert model["d"] == 2 and model["coulomb"] == "film"
    assert conv["thickness_m"] == 10e-9


def test_explicit_keys_override_preset() -> None:
    mat = MaterialConfig(preset="aluminium", T_over_Tc=0.9, Tc=1.4, N0=1e47, tauE=math.inf)
    model, conv = material_to_model(mat, ndim=1)
    assert conv["Tc_K"] == 1.4 and model["T"] == pytest.approx(0.9 * 1.4)
    assert conv["N0_per_J_m3"] == 1e47 and "n_per_m3" not in conv
    assert model["tauE"] == math.inf


def test_ns_over_n_auto() -> None:
    base = MaterialConfig(preset="aluminium", T_over_Tc=0.9)
    dirty, conv = material_to_model(base, ndim=1)
    assert dirty["ns_over_n"] == "dirty"  # Tc tau ~ 1.6e-3 for the Al film preset
    assert conv["Tc_tau"] == pytest.approx(1.2 * 1e-14 / UNIT_TIME_S)
    clean, _ = material_to_model(dataclasses.replace(base, tau=1e-10), ndim=1)
    assert clean["ns_over_n"] == "clean"
    fixed, _ = material_to_model(dataclasses.replace(base, ns_over_n=0.5), ndim=1)
    assert fixed["ns_over_n"] == 0.5


def test_neutral_needs_no_density() -> None:
    mat = MaterialConfig(Tc=1.0, T_over_Tc=0.8, vF=1e6, tau=1e-12, coulomb="none")
    model, conv = material_to_model(mat, ndim=1)
    assert "ks" not in model and "ks_per_m" not in conv and model["d"] == 3


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"preset": "lead"}, "material.preset"),
        ({"preset": None, "T_over_Tc": 0.5}, "material.Tc"),
        ({"T_over_Tc": 0.0}, "material.T_over_Tc"),
        ({"coulomb": "film"}, "material.thickness"),
        ({"thickness": 1e-8}, "material.thickness"),
        ({"N0": 1e47, "n": 1e29}, "material.N0"),
        ({"grad_T": (1.0,)}, "material.grad_T"),
        ({"vF": -1.0}, "material.vF"),
        ({"tau": math.nan}, "material.tau"),
    ],
)
def test_material_errors(changes: dict, key: str) -> None:
    base = MaterialConfig(preset="aluminium", T_over_Tc=0.9)
    with pytest.raises(ConfigError) as info:
        material_to_model(dataclasses.replace(base, **changes), ndim=2)
    assert info.value.key == key
    assert "\n" not in info.value.message


def test_bulk_without_density() -> None:
    mat = MaterialConfig(Tc=1.0, T_over_Tc=0.8, vF=1e6, tau=1e-12)
    with pytest.raises(ConfigError) as info:
        material_to_model(mat, ndim=1)
    assert info.value.key == "material.N0"
