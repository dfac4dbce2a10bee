"""Choose and build the frame stepper of a run: the exact propagator or an exponential integrator.

``[time] integrator = "exact"`` (uniform coefficients) gives
:class:`tdgl_stt.integrators.exact.ExactStepper`; ``"etdrk4"``, ``"etd2"`` or ``"exp_euler"`` with a
``[model.temperature_profile]`` give :class:`tdgl_stt.integrators.etd.ETDStepper` on the
coefficient fields of :func:`tdgl_stt.variable_model.variable_model`. With ``[noise]``
(``strength > 0``) they are :class:`NoisyRunStepper` (the exact OU update) and
:class:`tdgl_stt.integrators.noisy_etd.NoisyETDStepper` (the reference increments with the local
intensity of ``T(x)``, ``docs/noise.md`` section 10). Every stepper shares the run loop's
protocol: ``project``, ``step``, ``checkpoint_spec``, ``checkpoint_arrays``, ``restore`` and
``n_fallback``; the noisy ones also ``sample_stationary`` and a ``noise_rng`` checkpoint array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .checkpoint import CheckpointSpec
from .config import ETD_INTEGRATORS, RunConfig
from .grid import Grid
from .integrators.etd import ETDStepper
from .integrators.exact import ExactStepper
from .integrators.forcing import SpectralBand
from .integrators.noisy_etd import NoisyETDStepper
from .integrators.noisy_exact import NoisyExactStepper
from .model import ModeEntries, mode_entries
from .noise.sampler import RNG_STATE_SPEC
from .params import Coefficients, coefficients_from_model
from .profiles import temperature_field
from .stability import STABLE_H_RHO, LocalGrowth, explicit_rate, local_growth
from .variable_model import VariableModel, profile_is_uniform, variable_model

__all__ = ["NOISE_RNG_SPEC", "NoisyRunStepper", "StepperSetup", "build_stepper", "is_noisy", "state_spec", "uses_etd"]

#: The checkpoint array of a noisy run: the PCG64 state of the noise generator (six words).
NOISE_RNG_SPEC: tuple[tuple[int, ...], np.dtype] = RNG_STATE_SPEC


def uses_etd(config: RunConfig) -> bool:
    """True when the run uses an exponential integrator (a temperature profile)."""
    return config.time.integrator in ETD_INTEGRATORS


def is_noisy(config: RunConfig) -> bool:
    """True when ``[noise]`` drives the run (a table with ``strength > 0``)."""
    return config.noise is not None and config.noise.strength > 0


class NoisyRunStepper(NoisyExactStepper):
    """:class:`NoisyExactStepper` with the run loop's checkpoint protocol: the spectral state plus
    the noise generator's state ``noise_rng``, taken right after the step of the checkpointed
    frame, so that a resumed run draws the very noise of an uninterrupted one."""

    def checkpoint_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        return {**super().checkpoint_spec(), "noise_rng": NOISE_RNG_SPEC}

    def checkpoint_arrays(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {**super().checkpoint_arrays(x), "noise_rng": self.rng_state_array()}  # a fresh array

    def restore(self, arrays) -> np.ndarray:
        """The state of a checkpoint; also sets the noise generator to the checkpoint's state."""
        self.set_rng_state_array(np.asarray(arrays["noise_rng"]))
        return super().restore(arrays)


def state_spec(config: RunConfig, grid: Grid) -> CheckpointSpec:
    """The checkpoint arrays of the run's stepper, without building it: the spectral state of the
    exact stepper (and the noise generator's state of a noisy run), or the ETD stepper's internal
    state on its retained modes."""
    if not uses_etd(config):
        spec = {"state": ((3,) + grid.spectral_shape, np.dtype(np.complex128))}
        if is_noisy(config):
            spec["noise_rng"] = NOISE_RNG_SPEC
        return spec
    profile = config.model.temperature_profile
    T = temperature_field(profile, grid, config.model.T)
    band = SpectralBand(grid, dealias=not profile_is_uniform(T, profile.T_ref))
    spec = {"etd_state": ((3,) + band.shape, np.dtype(np.complex128))}
    if is_noisy(config):
        spec["noise_rng"] = NOISE_RNG_SPEC
    return spec


@dataclass(frozen=True)
class StepperSetup:
    """The stepper of a run and what the runner reports about it.

    Attributes
    ----------
    stepper
        :class:`ExactStepper`, :class:`NoisyRunStepper`, :class:`ETDStepper` or
        :class:`NoisyETDStepper`.
    coeffs
        The uniform model of ``[model]`` (at the base ``T``; the medium far from a profile).
    variable
        The coefficient fields and reference operator, with a temperature profile; else None.
    local
        Frozen-coefficient growth (ETD runs): where the local torque anti-damps the CG mode.
    rate
        ``rho`` of :func:`tdgl_stt.stability.explicit_rate` (ETD runs; 0 otherwise).
    """

    stepper: ExactStepper | NoisyRunStepper | ETDStepper | NoisyETDStepper
    coeffs: Coefficients
    variable: VariableModel | None
    local: LocalGrowth | None
    rate: float

    @property
    def h(self) -> float:
        """The time step (the frame interval for the exact stepper)."""
        return self.stepper.h if isinstance(self.stepper, ETDStepper) else self.stepper.dt

    def recommended_steps_per_frame(self, dt: float) -> int:
        """Smallest ``steps_per_frame`` with ``h rho <= STABLE_H_RHO / 2``."""
        return max(1, math.ceil(dt * self.rate / (0.5 * STABLE_H_RHO)))

    def notices(self, dt: float) -> list[str]:
        """One-line notices for the start of a run."""
        out: list[str] = []
        if self.rate > 0 and self.h * self.rate > STABLE_H_RHO:
            out.append(
                f"the step h = {self.h:.4g} times the rate of the explicitly integrated variation "
                f"rho = {self.rate:.4g} is {self.h * self.rate:.3g} > {STABLE_H_RHO:g}: the run may be "
                f"inaccurate or unstable; steps_per_frame >= {self.recommended_steps_per_frame(dt)} is recommended"
            )
        return out

    def attributes(self) -> dict:
        """Global attributes describing the stepper (and the profile), for the output file."""
        st, vm = self.stepper, self.variable
        if vm is None:
            return {}
        if not isinstance(st, ETDStepper):  # a uniform profile on the exact stepper
            return {"T_ref": vm.T_ref, "Tc": vm.Tc, "profile_uniform": int(vm.uniform)}
        attrs = {
            "steps_per_frame": st.steps_per_frame,
            "step_h": st.h,
            "T_ref": vm.T_ref,
            "Tc": vm.Tc,
            "profile_uniform": int(vm.uniform),
            "dealias": "2/3 rule: |k_i| <= floor((n_i - 1)/3)" if st.band.dealias else "none (uniform coefficients)",
            "retained_modes": st.band.size,
            "explicit_rate_rho": self.rate,
            "h_times_rho": st.h * self.rate,
            "local_growth_rate": self.local.rate if self.local is not None else float("nan"),
            "local_growth_x": self.local.x if self.local is not None else (),
            "phi_methods": "stiff divided difference, direct 3x3, untrusted split, q = 0, eps_hat = 0",
            "phi_method_counts": tuple(float(v) for v in st.phi_methods),
            "T_min": float(vm.fields.T.min()),
            "T_max": float(vm.fields.T.max()),
        }
        attrs.update({f"ref_{k}": v for k, v in vm.reference.derived_attrs().items()})
        return attrs


    def noise_attributes(self) -> dict:
        """``noise_kind``, ``noise_strength``, ``noise_seed`` and ``noise_Theta`` (the per-mode
        equipartition scale, :func:`tdgl_stt.noise.equipartition_scale`, at the base temperature
        of ``[model]``; NaN for kind = "explicit") of a noisy run; else {}. A noisy profile run
        also gets ``noise_scheme`` and ``noise_forces`` (the white fields drawn per step)."""
        st = self.stepper
        if not isinstance(st, (NoisyExactStepper, NoisyETDStepper)):
            return {}
        from .noise import equipartition_scale

        nc = st.noise_config
        attrs = {"noise_kind": nc.kind, "noise_strength": float(nc.strength), "noise_seed": int(nc.seed),
                 "noise_Theta": float(equipartition_scale(nc, float(math.prod(st.grid.L))))
                 if nc.kind == "thermal" else math.nan}
        if isinstance(st, NoisyETDStepper):
            attrs["noise_scheme"] = (
                "after each step h: the exact increment of the reference operator over h per force, "
                "drawn from white fields carrying the local intensity (T(x)/T0 for the current, "
                "(T(x)/T0)(I(x)/I_ref) for the relaxation of psi = I Phi/I_ref, T0 = [model] T); "
                "weak order 1 (docs/noise.md, section 10)")
            attrs["noise_forces"] = ", ".join(st.increment.white_names)
        return attrs


def _local_medium(vm: VariableModel, config: RunConfig, grid: Grid, point: tuple[float, ...]) -> Coefficients:
    """The uniform model with the coefficients frozen at the grid point nearest ``point``:
    the medium in which a wave packet starts."""
    idx = tuple(round(p / dx) % n for p, dx, n in zip(point, grid.dx, grid.n))
    f = vm.fields
    return replace(
        vm.reference,
        Delta=float(f.Delta[idx]), T=float(f.T[idx]), I=float(f.I[idx]), ns_over_n=float(f.ns_over_n[idx]),
        c2=float(f.c2[idx]), vT=tuple(float(v[idx]) for v in f.vT), grad_T=tuple(float(g[idx]) for g in f.grad_T),
    )


def build_stepper(config: RunConfig, grid: Grid) -> StepperSetup:
    """The stepper of ``config`` and its diagnostics (module docstring)."""
    coeffs = coefficients_from_model(config.model)
    m = config.model
    vm = None if m.temperature_profile is None else variable_model(m, m.Tc, m.temperature_profile, grid)
    if not uses_etd(config):  # a uniform profile may use the exact stepper
        if is_noisy(config):
            stepper = NoisyRunStepper(coeffs, grid, config.time.dt, config.noise)
        else:
            stepper = ExactStepper(coeffs, grid, config.time.dt)
        return StepperSetup(stepper, coeffs, vm, None, 0.0)
    t = config.time
    if is_noisy(config):
        medium = _local_medium(vm, config, grid, (0.0,) * grid.ndim) if np.ptp(vm.fields.T) == 0 else None
        stepper = NoisyETDStepper(vm, grid, t.dt, t.steps_per_frame, t.integrator, config.noise,
                                  T_base=m.T, medium=medium)
    else:
        stepper = ETDStepper(vm, grid, t.dt, t.steps_per_frame, t.integrator)
    keep = stepper.band.mask()
    local = None if vm.uniform else local_growth(vm, grid, keep)
    return StepperSetup(stepper, coeffs, vm, local, explicit_rate(vm, grid, keep))


def initial_medium(setup: StepperSetup, config: RunConfig, grid: Grid):
    """``(q_lap, q_grad) -> ModeEntries`` of the medium an initial mode or packet is made of: the
    uniform model, or with a profile the coefficients at the packet's centre (else the base)."""
    medium = setup.coeffs
    if setup.variable is not None and config.initial.kind == "packet":
        center = config.initial.center if config.initial.center is not None else tuple(0.5 * L for L in grid.L)
        medium = _local_medium(setup.variable, config, grid, center)

    def entries_at(q_lap: np.ndarray, q_grad: np.ndarray) -> ModeEntries:
        return mode_entries(medium, q_lap, q_grad)

    return entries_at
