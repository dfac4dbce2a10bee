"""Langevin noise for equations (1)-(3) (``docs/noise.md``).

- :mod:`.config`: the ``[noise]`` table (:class:`NoiseConfig`, :func:`parse_noise`);
- :mod:`.sources`: fluctuation-dissipation intensities per mode (:func:`mode_noise`), the energy
  Hessian and the equipartition covariance;
- :mod:`.covariance`: the exact increment covariance ``C(dt)`` of the OU update and the
  stationary covariance, stiffness-safe;
- :mod:`.sampler`: reality conditions of the rfft half-spectrum and reproducible draws;
- :mod:`.modulated`: the increments of the ETD path, where the temperature varies in space
  (exact reference increments per force, the local intensity imposed on real-space white fields).

The steppers are :class:`tdgl_stt.integrators.noisy_exact.NoisyExactStepper` (uniform
coefficients, exact) and :class:`tdgl_stt.integrators.noisy_etd.NoisyETDStepper` (profiles).
"""

from .config import NoiseConfig, parse_noise, thermal_strength
from .covariance import IncrementCovariance, cholesky_factor, increment_covariance, stationary_covariance
from .modulated import ModulatedIncrement, NoiseSource, noise_sources
from .sampler import (
    RNG_STATE_SPEC,
    NoiseSampler,
    reality_layout,
    rng_state_from_array,
    rng_state_to_array,
    stationary_factor,
)
from .sources import (
    ModeNoise,
    energy_hessian,
    equipartition_covariance,
    equipartition_scale,
    mode_noise,
)

__all__ = [
    "RNG_STATE_SPEC",
    "IncrementCovariance",
    "ModeNoise",
    "ModulatedIncrement",
    "NoiseSource",
    "cholesky_factor",
    "noise_sources",
    "stationary_factor",
    "NoiseConfig",
    "NoiseSampler",
    "energy_hessian",
    "equipartition_covariance",
    "equipartition_scale",
    "increment_covariance",
    "mode_noise",
    "parse_noise",
    "reality_layout",
    "rng_state_from_array",
    "rng_state_to_array",
    "stationary_covariance",
    "thermal_strength",
]
