"""Run a config: initial state -> stepping -> streamed NetCDF, with progress and clean stops.

The runner owns saving, checkpoints, resuming, progress, interrupts and the divergence check;
physics lives in :mod:`tdgl_stt.model` and :mod:`tdgl_stt.propagator` (uniform coefficients,
the exact stepper) and :mod:`tdgl_stt.variable_model` (a temperature profile, the exponential
integrators); :mod:`tdgl_stt.steppers` chooses between them.

Every frame is a deterministic function of the config: the propagator multiply is elementwise
and the transforms are fixed single-threaded plans (:mod:`tdgl_stt.field_transforms`), so the
output is bitwise the same for any ``threads`` and in any process. That is what lets
:func:`resume` continue a killed run from a checkpoint of the spectral state and produce the
very bits of an uninterrupted run.
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
from .checkpoint import Checkpoint
from .config import FIELDS, RunConfig
from .errors import ConfigError, InputFileError, OutputError
from .field_transforms import FieldTransforms
from .file_rebuild import rebuild_run_file
from .frame_pipeline import BackgroundFrameWriter
from .grid import Grid
from .initial import initial_state
from .integrators.etd import ETDStepper
from .integrators.exact import ExactStepper
from .integrators.noisy_etd import NoisyETDStepper
from .io_netcdf import RunWriter, check_free_space, check_output_path, format_bytes
from .model import mode_entries
from .params import Coefficients
from .propagator import ROUND_OFF_PART, exact_frequencies
from .resume import ResumePoint, find_resume_point
from .steppers import NoisyRunStepper, StepperSetup, build_stepper, initial_medium
from .units import UnitLabels, unit_labels

#: The rms amplitude of the state above which a run is stopped as diverged.
OVERFLOW_AMPLITUDE = 1e150
#: Frames between two checks of the rms amplitude (a NaN/Inf is caught at every frame, before
#: the frame is written).
AMPLITUDE_CHECK_EVERY = 32
#: Default checkpoint interval: the checkpoint bytes are at most this share of the frame bytes.
CHECKPOINT_SHARE = 0.02
#: Relative difference up to which a checkpoint that does not reproduce its frame bitwise is
#: taken as rounded differently (another FFT build) rather than damaged.
ROUND_OFF = 1e-12


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
    """The fastest-growing exact mode on the grid (a physical instability when rate > 0).

    With a temperature profile, ``local`` describes a frozen-coefficient mode instead
    (:func:`tdgl_stt.stability.local_growth`): where the local gradient's torque makes the CG
    mode grow; ``omega`` is then NaN.
    """

    rate: float
    omega: complex
    q: tuple[float, ...]
    k: tuple[int, ...]
    local: str = ""

    def message(self, amplitude: float) -> str:
        if self.rate <= 0:
            return "no growing mode"
        t_overflow = math.log(OVERFLOW_AMPLITUDE / max(amplitude, 1e-300)) / self.rate
        if self.local:
            return (f"{self.local}; from amplitude {amplitude:.3g} a mode growing at that rate everywhere "
                    f"would reach {OVERFLOW_AMPLITUDE:.0e} at t ~ {t_overflow:.6g}")
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
    resumed_from: int | None = None


def growth_report(stepper: ExactStepper, grid: Grid) -> GrowthReport:
    """Largest ``Im w`` among the exact roots on the grid, with its wavevector."""
    return _growth(exact_frequencies(stepper.entries, stepper.split), grid)


def _growth(w: np.ndarray, grid: Grid) -> GrowthReport:
    """Largest ``Im w`` of roots ``w`` (shape ``(*spectral_shape, 3)``) on the grid."""
    im = np.where(np.isfinite(w.imag), w.imag, -np.inf)
    # An undamped mode's Im w is ~1e-17 |w| of round-off, not growth.
    im = np.where(im > ROUND_OFF_PART * np.abs(w), im, np.minimum(im, 0.0))
    flat = int(np.argmax(im))
    idx = np.unravel_index(flat, im.shape)
    spec_idx = idx[:-1]
    q = tuple(float(grid.q_lap[i][spec_idx]) for i in range(grid.ndim))
    k = tuple(int(round(qi * Li / (2 * math.pi))) for qi, Li in zip(q, grid.L))
    return GrowthReport(rate=float(im[idx]), omega=complex(w[idx]), q=q, k=k)


def checkpoint_interval(config: RunConfig) -> int:
    """Frames between two checkpoints: ``[output] checkpoint_every``, or by default the smallest
    interval whose checkpoint bytes are at most :data:`CHECKPOINT_SHARE` of the frame bytes
    (51 frames for three fields, 151 for one)."""
    if config.output.checkpoint_every is not None:
        return config.output.checkpoint_every
    n = config.grid.n
    state = 3 * math.prod(n[:-1]) * (n[-1] // 2 + 1) * 16
    frame = len(config.output.fields) * math.prod(n) * 8
    return max(1, math.ceil(state / (CHECKPOINT_SHARE * frame)))


def output_size(config: RunConfig, frames: int, *, new_file: bool = True) -> tuple[int, str]:
    """Bytes that ``frames`` more frames (and, in a new file, the two checkpoint slots) add to
    the output file, and how that was counted, for messages."""
    points = math.prod(config.grid.n)
    fields = len(config.output.fields)
    n = config.grid.n
    slots = 2 * 3 * math.prod(n[:-1]) * (n[-1] // 2 + 1) * 16 if new_file else 0
    what = f"{frames} frames x {fields} fields x {points} grid points x 8 bytes"
    if slots:
        what += f", plus {format_bytes(slots)} of checkpoint"
    return frames * fields * points * 8 + slots, what


def _run_growth(info: StepperSetup, grid: Grid) -> GrowthReport:
    """The growth that a run can show for physical reasons: the exact roots of the uniform model,
    and with a temperature profile also the frozen-coefficient growth where it is larger."""
    if isinstance(info.stepper, ExactStepper):
        return growth_report(info.stepper, grid)
    base = _growth(exact_frequencies(mode_entries(info.coeffs, grid.q_lap, grid.q_grad)), grid)
    local = info.local
    if local is None or local.rate <= base.rate:
        return base
    k = tuple(round(qi * Li / (2 * math.pi)) for qi, Li in zip(local.q, grid.L))
    return GrowthReport(rate=local.rate, omega=complex(math.nan, local.rate), q=local.q, k=k, local=local.message())


def static_fields(info: StepperSetup, units: UnitLabels) -> dict[str, tuple[np.ndarray, str, str]]:
    """The temperature profile and the coefficients derived from it, for the output file."""
    vm = info.variable
    if vm is None:
        return {}
    f = vm.fields
    energy = units.energy
    out = {
        "T_local": (f.T, energy, "local temperature T(x)"),
        "Delta_local": (f.Delta, energy, "local BCS gap Delta(T(x); Tc)"),
        "I_local": (f.I, "1", "local I = pi Delta / (4 T)"),
        "ns_over_n_local": (f.ns_over_n, "1", "local superfluid fraction n_s/n"),
        "c2_local": (f.c2, f"({units.length}/{units.time})^2", "local c^2 = vF^2 (n_s/n) / d"),
    }
    for i, ax in enumerate("xyz"[: f.vT.shape[0]]):
        out[f"vT_{ax}_local"] = (f.vT[i], f"{units.length}/{units.time}",
                                 f"local v_T along {ax} (Eq. 15 with the local grad T)")
    return out


def run_attributes(config: RunConfig, coeffs: Coefficients, stepper: ExactStepper | ETDStepper,
                   growth: GrowthReport, info: StepperSetup | None = None) -> dict:
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
        "checkpoint_every": checkpoint_interval(config),
        "fft_plans": "FFTW_ESTIMATE, single-threaded, no wisdom: bitwise the same for any --threads",
    }
    prof = config.model.temperature_profile
    if prof is not None:
        attrs["equations"] = (
            "conservative form with x-dependent coefficients, j = c2(x) grad theta - 2 (Delta^2/T)(x) vT(x) theta: "
            "(1) d theta/dt = 2 (Phi - mu); (2) I(x) (d/dt + 1/tauE) Phi = (1/2) div j; "
            "(3) d/dt (eps_hat mu) = 2 div(D grad mu) - div j"
        )
        attrs.update({
            "temperature_profile_kind": prof.kind,
            "temperature_profile_amplitude": prof.amplitude,
            "temperature_profile_width": prof.width if prof.width is not None else float("nan"),
            "temperature_profile_center": prof.center or (),
            "temperature_profile_axis": prof.axis,
            "temperature_profile_path": prof.path or "",
        })
        if info is not None:
            attrs.update(info.attributes())
    if info is not None:
        attrs.update(info.noise_attributes())
    attrs.update(coeffs.derived_attrs())
    if config.conversion:
        attrs.update({f"si_{k}": v for k, v in config.conversion.items()})
    return attrs


@dataclass(frozen=True)
class _Setup:
    """Everything a run builds from its config before the first frame."""

    config: RunConfig
    coeffs: Coefficients
    grid: Grid
    stepper: ExactStepper | ETDStepper
    transforms: FieldTransforms
    growth: GrowthReport
    checkpoint_every: int
    info: StepperSetup


def _prepare(config: RunConfig, threads: int, say: Callable[[str], None]) -> _Setup:
    grid = Grid(tuple(config.grid.n), tuple(float(v) for v in config.grid.L))
    info = build_stepper(config, grid)
    stepper = info.stepper
    fields = {name: FIELDS.index(name) for name in config.output.fields}
    transforms = FieldTransforms(grid.shape, fields, threads=threads)
    growth = _run_growth(info, grid)
    if stepper.n_fallback:
        say(f"{stepper.n_fallback} modes use scipy.linalg.expm (near-degenerate, non-stiff roots)")
    for notice in info.notices(config.time.dt):
        say(notice)
    return _Setup(config, info.coeffs, grid, stepper, transforms, growth, checkpoint_interval(config), info)


def _initial(setup: _Setup) -> np.ndarray:
    """The spectral state of frame 0: ``[initial]``, or a draw from the noise's stationary
    distribution (``kind = "stationary"``; it advances the noise generator, so the frame-0
    checkpoint taken after it carries the generator's state)."""
    config = setup.config
    if config.initial.kind != "stationary":
        return initial_state(config.initial, setup.grid, setup.transforms, initial_medium(setup.info, config, setup.grid))
    stepper = setup.stepper
    if not isinstance(stepper, (NoisyRunStepper, NoisyETDStepper)):  # pragma: no cover - config validation forbids it
        raise ConfigError("initial.kind", '"stationary" needs a [noise] table with strength > 0')
    try:
        return stepper.sample_stationary()
    except ValueError as exc:
        g = setup.growth
        raise ConfigError("initial.kind", f'"stationary": {exc}; the fastest-growing mode: '
                          f"{g.message(1.0)}; there is no stationary state to start from, use another "
                          "[initial] kind") from None


def _announce_growth(setup: _Setup, x: np.ndarray, say: Callable[[str], None]) -> None:
    if setup.growth.rate > 0:
        say(setup.growth.message(float(np.sqrt(np.vdot(x, x).real))))


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

    The file gets a restart checkpoint of the spectral state at frame 0, every
    :func:`checkpoint_interval` frames and when the run is stopped cleanly, for :func:`resume`.

    Parameters
    ----------
    config
        A validated run configuration (:func:`tdgl_stt.config.load_config`).
    output
        Output path; defaults to ``config.output.path``.
    progress
        Show a tqdm bar; default: when stderr is a terminal.
    threads
        Threads for the propagator multiply (numexpr; restored afterwards) and for the
        transforms of the saved fields (one field per thread). The output does not depend on it.
    log
        Where to send one-line notices (default: stderr).
    stop
        A :class:`StopRequest` installed as signal handler; checked between frames.

    Returns
    -------
    RunResult
        ``status`` is "complete", "interrupted" (Ctrl-C or SIGTERM: every finished frame is kept)
        or "diverged" (a NaN/Inf or an amplitude above ``OVERFLOW_AMPLITUDE``).

    Raises
    ------
    tdgl_stt.errors.OutputError
        Before any work: the output path is not writable, or the file system has not room for
        the estimated output. During the run: a write failed (e.g. the disk filled up); the
        file then keeps every committed frame and says ``status = "interrupted"`` if it still can.
    """
    say = log or (lambda msg: print(f"tdgl-stt: {msg}", file=sys.stderr))
    path = Path(output if output is not None else config.output.path)
    check_output_path(path)
    check_free_space(path, *output_size(config, config.time.n_frames + 1))
    previous_threads = numexpr.set_num_threads(max(1, threads))
    try:
        setup = _prepare(config, threads, say)
        with setup.transforms:
            x = setup.stepper.project(_initial(setup))
            _announce_growth(setup, x, say)
            units = unit_labels(config)
            with RunWriter(
                path,
                axes=setup.grid.axes,
                coords=setup.grid.coords(),
                lengths=setup.grid.L,
                fields=tuple(config.output.fields),
                attrs=run_attributes(config, setup.coeffs, setup.stepper, setup.growth, setup.info),
                time_units=units.time,
                length_units=units.length,
                energy_units=units.energy,
                checkpoint=setup.stepper.checkpoint_spec(),
                static=static_fields(setup.info, units),
            ) as writer:
                return _evolve(setup, writer, x, first=0, on_disk=0, progress=progress,
                               say=say, stop=stop or StopRequest())
    finally:
        numexpr.set_num_threads(previous_threads)


def resume(
    path: str | Path,
    *,
    progress: bool | None = None,
    threads: int = 1,
    log: Callable[[str], None] | None = None,
    stop: StopRequest | None = None,
) -> RunResult:
    """Continue a run that was interrupted (SIGINT, SIGTERM) or killed (SIGKILL, OOM, time limit).

    The config is the one stored in the file. The run restarts from the newest valid
    checkpoint at or before the last intact frame; the frames after it are recomputed and
    checked bit for bit against those on disk (a frame that differs or was never committed is
    written again), then the run goes on to ``n_frames``. The final file is bitwise the file of
    an uninterrupted run. If the file of a killed run (status ``running``) cannot be continued
    in place, it is rebuilt from its frames up to the checkpoint's and the checkpoint
    (:func:`tdgl_stt.file_rebuild.rebuild_run_file`) and the resume is done once more.

    Parameters
    ----------
    path
        The run file; it is changed in place.
    progress, threads, log, stop
        As for :func:`run`.

    Raises
    ------
    tdgl_stt.errors.InputFileError
        The file cannot be resumed (:func:`tdgl_stt.resume.find_resume_point`: complete,
        diverged, no checkpoint, foreign, corrupted, ...), or its checkpoint does not reproduce
        the frame it belongs to. The file is not changed.
    tdgl_stt.errors.OutputError
        As for :func:`run`.
    """
    say = log or (lambda msg: print(f"tdgl-stt: {msg}", file=sys.stderr))
    point = find_resume_point(path)
    for note in point.notes:
        say(note)
    config = point.config
    frames_left = max(0, config.time.n_frames + 1 - point.frames_on_disk)
    check_free_space(point.path, *output_size(config, frames_left, new_file=False), replaced=False)
    previous_threads = numexpr.set_num_threads(max(1, threads))
    try:
        setup = _prepare(config, threads, say)
        with setup.transforms:
            checkpoint = _choose_checkpoint(point, setup, say)
            k = checkpoint.frame
            x = setup.stepper.restore(checkpoint.arrays)
            _announce_growth(setup, x, say)
            say(f"resuming {point.path} ({point.status}, {point.frames_on_disk} frames) from the "
                f"checkpoint at frame {k}")
            try:
                return _resume_in(point.path, setup, x, checkpoint, point.frames_on_disk, progress, say, stop)
            except OutputError as exc:
                if point.status != "running":
                    raise
                # killed inside HDF5's metadata flush, the file's index of its newest frames can
                # be damaged: it opens and reads, but cannot be extended (docs/output-format.md)
                say(f"continuing in place failed ({exc}); the kill may have damaged the file's "
                    f"index of its newest frames: rebuilding it from frames 0..{k} and the "
                    f"checkpoint of frame {k}, then resuming once more")
                rebuild_run_file(point.path, keep=k + 1, checkpoint=checkpoint)
                x = setup.stepper.restore(checkpoint.arrays)
                return _resume_in(point.path, setup, x, checkpoint, k + 1, progress, say, stop)
    finally:
        numexpr.set_num_threads(previous_threads)


def _resume_in(path: Path, setup: _Setup, x: np.ndarray, checkpoint: Checkpoint, on_disk: int,
               progress: bool | None, say: Callable[[str], None], stop: StopRequest | None) -> RunResult:
    """Reopen ``path`` keeping the frames up to the checkpoint's and evolve from its state ``x``."""
    k = checkpoint.frame
    with RunWriter.reopen(path, keep=k + 1, checkpoint_slot=1 - checkpoint.slot,
                          note=f"resumed from the checkpoint at frame {k}") as writer:
        return _evolve(setup, writer, x, first=k, on_disk=on_disk, progress=progress, say=say,
                       stop=stop or StopRequest())


def _choose_checkpoint(point: ResumePoint, setup: _Setup, say: Callable[[str], None]) -> Checkpoint:
    """The newest checkpoint that reproduces its own frame on disk: bitwise, or to round-off
    with a notice (another FFTW build or CPU rounds the transforms differently). A checkpoint
    that does not (damaged, or not of this file) is passed over; if none does, the resume is
    refused."""
    buffers = setup.transforms.output_buffers()
    rejected = []
    for checkpoint, stored_values in point.candidates:
        values = setup.transforms.inverse(setup.stepper.restore(checkpoint.arrays), buffers)
        worst = 0.0
        for name, stored in stored_values.items():
            if values[name].tobytes() != stored.tobytes():
                scale = float(np.max(np.abs(stored))) or 1.0
                worst = max(worst, float(np.max(np.abs(values[name] - stored))) / scale)
        if not worst <= ROUND_OFF:
            rejected.append(f"frame {checkpoint.frame} (largest relative difference {worst:.3g})")
            continue
        if rejected:
            say(f"passed over the checkpoint of {rejected[0]}: it does not reproduce its frame")
        if worst > 0:
            say(f"the transforms on this machine round differently from those that wrote "
                f"{point.path} (largest relative difference {worst:.2g} at frame "
                f"{checkpoint.frame}): the resumed frames are exact to round-off but not bitwise "
                "those of an uninterrupted run on the original machine")
        return checkpoint
    raise InputFileError(
        f"cannot resume {point.path}: no checkpoint reproduces its frame on disk "
        f"({'; '.join(rejected)}); the file was changed or damaged"
    )


def _evolve(setup: _Setup, writer: RunWriter, x: np.ndarray, *, first: int, on_disk: int,
            progress: bool | None, say: Callable[[str], None], stop: StopRequest) -> RunResult:
    """Frames ``first + 1 .. n_frames`` from the state ``x`` of frame ``first``.

    A fresh run (``first = 0``, nothing on disk) writes frame 0 and its checkpoint first. Frames
    below ``on_disk`` are on disk already (a resumed run): each is recomputed and verified, and
    written again only if it differs.
    """
    config, stepper, transforms = setup.config, setup.stepper, setup.transforms
    dt, n_frames, every = config.time.dt, config.time.n_frames, setup.checkpoint_every
    growth, path = setup.growth, writer.path
    show = sys.stderr.isatty() if progress is None else progress
    status, message, rewritten, checkpointed = "complete", "", 0, -1
    amplitude = float(np.sqrt(np.vdot(x, x).real))  # at frame `first`, for the cause of a divergence
    # Two buffer sets: frame n is transformed into set n % 2 while frame n - 1, in the other
    # set, is being written by the background thread.
    buffers = [transforms.output_buffers() for _ in range(2)]

    def finite(values: dict) -> bool:
        # U(q, dt) is dense within each mode and every inverse-FFT output sums every
        # coefficient, so a NaN/Inf anywhere in the state reaches every point of every saved
        # field in the same frame: one element per field is a complete check.
        return all(math.isfinite(float(v.flat[0])) for v in values.values())

    with BackgroundFrameWriter(writer) as sink, tqdm(
        total=n_frames, initial=first, disable=not show, unit="frame", desc="tdgl-stt run"
    ) as bar:
        n = first
        try:
            try:
                if on_disk == 0:
                    # The state arrays of a checkpoint stay untouched until the next submit
                    # returns: the stepper reuses a state buffer only two steps later.
                    sink.submit(0.0, transforms.inverse(x, buffers[0]), checkpoint=stepper.checkpoint_arrays(x))
                    checkpointed = 0
                for n in range(first + 1, n_frames + 1):
                    x = stepper.step(x)
                    values = transforms.inverse(x, buffers[n % 2])
                    ok = finite(values)
                    norm2 = np.vdot(x, x).real if ok and n % AMPLITUDE_CHECK_EVERY == 0 else 0.0
                    if not ok or not math.isfinite(norm2) or norm2 > OVERFLOW_AMPLITUDE**2:
                        status = "diverged"
                        # an infinite norm2 of finite values is an amplitude above ~1e154
                        what = "NaN/Inf" if not ok or math.isnan(norm2) else f"amplitude above {OVERFLOW_AMPLITUDE:.0e}"
                        message = f"{what} at t = {n * dt:.6g} (frame {n}); " + _cause(growth, amplitude, (n - first) * dt)
                        break
                    state = stepper.checkpoint_arrays(x) if n % every == 0 else None
                    if n < on_disk:  # a resumed run: this frame is on disk already
                        sink.wait()
                        if not writer.verify_frame(n * dt, values):
                            writer.write_frame(n * dt, values)
                            rewritten += 1
                        if state is not None:
                            writer.write_checkpoint(n, state)
                    else:
                        sink.submit(n * dt, values, checkpoint=state)
                    if state is not None:
                        checkpointed = n
                    bar.update(1)
                    if stop.signal_name is not None:
                        raise Interrupted(stop.signal_name)
                sink.wait()
            except Interrupted as exc:
                sink.wait()
                if checkpointed != n and writer.n_written == n + 1:
                    writer.write_checkpoint(n, stepper.checkpoint_arrays(x))  # resume from here, not from further back
                status, message = "interrupted", f"stopped by {exc} after {sink.n_written} frames"
            except KeyboardInterrupt:
                sink.wait()
                status, message = "interrupted", f"stopped by SIGINT after {sink.n_written} frames"
        except OutputError as exc:
            _stop_on_write_error(writer, exc)
        writer.set_status(status, message)
    written = writer.n_written
    if rewritten:
        say(f"{rewritten} recomputed frames differed from the frames on disk and were written again")
    if status != "complete":
        say(f"{status}: {message}; {written} frames kept in {path}")
    return RunResult(path=path, status=status, frames_written=written, message=message,
                     growth=growth, resumed_from=first if on_disk else None)


def _cause(growth: GrowthReport, amplitude: float, elapsed: float) -> str:
    """Why a run diverged: the physical instability, if its growth from ``amplitude`` over
    ``elapsed`` explains an amplitude near :data:`OVERFLOW_AMPLITUDE`, else a numerical failure."""
    if growth.rate <= 0:
        return "no exact mode grows, so this is a numerical failure"
    reached = math.log10(max(amplitude, 1e-300)) + growth.rate * elapsed / math.log(10)
    if reached >= math.log10(OVERFLOW_AMPLITUDE) - 20:
        return f"expected from the physical instability: {growth.message(1.0)}"
    return (f"an exact mode grows (rate {growth.rate:.3g}), but from amplitude {amplitude:.3g} it "
            f"would have reached only ~1e{reached:.0f} by now, so this is a numerical failure")


def _stop_on_write_error(writer: RunWriter, exc: OutputError) -> None:
    """A write failed (a full disk, a vanished mount): mark the file if it can still be written,
    and raise one line that says what is kept and how to continue."""
    kept = writer.n_written
    message = f"{exc}; the file keeps the {kept} frames written before"
    try:
        writer.set_status("interrupted", message)
    except OutputError:
        message += f" (its status still says {writer.status!r}: the file could not be updated)"
    raise OutputError(f"{message}; make room and continue with: tdgl-stt run --resume {writer.path}") from None
