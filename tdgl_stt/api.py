"""Python API mirroring the command line: load a config, run it, get the exact modes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .config import ModelConfig, RunConfig, load_config
from .grid import Grid
from .model import mode_entries
from .params import Coefficients, coefficients_from_model
from .propagator import exact_frequencies
from .runner import RunResult, run

__all__ = ["ModeTable", "exact_modes", "grid_modes", "grid_wavevectors", "load_config", "parse_wavevectors", "run", "RunResult"]


@dataclass(frozen=True)
class ModeTable:
    """Exact complex frequencies ``omega[n, j]`` (roots of det M = 0, Eq. 17) at wavevectors ``q[n]``.

    Columns ``j = 0, 1``: the slow pair (collective modes), decreasing Re w; ``j = 2``: the
    isolated (dielectric-relaxation) root, NaN where ``eps_hat = 0``.
    """

    q: NDArray[np.float64]
    omega: NDArray[np.complex128]

    def to_dict(self) -> dict:
        """JSON-ready: ``{"modes": [{"q": [...], "omega_re": [...], "omega_im": [...]}]}`` (NaN -> None)."""

        def clean(v: float) -> float | None:
            return None if not math.isfinite(v) else float(v)

        return {
            "modes": [
                {
                    "q": [float(v) for v in qn],
                    "omega_re": [clean(w.real) for w in wn],
                    "omega_im": [clean(w.imag) for w in wn],
                }
                for qn, wn in zip(self.q, self.omega)
            ]
        }


def _coefficients(model: ModelConfig | Coefficients | RunConfig) -> Coefficients:
    if isinstance(model, RunConfig):
        model = model.model
    if isinstance(model, ModelConfig):
        return coefficients_from_model(model)
    return model


def exact_modes(model: ModelConfig | Coefficients | RunConfig, q: ArrayLike) -> ModeTable:
    """Exact modes at arbitrary wavevectors.

    Parameters
    ----------
    model
        The model (a config, its ``[model]`` table or resolved coefficients).
    q
        Wavevectors, shape ``(N, ndim)`` (or ``(N,)`` in 1D), ``ndim = len(v_T)``.
    """
    coeffs = _coefficients(model)
    ndim = len(coeffs.vT)
    qa = np.asarray(q, dtype=float)
    if qa.ndim == 1 and ndim == 1:
        qa = qa[:, None]
    if qa.ndim != 2 or qa.shape[1] != ndim:
        raise ValueError(f"q must have shape (N, {ndim}), got {np.shape(q)}")
    e = mode_entries(coeffs, qa.T)
    return ModeTable(q=qa, omega=exact_frequencies(e))


def grid_wavevectors(grid: Grid) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """All wavevectors of the rfft half-spectrum as ``(q_lap, q_grad)`` of shape ``(N, ndim)``, by |q|."""
    ql = grid.q_lap.reshape(grid.ndim, -1).T
    qg = grid.q_grad.reshape(grid.ndim, -1).T
    order = np.argsort(np.sum(ql**2, axis=1), kind="stable")
    return ql[order], qg[order]


def grid_modes(config: RunConfig) -> ModeTable:
    """Exact modes at the grid's wavevectors (Nyquist convention of :mod:`tdgl_stt.model`)."""
    coeffs = coefficients_from_model(config.model)
    grid = Grid(tuple(config.grid.n), tuple(float(v) for v in config.grid.L))
    ql, qg = grid_wavevectors(grid)
    e = mode_entries(coeffs, ql.T, qg.T)
    return ModeTable(q=ql, omega=exact_frequencies(e))


def parse_wavevectors(values: Sequence[str], ndim: int) -> NDArray[np.float64]:
    rows = []
    for v in values:
        parts = [p for p in v.replace(";", ",").split(",") if p.strip()]
        if len(parts) != ndim:
            raise ValueError(f"--q {v!r}: needs {ndim} comma-separated components")
        rows.append([float(p) for p in parts])
    return np.array(rows, dtype=float)
