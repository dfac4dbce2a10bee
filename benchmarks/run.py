"""tdgl-stt side by side with the solvers a physicist would use instead, and against the floor.

One command, one process, the same problems for every method (issue 8):

    python benchmarks/run.py [--quick] [--json FILE] [--markdown docs/performance-comparison.md]
    python benchmarks/run.py --from-json FILE --markdown docs/performance-comparison.md   (re-render only)

Uniform problems (the exact path): equations (1)-(3) with the physics of runs/quickstart.toml
(Carlson-Goldman mode, torque grad_T = 1e-3 along x, bulk Coulomb k_s = 1e4) on a 1D and a 2D
periodic grid of side 1000, frames every dt = 2, the same final time for every method. Initial
state: the eigenvector of the less damped slow root of every q != 0 with random amplitudes, so
the exact answer follows from the roots (:mod:`benchmarks.peers`). Every method outputs the three
fields in real space at every frame.

(a) the exact integrator: ``ExactStepper`` + inverse real FFTs of the 3 fields per frame, in memory,
    set-up (roots, propagator, FFT plans) included; and ``tdgl_stt.runner.run`` writing NetCDF,
    per frame, against core_frame_cost's floor (inverse FFTs + write + sync).
(b) scipy.integrate.solve_ivp, Radau and BDF: the Fourier-space method of lines with the exact
    sparse block-diagonal Jacobian (the strongest hand-written peer), and in 1D also the
    real-space method of lines with FFT derivatives and no Jacobian supplied (what is usually
    written first), over a ladder of tolerances (rtol; atol = rtol * 1e-3 * max|x0|).
(c) Dedalus 3 (RK443, SBDF2; :mod:`benchmarks.dedalus_peer`) if importable, over a ladder of
    fixed steps; else null and install instructions are printed.
(d) the floors.

Hot-spot problems (the ETDRK4 path; :mod:`benchmarks.hotspot_peers`): a CG packet on a Gaussian
hot spot with bulk Coulomb, 1D and 2D, built from a tdgl-stt config; ETDRK4 (tdgl-stt's
``ETDStepper``) against solve_ivp (Radau, BDF; approximate Jacobian A_ref) and Dedalus (IMEX,
A_ref implicit), all on the same 2/3-rule discrete system, errors against an ETDRK4 reference
with many more steps (Richardson-checked). Plus the ETDRK4 step against its FFT floor
(benchmarks/etdrk4_cost.py) and the analyzer against a plain per-q SVD matrix pencil
(benchmarks/extraction_throughput.py).

Equal accuracy: a configuration meets a target when its relative error at the final time, over
all modes and fields, is at or below it. Speedups (peer time / tdgl-stt time) use the cheapest
configuration of each side that meets TARGET = 1e-6 (the exact integrator is at round-off,
~1e-14, always); for the exact path the speedup at the round-off target 1e-12 is reported too
where the peer reached it within its budget. Fixed-step methods (Dedalus, ETDRK4) climb a ladder
of steps per frame chosen from the observed error and the scheme's order, then try the largest
step predicted to meet the target, so the chosen step is close to the largest that meets it.
Peak memory: tracemalloc peak (numpy buffers included) of a separate, untimed pass.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numexpr  # noqa: E402
import numpy as np  # noqa: E402

numexpr.set_num_threads(1)

import dedalus_peer  # noqa: E402
import hotspot_peers  # noqa: E402
import peers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1e-6
ROUND_OFF_TARGET = 1e-12
#: solve_ivp tolerances tried, loosest first, until the error meets TARGET ...
RTOLS = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)
#: ... then these, until it meets ROUND_OFF_TARGET (uniform problems, Fourier-space peer only)
ROUND_OFF_RTOLS = (1e-10, 1e-12)
#: order of accuracy of the fixed-step schemes, used to choose the next rung of their ladder
ORDER = {"RK443": 3, "SBDF2": 2, "etdrk4": 4}
#: each rung of a fixed-step ladder aims at this fraction of its goal error
AIM = 0.5
RATIO_KEYS = (
    "exact_speedup_vs_solve_ivp",
    "exact_speedup_vs_dedalus",
    "exact_cost_vs_floor",
    "etdrk4_speedup_vs_dedalus",
    "etdrk4_cost_vs_floor",
    "analyzer_speedup_vs_plain_pencil",
)
#: further ratios, for context
EXTRA_RATIO_KEYS = (
    "exact_speedup_vs_solve_ivp_real_space_mol",
    "etdrk4_speedup_vs_solve_ivp",
)
GOALS = {
    "exact_speedup_vs_solve_ivp": (">=", 1000.0),
    "exact_speedup_vs_dedalus": (">=", 100.0),
    "exact_cost_vs_floor": ("<=", 1.5),
    "etdrk4_speedup_vs_dedalus": (">=", 10.0),
    "etdrk4_cost_vs_floor": ("<=", 1.33),
}
DEDALUS_HELP = dedalus_peer.INSTALL_HELP

Say = Callable[[str], None]
Run = Callable[[float, float], peers.Result]


def peak_memory(fn: Callable[[], object]) -> float:
    """tracemalloc peak of ``fn()`` in MB (numpy registers its buffers with tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _ok(x: float) -> bool:
    return x == x  # not NaN


def best(rows: list[dict], target: float) -> dict | None:
    """The cheapest row whose error is at or below ``target`` (None if none is)."""
    ok = [r for r in rows if _ok(r["error"]) and r["error"] <= target]
    return min(ok, key=lambda r: r["seconds"]) if ok else None


def _row(r: peers.Result, **keys) -> dict:
    return {**keys, "seconds": r.seconds, "error": r.error, **{k: v for k, v in r.info.items() if k not in keys}}


def _say_row(say: Say, label: str, row: dict) -> None:
    say(f"  {label}: " + (f"{row['seconds']:7.2f} s, error {row['error']:.1e}" if _ok(row["seconds"]) else row["status"]))


def tolerance_ladder(run: Run, budget: float, say: Say, label: str, round_off: bool) -> list[dict]:
    """solve_ivp over :data:`RTOLS` (loosest first) until the error meets TARGET; if it meets it
    more than 3x over, with the previous rung failing, also the tolerance in between (10^0.5 times
    looser). Then (if ``round_off``) over :data:`ROUND_OFF_RTOLS` until ROUND_OFF_TARGET is met.
    A run is stopped at ``budget`` seconds; the ladder stops there, or when a run took more than
    half the budget (a tighter tolerance costs more)."""
    rows: list[dict] = []

    def one(rtol: float) -> peers.Result:
        r = run(rtol, budget)
        rows.append(_row(r, rtol=rtol))
        _say_row(say, f"{label} rtol {rtol:.0e}", rows[-1])
        return r

    for k, rtol in enumerate(RTOLS):
        r = one(rtol)
        if not _ok(r.seconds):
            return rows
        if r.error <= TARGET:
            if k > 0 and r.error < TARGET / 3:
                one(rtol * 10**0.5)
            break
        if 2 * r.seconds > budget:
            return rows
    else:
        return rows
    if round_off:
        for rtol in ROUND_OFF_RTOLS:
            if r.error <= ROUND_OFF_TARGET or 2 * r.seconds > budget:
                break
            r = one(rtol)
            if not _ok(r.seconds):
                break
    return rows


def step_ladder(run: Run, order: int, budget: float, say: Say, label: str, round_off: bool) -> list[dict]:
    """A fixed-step method (``run(steps_per_frame, max_seconds)``) from one step per frame up.

    With error ``e`` at ``s`` steps per frame and ``e ~ h^order``, the next rung is
    ``s (e / (AIM goal))^(1/order)`` (rounded up; at least s + 1, at most 8 s), the goal being
    TARGET, then (if ``round_off``) ROUND_OFF_TARGET. When TARGET is first met, the largest step
    predicted to give ``0.9 TARGET`` is tried as well if it is larger (so the cheapest step found
    is close to the largest that meets the target). Stops when the goal is met, when a run
    exceeds ``budget`` or the next is predicted to, or at an error floor (an error below 1e-3
    that the last rung did not halve)."""
    rows: list[dict] = []

    def one(spf: int) -> peers.Result:
        r = run(spf, budget)
        rows.append(_row(r, steps_per_frame=spf))
        _say_row(say, f"{label} steps/frame {spf:4d}", rows[-1])
        return r

    spf, prev, prev_spf, last_fail, refined = 1, math.inf, 0, 0, False
    r = one(spf)
    while _ok(r.seconds):
        p = order
        if prev_spf and 0 < r.error < prev:  # the observed order, if lower than the scheme's
            p = min(order, max(0.5, math.log(prev / r.error) / math.log(spf / prev_spf)))
        if r.error > TARGET:
            last_fail = spf
        elif not refined:
            refined = True
            down = max(math.ceil(spf * (r.error / (0.9 * TARGET)) ** (1.0 / p)), last_fail + 1)
            if down < spf:
                one(down)
        goal = TARGET if r.error > TARGET else (ROUND_OFF_TARGET if round_off else None)
        if goal is None or r.error <= goal:
            break
        if prev_spf and r.error < 1e-3 and r.error > 0.5 * prev:
            break
        nxt = min(max(math.ceil(spf * (r.error / (AIM * goal)) ** (1.0 / p)), spf + 1), 8 * spf)
        setup = r.info.get("setup_seconds", 0.0)
        if setup + (r.seconds - setup) * nxt / spf > budget:
            break
        prev, prev_spf, spf = r.error, spf, nxt
        r = one(spf)
    return rows


def observed_orders(rows: list[dict], key: str = "scheme") -> dict:
    """Per scheme, ``log(e1/e2)/log(s2/s1)`` between its last two rungs of the ladder (the order of
    convergence seen at the finest steps tried), or None."""
    out: dict = {}
    for name in dict.fromkeys(r[key] for r in rows):
        rs = sorted((r for r in rows if r[key] == name and _ok(r["error"]) and r["error"] > 0),
                    key=lambda r: r["steps_per_frame"])
        out[name] = (math.log(rs[-2]["error"] / rs[-1]["error"]) / math.log(rs[-1]["steps_per_frame"] / rs[-2]["steps_per_frame"])
                     if len(rs) >= 2 else None)
    return out


def time_to_target_bound(rows: list[dict], group: tuple[str, ...], budget: float) -> float | None:
    """A lower bound on a peer's time to TARGET when none of its runs met it: per method (``group``
    keys), more steps or a tighter tolerance than any failing run is needed, so at least the time of
    its slowest completed failing run (the budget if its first, cheapest run was stopped); the peer
    takes the best method: the least of these. None if a run met the target or nothing ran."""
    groups: dict = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k) for k in group), []).append(r)
    bounds = []
    for rs in groups.values():
        if any(_ok(r["error"]) and r["error"] <= TARGET for r in rs):
            return None
        done = [r["seconds"] for r in rs if _ok(r["seconds"])]
        bounds.append(max(done) if done else budget)
    return min(bounds) if bounds else None


def with_memory(chosen: dict | None, run: Callable[[], object]) -> dict | None:
    """``chosen`` with the tracemalloc peak of a separate run of it."""
    return chosen and {**chosen, "peak_MB": peak_memory(run)}


def _speedup(peer: dict | None, seconds: float) -> float | None:
    return peer and peer["seconds"] / seconds


def _bound(rows: list[dict], group: tuple[str, ...], budget: float, seconds: float) -> float | None:
    """Lower bound on the speedup when the peer met no target (:func:`time_to_target_bound`)."""
    b = time_to_target_bound(rows, group, budget)
    return b and b / seconds


def compare(p: peers.Problem, budget: float, say: Say, dedalus: bool, real_space: bool) -> dict:
    """The exact integrator against solve_ivp (Fourier-space; in 1D also real-space) and Dedalus
    on the uniform problem ``p``."""
    peers.run_exact(p)  # warm-up: FFTW wisdom, imports
    ex = min((peers.run_exact(p) for _ in range(3)), key=lambda r: r.seconds)
    fft_floor = peers.output_floor(p)
    say(f"[{p.label}, T={p.t_final:g}, {p.frames} frames] exact: {ex.seconds * 1e3:.1f} ms, error {ex.error:.1e}; "
        f"FFT floor {fft_floor * 1e3:.1f} ms")
    fourier: list[dict] = []
    for method in ("Radau", "BDF"):
        fourier += tolerance_ladder(lambda rtol, b: peers.run_solve_ivp(p, method, rtol, max_seconds=b),
                                    budget, say, f"solve_ivp {method:5s} Fourier", round_off=True)
    for r in fourier:
        r["variant"] = "fourier"
    real: list[dict] = []
    if real_space:
        for method in ("BDF", "Radau"):
            real += tolerance_ladder(lambda rtol, b: peers.run_solve_ivp_real_space(p, method, rtol, max_seconds=b),
                                     budget, say, f"solve_ivp {method:5s} real-space", round_off=False)
        for r in real:
            r["variant"] = "real_space"
    ded: list[dict] = []
    if dedalus:
        dedalus_peer.run_uniform(p, "RK443", 1, max_seconds=0.0)  # warm-up: FFTW plans, imports
        for scheme in dedalus_peer.SCHEMES:
            ded += step_ladder(lambda spf, b: dedalus_peer.run_uniform(p, scheme, spf, max_seconds=b),
                               ORDER[scheme], budget, say, f"Dedalus {scheme}", round_off=True)
    strongest = best(fourier + real, TARGET)  # the peer least favourable to tdgl-stt
    tight = best(fourier + real, ROUND_OFF_TARGET)
    real_at = best(real, TARGET)
    ded_at, ded_tight = best(ded, TARGET), best(ded, ROUND_OFF_TARGET)
    mem_exact = peak_memory(lambda: peers.run_exact(p))

    def solve_ivp_run(row: dict) -> Callable[[], object]:
        fn = peers.run_solve_ivp if row["variant"] == "fourier" else peers.run_solve_ivp_real_space
        return lambda: fn(p, row["method"], row["rtol"])

    strongest = with_memory(strongest, strongest and solve_ivp_run(strongest))
    ded_at = with_memory(ded_at, lambda: dedalus_peer.run_uniform(p, ded_at["scheme"], ded_at["steps_per_frame"]))
    return {
        "problem": {"grid": list(p.n), "modes": p.modes, "frames": p.frames, "dt": p.dt, "t_final": p.t_final,
                    "L": p.L, "least_damped_amplitude_left": p.slowest_surviving()},
        "exact": {"seconds": ex.seconds, "error": ex.error, "peak_MB": mem_exact, "what": ex.info["what"],
                  "setup_seconds": ex.info["setup_seconds"]},
        "fft_floor_seconds": fft_floor,
        "exact_cost_vs_fft_floor": ex.seconds / fft_floor,
        "exact_frames_only_cost_vs_fft_floor": (ex.seconds - ex.info["setup_seconds"]) / fft_floor,
        "solve_ivp": fourier,
        "solve_ivp_real_space": real if real_space else None,
        "solve_ivp_at_target": strongest,
        "solve_ivp_at_round_off": tight,
        "solve_ivp_real_space_at_target": real_at,
        "speedup_at_target": _speedup(strongest, ex.seconds),
        "speedup_lower_bound": _bound(fourier + real, ("variant", "method"), budget, ex.seconds),
        "speedup_at_round_off": _speedup(tight, ex.seconds),
        "real_space_speedup_at_target": _speedup(real_at, ex.seconds),
        "real_space_speedup_lower_bound": _bound(real, ("variant", "method"), budget, ex.seconds),
        "dedalus": ded if dedalus else None,
        "dedalus_observed_order": observed_orders(ded),
        "dedalus_at_target": ded_at,
        "dedalus_at_round_off": ded_tight,
        "dedalus_speedup_at_target": _speedup(ded_at, ex.seconds),
        "dedalus_speedup_lower_bound": _bound(ded, ("scheme",), budget, ex.seconds),
        "dedalus_speedup_at_round_off": _speedup(ded_tight, ex.seconds),
    }


def compare_hotspot(hp: hotspot_peers.HotspotProblem, budget: float, say: Say, dedalus: bool) -> dict:
    """ETDRK4 against solve_ivp (Radau, BDF) and Dedalus (RK443, SBDF2) on the hot-spot problem
    ``hp``, every method at its cheapest configuration within TARGET of the reference."""
    t0 = time.perf_counter()
    ref = hotspot_peers.make_reference(hp, start=4, tol=TARGET * 1e-3)
    say(f"[hot spot {hp.label}, T={hp.t_final:g}, {hp.frames} frames, {hp.modes} retained modes, rho = {hp.rate:.3g}] "
        f"reference: ETDRK4 with {ref['steps_per_frame']} steps/frame, Richardson error estimate "
        f"{ref['richardson_error_estimate']:.1e} ({time.perf_counter() - t0:.1f} s)")
    hotspot_peers.run_etd(hp, 1)  # warm-up
    etd = step_ladder(lambda spf, b: hotspot_peers.run_etd(hp, spf, max_seconds=b), ORDER["etdrk4"], budget, say,
                      "tdgl-stt ETDRK4", round_off=False)
    ivp: list[dict] = []
    for method in ("Radau", "BDF"):
        ivp += tolerance_ladder(lambda rtol, b: hotspot_peers.run_solve_ivp(hp, method, rtol, max_seconds=b),
                                budget, say, f"solve_ivp {method:5s} Fourier", round_off=False)
    ded: list[dict] = []
    if dedalus:
        hotspot_peers.run_dedalus(hp, "RK443", 1, max_seconds=0.0)  # warm-up
        for scheme in dedalus_peer.SCHEMES:
            ded += step_ladder(lambda spf, b: hotspot_peers.run_dedalus(hp, scheme, spf, max_seconds=b),
                               ORDER[scheme], budget, say, f"Dedalus {scheme}", round_off=False)
    etd_at = best(etd, TARGET)
    ivp_at = best(ivp, TARGET)
    ded_at = best(ded, TARGET)
    etd_at = with_memory(etd_at, lambda: hotspot_peers.run_etd(hp, etd_at["steps_per_frame"]))
    ivp_at = with_memory(ivp_at, lambda: hotspot_peers.run_solve_ivp(hp, ivp_at["method"], ivp_at["rtol"]))
    ded_at = with_memory(ded_at, lambda: hotspot_peers.run_dedalus(hp, ded_at["scheme"], ded_at["steps_per_frame"]))
    t_etd = etd_at["seconds"] if etd_at else None
    return {
        "problem": {"grid": list(hp.n), "L": list(hp.grid.L), "retained_modes": hp.modes, "frames": hp.frames,
                    "dt": hp.dt, "t_final": hp.t_final, "rho": hp.rate, "T_ref": hp.vm.T_ref,
                    "config": hotspot_peers.config_text(hp.n, hp.frames, hp.dt)},
        "reference": ref,
        "etdrk4": etd,
        "etdrk4_at_target": etd_at,
        "solve_ivp": ivp,
        "solve_ivp_at_target": ivp_at,
        "dedalus": ded if dedalus else None,
        "dedalus_at_target": ded_at,
        "etdrk4_observed_order": observed_orders([{**r, "scheme": "etdrk4"} for r in etd])["etdrk4"] if etd else None,
        "dedalus_observed_order": observed_orders(ded),
        "speedup_vs_solve_ivp": t_etd and _speedup(ivp_at, t_etd),
        "speedup_vs_solve_ivp_lower_bound": t_etd and _bound(ivp, ("method",), budget, t_etd),
        "speedup_vs_dedalus": t_etd and _speedup(ded_at, t_etd),
        "speedup_vs_dedalus_lower_bound": t_etd and _bound(ded, ("scheme",), budget, t_etd),
    }


def dedalus_status(say: Say) -> dict:
    """Whether Dedalus is importable (else the install instructions are printed)."""
    ok, reason = dedalus_peer.available()
    if not ok:
        say(DEDALUS_HELP)
    return {"available": ok, "reason": reason}


def runner_vs_floor(n: int, frames: int, repeats: int, say) -> dict:
    """core_frame_cost's measurement (2D n x n, quickstart physics): tdgl_stt.runner.run per frame,
    (T(N+1) - T(1))/N, against the floor: inverse real FFTs of the 3 saved fields + write + sync."""
    import core_frame_cost

    with tempfile.TemporaryDirectory(dir=os.environ.get("TDGL_STT_BENCH_DIR")) as d:
        r = core_frame_cost.measure(n, frames, Path(d), repeats)
    say(f"[runner, {n}x{n}, {frames} frames] run {r['run_per_frame_ms']:.2f} ms/frame, floor "
        f"{r['floor_per_frame_ms']:.2f} ms/frame (irfft {r['floor_irfft3_ms']:.2f} + write {r['floor_write_ms']:.2f}); "
        f"ratio {r['ratio_run_over_floor']:.2f}")
    return {"grid": [n, n], "frames": frames, **r}


def etd_vs_floor(n: int, repeats: int, steps: int, say) -> dict:
    import etdrk4_cost

    r = etdrk4_cost.measure(n, repeats, steps)
    say(f"[ETDRK4, {n}x{n} hot spot] step {r['step_ms']:.2f} ms, FFT floor {r['floor_ms']:.2f} ms, ratio {r['ratio']:.2f}")
    return r


def analyzer(n_series: int, pencil_subset: int, say) -> dict:
    import extraction_throughput as et
    from tdgl_stt.analysis import extract_modes_batch

    Y, w, A, sigma = et.synthesise(n_series, et.N_T)
    extract_modes_batch(Y[:8], et.DT)
    t0 = time.perf_counter()
    res = extract_modes_batch(Y, et.DT)
    t_batch = time.perf_counter() - t0
    K = min(pencil_subset, n_series)
    t0 = time.perf_counter()
    wp = [et.plain_pencil(Y[i], 2) for i in range(K)]
    t_pencil = (time.perf_counter() - t0) / K * n_series
    dev = et.rel_to_crb([r.omegas for r in res], w, A, sigma, et.N_T)
    dev_p = et.rel_to_crb(wp, w[:K], A[:K], sigma[:K], et.N_T)
    out = {"n_series": n_series, "n_t": et.N_T, "batch_s": t_batch, "pencil_s_extrapolated": t_pencil,
           "pencil_series_timed": K, "speedup": t_pencil / t_batch,
           "batch_median_err_over_crb": float(np.median(dev)), "pencil_median_err_over_crb": float(np.median(dev_p))}
    say(f"[analyzer, {n_series} series x {et.N_T}] batch {t_batch:.2f} s, plain pencil {t_pencil:.1f} s "
        f"(timed on {K}, scaled): {out['speedup']:.0f}x")
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ok, ver = dedalus_peer.available()
    return (f"{cpu}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
            f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {__import__('scipy').__version__}, {ver if ok else 'no Dedalus'}; "
            "FFTW, numexpr and BLAS on one thread")


#: ratio key -> (list of problems, measured key, lower-bound key, label) for the speedups
def _speedup_sources(res: dict) -> dict:
    cs, hs = res["comparisons"], res["hotspot"]
    lab = lambda c: "x".join(map(str, c["problem"]["grid"]))  # noqa: E731
    hot = lambda h: "hot spot " + "x".join(map(str, h["problem"]["grid"]))  # noqa: E731
    return {
        "exact_speedup_vs_solve_ivp": (cs, "speedup_at_target", "speedup_lower_bound", lab),
        "exact_speedup_vs_dedalus": (cs, "dedalus_speedup_at_target", "dedalus_speedup_lower_bound", lab),
        "etdrk4_speedup_vs_dedalus": (hs, "speedup_vs_dedalus", "speedup_vs_dedalus_lower_bound", hot),
        "exact_speedup_vs_solve_ivp_real_space_mol": ([c for c in cs if c["solve_ivp_real_space"] is not None],
                                                      "real_space_speedup_at_target", "real_space_speedup_lower_bound", lab),
        "etdrk4_speedup_vs_solve_ivp": (hs, "speedup_vs_solve_ivp", "speedup_vs_solve_ivp_lower_bound", hot),
    }


def least(items: list[dict], measured: str, bound: str) -> tuple[float | None, bool]:
    """The least speedup over the problems (the least favourable to tdgl-stt): measured where the
    peer met the target, else its lower bound; True if that least value is a lower bound."""
    vals = [(i[measured], False) if i[measured] is not None else (i[bound], True) for i in items]
    vals = [v for v in vals if v[0] is not None]
    return min(vals) if vals else (None, False)


def ratios(res: dict) -> dict:
    """The ratios of the issue (and two for context). A speedup is the least over the problems
    (:func:`least`); see :func:`ratio_notes` for which problems and whether it is a lower bound."""
    out = {k: least(items, m, b)[0] for k, (items, m, b, _) in _speedup_sources(res).items()}
    out["exact_cost_vs_floor"] = res["runner"]["ratio_run_over_floor"]
    out["etdrk4_cost_vs_floor"] = res["etdrk4"]["ratio"]
    out["analyzer_speedup_vs_plain_pencil"] = res["analyzer"]["speedup"]
    return {k: out[k] for k in RATIO_KEYS + EXTRA_RATIO_KEYS}


def ratio_notes(res: dict) -> dict:
    """Per speedup: the problems it is taken over, those where the peer did not reach the target
    within its budget (their lower bound enters), and whether the value is a lower bound."""
    notes = {}
    for k, (items, m, b, label) in _speedup_sources(res).items():
        notes[k] = {"over": [label(i) for i in items],
                    "target_not_reached": [label(i) for i in items if i[m] is None],
                    "lower_bound": least(items, m, b)[1]}
    return notes


SIZES = {
    # uniform problems, hot-spot problems, per-configuration budget [s], runner (n, frames,
    # repeats), etdrk4_cost.measure (n, repeats, steps; the full one is etdrk4_cost.FULL), analyzer
    # (series, pencil series timed)
    "quick": {"uniform": [((128,), 100), ((32, 32), 100)], "hotspot": [((96,), 20), ((32, 32), 20)],
              "budget": 2.0, "runner": (128, 100, 1), "etd": (128, 1, 2), "analyzer": (32, 2)},
    "full": {"uniform": [((512,), 200), ((96, 96), 200)], "hotspot": [((256,), 50), ((64, 64), 50)],
             "budget": 60.0, "runner": (512, 200, 2), "etd": (512, 30, 3), "analyzer": (2049, 12)},
}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, under 60 s")
    ap.add_argument("--json", type=Path, help="write the results as JSON")
    ap.add_argument("--markdown", type=Path, help="write the report page (docs/performance-comparison.md)")
    ap.add_argument("--from-json", type=Path, help="measure nothing: render the table and page of an earlier --json FILE")
    args = ap.parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        print(table(results))
        if args.markdown:
            args.markdown.write_text(markdown(results))
            print(f"wrote {args.markdown}")
        return results
    say = print
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    cfg = SIZES["quick" if args.quick else "full"]
    budget = cfg["budget"]
    say(f"machine: {machine()}; load average {load_start[0]:.2f}")
    results = {"machine": machine(), "quick": args.quick, "argv": list(argv if argv is not None else sys.argv[1:]),
               "target_error": TARGET, "round_off_target": ROUND_OFF_TARGET, "budget_s": budget,
               "memory": "tracemalloc peak of a separate untimed pass, MB", "load_average_start": load_start}
    results["dedalus"] = dedalus_status(say)
    ded = results["dedalus"]["available"]
    results["comparisons"] = [compare(peers.Problem(n, frames), budget, say, ded, real_space=len(n) == 1)
                              for n, frames in cfg["uniform"]]
    results["hotspot"] = [compare_hotspot(hotspot_peers.HotspotProblem(n, frames), budget, say, ded)
                          for n, frames in cfg["hotspot"]]
    results["runner"] = runner_vs_floor(*cfg["runner"], say)
    results["etdrk4"] = etd_vs_floor(*cfg["etd"], say)
    results["analyzer"] = analyzer(*cfg["analyzer"], say)
    results["ratios"] = ratios(results)
    results["ratio_notes"] = ratio_notes(results)
    results["load_average_end"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - t_start
    say("")
    say(table(results))
    say(f"total {results['total_seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
        say(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(markdown(results))
        say(f"wrote {args.markdown}")
    return results


def _f(x, fmt: str = "{:.3g}") -> str:
    return "null" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _mark(row: dict, chosen: dict | None, keys: tuple[str, ...]) -> bool:
    return chosen is not None and all(row.get(k) == chosen.get(k) for k in keys)


def _peer_lines(name: str, rows: list[dict], chosen: dict | None, t_ref: float, label, keys) -> list[str]:
    out = []
    for r in rows:
        mark = _mark(r, chosen, keys)
        sp = r["seconds"] / t_ref if _ok(r["seconds"]) and t_ref else None
        out.append(f"| {name} | {label(r)}{f' **(cheapest at {TARGET:.0e})**' if mark else ''} | "
                   f"{_f(r['seconds'], '{:.3f}')} | {_f(chosen['peak_MB'], '{:.1f}') if mark else ''} | "
                   f"{_f(r['error'], '{:.1e}')} | {_f(sp, '{:.0f}')} |")
    return out


def table(res: dict) -> str:
    """The measurements as one markdown table (the speedup column: row time / tdgl-stt time)."""
    lines = ["| problem | method | wall time [s] | peak memory [MB] | error at T | peer time / tdgl-stt time |",
             "|---|---|---|---|---|---|"]
    ivp_label = lambda r: f"solve_ivp {r['method']} {'Fourier MOL, exact sparse J' if r.get('variant') != 'real_space' else 'real-space MOL, FD J'} rtol={r['rtol']:.0e}"  # noqa: E501,E731
    ded_label = lambda r: f"Dedalus {r['scheme']} h=dt/{r['steps_per_frame']}"  # noqa: E731
    for c in res["comparisons"]:
        pb = c["problem"]
        name = f"{'x'.join(map(str, pb['grid']))}, T={pb['t_final']:g} ({pb['frames']} frames)"
        ex = c["exact"]
        t = ex["seconds"]
        lines.append(f"| {name} | **tdgl-stt exact** (stepper + 3 irfft/frame) | {t:.4f} | {ex['peak_MB']:.1f} | {ex['error']:.1e} | 1 |")
        lines.append(f"| {name} | floor: 3 irfft/frame | {c['fft_floor_seconds']:.4f} | | | exact costs {c['exact_cost_vs_fft_floor']:.2f}x "
                     f"({c['exact_frames_only_cost_vs_fft_floor']:.2f}x without the {ex['setup_seconds'] * 1e3:.0f} ms set-up) |")
        lines += _peer_lines(name, c["solve_ivp"] + (c["solve_ivp_real_space"] or []), c["solve_ivp_at_target"], t, ivp_label,
                             ("variant", "method", "rtol"))
        if c["dedalus"] is None:
            lines.append(f"| {name} | Dedalus RK443 / SBDF2 (not importable) | null | | | null |")
        else:
            lines += _peer_lines(name, c["dedalus"], c["dedalus_at_target"], t, ded_label, ("scheme", "steps_per_frame"))
    for h in res["hotspot"]:
        pb = h["problem"]
        name = f"hot spot {'x'.join(map(str, pb['grid']))}, T={pb['t_final']:g} ({pb['frames']} frames)"
        at = h["etdrk4_at_target"]
        t = at["seconds"] if at else None
        lines += _peer_lines(name, h["etdrk4"], at, t, lambda r: f"**tdgl-stt ETDRK4** h=dt/{r['steps_per_frame']}",
                             ("steps_per_frame",))
        lines += _peer_lines(name, h["solve_ivp"], h["solve_ivp_at_target"], t, ivp_label, ("method", "rtol"))
        if h["dedalus"] is None:
            lines.append(f"| {name} | Dedalus RK443 / SBDF2 (not importable) | null | | | null |")
        else:
            lines += _peer_lines(name, h["dedalus"], h["dedalus_at_target"], t, ded_label, ("scheme", "steps_per_frame"))
    ru = res["runner"]
    lines.append(f"| runner {ru['grid'][0]}x{ru['grid'][1]} | `tdgl_stt.runner.run` per frame (NetCDF) | {ru['run_per_frame_ms'] / 1e3:.5f} | | | |")
    lines.append(f"| runner {ru['grid'][0]}x{ru['grid'][1]} | floor per frame: 3 irfft + write + sync | {ru['floor_per_frame_ms'] / 1e3:.5f} | | | runner costs {ru['ratio_run_over_floor']:.2f}x |")
    et = res["etdrk4"]
    lines.append(f"| ETDRK4 step, hot spot {et['n']}^2 | one step | {et['step_ms'] / 1e3:.5f} | | | |")
    lines.append(f"| ETDRK4 step, hot spot {et['n']}^2 | FFT floor ({et['ffts_per_step']} real FFTs) | {et['floor_ms'] / 1e3:.5f} | | | step costs {et['ratio']:.2f}x |")
    an = res["analyzer"]
    lines.append(f"| analyzer, {an['n_series']} series | extract_modes_batch | {an['batch_s']:.3f} | | {an['batch_median_err_over_crb']:.2f} CRB | |")
    lines.append(f"| analyzer, {an['n_series']} series | plain SVD pencil (scaled from {an['pencil_series_timed']}) | {an['pencil_s_extrapolated']:.2f} | | {an['pencil_median_err_over_crb']:.2f} CRB | {an['speedup']:.0f} |")
    lines.append("")
    lines.append("ratios: " + ", ".join(f"{k} = {_f(v)}" for k, v in res["ratios"].items()))
    return "\n".join(lines)


def goal_status(key: str, value: float | None, lower_bound: bool = False) -> str:
    """'met', 'not met', 'not determined' (a lower bound below a >= goal) or 'not measured'."""
    if value is None:
        return "not measured"
    op, bound = GOALS[key]
    if op == ">=":
        return "met" if value >= bound else ("not determined" if lower_bound else "not met")
    return "met" if value <= bound else "not met"


def _orders(orders: dict) -> str:
    return ", ".join(f"{k} {_f(v, '{:.1f}')}" for k, v in orders.items())


def _per_step_ms(row: dict | None) -> str:
    if not row or not row.get("steps"):
        return "null"
    return f"{1e3 * (row['seconds'] - row.get('setup_seconds', 0.0)) / row['steps']:.2f}"


def _val(res: dict, key: str, fmt: str = "{:.3g}") -> str:
    """A ratio as text, '>= x' when it is a lower bound."""
    lb = res["ratio_notes"].get(key, {}).get("lower_bound", False)
    return (">= " if lb and res["ratios"][key] is not None else "") + _f(res["ratios"][key], fmt)


def _status(res: dict, key: str) -> str:
    return goal_status(key, res["ratios"][key], res["ratio_notes"].get(key, {}).get("lower_bound", False))


def _goal_line(res: dict, key: str, what: str) -> str:
    op, bound = GOALS[key]
    return f"| {what} | {_val(res, key)} | {op} {bound:g} | **{_status(res, key)}** |"


def markdown(res: dict) -> str:
    """The report page (docs/performance-comparison.md), every number from ``res``."""
    cmd = "python benchmarks/run.py" + (" --quick" if res["quick"] else "") + " --json FILE --markdown docs/performance-comparison.md"
    r, notes = res["ratios"], res["ratio_notes"]
    cs, hs, ded = res["comparisons"], res["hotspot"], res["dedalus"]
    la0, la1 = res["load_average_start"][0], res["load_average_end"][0]
    ncpu = len(os.sched_getaffinity(0))
    loaded = max(la0, la1) > 0.75 * ncpu
    load_note = (f"The 1-minute load average was {la0:.2f} at the start and {la1:.2f} at the end (this run itself keeps one "
                 f"core busy) on {ncpu} usable cores"
                 + (": the machine was shared with other work during the run, so individual times are noisy "
                    "(probably by tens of per cent; the ratios of large factors are robust, the ratios near their goal less so)."
                    if loaded else "."))
    budget = res["budget_s"]

    misses = [f"`{k}` on {', '.join(v['target_not_reached'])}" for k, v in notes.items() if v["target_not_reached"]]
    miss_text = ("" if not misses else
                 f" The peer did not reach {TARGET:.0e} within {budget:g} s per run for {'; '.join(misses)}: there its"
                 " time to the target is bounded below by its slowest failing run (a smaller step or a tighter"
                 " tolerance costs more; the least such time over its methods), and a '>=' value is such a bound.")

    ex_lines = []
    for c in cs:
        g = "x".join(map(str, c["problem"]["grid"]))
        at, ex = c["solve_ivp_at_target"], c["exact"]
        if at:
            ex_lines.append(
                f"{g}: the cheapest solve_ivp ({at['method']}, {at['variant'].replace('_', '-')}, rtol {at['rtol']:.0e}) took "
                f"{at['seconds']:.3g} s with {at.get('nfev', 0)} right-hand sides and {at.get('nlu', 0)} LU factorisations; "
                f"the exact path {ex['seconds'] * 1e3:.3g} ms, of which {ex['setup_seconds'] * 1e3:.3g} ms set-up "
                f"and {c['exact_cost_vs_fft_floor']:.1f}x its output FFT floor")
    ded_lines = []
    for c in cs:
        g = "x".join(map(str, c["problem"]["grid"]))
        at = c["dedalus_at_target"]
        if at:
            ded_lines.append(f"{g}: {at['scheme']} needs h = dt/{at['steps_per_frame']} ({at['steps']} steps, "
                             f"{_per_step_ms(at)} ms per step, set-up {at['setup_seconds']:.2g} s)")
        elif c["dedalus"] is not None:
            ded_lines.append(f"{g}: no scheme reached {TARGET:.0e} within {budget:g} s per run")
        if c["dedalus"]:
            ded_lines[-1] += "; observed orders " + _orders(c["dedalus_observed_order"])
    hot_lines = []
    for h in hs:
        g = "x".join(map(str, h["problem"]["grid"]))
        e, i, d = h["etdrk4_at_target"], h["solve_ivp_at_target"], h["dedalus_at_target"]
        part = [f"{g} ({h['problem']['retained_modes']} retained modes, rho = {h['problem']['rho']:.3g}): "
                + (f"ETDRK4 at h = dt/{e['steps_per_frame']} (h rho = {e['h_times_rho']:.2f}) in {e['seconds']:.3g} s, "
                   f"set-up {e['setup_seconds']:.2g} s" if e else "ETDRK4 did not reach the target")]
        if i:
            part.append(f"solve_ivp {i['method']} rtol {i['rtol']:.0e}: {i['seconds']:.3g} s, {i.get('nfev', 0)} right-hand sides, "
                        f"{i.get('nlu', 0)} LU")
        if d:
            part.append(f"Dedalus {d['scheme']} h = dt/{d['steps_per_frame']} ({d['steps']} steps at {_per_step_ms(d)} ms): {d['seconds']:.3g} s")
        if h["dedalus"]:
            part.append("Dedalus' observed orders at its finest steps: " + _orders(h["dedalus_observed_order"])
                        + f" (best error {min(x['error'] for x in h['dedalus'] if _ok(x['error'])):.1e})")
        hot_lines.append("; ".join(part))
    ref_lines = [f"{'x'.join(map(str, h['problem']['grid']))}: {h['reference']['steps_per_frame']} steps per frame, "
                 f"estimated error {h['reference']['richardson_error_estimate']:.1e}, ratio of successive differences "
                 f"{', '.join(f'{x:.1f}' for x in h['reference']['difference_ratios'])} (16 expected)" for h in hs]
    rk = [h["dedalus_observed_order"].get("RK443") for h in hs if h["dedalus"]]
    rk = [x for x in rk if x is not None]
    rk_note = (f" RK443's observed order at its finest steps drops to {min(rk):.1f} (nominal 3): in a stiff row"
               " (M ~ 0) of a stage solve its mu is fixed by the explicit forcing of the earlier stages, the known"
               " order reduction of IMEX Runge-Kutta schemes on stiff terms; SBDF2 keeps its order 2."
               if rk and min(rk) < 2.5 else "")
    slow = [c for c in cs if c["exact"]["setup_seconds"] > 0.3 * c["exact"]["seconds"]]
    setup_share = ", ".join(f"{100 * c['exact']['setup_seconds'] / c['exact']['seconds']:.0f} %" for c in slow)
    ivp_note = ("" if goal_status("exact_speedup_vs_solve_ivp", r["exact_speedup_vs_solve_ivp"]) == "met" else
                " At sizes where solve_ivp finishes within its budget the exact path costs milliseconds"
                + (f", much of it fixed set-up (roots, propagator, FFT plans: {setup_share} of its time)" if slow else "")
                + ", so the ratio stays far below 1000x on these problems.")
    ded_text = (f"Dedalus: {ded['reason']}." if ded["available"] else
                f"Dedalus is not importable here ({ded['reason']}): its rows and ratios are null. Install: "
                "`apt-get install libopenmpi-dev libfftw3-dev libfftw3-mpi-dev libhdf5-mpi-dev` then "
                "`CC=mpicc pip install dedalus` (or conda-forge).")
    et = res["etdrk4"]
    ru = res["runner"]
    return f"""# Performance: tdgl-stt side by side with solve_ivp, Dedalus and the floor

Generated by `{cmd}` (total {res['total_seconds']:.0f} s) on {res['machine']}.
{load_note} Rerun the command to regenerate this page on your machine. `docs/performance.md`
(core_frame_cost.py) and `docs/performance-etdrk4.md` (etdrk4_cost.py) hold the detailed
per-frame and per-step analyses; this page puts the alternatives in one run. {ded_text}

## Goals

| ratio (the least favourable over the problems) | value | goal | status |
|---|---|---|---|
{_goal_line(res, 'exact_speedup_vs_solve_ivp', f'exact path vs solve_ivp, the strongest peer, at {TARGET:.0e}')}
{_goal_line(res, 'exact_speedup_vs_dedalus', f'exact path vs Dedalus at {TARGET:.0e}')}
{_goal_line(res, 'exact_cost_vs_floor', 'exact path, runner per frame / (3 irfft + write + sync)')}
{_goal_line(res, 'etdrk4_speedup_vs_dedalus', f'ETDRK4 vs Dedalus on the hot spot at {TARGET:.0e}')}
{_goal_line(res, 'etdrk4_cost_vs_floor', 'ETDRK4 step / its FFT floor')}
| for context: exact path vs solve_ivp on the real-space method of lines (1D) | {_val(res, 'exact_speedup_vs_solve_ivp_real_space_mol')} | | |
| for context: ETDRK4 vs solve_ivp on the hot spot | {_val(res, 'etdrk4_speedup_vs_solve_ivp')} | | |
| for context: analyzer vs a plain per-q SVD pencil | {_f(r['analyzer_speedup_vs_plain_pencil'])} | | |

A speedup is peer time / tdgl-stt time, a cost tdgl-stt time / floor time; JSON key `ratios`.
Per problem: exact vs solve_ivp at the round-off target {ROUND_OFF_TARGET:.0e}:
{', '.join(f"{'x'.join(map(str, c['problem']['grid']))} {_f(c['speedup_at_round_off'], '{:.0f}')}" for c in cs)};
exact vs Dedalus at {ROUND_OFF_TARGET:.0e}: {', '.join(f"{'x'.join(map(str, c['problem']['grid']))} {_f(c['dedalus_speedup_at_round_off'], '{:.0f}')}" for c in cs)}
(null: not reached within the budget).{miss_text}

## The problems and the accuracy rule

**Uniform coefficients (the exact path).** Equations (1)-(3) with the physics of `runs/quickstart.toml`
(Carlson-Goldman mode, Delta/T = 0.3, torque grad_T = 1e-3 along x, bulk Coulomb k_s = 1e4, so
the dielectric relaxation is ~1e9 times faster than the mode rates), box side 1000, a frame every
dt = 2, the same final time T for every method. Initial state: the eigenvector of the less damped
slow root of every q != 0 with a random complex amplitude, projected on real fields (Nyquist
modes zero, k and -k conjugate), so the exact answer follows from the exact roots. Error =
relative 2-norm of the difference at T over all modes and fields. Every method delivers the 3
fields in real space at every frame (tdgl-stt: 3 inverse FFTs per frame; solve_ivp: `t_eval`
plus the FFTs; Dedalus: coefficients copied into output fields and transformed, as its evaluator does).

**Hot spot (the ETDRK4 path).** `benchmarks/hotspot_peers.py`: a tdgl-stt config (`[model.temperature_profile]`
kind = "gaussian", T = 0.8 + 0.04 exp(-r^2/50) T_c, clean, tau = 10, bulk Coulomb k_s = 1e4,
a CG packet launched at the spot, frames every 2), on a periodic 1D and 2D grid. Every method
solves the same discrete system: the 2/3-rule modes of tdgl-stt's ETD stepper, the products
exact on them (Dedalus: 2K+2 modes with 3/2 dealiasing; solve_ivp: an independent pseudo-spectral
right-hand side). Error = relative 2-norm at T against an ETDRK4 reference with many more steps,
converged by Richardson: {'; '.join(ref_lines)}.

**Equal accuracy.** Each method's cheapest configuration whose error is <= {TARGET:.0e}:
solve_ivp over rtol = {', '.join(f'{x:.0e}' for x in RTOLS)} (atol = rtol x 1e-3 x max|x0|), then
{', '.join(f'{x:.0e}' for x in ROUND_OFF_RTOLS)} towards the round-off target; with a probe 10^0.5 looser where the
target is met more than 3x over; Dedalus and ETDRK4 over steps per frame, each rung chosen from
the observed error and the scheme's order to land at half the target, then the largest step
predicted to give 0.9 x the target (so the chosen step is near the largest that meets it). Each run is stopped
after {budget:g} s. The exact integrator is at round-off (~1e-14) in every case, which favours
the peers. Wall times include set-up on every side (roots and propagator; the Jacobian; the
Dedalus problem and its matrix factorisations; the phi-functions). Peak memory: tracemalloc
peak of a separate pass (numpy buffers are traced; pyFFTW's aligned buffers and Dedalus' FFTW
plans may not be).

{table(res)}

## What limits each path

* **Exact path vs solve_ivp** ({_status(res, 'exact_speedup_vs_solve_ivp')}:
  {_val(res, 'exact_speedup_vs_solve_ivp', '{:.0f}')}x against a goal of 1000x). The strongest peer is the
  Fourier-space method of lines with the exact sparse block-diagonal Jacobian: on this linear
  problem it is one sparse mat-vec per right-hand side and a handful of sparse LU factorisations,
  and Radau (order 5) reaches {TARGET:.0e} with few steps. {'; '.join(ex_lines)}.{ivp_note}
  The ratio grows with tighter targets (see the round-off ratios), with longer runs and with the
  number of modes (solve_ivp's steps are set by the fastest slow mode, ~|q|max). The real-space method
  of lines with FFT derivatives and no Jacobian (what is usually written by hand; 1D only) is
  {_val(res, 'exact_speedup_vs_solve_ivp_real_space_mol', '{:.0f}')}x slower than the exact path:
  solve_ivp builds a dense finite-difference Jacobian of 3n columns and factorises it densely.
* **Exact path vs Dedalus** ({_status(res, 'exact_speedup_vs_dedalus')}:
  {_val(res, 'exact_speedup_vs_dedalus', '{:.0f}')}x, goal 100x). Dedalus integrates the slow modes with a
  3rd-order (RK443) or 2nd-order (SBDF2) implicit scheme, so equal accuracy needs many steps per
  frame, and each stage of a step loops in Python over its pencils (gather, sparse mat-vec, sparse
  solve, scatter) besides its transforms: {'; '.join(ded_lines) or 'not measured'}.
* **Runner vs its floor** ({_status(res, 'exact_cost_vs_floor')}: {_f(r['exact_cost_vs_floor'], '{:.2f}')}x,
  goal 1.5x; {ru['grid'][0]}x{ru['grid'][1]}, {ru['frames']} frames). Per frame the runner does the propagator multiply
  (memory-bound), the inverse FFTs and the NetCDF write with syncs; the floor is the FFTs plus the
  write and sync alone. See `docs/performance.md`.
* **ETDRK4 vs Dedalus and solve_ivp** ({_status(res, 'etdrk4_speedup_vs_dedalus')}:
  {_val(res, 'etdrk4_speedup_vs_dedalus', '{:.0f}')}x vs Dedalus, goal 10x; {_val(res, 'etdrk4_speedup_vs_solve_ivp', '{:.0f}')}x vs solve_ivp).
  ETDRK4 integrates the stiff, oscillatory reference operator exactly and only the slowly varying
  variation N explicitly, at 4th order, so its step is limited by h rho (the rate of N), not by
  the mode frequencies. Dedalus' IMEX schemes integrate the reference operator at order 3 or 2,
  with the explicit variation also entering the stiff, nearly algebraic equation (3) (eps_hat ~ 1e-9).{rk_note}
  solve_ivp's Radau/BDF with the approximate Jacobian A_ref (exact for the stiff part, missing N)
  take adaptive steps of their own order. {'; '.join(hot_lines)}.
* **ETDRK4 step vs its FFT floor** ({_status(res, 'etdrk4_cost_vs_floor')}:
  {_f(r['etdrk4_cost_vs_floor'], '{:.2f}')}x, goal 1.33x; {et['n']}^2 hot spot, {et['ffts_per_step']} real FFTs per step,
  step {et['step_ms']:.2f} ms against {et['floor_ms']:.2f} ms). The step's transforms are pruned to the modes the 2/3
  rule keeps, so they cost less than the floor's full FFTs; the rest is the memory traffic of the
  pointwise products and the exponential-integrator algebra; `docs/performance-etdrk4.md` has the
  breakdown (benchmarks/etdrk4_cost.py, whose `measure` this command calls).
* **Analyzer.** The plain pencil does a dense SVD of a Hankel matrix per series; the batch analyzer
  uses a randomized range finder on FFT-based Hankel products, and still refines and selects the order.

## Notes

* Every peer configuration and its error is in the table and in the JSON (`comparisons`, `hotspot`);
  nothing is chosen by hand: the ladders stop at the target, at the budget, or when the next rung
  is predicted to exceed the budget.
* The hot-spot initial state is the spectrum of the real fields that the config's packet stands for
  (`rfftn(irfftn(x0))`, what a run writes at t = 0), the same for every method. In 2D, tdgl-stt's
  packet half-spectrum is not that of a real field: it fills only the stored wavevectors near +q0,
  so on the plane k_y = 0 the conjugate partners at -k are missing and the half of the Gaussian
  with k_y < 0 is absent; its real field then differs from the documented packet
  `A exp(-r^2/2w^2) cos(q0.(x - c))` (a question for `tdgl_stt.packets`, outside this benchmark).
"""


if __name__ == "__main__":
    main()
