r"""Frame-to-frame stepping of the Langevin equations (1)-(3) with the exact OU update.

Per Fourier mode ``x_q(t + dt) = U(q, dt) x_q(t) + xi_q`` with ``U = exp(A(q) dt)`` (the
deterministic :class:`~tdgl_stt.integrators.exact.ExactStepper`) and ``xi_q`` Gaussian of
covariance ``C(q, dt) = int_0^dt e^{A u} Q e^{A^H u} du`` (``tdgl_stt.noise.covariance``): the
sampled process has exactly the statistics of the continuous one at the frame times, for any
``dt`` (no Euler-Maruyama bias in the spectra or the stationary covariance).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..noise.config import NoiseConfig
from ..noise.covariance import (
    IncrementCovariance,
    increment_covariance,
    stationary_covariance,
)
from ..noise.sampler import (
    NoiseSampler,
    impose_reality,
    reality_layout,
    rng_state_from_array,
    rng_state_to_array,
    stationary_factor,
)
from ..noise.sources import ModeNoise, mode_noise
from ..params import Coefficients
from ..propagator import propagator
from .exact import ExactStepper


class NoisyExactStepper(ExactStepper):
    """:class:`ExactStepper` plus the exact noise increment: ``step(x) = U x + xi``.

    Parameters
    ----------
    coeffs, grid, dt
        Model, grid and frame interval (as for :class:`ExactStepper`).
    noise
        The ``[noise]`` table; ``strength = 0`` gives the deterministic stepper's output.

    Notes
    -----
    The noise of step n is drawn from the generator after step n - 1, so a run resumed from
    the state and :attr:`rng_state` saved after a frame continues bitwise as if uninterrupted.
    """

    def __init__(self, coeffs: Coefficients, grid: Grid, dt: float, noise: NoiseConfig) -> None:
        super().__init__(coeffs, grid, dt)
        self.noise_config = noise
        q2 = np.sum(np.asarray(grid.q_lap) ** 2, axis=0)
        self.noise: ModeNoise = mode_noise(noise, self.entries, q2, volume=float(math.prod(grid.L)))
        U = propagator(self.entries, dt, self.split)
        self.increment: IncrementCovariance = increment_covariance(self.entries, self.noise, dt, self.split, U)
        self.layout = reality_layout(grid)
        factor = impose_reality(self.increment.cov, self.increment.factor, self.layout)
        self.sampler = NoiseSampler(factor, self.layout, grid.spectral_shape, noise.seed)

    def step(self, x: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Advance one frame: ``U x + xi`` (a new array; the internal buffers swap as in the parent)."""
        out = super().step(x)
        self.sampler.add_to(out)
        return out

    @property
    def rng_state(self) -> dict[str, Any]:
        """The noise generator's state (``numpy`` ``bit_generator.state`` of PCG64)."""
        return self.sampler.rng_state

    @rng_state.setter
    def rng_state(self, state: dict[str, Any]) -> None:
        self.sampler.rng_state = state

    def rng_state_array(self) -> NDArray[np.uint64]:
        """:attr:`rng_state` as six uint64 words, for a checkpoint array."""
        return rng_state_to_array(self.sampler.rng_state)

    def set_rng_state_array(self, words: NDArray[np.uint64]) -> None:
        """Restore the generator from :meth:`rng_state_array`."""
        self.sampler.rng_state = rng_state_from_array(words)

    def stationary_covariance(self) -> NDArray[np.complex128]:
        """``P(q)`` of every mode, shape ``spectral_shape + (3, 3)`` (NaN where none exists)."""
        return stationary_covariance(self.entries, self.noise, self.split)

    def sample_stationary(self) -> NDArray[np.complex128]:
        """A state drawn from the stationary distribution (advances the noise generator).

        ``q = 0``: the global phase has no stationary distribution and starts at 0, Phi_0 is drawn
        from its stationary variance ``q_Phi / (2 g)`` (0 when ``tau_E = inf``), mu_0 = 0 (gauge).

        Raises
        ------
        ValueError
            If a mode other than ``q = 0`` has no stationary state (a torque-driven instability).
        """
        shape = self.grid.spectral_shape
        G = stationary_factor(self.stationary_covariance(), self.split.zero, self.noise.q_Phi, self.entries.g,
                              self.layout)
        # one stream: the initial state, then the steps
        return NoiseSampler(G, self.layout, shape, self.sampler.generator).draw()
