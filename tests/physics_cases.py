"""Shared model parameters for the physics tests (natural units)."""

from __future__ import annotations

import math

from tdgl_stt.config import ModelConfig

#: Near T_c, clean: Delta/T = 0.3 gives I = 0.236, n_s/n = 0.024, gamma_G = 0.012, v_G = 0.18.
BASE = dict(Delta=0.3, T=1.0, vF=1.0, d=3, tau=1.0)


def model(ndim: int = 1, *, coulomb: str = "none", ks: float | None = None, grad_T: float = 0.0,
          angle: float = 0.0, tauE: float = math.inf, **over) -> ModelConfig:
    """A ModelConfig with grad_T of magnitude ``grad_T`` at ``angle`` to x (2D)."""
    if ndim == 1:
        gt = (grad_T,)
    else:
        gt = (grad_T * math.cos(angle), grad_T * math.sin(angle)) + (0.0,) * (ndim - 2)
    kw = dict(BASE)
    kw.update(over)
    return ModelConfig(coulomb=coulomb, ks=ks, grad_T=gt, tauE=tauE, **kw)


#: (label, ModelConfig) pairs spanning kernels, torque and tau_E, 1D and 2D.
CASES = [
    ("neutral", model()),
    ("neutral-torque", model(grad_T=0.05)),
    ("neutral-torque-tauE", model(grad_T=0.05, tauE=40.0)),
    ("bulk", model(coulomb="bulk", ks=3.0)),
    ("bulk-torque", model(coulomb="bulk", ks=3.0, grad_T=0.05)),
    ("bulk-stiff-torque-tauE", model(coulomb="bulk", ks=1e6, grad_T=0.05, tauE=40.0)),
    ("film", model(2, coulomb="film", ks=0.5, d=2)),
    ("film-torque-2d", model(2, coulomb="film", ks=0.5, d=2, grad_T=0.05, angle=0.7)),
    ("film-torque-tauE-2d", model(2, coulomb="film", ks=50.0, d=2, grad_T=0.08, angle=2.0, tauE=20.0)),
]


#: A fast run file with a hot spot and thermal noise (1D, ETDRK4): its process spends much of
#: its time inside HDF5 writes, the worst case for a kill. Killed and resumed by
#: tests/test_noisy_etd.py and benchmarks/sigkill_resume.py.
NOISY_PROFILE_RUN = {
    "model": {"T": 0.8, "Tc": 1.0, "vF": 1.0, "d": 1, "tau": 10.0, "tauE": 20.0, "coulomb": "none",
              "temperature_profile": {"kind": "gaussian", "amplitude": 0.02, "width": 10.0, "center": [100.0]}},
    "grid": {"n": [256], "L": [200.0]},
    "time": {"dt": 5.5, "n_frames": 300, "integrator": "etdrk4", "steps_per_frame": 4},
    "initial": {"kind": "noise", "amplitude": 0.0},
    "noise": {"kind": "thermal", "strength": 1.0, "seed": 4},
}
