"""Unit labels written into the output, from the config's unit system."""

from __future__ import annotations

from dataclasses import dataclass

from .config import RunConfig


@dataclass(frozen=True)
class UnitLabels:
    """CF ``units`` strings for time, length and energy, and a one-line description."""

    time: str
    length: str
    energy: str
    description: str


def unit_labels(config: RunConfig) -> UnitLabels:
    """Natural units (hbar = k_B = 1) of the user's energy E0 and length l0, or the SI front end's."""
    conv = config.conversion
    if conv:
        t_s = float(conv["unit_time_s"])
        l_m = float(conv["unit_length_m"])
        return UnitLabels(
            time=f"{t_s:.6g} s",
            length="um" if abs(l_m - 1e-6) < 1e-18 else f"{l_m:.6g} m",
            energy="K",
            description=(
                "hbar = k_B = 1; energies in kelvin (k_B * 1 K), lengths in "
                f"{l_m:.6g} m, times in hbar/(k_B * 1 K) = {t_s:.6g} s"
            ),
        )
    return UnitLabels(
        time="hbar/E0",
        length="l0",
        energy="E0",
        description=(
            "hbar = k_B = 1 with the config's energy unit E0 and length unit l0; "
            "times in hbar/E0, velocities in l0*E0/hbar"
        ),
    )
