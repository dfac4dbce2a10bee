"""Per-frame cost of `tdgl-stt run` (exact integrator) against its floor, measured side by side.

The floor of one output frame is what the output itself requires: the inverse real FFT of each
saved field plus writing the frame (write + sync). The run's per-frame cost is measured on the
real runner as (T(N+1 frames) - T(1 frame)) / N, so set-up (planning, the propagator) cancels.
Goal (issue 2): ratio <= 1.5 for a 2D 512^2 grid with 1000 frames. Also times the quickstart,
start-up included (goal < 10 s).

    python benchmarks/core_frame_cost.py [--quick] [--json FILE] [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numexpr  # noqa: E402

numexpr.set_num_threads(1)

from tdgl_stt.config import parse_config  # noqa: E402
from tdgl_stt.fft import RealFFT  # noqa: E402
from tdgl_stt.integrators.exact import ExactStepper  # noqa: E402
from tdgl_stt.io_netcdf import RunWriter  # noqa: E402
from tdgl_stt.grid import Grid  # noqa: E402
from tdgl_stt.params import coefficients_from_model  # noqa: E402
from tdgl_stt.resume import state_spec  # noqa: E402
from tdgl_stt.runner import checkpoint_interval, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def config(n: int, frames: int) -> str:
    return f"""
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 3
tau = 1.0
grad_T = [1.0e-3, 0.0]
coulomb = "bulk"
ks = 1.0e4
[grid]
n = [{n}, {n}]
L = [1000.0, 1000.0]
[time]
dt = 2.0
n_frames = {frames}
[initial]
kind = "noise"
"""


def timed_run(text: str, out: Path) -> float:
    t0 = time.perf_counter()
    res = run(parse_config(text), output=out, progress=False, log=lambda m: None)
    dt = time.perf_counter() - t0
    assert res.status == "complete"
    out.unlink()
    return dt


def floor_per_frame(n: int, frames: int, out: Path) -> tuple[float, float]:
    """(irfft x3 + write) per frame, and the irfft x3 part alone."""
    grid = Grid((n, n), (1000.0, 1000.0))
    ffts = [RealFFT(grid.shape) for _ in range(3)]
    rng = np.random.default_rng(0)
    X = [f.forward(rng.standard_normal(grid.shape)) for f in ffts]
    names = ("theta", "Phi", "mu")
    t_fft = 0.0
    with RunWriter(out, axes=grid.axes, coords=grid.coords(), lengths=grid.L, fields=names, attrs={}) as w:
        t0 = time.perf_counter()
        for i in range(frames):
            a = time.perf_counter()
            vals = {name: f.inverse(x) for name, f, x in zip(names, ffts, X)}
            t_fft += time.perf_counter() - a
            w.write_frame(i * 2.0, vals)
        total = time.perf_counter() - t0
        w.set_status("complete")
    out.unlink()
    return total / frames, t_fft / frames


def checkpoint_cost(n: int, out: Path, reps: int = 20) -> tuple[float, int]:
    """Median time of one restart checkpoint (the spectral state, three syncs) and the
    default interval between checkpoints of the benchmark run."""
    grid = Grid((n, n), (1000.0, 1000.0))
    names = ("theta", "Phi", "mu")
    state = np.ones((3,) + grid.spectral_shape, dtype=complex)
    times = []
    with RunWriter(out, axes=grid.axes, coords=grid.coords(), lengths=grid.L, fields=names, attrs={},
                   checkpoint=state_spec(grid)) as w:
        w.write_frame(0.0, {name: np.zeros(grid.shape) for name in names})
        for _ in range(reps):
            t0 = time.perf_counter()
            w.write_checkpoint(0, {"state": state})
            times.append(time.perf_counter() - t0)
    out.unlink()
    return float(np.median(times)), checkpoint_interval(parse_config(config(n, 1)))


def step_per_frame(n: int, reps: int = 50) -> float:
    c = coefficients_from_model(parse_config(config(n, 1)).model)
    st = ExactStepper(c, Grid((n, n), (1000.0, 1000.0)), 2.0)
    x = np.ones((3,) + st.grid.spectral_shape, dtype=complex)
    t0 = time.perf_counter()
    for _ in range(reps):
        x = st.step(x)
    return (time.perf_counter() - t0) / reps


def quickstart_seconds(tmp: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [shutil.which("tdgl-stt") or "tdgl-stt", "run", str(ROOT / "runs" / "quickstart.toml"), "-q", "-o", str(tmp / "qs.nc")],
        check=True,
    )
    return time.perf_counter() - t0


def measure(n: int, frames: int, tmp: Path, repeats: int) -> dict:
    """Run and floor per frame, interleaved ``repeats`` times; the best of each is kept.

    Interleaving matters: the first pass over fresh memory (tmpfs pages, page cache) is
    several times slower than later ones on a virtual machine, and would otherwise penalise
    whichever of the two is measured first.
    """
    timed_run(config(n, 1), tmp / "warm.nc")  # plans FFTW wisdom
    per_frame, floor, fft3 = math.inf, math.inf, math.inf
    for _ in range(repeats):
        t1 = timed_run(config(n, 1), tmp / "one.nc")
        tN = timed_run(config(n, frames + 1), tmp / "many.nc")
        per_frame = min(per_frame, (tN - t1) / frames)
        f, ff = floor_per_frame(n, frames, tmp / "floor.nc")
        if f < floor:
            floor, fft3 = f, ff
    return {
        "cores": len(os.sched_getaffinity(0)),
        "run_per_frame_ms": per_frame * 1e3,
        "floor_per_frame_ms": floor * 1e3,
        "floor_irfft3_ms": fft3 * 1e3,
        "floor_write_ms": (floor - fft3) * 1e3,
        "ratio_run_over_floor": per_frame / floor,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="256^2 and 100 frames")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--markdown", help="write the results as this markdown page (docs/performance.md)")
    ap.add_argument("--frames", type=int, default=1000, help="frames of the full (512^2) benchmark")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved repetitions (best kept)")
    args = ap.parse_args()
    n, frames = (256, 100) if args.quick else (512, args.frames)
    all_cpus = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TDGL_STT_BENCH_DIR")) as d:
        tmp = Path(d)
        available = measure(n, frames, tmp, args.repeats)
        os.sched_setaffinity(0, {min(all_cpus)})  # threads started from now on inherit it
        one_core = measure(n, frames, tmp, args.repeats)
        os.sched_setaffinity(0, all_cpus)
        step = step_per_frame(n)
        ckpt, every = checkpoint_cost(n, tmp / "ckpt.nc")
        qs = quickstart_seconds(tmp)
    res = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "grid": [n, n],
        "frames": frames,
        **available,
        "one_core": one_core,
        "propagator_multiply_ms": step * 1e3,
        "checkpoint_ms": ckpt * 1e3,
        "checkpoint_every": every,
        "checkpoint_per_frame_ms": ckpt * 1e3 / every,
        "goal_ratio": 1.5,
        "quickstart_seconds": qs,
        "goal_quickstart_seconds": 10.0,
    }
    print(f"grid {n}^2, {frames} frames, FFTW and numexpr on 1 thread ({res['machine']})")
    for label, r in ((f"{available['cores']} cores (writer thread overlaps)", available), ("1 core (taskset)", one_core)):
        print(f"  {label}:")
        print(f"    run, per frame           {r['run_per_frame_ms']:8.2f} ms")
        print(f"    floor (3 irfft + write)  {r['floor_per_frame_ms']:8.2f} ms  (irfft {r['floor_irfft3_ms']:.2f}, write {r['floor_write_ms']:.2f})")
        print(f"    ratio run/floor          {r['ratio_run_over_floor']:8.3f}   (goal <= 1.5)")
    print(f"  propagator multiply        {res['propagator_multiply_ms']:8.2f} ms")
    print(f"  one checkpoint             {res['checkpoint_ms']:8.2f} ms, every {every} frames: "
          f"{res['checkpoint_per_frame_ms']:.3f} ms per frame")
    print(f"  quickstart, start-up incl. {qs:6.2f} s  (goal < 10 s)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(markdown(res, args))


def markdown(res: dict, args: argparse.Namespace) -> str:
    """The performance page, from one run of this script."""
    where = os.environ.get("TDGL_STT_BENCH_DIR")
    cmd = (f"TDGL_STT_BENCH_DIR={where} " if where else "") + "python benchmarks/core_frame_cost.py" + (" --quick" if args.quick else f" --frames {res['frames']}") + (f" --repeats {args.repeats}" if args.repeats != 2 else "") + " --markdown docs/performance.md"
    one = res["one_core"]

    def met(r: dict) -> str:
        return "met" if r["ratio_run_over_floor"] <= res["goal_ratio"] else "NOT met"

    return f"""# Performance

Generated by `{cmd}` on {res['machine']}; FFTW and numexpr on one thread
(OMP_NUM_THREADS=1). Rerun the command to regenerate this page on your machine.

## Exact integrator, per output frame ({res['grid'][0]}x{res['grid'][1]} grid, {res['frames']} frames, 3 fields)

The run writes frame n on a background thread while it computes frame n + 1
(`tdgl_stt/frame_pipeline.py`; numexpr, FFTW and netCDF-C all release the GIL). The floor is
the work the output itself requires, done in sequence: the inverse real FFTs of the saved
fields, then the write with its syncs. Both are measured in the same process, interleaved
{args.repeats} times, best kept. The second column pins the whole process to one core
(`os.sched_setaffinity`), where the writer thread cannot overlap anything.

| what (ms per frame) | {res['cores']} cores | 1 core |
|---|---|---|
| `tdgl-stt run`, measured as (T(N+1 frames) - T(1 frame))/N | {res['run_per_frame_ms']:.2f} | {one['run_per_frame_ms']:.2f} |
| floor: inverse real FFTs of the 3 saved fields + write and sync | {res['floor_per_frame_ms']:.2f} | {one['floor_per_frame_ms']:.2f} |
| of which inverse FFTs | {res['floor_irfft3_ms']:.2f} | {one['floor_irfft3_ms']:.2f} |
| of which write + sync (two syncs per frame: fields, then t) | {res['floor_write_ms']:.2f} | {one['floor_write_ms']:.2f} |
| **ratio run/floor** (goal <= {res['goal_ratio']}) | **{res['ratio_run_over_floor']:.2f}** ({met(res)}) | **{one['ratio_run_over_floor']:.2f}** ({met(one)}) |

The propagator multiply alone (numexpr, fused 3x3 per mode): {res['propagator_multiply_ms']:.2f} ms per frame.

The run includes the restart checkpoint of `tdgl-stt run --resume` (the spectral state, as many
bytes as a frame of three fields, written with three syncs): {res['checkpoint_ms']:.2f} ms each,
every {res['checkpoint_every']} frames by default, so {res['checkpoint_per_frame_ms']:.3f} ms per frame.
The run's transforms are single-threaded `FFTW_ESTIMATE` plans made without wisdom, so that its
output does not depend on the thread count or on planner timings (README, "Reproducibility");
the floor uses the fastest (`FFTW_MEASURE`) plans, up to 10 % faster at 512^2.

What limits it: on one core the frame is the sum of the propagator multiply (memory-bound:
9 complex multiply-adds per mode, reading the 3x3 propagator of every mode), the inverse FFTs
and the HDF5 write with its two syncs (the crash-consistency guarantee of
`docs/output-format.md`), so the ratio there is 1 + multiply/floor. With a second core the
write overlaps the computation and the frame costs about max(multiply + FFTs, write).
The write goes through the page cache and its cost depends on the machine: on a virtual
machine the first pass over fresh memory costs several times more than later passes (here
up to 20 ms per frame), which is why the measurements are interleaved and the best kept.
Files on a disk with heavy dirty-page writeback are slower again.

## Quickstart

`tdgl-stt run runs/quickstart.toml`, start-up included: **{res['quickstart_seconds']:.2f} s** (goal < {res['goal_quickstart_seconds']:.0f} s).
"""


if __name__ == "__main__":
    main()
