r"""Thermal noise on the ETD path (temperature profiles): ``u_{k+1} = ETD_h(u_k) + xi_k``.

:class:`NoisyETDStepper` is :class:`~tdgl_stt.integrators.etd.ETDStepper` whose ``_perturb``
hook adds, after every internal step ``h``, the increment ``xi_k`` of
:class:`~tdgl_stt.noise.modulated.ModulatedIncrement`: per independent force the exact
increment of the uniform reference operator over ``h``,
``C_s(q, h) = int_0^h e^{A_ref u} Q_s e^{A_ref^H u} du`` (``tdgl_stt.noise.covariance``), drawn
on the retained modes from white fields in real space that carry the local intensity of the
force, ``sigma_s(x)^2 = T(x)/T_0`` for the current and ``(T(x)/T_0) (I(x)/I_ref)`` for the
relaxation of ``psi = I Phi/I_ref`` (``docs/noise.md``, section 10).

Order. The deterministic part keeps the order of the scheme (4 for ETDRK4). The noise enters
the stages only through ``u_k`` (additive noise): a stochastic exponential integrator of weak
order 1. The stationary covariance is off by ``O(h)``: by ``O(||N|| h)`` because each step
injects the reference system's increment rather than the variable system's, and by
``O(|lambda(q) - lambda(q')| h)`` in the cross-covariances of different wavevectors (the
distance a mode travels in one step over the width of the temperature variation). Both vanish
for uniform coefficients, where the scheme is the exact Ornstein-Uhlenbeck update (same
statistics as :class:`~tdgl_stt.integrators.noisy_exact.NoisyExactStepper`, other draws). The
local intensity itself is imposed exactly on the white sources.

Reproducibility. One ``numpy.random.Generator(PCG64(seed))`` draws, per step, the white fields in
C order (after, if the run starts in the stationary state, that state's draw). Its state joins
the checkpoint (``noise_rng``, six uint64 words), so a resumed run continues bitwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..model import mode_entries
from ..noise.config import NoiseConfig
from ..noise.covariance import stationary_covariance
from ..noise.modulated import ModulatedIncrement, band_layout, noise_sources
from ..noise.sampler import (
    RNG_STATE_SPEC,
    NoiseSampler,
    reality_layout,
    rng_state_from_array,
    rng_state_to_array,
    stationary_factor,
)
from ..noise.sources import mode_noise
from ..params import Coefficients
from ..propagator import propagator, split_modes
from ..variable_model import VariableModel
from .etd import ETDStepper

__all__ = ["NoisyETDStepper"]


class NoisyETDStepper(ETDStepper):
    """:class:`ETDStepper` plus thermal (or explicit) noise after every internal step.

    Parameters
    ----------
    vm, grid, dt, steps_per_frame, scheme
        As for :class:`ETDStepper`.
    noise
        The ``[noise]`` table. For ``kind = "thermal"``, ``strength = T_0/N0`` at the base
        temperature ``T_0 = T_base`` of ``[model]``; the local intensity follows ``T(x)``.
        ``kind = "explicit"`` intensities are uniform in space (they do not follow T).
    T_base
        The base temperature ``T_0`` (``[model] T``).
    medium
        The uniform medium of a spatially constant ``T(x)`` (its coefficients at that T), for
        :meth:`sample_stationary`; None where T varies (no stationary draw).
    threads, planner, deterministic
        As for :class:`ETDStepper`.
    """

    def __init__(
        self,
        vm: VariableModel,
        grid: Grid,
        dt: float,
        steps_per_frame: int,
        scheme: str,
        noise: NoiseConfig,
        *,
        T_base: float,
        medium: Coefficients | None = None,
        threads: int = 1,
        planner: str = "FFTW_ESTIMATE",
        deterministic: bool = True,
    ) -> None:
        super().__init__(vm, grid, dt, steps_per_frame, scheme, threads=threads, planner=planner,
                         deterministic=deterministic)
        self.noise_config = noise
        self.T_base = float(T_base)
        self.medium = medium
        band = self.band
        q_lap, q_grad = band.gather(np.asarray(grid.q_lap)), band.gather(np.asarray(grid.q_grad))
        volume = float(math.prod(grid.L))
        self.noise = mode_noise(noise, self.entries, np.sum(q_lap**2, axis=0), volume=volume)
        profile = noise.kind == "thermal"
        self.sources = noise_sources(
            noise, self.noise,
            T=vm.fields.T if profile else None, T_base=self.T_base,
            I=vm.fields.I if profile else None, I_ref=vm.reference.I,
        )
        self.layout = reality_layout(grid)
        self.increment = ModulatedIncrement(
            self.entries, self.split, self.h, self.sources, grid.shape, band.gather, band.shape,
            q_lap, q_grad, band_layout(self.layout, grid.spectral_shape, band.gather),
            U=propagator(self.entries, self.h, self.split),
        )
        self._rng = np.random.Generator(np.random.PCG64(noise.seed))

    # ------------------------------------------------------------------ the hook
    def _perturb(self, x: NDArray[np.complex128]) -> None:
        """``x += xi``: the increment of one step (module notes), on the internal state."""
        if self.increment.active:
            x += self.increment.draw(self._rng)

    # ------------------------------------------------------------------ generator state
    @property
    def rng_state(self) -> dict[str, Any]:
        """The noise generator's state (``bit_generator.state`` of PCG64)."""
        return self._rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state

    def rng_state_array(self) -> NDArray[np.uint64]:
        """:attr:`rng_state` as six uint64 words."""
        return rng_state_to_array(self.rng_state)

    def set_rng_state_array(self, words: NDArray[np.uint64]) -> None:
        """Restore the generator from :meth:`rng_state_array`."""
        self.rng_state = rng_state_from_array(words)

    # ------------------------------------------------------------------ checkpoint protocol
    def checkpoint_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """The internal state and the noise generator's state ``noise_rng``."""
        return {**super().checkpoint_spec(), "noise_rng": RNG_STATE_SPEC}

    def checkpoint_arrays(self, x: NDArray[np.complex128]) -> dict[str, NDArray]:
        """The internal state behind ``x`` and the generator's state after its last step."""
        return {**super().checkpoint_arrays(x), "noise_rng": self.rng_state_array()}

    def restore(self, arrays: dict[str, NDArray]) -> NDArray[np.complex128]:
        """Continue from :meth:`checkpoint_arrays`: the internal state and the generator."""
        self.set_rng_state_array(np.asarray(arrays["noise_rng"]))
        return super().restore(arrays)

    # ------------------------------------------------------------------ stationary start
    def sample_stationary(self) -> NDArray[np.complex128]:
        """A spectral ``(theta, Phi, mu)`` on the full grid drawn from the stationary distribution
        of the uniform medium (``T(x)`` constant), from the noise generator (one stream: the
        initial state, then the steps).

        Raises
        ------
        ValueError
            If T varies in space (the stationary state of the coupled, position-dependent
            modes is not known in closed form), or a mode of the medium has no stationary state.
        """
        if self.medium is None:
            raise ValueError("a temperature that varies in space has no closed-form stationary state")
        grid = self.grid
        e = mode_entries(self.medium, grid.q_lap, grid.q_grad)
        sp = split_modes(e)
        mn = mode_noise(self.noise_config, e, np.sum(np.asarray(grid.q_lap) ** 2, axis=0),
                        volume=float(math.prod(grid.L)))
        P = stationary_covariance(e, mn, sp)
        G = stationary_factor(P, sp.zero, mn.q_Phi, e.g, self.layout)
        return NoiseSampler(G, self.layout, grid.spectral_shape, self._rng).draw()
