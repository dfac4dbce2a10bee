"""Cost of one ETDRK4 step for a non-uniform T(x) against its FFT-bound floor, measured side by side.

The pseudo-spectral variation N(x) u needs, per evaluation, 2 inverse real FFTs (theta, psi) and
2 + ndim forward real FFTs (the products in real space); ETDRK4 evaluates N four times per step.
The floor of a step is that number of FFTs times the time of one planned pyFFTW real FFT of the
grid, measured in this process on the stepper's own plans (best of several repeats, data in
cache). Goal (issue 5): a step within 1.33x of the floor for a 2D 512^2 grid, 3 fields, one core.

    python benchmarks/etdrk4_cost.py [--quick] [--json FILE] [--markdown docs/performance-etdrk4.md]
    python benchmarks/etdrk4_cost.py --from-json docs/performance-etdrk4.json   (re-render only)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numexpr
import numpy as np

numexpr.set_num_threads(1)

from tdgl_stt.config import ModelConfig
from tdgl_stt.fft import RealFFT
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.etd import ETDStepper
from tdgl_stt.profiles import TemperatureProfile
from tdgl_stt.variable_model import variable_model

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.33


def best_of(fn, inner: int, repeats: int) -> float:
    """Best mean time of ``inner`` calls over ``repeats`` repetitions, in seconds."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        out.append((time.perf_counter() - t0) / inner)
    return min(out)


def copy_bandwidth(nbytes: int = 64 * 2**20) -> float:
    """Memory copy bandwidth (read + write) in GB/s, for context."""
    a = np.random.default_rng(0).random(nbytes // 8)
    b = np.empty_like(a)
    t = best_of(lambda: np.copyto(b, a), 5, 3)
    return 2 * nbytes / t / 1e9


def measure(n: int, repeats: int, steps: int, deterministic: bool = True, background_grad_T: float = 0.0) -> dict:
    """Time the step of the hot-spot problem and its floor (module docstring); a non-zero
    ``background_grad_T`` adds a uniform gradient along x, which makes A_ref complex."""
    model = ModelConfig(Delta=1.0, T=0.8, vF=1.0, d=2, tau=1.0, coulomb="film", ks=1.0e4, grad_T=(background_grad_T, 0.0))
    grid = Grid((n, n), (400.0, 400.0))
    t0 = time.perf_counter()
    vm = variable_model(model, 1.0, TemperatureProfile("gaussian", amplitude=0.1, width=20.0), grid)
    stepper = ETDStepper(vm, grid, 1.0, 4, "etdrk4", deterministic=deterministic, planner="FFTW_MEASURE")
    setup = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    x0 = np.fft.rfft2(rng.standard_normal((3, n, n))) / grid.size
    stepper.project(x0)
    stepper.advance(2)  # warm up
    transforms = stepper.forcing.transforms
    # the floor: planned full (unpruned, out-of-place) 2D real FFTs of the grid, with the
    # planner of the stepper's own transforms
    full = RealFFT(grid.shape, planner="FFTW_ESTIMATE" if deterministic else "FFTW_MEASURE", wisdom=not deterministic)
    full.forward(rng.standard_normal(grid.shape))
    full.inverse(np.fft.rfft2(rng.standard_normal(grid.shape)))
    x, N = stepper._x, stepper._N
    n_inv, n_fwd = stepper.forcing.n_inverse, stepper.forcing.n_forward
    evals = stepper.scheme.evaluations
    rows = {"step": [], "r2c": [], "c2r": [], "pruned_r2c": [], "pruned_c2r": [], "forcing": [], "ffts_in_forcing": []}

    def ffts_of_one_evaluation() -> None:
        for i in range(n_inv):
            transforms.inverse()
        for i in range(n_fwd):
            transforms.forward(i % 2)

    for _ in range(repeats):  # interleaved, so a noisy moment hits every quantity alike
        rows["step"].append(best_of(stepper._step, steps, 1))
        rows["r2c"].append(best_of(full._fwd.execute, 50, 1))  # the planned FFTW objects themselves
        rows["c2r"].append(best_of(full._inv.execute, 50, 1))
        rows["pruned_r2c"].append(best_of(lambda: transforms.forward(0), 50, 1))
        rows["pruned_c2r"].append(best_of(transforms.inverse, 50, 1))
        rows["forcing"].append(best_of(lambda: stepper._evaluate_N(x, N), 10, 1))
        rows["ffts_in_forcing"].append(best_of(ffts_of_one_evaluation, 10, 1))
    b = {k: min(v) for k, v in rows.items()}
    med = {k: float(np.median(v)) for k, v in rows.items()}
    floors = [evals * (n_inv * c + n_fwd * f) for c, f in zip(rows["c2r"], rows["r2c"])]
    per_repeat = [st / fl for st, fl in zip(rows["step"], floors)]
    floor = evals * (n_inv * b["c2r"] + n_fwd * b["r2c"])
    pruned_floor = evals * (n_inv * b["pruned_c2r"] + n_fwd * b["pruned_r2c"])
    traffic = bytes_per_step(stepper)
    bandwidth = copy_bandwidth()
    return {
        "machine": this_machine(),
        "n": n,
        "modes_retained": stepper.band.size,
        "modes_total": int(np.prod(grid.spectral_shape)),
        "setup_s": setup,
        "step_ms": 1e3 * b["step"],
        "steps_per_s": 1.0 / b["step"],
        "r2c_ms": 1e3 * b["r2c"],
        "c2r_ms": 1e3 * b["c2r"],
        "ffts_per_step": stepper.ffts_per_step,
        "floor_ms": 1e3 * floor,
        "floor_steps_per_s": 1.0 / floor,
        "ratio": b["step"] / floor,
        "ratio_of_medians": med["step"] / (evals * (n_inv * med["c2r"] + n_fwd * med["r2c"])),
        "ratio_per_repeat": [min(per_repeat), max(per_repeat)],
        "step_spread": max(rows["step"]) / min(rows["step"]) - 1,
        "floor_spread": max(floors) / min(floors) - 1,
        "repeats": repeats,
        "steps_per_repeat": steps,
        "pruned_r2c_ms": 1e3 * b["pruned_r2c"],
        "pruned_c2r_ms": 1e3 * b["pruned_c2r"],
        "pruned_floor_ms": 1e3 * pruned_floor,
        "ratio_to_pruned_floor": b["step"] / pruned_floor,
        "real_coefficients": bool(stepper._Cc.dtype == np.float64),
        "forcing_ms": 1e3 * b["forcing"],
        "ffts_in_forcing_ms": 1e3 * b["ffts_in_forcing"],
        "spectral_ms": 1e3 * (b["step"] - evals * b["forcing"]),
        "evaluations": evals,
        "copy_GBps": bandwidth,
        "bytes_per_step": traffic,
        "memory_floor_ms": 1e3 * sum(traffic.values()) / (bandwidth * 1e9),
        "roofline_ratio": (pruned_floor + sum(traffic.values()) / (bandwidth * 1e9)) / floor,
        "in_step": in_step_breakdown(stepper, 10 * steps),
    }


def in_step_breakdown(stepper: ETDStepper, steps: int) -> list[dict]:
    """Time every piece of ``steps`` steps where it runs, inside the step: each compiled kernel
    and each pass of each transform (the FFTW plans), by wrapping them for the duration. Also
    times each transform pass alone, repeated on data in cache, for comparison. The wrappers
    add a little overhead per call; the pieces are for comparing with each other."""
    from tdgl_stt.integrators import etd as etd_module
    from tdgl_stt.integrators import forcing as forcing_module

    times: dict[str, list[float]] = {}

    def timed(label: str, fn):
        def wrapper(*args):
            t0 = time.perf_counter()
            out = fn(*args)
            times.setdefault(label, []).append(time.perf_counter() - t0)
            return out
        return wrapper

    tf = stepper.forcing.transforms
    plans = {"inverse, leading axes": tf._inverse[0], "inverse, rows (c2r)": tf._inverse[-1]}
    for b, label in ((0, "buffer 0"), (1, "buffer 1")):
        plans[f"forward rows (r2c), {label}"] = tf._forward[b][0]
        plans[f"forward, leading axes, {label}"] = tf._forward[b][-1]
    kernels = {(etd_module, k) for k in ("etdrk4_stage_a", "etdrk4_stage_b", "etdrk4_stage_c", "etdrk4_final")}
    kernels |= {(forcing_module, k) for k in ("load_rows", "multiply", "gather_rows", "divergence_term")}
    saved_kernels = {(m, k): getattr(m, k) for m, k in kernels}
    saved_inverse, saved_forward = tf._inverse, tf._forward
    wrapped = {id(p): timed(label, p.execute) for label, p in plans.items()}

    class Timed:
        def __init__(self, plan):
            self.execute = wrapped[id(plan)]

    try:
        for (m, k), fn in saved_kernels.items():
            setattr(m, k, timed(k, fn))
        tf._inverse = [Timed(p) for p in saved_inverse]
        tf._forward = [[Timed(p) for p in ps] for ps in saved_forward]
        for _ in range(steps):
            stepper._step()
    finally:
        for (m, k), fn in saved_kernels.items():
            setattr(m, k, fn)
        tf._inverse, tf._forward = saved_inverse, saved_forward
    alone = {label: best_of(p.execute, 30, 3) for label, p in plans.items()}
    return [{"piece": k, "ms_per_step": 1e3 * sum(v) / steps, "calls_per_step": len(v) // steps,
             "median_ms": 1e3 * float(np.median(v)), "alone_ms": 1e3 * alone[k] if k in alone else None}
            for k, v in times.items()]


def bytes_per_step(stepper: ETDStepper) -> dict[str, int]:
    """Bytes the step moves outside the FFTs, read + written, counted from the kernels
    (tdgl_stt/integrators/kernels.py) for etdrk4: each value is touched once per kernel.

    * algebra: the per-mode coefficients (10 + 4 + 29 + 6 per retained mode, stages a, b, c and
      the final combination; real or complex as the stepper stores them) and the stage vectors
      (9 + 6 + 14 + 8 complex per mode);
    * per evaluation of N: the copies of theta and psi into the FFT inputs (read and write the
      retained modes, zero the discarded columns of the staging buffer), the products (each
      reads a field and a coefficient field and writes the product: 1 for psi, 1 + ndim for
      theta; real grid fields), the gather of n (retained modes read and written) and the
      terms of d (the first reads the retained modes and writes d, the ndim others also read d).
    """
    M = stepper.band.size
    grid = stepper.grid
    nd = grid.ndim
    c16, f8 = 16, 8
    rows = int(np.prod(grid.spectral_shape[:-1]))
    discarded_columns = grid.spectral_shape[-1] - stepper.band.shape[-1]
    real = grid.size
    coefficients = sum(c.nbytes for c in (stepper._Ca, stepper._Cb, stepper._Cc, stepper._Cf))
    algebra = coefficients + M * c16 * (9 + 6 + 14 + 8)
    loads = 2 * (2 * M * c16 + rows * discarded_columns * c16)
    products = (1 + (1 + nd)) * 3 * real * f8
    gathers = 2 * M * c16 + (2 + 3 * nd) * M * c16
    return {"algebra": algebra, "forcing": stepper.scheme.evaluations * (loads + products + gathers)}


def this_machine() -> str:
    """Where the measurement runs: CPU, cores, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, CPython {platform.python_version()}"


def markdown(r: dict, m: dict, c: dict) -> str:
    met = "met" if r["ratio"] <= GOAL else "not met"
    met_m = "met" if m["ratio"] <= GOAL else "not met"
    met_c = "met" if c["ratio"] <= GOAL else "not met"
    other = r["forcing_ms"] - r["ffts_in_forcing_ms"]
    ev = r["evaluations"]
    coeff_kind = "real" if r["real_coefficients"] else "complex"
    breakdown = "\n".join(
        f"| {p['piece']} | {p['ms_per_step']:.2f} | {p['calls_per_step']} | {p['median_ms']:.3f} | "
        + (f"{p['alone_ms']:.3f}" if p["alone_ms"] is not None else "") + " |" for p in r["in_step"])
    return f"""# Performance: the ETDRK4 step for a non-uniform temperature

Generated by `python benchmarks/etdrk4_cost.py` on {r.get('machine', this_machine())}; FFTW, numexpr and the numba kernels on one thread (OMP_NUM_THREADS=1). Rerun the
command to regenerate this page on your machine. The step and the FFTs of the floor are timed in
turn, {r['repeats']} times ({r['steps_per_repeat']} steps, 50 FFTs each); every time below is the best of those repeats, and the
ratio of the medians is given too. The stepper uses the plans of a run: single-threaded
`FFTW_ESTIMATE` plans made without wisdom, whose arithmetic depends only on the shape (bitwise
reproducible runs and resumes, issue 9); the floor is planned the same way. A second measurement
with `FFTW_MEASURE` plans is given for reference.

## One step, 2D {r['n']}x{r['n']} grid, 3 fields (theta, Phi, mu), a Gaussian hot spot, film Coulomb kernel

| what | value |
|---|---|
| ETDRK4 step | **{r['step_ms']:.2f} ms** ({r['steps_per_s']:.1f} steps/s) |
| FFT-bound floor: {r['ffts_per_step']} real FFTs per step x planned pyFFTW 2D FFT of the grid ({r['r2c_ms']:.3f} ms r2c, {r['c2r_ms']:.3f} ms c2r) | {r['floor_ms']:.2f} ms ({r['floor_steps_per_s']:.1f} steps/s) |
| **ratio step/floor** (goal <= {GOAL}) | **{r['ratio']:.2f}** ({met}) |
| ratio of the medians of the repeats | {r['ratio_of_medians']:.2f} |
| the same with FFTW_MEASURE plans and wisdom (not bitwise reproducible across processes): step / floor | {m['step_ms']:.2f} ms / {m['floor_ms']:.2f} ms = {m['ratio']:.2f} ({met_m}) |
| the same with a uniform background gradient as well (complex per-mode coefficients): step / floor | {c['step_ms']:.2f} ms / {c['floor_ms']:.2f} ms = {c['ratio']:.2f} ({met_c}) |
| the step's own pruned transforms ({r['pruned_r2c_ms']:.3f} ms r2c, {r['pruned_c2r_ms']:.3f} ms c2r), {r['ffts_per_step']} per step | {r['pruned_floor_ms']:.2f} ms (step / this = {r['ratio_to_pruned_floor']:.2f}) |
| one evaluation of N (of {ev} per step) | {r['forcing_ms']:.2f} ms |
| of which its {r['ffts_per_step'] // ev} FFTs, run in sequence | {r['ffts_in_forcing_ms']:.2f} ms |
| of which the copies into the FFT inputs, the products in real space, the gather of n, the divergence d | {other:.2f} ms |
| exponential-integrator algebra and cache misses per step (step minus {ev} evaluations timed alone) | {r['spectral_ms']:.2f} ms |
| bytes moved outside the FFTs / copy bandwidth (below) | {r['memory_floor_ms']:.2f} ms |
| per-mode coefficients | {coeff_kind} (the reference operator A_ref(q) is {coeff_kind}) |
| retained modes (2/3 rule) | {r['modes_retained']} of {r['modes_total']} |
| set-up (coefficient fields, phi-functions of every mode, FFTW plans) | {r['setup_s']:.1f} s |
| memory copy bandwidth (64 MB arrays, main memory), for context | {r['copy_GBps']:.1f} GB/s |

## Where the time goes inside a step

Every kernel and every pass of every transform, timed where it runs inside {10 * r['steps_per_repeat']} steps (the median of
its calls), and each transform pass alone, repeated on data in cache:

| piece | ms per step | calls per step | median per call, ms | alone, ms |
|---|---|---|---|---|
{breakdown}

## How the step gets there

The FFT floor of the issue counts full 2D real FFTs. The step does the same {r['ffts_per_step']} discrete Fourier
transforms, to round-off, but cheaper, and does everything else in as few passes over memory as
it can (`tdgl_stt/integrators/forcing.py`, `kernels.py`):

- **Pruned transforms.** The state and the coefficient variations keep only the modes of the
  2/3 rule, so each 2D transform is done as its two passes and the pass over the leading axis
  touches only the retained two thirds of the columns: the others are zero on the way in and
  thrown away on the way out. That is {r['pruned_floor_ms']:.1f} ms of transforms where full ones
  take {r['floor_ms']:.1f} ms.
- **Two buffers, in cache.** An evaluation works in two padded buffers (the forward row
  transforms in place) and two buffers of the retained columns: the copy into an inverse
  transform writes only the retained modes (the discarded rows of its buffer stay zero), and the
  leading-axis pass of a forward transform writes the retained columns contiguously, where the
  gathers read them. Each product is transformed right after it is formed. Fewer buffers
  matter: a transform that writes into a buffer evicted since its last use runs much slower
  inside the step than alone (compare the last two columns of the table above).
- **One pass per operation.** The products are row-wise passes that vectorise; each term of d
  is added in one pass from separable wavevectors (no per-mode |q|^2 or q to read); the ETDRK4
  stages are fused kernels reading one contiguous stream per coefficient.
- **Real coefficients.** With no uniform background gradient (a hot spot, a step between two
  reservoirs) A_ref(q) is real, so are its exponential and phi-functions; only their real parts
  are stored. With a background gradient they are complex and the algebra moves twice the
  coefficient bytes (the row "uniform background gradient" above).

What is left beyond the transforms is memory traffic: the kernels move
{(r['bytes_per_step']['algebra'] + r['bytes_per_step']['forcing']) / 1e6:.0f} MB per step ({r['bytes_per_step']['algebra'] / 1e6:.0f} MB in the algebra: per-mode coefficients and stage
vectors; {r['bytes_per_step']['forcing'] / 1e6:.0f} MB in the {ev} evaluations: copies, products with the grid-sized coefficient
fields r - 1, delta c^2, w, gathers), {r['memory_floor_ms']:.1f} ms at main-memory copy bandwidth. Part of it
is served by the caches (the 32 MB L3 holds a good share of a step's working set), which is why
the step costs less than the pruned transforms plus that figure. The step is more sensitive than
the floor to other processes sharing the memory system: over the {r['repeats']} repeats of this run the step
time spread by {100 * r['step_spread']:.0f} % and the floor by {100 * r['floor_spread']:.0f} % (largest over smallest), and step/floor
per repeat went from {r['ratio_per_repeat'][0]:.2f} to {r['ratio_per_repeat'][1]:.2f}.

Tried and not kept: doing the row transforms, the products and the forward row transforms block
by block of rows (so that the real-space fields stay in cache) made the step slower at every
block size tried (FFTW's row transforms lose more on short batches than the cache saves); the
in-place inverse transform (FFTW's in-place complex-to-real rows, with ESTIMATE plans, are slower
than out of place); a table of the per-mode coefficients by distinct |q|^2 (12933 of 58311 modes
at 512^2, a quarter of the bytes), whose gathers made the stage kernels slower than the
contiguous streams. These experiments are not in the repository, so no timings are quoted.
"""


#: (n, repeats, steps per repeat) of the full and the quick measurement
FULL, QUICK = (512, 30, 3), (256, 2, 3)
#: the uniform background gradient of the complex-coefficient measurement
BACKGROUND_GRAD_T = 2e-3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="256^2 grid and fewer repeats (a smoke test)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path, default=None, help="write the report (default: docs/performance-etdrk4.md unless --quick)")
    ap.add_argument("--from-json", type=Path, help="measure nothing: render the page of an earlier --json FILE")
    args = ap.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        size = QUICK if args.quick else FULL
        results = {
            "deterministic_plans": measure(*size),
            "measure_plans": measure(*size, deterministic=False),
            "background_gradient": measure(*size, background_grad_T=BACKGROUND_GRAD_T),
        }
        print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    target = args.markdown if args.markdown is not None else (None if args.quick else ROOT / "docs" / "performance-etdrk4.md")
    if target is not None:
        target.write_text(markdown(*results.values()))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
