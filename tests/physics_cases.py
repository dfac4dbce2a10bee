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
