"""Run a config: initial state -> exact stepping -> streamed NetCDF, with progress and clean stops.

The runner owns saving, progress, interrupts and the divergence check; physics lives in
:mod:`tdgl_stt.model` and :mod:`tdgl_stt.propagator`.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numexpr
import numpy as np
from tqdm import tqdm

from ._version import __version__
from .config import FIELDS, RunConfig
from .fft import RealFFT
from .frame_pipeline import BackgroundFrameWriter
from .grid import Grid
from .initial import initial_state
from .integrators.exact import ExactStepper
from .io_netcdf import RunWriter, check_output_path
from .model import mode_entries
from .params import Coefficients, coefficients_from_model
from .propagator import exact_frequencies
from .units import unit_labels

#: The rms amplitude of the state above which a run is stopped as diverged.
OVERFLOW_AMPLITUDE = 1e150
#: Frames between two checks of the rms amplitude (a NaN/Inf is caught at every frame, before
#: the frame is written).
AMPLITUDE_CHECK_EVERY = 32


class Interrupted(Exception):
    """Raised to stop a run cleanly (by :class:`StopRequest` between frames)."""


class StopRequest:
    """A stop flag set by a signal handler and checked by the run loop between frames.

    Raising from a signal handler would interrupt whatever C call is running (HDF5, numexpr)
    and can leave it holding a lock; setting a flag cannot. A second request raises
    KeyboardInterrupt at once, for a user who insists.
    """

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __call__(self, signum, frame) -> None:  # a signal handler
        import signal as _signal

        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = _signal.Signals(signum).name


@dataclass(frozen=True)
class GrowthReport:
    """The fastest-growing exact mode on the grid (a physical instability when rate > 0)."""

    rate: float
    omega: complex
    q: tuple[float, ...]
    k: tuple[int, ...]

    def message(self, amplitude: float) -> str:
        if self.rate <= 0:
            return "no growing mode"
        t_overflow = math.log(OVERFLOW_AMPLITUDE / max(amplitude, 1e-300)) / self.rate
        return (
            f"physical instability: the exact mode w = {self.omega.real:.6g} {self.omega.imag:+.6g}i "
            f"at q = {list(self.q)} (k = {list(self.k)}) grows at rate Im w = {self.rate:.6g} "
            f"(e-folding time {1 / self.rate:.6g}); from amplitude {amplitude:.3g} it reaches "
            f"{OVERFLOW_AMPLITUDE:.0e} at t ~ {t_overflow:.6g}"
        )


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` did."""

    path: Path
    status: str
    frames_written: int
    message: str = ""
    growth: GrowthReport | None = None


def growth_report(stepper: ExactStepper, grid: Grid) -> GrowthReport:
    """Largest ``Im w`` among the exact roots on the grid, with its wavevector."""
    w = exact_frequencies(stepper.entries, stepper.split)
    im = np.where(np.isfinite(w.imag), w.imag, -np.inf)
    flat = int(np.argmax(im))
    idx = np.unravel_index(flat, im.shape)
    spec_idx = idx[:-1]
    q = tuple(float(grid.q_lap[i][spec_idx]) for i in range(grid.ndim))
    k = tuple(int(round(qi * Li / (2 * math.pi))) for qi, Li in zip(q, grid.L))
    return GrowthReport(rate=float(im[idx]), omega=complex(w[idx]), q=q, k=k)


def run_attributes(config: RunConfig, coeffs: Coefficients, stepper: ExactStepper, growth: GrowthReport) -> dict:
    """Global attributes: the config text, every coefficient, units and run metadata."""
    units = unit_labels(config)
    attrs: dict = {
        "title": "tdgl-stt run: phase/charge TDGL with the superconducting torque (Garate, Eqs. 17-19, 23)",
        "tdgl_stt_version": __version__,
        "config_toml": config.source_text,
        "equations": (
            "(1) d theta/dt = 2 (Phi - mu); (2) I (d/dt + 1/tauE) Phi = (c2/2) lap theta - (Delta^2/T) vT.grad theta; "
            "(3) d/dt (eps_hat mu) = 2 D lap mu - c2 lap theta + 2 (Delta^2/T) vT.grad theta"
        ),
        "sign_convention": "fields ~ exp(i q.x - i w t); damped modes have Im w < 0",
        "units": units.description,
        "integrator": config.time.integrator,
        "dt": config.time.dt,
        "n_frames_requested": config.time.n_frames,
        "grid_n": tuple(float(v) for v in config.grid.n),
        "grid_L": tuple(config.grid.L),
        "initial_kind": config.initial.kind,
        "n_fallback_modes": stepper.n_fallback,
        "max_growth_rate": growth.rate,
        "max_growth_q": growth.q,
    }
    attrs.update(coeffs.derived_attrs())
    if config.conversion:
        attrs.update({f"si_{k}": v for k, v in config.conversion.items()})
    return attrs


def run(
    config: RunConfig,
    *,
    output: str | Path | None = None,
    progress: bool | None = None,
    threads: int = 1,
    log: Callable[[str], None] | None = None,
    stop: StopRequest | None = None,
) -> RunResult:
    """Evolve equations (1)-(3) from ``config`` and stream every frame to NetCDF.

    Parameters
    ----------
    config
        A validated run configuration (:func:`tdgl_stt.config.load_config`).
    output
        Output path; defaults to ``config.output.path``.
    progress
        Show a tqdm bar; default: when stderr is a terminal.
    threads
        Threads for FFTW and for the propagator multiply (numexpr; restored afterwards).
    log
        Where to send one-line notices (default: stderr).
    stop
        A :class:`StopRequest` installed as signal handler; checked between frames.

    Returns
    -------
    RunResult
        ``status`` is "complete", "interrupted" (Ctrl-C or SIGTERM: every finished frame is kept)
        or "diverged" (a NaN/Inf or an amplitude above ``OVERFLOW_AMPLITUDE``).
    """
    say = log or (lambda msg: print(f"tdgl-stt: {msg}", file=sys.stderr))
    previous_threads = numexpr.set_num_threads(max(1, threads))
    try:
        return _run(config, output, progress, threads, say, stop or StopRequest())
    finally:
        numexpr.set_num_threads(previous_threads)


def _run(config: RunConfig, output, progress, threads: int, say: Callable[[str], None], stop: StopRequest) -> RunResult:
    path = Path(output if output is not None else config.output.path)
    check_output_path(path)
    coeffs = coefficients_from_model(config.model)
    grid = Grid(tuple(config.grid.n), tuple(float(v) for v in config.grid.L))
    dt, n_frames = config.time.dt, config.time.n_frames
    fields = tuple(config.output.fields)
    stepper = ExactStepper(coeffs, grid, dt)
    ffts = {name: RealFFT(grid.shape, threads=threads) for name in fields}
    x = initial_state(
        config.initial, grid, next(iter(ffts.values())), lambda ql, qg: mode_entries(coeffs, ql, qg)
    )
    x = stepper.project(x)
    growth = growth_report(stepper, grid)
    if growth.rate > 0:
        rms = float(np.sqrt(np.vdot(x, x).real))
        say(growth.message(rms))
    if stepper.n_fallback:
        say(f"{stepper.n_fallback} modes use scipy.linalg.expm (near-degenerate, non-stiff roots)")
    units = unit_labels(config)
    field_index = {name: FIELDS.index(name) for name in fields}
    show = sys.stderr.isatty() if progress is None else progress
    status, message = "complete", ""
    with RunWriter(
        path,
        axes=grid.axes,
        coords=grid.coords(),
        lengths=grid.L,
        fields=fields,
        attrs=run_attributes(config, coeffs, stepper, growth),
        time_units=units.time,
        length_units=units.length,
        energy_units=units.energy,
    ) as writer, BackgroundFrameWriter(writer) as sink, tqdm(
        total=n_frames, disable=not show, unit="frame", desc="tdgl-stt run"
    ) as bar:
        # Two buffer sets: frame n is transformed into set n % 2 while frame n - 1, in the
        # other set, is being written by the background thread.
        buffers = [{name: ffts[name].output_buffer() for name in fields} for _ in range(2)]

        def fields_at(n: int) -> dict:
            return {name: ffts[name].inverse(x[i], out=buffers[n % 2][name]) for name, i in field_index.items()}

        def finite(values: dict) -> bool:
            # U(q, dt) is dense within each mode and every inverse-FFT output sums every
            # coefficient, so a NaN/Inf anywhere in the state reaches every point of every saved
            # field in the same frame: one element per field is a complete check.
            return all(math.isfinite(float(v.flat[0])) for v in values.values())

        try:
            sink.submit(0.0, fields_at(0))
            for n in range(1, n_frames + 1):
                x = stepper.step(x)
                values = fields_at(n)
                ok = finite(values)
                norm2 = np.vdot(x, x).real if ok and n % AMPLITUDE_CHECK_EVERY == 0 else 0.0
                if not ok or not math.isfinite(norm2) or norm2 > OVERFLOW_AMPLITUDE**2:
                    status = "diverged"
                    what = "NaN/Inf" if not ok or not math.isfinite(norm2) else f"amplitude above {OVERFLOW_AMPLITUDE:.0e}"
                    message = f"{what} at t = {n * dt:.6g} (frame {n})"
                    if growth.rate > 0:
                        message += f"; expected from the physical instability: {growth.message(1.0)}"
                    else:
                        message += "; no exact mode grows, so this is a numerical failure"
                    break
                sink.submit(n * dt, values)
                bar.update(1)
                if stop.signal_name is not None:
                    raise Interrupted(stop.signal_name)
            sink.wait()
        except (KeyboardInterrupt, Interrupted) as exc:
            sink.wait()
            status = "interrupted"
            name = "SIGINT" if isinstance(exc, KeyboardInterrupt) else str(exc)
            message = f"stopped by {name} after {sink.n_written} frames"
        written = sink.n_written
        writer.set_status(status, message)
    if status != "complete":
        say(f"{status}: {message}; {written} frames kept in {path}")
    return RunResult(path=path, status=status, frames_written=written, message=message, growth=growth)
