"""Transmission and reflection of a Carlson-Goldman wave packet by a hot spot, against the spot's
amplitude (issue 5; docs/hotspot.md).

For each amplitude A the run of ``runs/hotspot_packet.toml`` is repeated with
``temperature_profile.amplitude = A`` through ``tdgl-stt run``'s own pipeline (config -> runner ->
NetCDF), and the last frame is written, wavevector by wavevector, in the exact eigenvectors of the
uniform wire far from the spot (:func:`tdgl_stt.packets.branch_amplitudes`): branch 0 moves
right (the transmitted packet), branch 1 left (the reflected one). With ``n_j`` the norm of branch
``j`` over the spectrum,

    R = n_1(t_end) / (n_0(0) exp(-gamma_G t_end)),   T = n_0(t_end) / (n_0(0) exp(-gamma_G t_end)),

i.e. both relative to the packet that crossed the uniform wire in the same time (the CG mode
decays at gamma_G). For comparison the same runs are repeated with the variation of the torque
switched off (``w = grad(delta c^2)`` in the integrator: the coefficients vary but the local
gradient exerts no torque), a numerical experiment that isolates what the torque of Eq. 19 adds.

    python postprocess/hotspot_scattering.py [--config runs/hotspot_packet.toml]
        [--amplitudes 0 0.0025 ...] [--figure docs/figures/hotspot_scattering.png] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import tomli_w

from tdgl_stt.api import run
from tdgl_stt.config import RunConfig, parse_config
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.etd import ETDStepper
from tdgl_stt.integrators.forcing import SpectralBand
from tdgl_stt.io_netcdf import open_run
from tdgl_stt.packets import branch_amplitudes
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.profiles import spectral_gradient
from tdgl_stt.stability import local_growth
from tdgl_stt.variable_model import variable_model

ROOT = Path(__file__).resolve().parents[1]
AMPLITUDES = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08)


def config_with_amplitude(text: str, amplitude: float, output: Path) -> RunConfig:
    """The run config with the spot's amplitude replaced (the config text stays consistent)."""
    doc = tomllib.loads(text)
    doc["model"]["temperature_profile"]["amplitude"] = float(amplitude)
    doc["output"]["path"] = str(output)
    return parse_config(tomli_w.dumps(doc), source=f"hotspot amplitude {amplitude}")


def base_medium(cfg: RunConfig):
    """The uniform wire far from the spot: the model at the base T, no profile."""
    return coefficients_from_model(replace(cfg.model, temperature_profile=None))


def spectral_state(ds, frame: int, grid: Grid) -> np.ndarray:
    axes = tuple(range(1, grid.ndim + 1))
    real = np.stack([ds[name].isel(t=frame).values for name in ("theta", "Phi", "mu")])
    return np.fft.rfftn(real, axes=axes) / grid.size


def scattering(cfg: RunConfig, X0: np.ndarray, X1: np.ndarray, t_end: float) -> tuple[float, float]:
    """(R, T) of the final state X1 of a run started from X0 (module docstring)."""
    grid = Grid(tuple(cfg.grid.n), tuple(cfg.grid.L))
    medium = base_medium(cfg)
    n0 = np.linalg.norm(branch_amplitudes(medium, grid, X0)[0])
    amp = branch_amplitudes(medium, grid, X1)
    ref = n0 * math.exp(-medium.gamma_G * t_end)
    return float(np.linalg.norm(amp[1]) / ref), float(np.linalg.norm(amp[0]) / ref)


def run_case(text: str, amplitude: float, workdir: Path) -> dict:
    out = workdir / f"hotspot_A{amplitude:g}.nc"
    cfg = config_with_amplitude(text, amplitude, out)
    result = run(cfg, output=out, progress=False, log=lambda msg: None)
    if result.status != "complete":
        raise RuntimeError(f"amplitude {amplitude}: run {result.status}: {result.message}")
    grid = Grid(tuple(cfg.grid.n), tuple(cfg.grid.L))
    with open_run(out) as ds:
        t = ds["t"].values
        X0, X1 = spectral_state(ds, 0, grid), spectral_state(ds, len(t) - 1, grid)
        theta = ds["theta"].values
    R, T = scattering(cfg, X0, X1, float(t[-1]))
    return {"A": amplitude, "R": R, "T": T, "t": t, "theta": theta, "cfg": cfg, "X0": X0}


def torque_free(case: dict) -> tuple[float, float]:
    """(R, T) of the same run with the torque's variation switched off (module docstring)."""
    cfg = case["cfg"]
    grid = Grid(tuple(cfg.grid.n), tuple(cfg.grid.L))
    prof = cfg.model.temperature_profile
    vm = variable_model(cfg.model, cfg.model.Tc, prof, grid)
    if not vm.uniform:
        vm = replace(vm, w=spectral_gradient(vm.dc2, grid))
    stepper = ETDStepper(vm, grid, cfg.time.dt, cfg.time.steps_per_frame, cfg.time.integrator)
    x = stepper.project(case["X0"])
    for _ in range(cfg.time.n_frames):
        x = stepper.step(x)
    return scattering(cfg, case["X0"], x, cfg.time.dt * cfg.time.n_frames)


def figure(cases: list[dict], free: list[tuple[float, float]], show: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = show["cfg"]
    medium = base_medium(cfg)
    grid = Grid(tuple(cfg.grid.n), tuple(cfg.grid.L))
    x = grid.coords()["x"]
    t = show["t"]
    field = show["theta"] * np.exp(medium.gamma_G * t)[:, None]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.15, 1]})
    lim = 1.2 * np.abs(field[0]).max()  # the incident packet; the spot's own response saturates
    im = ax0.pcolormesh(x, t, field, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto", rasterized=True)
    prof = cfg.model.temperature_profile
    ax0.axvline(prof.center[0], color="k", lw=0.8, ls=":")
    ax0.set_xlabel("x")
    ax0.set_ylabel("t")
    ax0.set_title(f"theta(x, t) exp(gamma_G t): CG packet and a hot spot of {show['A']:g} Tc at x = {prof.center[0]:g}\n"
                  "(colour range: the incident packet; the spot's own response saturates)", fontsize=9)
    fig.colorbar(im, ax=ax0, fraction=0.046, pad=0.02)
    A = np.array([c["A"] for c in cases])
    R = np.array([c["R"] for c in cases])
    T = np.array([c["T"] for c in cases])
    Rf = np.array([f[0] for f in free])
    Tf = np.array([f[1] for f in free])
    ax1.plot(A, R, "o-", color="C3", label="reflection R (model: coefficients + torque)")
    ax1.plot(A, Rf, "s--", color="C3", alpha=0.55, label="R, torque variation switched off")
    ax1.plot(A, T, "o-", color="C0", label="transmission T (model)")
    ax1.plot(A, Tf, "s--", color="C0", alpha=0.55, label="T, torque variation switched off")
    ax1.axhline(1.0, color="0.6", lw=0.6)
    ax1.set_xlabel("hot-spot amplitude A / Tc")
    ax1.set_ylabel("norm of the outgoing packet / uniform wire")
    ax1.set_title("CG packet (q0 = 12.5 q_G) on a spot of width 2.5 (1/5 wavelength)", fontsize=9)
    ax1.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=ROOT / "runs" / "hotspot_packet.toml")
    ap.add_argument("--amplitudes", type=float, nargs="+", default=list(AMPLITUDES))
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "figures" / "hotspot_scattering.png")
    ap.add_argument("--keep", type=Path, default=None, help="keep the run files in this directory")
    args = ap.parse_args()
    text = args.config.read_text()
    base_amplitude = tomllib.loads(text)["model"]["temperature_profile"]["amplitude"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        cases = [run_case(text, a, workdir) for a in args.amplitudes]
    free = [torque_free(c) for c in cases]
    print("| A / Tc | max T / Tc | frozen-coefficient growth | R | T | R, no torque | T, no torque |")
    print("|---|---|---|---|---|---|---|")
    for c, (rf, tf) in zip(cases, free):
        grid = Grid(tuple(c["cfg"].grid.n), tuple(c["cfg"].grid.L))
        vm = variable_model(c["cfg"].model, c["cfg"].model.Tc, c["cfg"].model.temperature_profile, grid)
        g = local_growth(vm, grid, SpectralBand(grid, dealias=True).mask()).rate
        print(f"| {c['A']:g} | {vm.fields.T.max():.4f} | {max(g, 0.0):.3g} | {c['R']:.4g} | {c['T']:.4f} | {rf:.4g} | {tf:.4f} |")
    show = min(cases, key=lambda c: abs(c["A"] - base_amplitude))
    figure(cases, free, show, args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
