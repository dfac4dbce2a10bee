"""SI material front end: ``[material]`` (kelvin, metres, seconds) -> ``[model]`` (natural units).

Unit system of converted runs (hbar = k_B = 1):

* energy  E0 = k_B x 1 K               (so energies and temperatures are numbers of kelvin),
* length  l0 = 1 micrometre,
* time    t0 = hbar / E0 = 7.6382e-12 s,
* velocity l0 / t0 = 1.3092e5 m/s, wavenumber 1/l0 = 1e6 m^-1, temperature gradient
  E0 / l0 = 1 K per micrometre.

Coulomb kernel. The paper works in Gaussian units, V_q = 4 pi e^2 / q^2 (3D) and
V_q = 2 pi e^2 / |q| (2D); its footnote 9 translates to SI with e^2 -> e^2 / (4 pi eps0 eps_r):

* bulk: V_q = e^2 / (eps0 eps_r q^2), so 1/(N0 V_q) = (q/ks)^2 with
  ks^2 = e^2 N0 / (eps0 eps_r);
* film of thickness t: V_q = e^2 / (2 eps0 eps_r |q|) and N0^2D = N0 t, so
  1/(N0^2D V_q) = |q|/ks with ks = e^2 N0 t / (2 eps0 eps_r).

N0 is the normal-state density of states at the Fermi level *per spin* (the paper's N0: its
T = 0 plasmon omega^2 = 2 N0 vF^2 V_q q^2 / d equals 4 pi n e^2 / m for free electrons only if
N0 = 3 n / (4 E_F), and its conductivity is sigma = 2 N0 e^2 D). Hence the bulk ks is the
Thomas-Fermi wavenumber divided by sqrt(2): k_TF^2 = e^2 (2 N0) / (eps0 eps_r).
From a carrier density n (free electrons): N0 = 3 n / (4 E_F), E_F = m_e vF^2 / 2.

Sources of the preset values: see ``docs/materials.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from types import MappingProxyType

from scipy import constants

from .bcs import bcs_gap
from .config import MaterialConfig, _validate_material_values
from .errors import ConfigError

__all__ = [
    "PRESETS",
    "UNIT_ENERGY_J",
    "UNIT_LENGTH_M",
    "UNIT_TIME_S",
    "density_of_states_free_electron",
    "material_to_model",
    "screening_wavenumber",
]

#: Energy unit E0 = k_B * 1 K in joules.
UNIT_ENERGY_J: float = constants.k
#: Length unit l0 = 1 micrometre in metres.
UNIT_LENGTH_M: float = constants.micro
#: Time unit t0 = hbar / E0 in seconds (7.638e-12 s).
UNIT_TIME_S: float = constants.hbar / constants.k

# Presets: SI values filling the keys a [material] table does not give. Read-only mappings.
PRESETS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "aluminium": MappingProxyType(
            {
                # Tc: Kittel, Introduction to Solid State Physics (8th ed.), Table 10.1 lists
                # 1.140 K for bulk Al; evaporated thin films are at 1.2-1.4 K. 1.2 K is a
                # thin-film value.
                "Tc": 1.2,
                # vF = 2.03e8 cm/s: Ashcroft & Mermin, Solid State Physics, Table 2.1.
                "vF": 2.03e6,
                # n = 18.06e22 cm^-3 (3 free electrons per atom): Ashcroft & Mermin, Table 1.1.
                "n": 18.1e28,
                # tau = l / vF with an elastic mean free path l ~ 20 nm, typical of evaporated
                # Al films: 2e-8 m / 2.03e6 m/s = 1e-14 s (order of magnitude only).
                "tau": 1e-14,
                # Inelastic (charge-imbalance) time, 1/tauE ~ 10-100 MHz at T ~ 1 K:
                # P. Santhanam and D. E. Prober, PRB 29, 3733 (1984), cited by Garate (Ref. 37).
                "tauE": 1e-8,
                # No background polarisability beyond the conduction electrons.
                "eps_r": 1.0,
            }
        ),
    }
)


def density_of_states_free_electron(n: float, vF: float) -> float:
    """Free-electron density of states per spin at the Fermi level.

    N0 = 3 n / (4 E_F) with E_F = m_e vF^2 / 2 (from n = k_F^3 / (3 pi^2) and
    N0 = m_e k_F / (2 pi^2 hbar^2), with k_F eliminated through n and E_F).

    Parameters
    ----------
    n
        Conduction-electron density [m^-3].
    vF
        Fermi velocity [m/s].

    Returns
    -------
    float
        N0 [J^-1 m^-3], per spin.
    """
    fermi_energy = constants.m_e * vF**2 / 2
    return 3 * n / (4 * fermi_energy)


def screening_wavenumber(
    N0: float, eps_r: float, coulomb: str, thickness: float | None = None
) -> float:
    """Screening wavenumber ks [m^-1] of the Coulomb kernel eps_hat = 1/(N0 V_q).

    * ``"bulk"``: ks^2 = e^2 N0 / (eps0 eps_r), so eps_hat = (q/ks)^2
      (SI V_q = e^2/(eps0 eps_r q^2), the paper's 4 pi e^2/q^2 with footnote 9's
      e^2 -> e^2/(4 pi eps0 eps_r));
    * ``"film"``: ks = e^2 N0 t / (2 eps0 eps_r), so eps_hat = |q|/ks
      (V_q = e^2/(2 eps0 eps_r |q|), N0^2D = N0 t).

    Parameters
    ----------
    N0
        Density of states per spin [J^-1 m^-3].
    eps_r
        Relative dielectric constant of the background.
    coulomb
        ``"bulk"`` or ``"film"``.
    thickness
        Film thickness t [m] (film only).
    """
    e2_over_eps = constants.e**2 / (constants.epsilon_0 * eps_r)
    if coulomb == "bulk":
        return math.sqrt(e2_over_eps * N0)
    if coulomb == "film":
        if thickness is None:
            raise ValueError("film screening needs the thickness")
        return e2_over_eps * N0 * thickness / 2
    raise ValueError(f"no screening wavenumber for coulomb = {coulomb!r}")


def _merge_preset(mat: MaterialConfig) -> dict[str, object]:
    """Explicit keys over preset values. An explicit N0 or n replaces both preset N0 and n."""
    given = {k: v for k, v in asdict(mat).items() if v is not None}
    if isinstance(given.get("grad_T"), tuple):
        given["grad_T"] = list(given["grad_T"])
    preset_name = given.get("preset")
    if preset_name is None:
        return given
    if not isinstance(preset_name, str) or preset_name not in PRESETS:
        raise ConfigError(
            "material.preset",
            f"unknown preset {preset_name!r}; available presets: {', '.join(sorted(PRESETS))}",
        )
    base = dict(PRESETS[preset_name])
    if "N0" in given or "n" in given:
        base.pop("N0", None)
        base.pop("n", None)
    return {**base, **given}


def _require(values: Mapping[str, object], key: str, why: str = "") -> object:
    if key not in values:
        reason = f"; {why}" if why else ""
        raise ConfigError(f"material.{key}", f"missing required key in [material]{reason}")
    return values[key]


def material_to_model(
    mat: MaterialConfig, ndim: int
) -> tuple[dict[str, object], dict[str, float | int | str]]:
    """Convert an SI material description into a ``[model]`` table in natural units.

    Energies in E0 = k_B x 1 K, lengths in l0 = 1 um, times in t0 = hbar/E0 (see module
    docstring). The produced table is::

        Delta = bcs_gap(T, Tc) / E0     T = T_over_Tc * Tc / E0
        vF    = vF t0 / l0              tau = tau / t0      tauE = tauE / t0
        grad_T = grad_T l0 / E0         (K per micrometre)
        d, coulomb, ns_over_n, and ks = ks l0 (bulk or film)

    with ks from :func:`screening_wavenumber` and N0 either given or
    :func:`density_of_states_free_electron` of ``n``. ``ns_over_n = "auto"`` (default)
    becomes ``"clean"`` if Tc tau >= 1 (natural units, k_B Tc tau / hbar) and ``"dirty"``
    otherwise, after the paper's n_s/n formulas for T_c tau >> 1 and << 1.

    Parameters
    ----------
    mat
        The ``[material]`` table; ``None`` fields are filled from ``mat.preset``, then defaults
        (tauE = inf, grad_T = 0, eps_r = 1, coulomb = "bulk", d = 2 for a film, else 3).
    ndim
        Number of grid axes (length of ``grad_T``).

    Returns
    -------
    model : dict
        Keys of :class:`tdgl_stt.config.ModelConfig`, ready for ``[model]`` validation.
    conversion : dict
        Unit system (``unit_energy_J``, ``unit_length_m``, ``unit_time_s``), every SI input with
        its unit in the key name, and derived ``Delta_K``, ``N0_per_J_m3``, ``ks_per_m``.
        Values are str, float or int only (they become NetCDF attributes).

    Raises
    ------
    ConfigError
        Key ``material.<name>`` for an unknown preset, a missing, inconsistent or invalid value.
    """
    values = _validate_material_values(_merge_preset(mat), ndim)
    Tc = float(_require(values, "Tc"))
    t_ratio = float(
        _require(values, "T_over_Tc", "give the temperature as a fraction of Tc, 0 < T_over_Tc < 1")
    )
    vF = float(_require(values, "vF"))
    tau = float(_require(values, "tau"))
    tauE = float(values.get("tauE", math.inf))
    grad_T = [float(g) for g in values.get("grad_T", [0.0] * ndim)]
    eps_r = float(values.get("eps_r", 1.0))
    coulomb = str(values.get("coulomb", "bulk"))
    d = int(values.get("d", 2 if coulomb == "film" else 3))

    if "thickness" in values and coulomb != "film":
        raise ConfigError(
            "material.thickness",
            f'thickness is only used with coulomb = "film", got coulomb = "{coulomb}"',
        )
    if "N0" in values and "n" in values:
        raise ConfigError(
            "material.N0", "give the density of states N0 or the carrier density n, not both"
        )

    conversion: dict[str, float | int | str] = {
        "unit_energy_J": UNIT_ENERGY_J,
        "unit_length_m": UNIT_LENGTH_M,
        "unit_time_s": UNIT_TIME_S,
    }
    if "preset" in values:
        conversion["preset"] = str(values["preset"])
    T = t_ratio * Tc
    delta = bcs_gap(T, Tc)
    conversion.update(
        {
            "Tc_K": Tc,
            "T_over_Tc": t_ratio,
            "T_K": T,
            "Delta_K": delta,
            "vF_m_per_s": vF,
            "tau_s": tau,
            "tauE_s": tauE,
            "eps_r": eps_r,
            "coulomb": coulomb,
            "d": d,
        }
    )
    for axis, g in zip("xyz", grad_T):
        conversion[f"grad_T_{axis}_K_per_m"] = g

    ns_over_n = values.get("ns_over_n", "auto")
    if ns_over_n == "auto":
        ns_over_n = "clean" if Tc * tau / UNIT_TIME_S >= 1 else "dirty"
    conversion["ns_over_n"] = ns_over_n  # type: ignore[assignment]
    conversion["Tc_tau"] = Tc * tau / UNIT_TIME_S

    model: dict[str, object] = {
        "Delta": delta,
        "T": T,
        "vF": vF * UNIT_TIME_S / UNIT_LENGTH_M,
        "d": d,
        "tau": tau / UNIT_TIME_S,
        "tauE": tauE / UNIT_TIME_S,
        "ns_over_n": ns_over_n,
        "grad_T": [g * UNIT_LENGTH_M for g in grad_T],
        "coulomb": coulomb,
    }

    N0: float | None = None
    if "N0" in values:
        N0 = float(values["N0"])
    elif "n" in values:
        n = float(values["n"])
        N0 = density_of_states_free_electron(n, vF)
        if not (math.isfinite(N0) and N0 > 0):
            raise ConfigError("material.n", f"n = {n:g} m^-3 and vF = {vF:g} m/s give N0 = 3 n/(2 m_e vF^2) = {N0:g} "
                                            "J^-1 m^-3, not a finite positive number; check these values")
        conversion["n_per_m3"] = n
        conversion["E_F_J"] = constants.m_e * vF**2 / 2
    if coulomb != "none":
        if N0 is None:
            raise ConfigError(
                "material.N0",
                f'coulomb = "{coulomb}" needs the density of states: give N0 [J^-1 m^-3, per spin] '
                "or the carrier density n [m^-3]",
            )
        thickness = None
        if coulomb == "film":
            why = 'coulomb = "film" needs the film thickness [m]'
            thickness = float(_require(values, "thickness", why))
            conversion["thickness_m"] = thickness
        ks = screening_wavenumber(N0, eps_r, coulomb, thickness)  # inputs bounded: no 0 divisor
        if not (math.isfinite(ks) and ks > 0):
            given = f"N0 = {N0:g} J^-1 m^-3, eps_r = {eps_r!r}" + (f", thickness = {thickness:g} m" if thickness else "")
            raise ConfigError("material.eps_r", f"with {given} the screening wavenumber ks is not a finite positive "
                                                "number (ks^2 = e^2 N0/(eps0 eps_r) in bulk); check these values")
        conversion["ks_per_m"] = ks
        model["ks"] = ks * UNIT_LENGTH_M
    if N0 is not None:
        conversion["N0_per_J_m3"] = N0
    return model, conversion
