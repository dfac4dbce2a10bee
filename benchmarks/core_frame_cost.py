"""Per-frame cost of `tdgl-stt run` (exact integrator) against its floor, measured side by side.

The floor of one output frame is what the output itself requires: the inverse real FFT of each
saved field plus writing the frame (write + sync). The run's per-frame cost is measured on the
real runner as (T(N+1 frames) - T(1 frame)) / N, so set-up (planning, the propagator) cancels.
Goal (issue 2): ratio <= 1.5 for a 2D 512^2 grid with 1000 frames. Also times the quickstart,
start-up included (goal < 10 s).

    python benchmarks/core_frame_cost.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
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
from tdgl_stt.runner import run  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="256^2 and 100 frames")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--frames", type=int, default=1000, help="frames of the full (512^2) benchmark")
    args = ap.parse_args()
    n, frames = (256, 100) if args.quick else (512, args.frames)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TDGL_STT_BENCH_DIR")) as d:
        tmp = Path(d)
        timed_run(config(n, 1), tmp / "warm.nc")  # plans FFTW wisdom
        t1 = timed_run(config(n, 1), tmp / "one.nc")
        tN = timed_run(config(n, frames + 1), tmp / "many.nc")
        per_frame = (tN - t1) / frames
        floor, fft3 = floor_per_frame(n, frames, tmp / "floor.nc")
        step = step_per_frame(n)
        qs = quickstart_seconds(tmp)
    res = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "grid": [n, n],
        "frames": frames,
        "run_per_frame_ms": per_frame * 1e3,
        "floor_per_frame_ms": floor * 1e3,
        "floor_irfft3_ms": fft3 * 1e3,
        "floor_write_ms": (floor - fft3) * 1e3,
        "propagator_multiply_ms": step * 1e3,
        "ratio_run_over_floor": per_frame / floor,
        "goal_ratio": 1.5,
        "quickstart_seconds": qs,
        "goal_quickstart_seconds": 10.0,
    }
    print(f"grid {n}^2, {frames} frames, one core ({res['machine']})")
    print(f"  run, per frame           {res['run_per_frame_ms']:8.2f} ms")
    print(f"  floor (3 irfft + write)  {res['floor_per_frame_ms']:8.2f} ms  (irfft {res['floor_irfft3_ms']:.2f}, write {res['floor_write_ms']:.2f})")
    print(f"  propagator multiply      {res['propagator_multiply_ms']:8.2f} ms")
    print(f"  ratio run/floor          {res['ratio_run_over_floor']:8.3f}   (goal <= 1.5)")
    print(f"  quickstart, start-up incl. {qs:6.2f} s  (goal < 10 s)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
