"""The ``[noise]`` table: which Langevin forces drive equations (1)-(3), how strong, and the seed.

Two kinds (derivation in ``docs/noise.md``):

``thermal``
    The fluctuation-dissipation forces of the model's quadratic energy: a random force on the
    relaxation of Phi (equation (2), intensity set by ``1/tau_E``) and a random normal current in
    the continuity equation (3) (Johnson-Nyquist, intensity set by ``2 D``). ``strength`` is
    ``T / N0``: the temperature over the density of states per spin and per unit volume of the
    grid (energy^2 length^ndim in the run's units). Each Fourier mode then has the equipartition
    covariance ``Theta H(q)^{-1}`` with ``Theta = 2 strength / V`` (V = box volume) where the
    model is in equilibrium (no torque).
``explicit``
    Independent white forces given by their real-space intensities: ``theta`` on equation (1),
    ``Phi`` on ``I dPhi/dt`` in (2) and ``current`` for a random current in (3) (its divergence
    drives ``eps_hat dmu/dt``). ``strength`` multiplies all three. For users who want noise that
    is not the thermal one (or the torque's own non-equilibrium noise, which this model does not
    derive).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError

NoiseKind = Literal["thermal", "explicit"]

#: Keys of the ``[noise]`` table.
NOISE_KEYS: tuple[str, ...] = ("kind", "strength", "seed", "theta", "Phi", "current")


@dataclass(frozen=True)
class NoiseConfig:
    """Langevin forcing of equations (1)-(3).

    Attributes
    ----------
    kind
        ``"thermal"`` (fluctuation-dissipation forces of the dissipative terms) or
        ``"explicit"`` (the intensities below).
    strength
        thermal: ``T/N0`` (so that ``Theta = 2 strength / V`` is the per-mode equipartition
        scale); explicit: a common factor of ``theta``, ``Phi`` and ``current``. Zero means no
        noise.
    seed
        Seed of the PCG64 generator (non-negative integer): same seed, same noise, bitwise.
    theta, Phi, current
        explicit only: real-space intensities ``<xi(x,t) xi(x',t')> = Gamma delta(x-x')
        delta(t-t')`` of the force on d theta/dt, on ``I dPhi/dt`` and of each component of the
        random current in (3).
    """

    kind: NoiseKind = "thermal"
    strength: float = 0.0
    seed: int = 0
    theta: float = 0.0
    Phi: float = 0.0
    current: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("thermal", "explicit"):
            raise ConfigError("noise.kind", f'must be "thermal" or "explicit", got {self.kind!r}')
        for name in ("strength", "theta", "Phi", "current"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"noise.{name}", f"must be a finite number >= 0, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("noise.seed", f"must be an integer >= 0, got {self.seed!r}")
        if self.kind == "thermal" and (self.theta or self.Phi or self.current):
            raise ConfigError("noise.kind", 'theta, Phi and current are intensities of kind = "explicit"; '
                              'kind = "thermal" derives them from the temperature (docs/noise.md)')


def parse_noise(raw: Mapping[str, object]) -> NoiseConfig:
    """A :class:`NoiseConfig` from a TOML ``[noise]`` table; unknown keys are refused.

    Raises
    ------
    tdgl_stt.errors.ConfigError
        Naming the key (``noise.<key>``) and what is allowed.
    """
    unknown = sorted(set(raw) - set(NOISE_KEYS))
    if unknown:
        raise ConfigError(f"noise.{unknown[0]}", f"unknown key; allowed: {', '.join(NOISE_KEYS)}")
    kw = dict(raw)
    for name in ("strength", "theta", "Phi", "current"):
        if isinstance(kw.get(name), int) and not isinstance(kw.get(name), bool):
            kw[name] = float(kw[name])
    return NoiseConfig(**kw)  # type: ignore[arg-type]


def thermal_strength(T: float, N0: float) -> float:
    """``strength`` of a thermal ``[noise]`` table: ``T / N0``.

    ``N0`` is the density of states per spin per unit energy and per unit grid volume
    (length^ndim) in the run's units: for a film on a 2D grid the areal density
    (``N0_3D * thickness``), for a 1D grid of a wire ``N0_3D * cross-section``.
    """
    if not (T > 0 and N0 > 0):
        raise ValueError(f"T and N0 must be positive, got T = {T}, N0 = {N0}")
    return T / N0
