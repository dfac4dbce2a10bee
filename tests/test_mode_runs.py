"""End to end: a "mode" run's Fourier amplitude follows exp(-i w t) with the exact w.

Each run goes config -> runner -> NetCDF -> xarray; the amplitude at +q is read back from the
file and compared with the exact root, to 1e-10 relative in w over 1000 periods, in the stiff
limit (dielectric rate / mode rate > 1e10), for eps_hat = 0 (constraint) and at q = q_G (a
double root: a Jordan block).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from tdgl_stt.api import exact_modes
from tdgl_stt.config import parse_config
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.runner import run

BASE = 'Delta = 0.3\nT = 1.0\nvF = 1.0\nd = 3\ntau = 1.0\n'


def config_text(model_extra: str, L: float, k: int, dt: float, n_frames: int, branch: int = 0) -> str:
    return (
        f"[model]\n{BASE}{model_extra}\n"
        f"[grid]\nn = [16]\nL = [{float(L)!r}]\n"
        f"[time]\ndt = {float(dt)!r}\nn_frames = {n_frames}\n"
        f"[initial]\nkind = \"mode\"\nk = [{k}]\nbranch = {branch}\namplitude = 1.0\n"
        f"[output]\npath = \"unused.nc\"\n"
    )


def amplitude_series(path, k: int, field: str) -> tuple[np.ndarray, np.ndarray]:
    with xr.open_dataset(path) as ds:
        t = ds["t"].values
        f = ds[field].values
    return t, np.fft.rfft(f, axis=-1)[:, k] / f.shape[-1]


CASES = {
    # label: (model keys, q in units of q_G, number of periods, tau_E)
    "stiff-bulk-torque": ('grad_T = [0.02]\ncoulomb = "bulk"\nks = 1.0e7\n', 40.0),
    "constraint-torque-tauE": ('grad_T = [0.02]\ncoulomb = "none"\ntauE = 50.0\n', 40.0),
    "carlson-goldman-point": ('grad_T = [0.0]\ncoulomb = "none"\n', 1.0),
}


@pytest.mark.parametrize("label", list(CASES))
def test_mode_run_follows_exact_frequency(label, tmp_path):
    extra, q_over_qG = CASES[label]
    probe = parse_config(config_text(extra, 100.0, 1, 1.0, 1))
    c = coefficients_from_model(probe.model)
    k = 3
    q = q_over_qG * c.q_G
    L = 2 * math.pi * k / q
    cfg0 = parse_config(config_text(extra, L, k, 1.0, 1))
    q_grid = 2 * math.pi * k / L
    w = exact_modes(cfg0, np.array([q_grid])).omega[0, 0]
    if label == "stiff-bulk-torque":
        from tdgl_stt.model import mode_entries
        from tdgl_stt.propagator import split_modes

        sp = split_modes(mode_entries(c, np.array([[q_grid]])))
        assert abs(sp.lam_fast[0]) / abs(w) > 1e10
    if w.real != 0 and abs(w.real) > abs(w.imag) * 1e-3:
        period = 2 * math.pi / abs(w.real)
        dt, n_frames = 1.37 * period, 730  # 1000 periods
    else:
        # q = q_G: w = -i gamma_G is purely damped; 1000 "periods" 2 pi/|w| would underflow, so
        # the ringdown runs until the amplitude is 1e-250.
        dt = 575.0 / abs(w.imag) / 700
        n_frames = 700
    out = tmp_path / "mode.nc"
    cfg = parse_config(config_text(extra, L, k, dt, n_frames))
    res = run(cfg, output=out, progress=False)
    assert res.status == "complete" and res.frames_written == n_frames + 1
    for field in ("theta", "Phi"):
        t, a = amplitude_series(out, k, field)
        ratio = a / (a[0] * np.exp(-1j * w * t))
        bound = 1e-10 * abs(w) * t + 1e-13
        assert np.all(np.abs(ratio - 1) <= bound), (label, field, np.max(np.abs(ratio - 1) / bound))
    if n_frames == 730:
        assert abs(w.real) * t[-1] / (2 * math.pi) >= 1000
