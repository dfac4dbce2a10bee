r"""Two diagnostics for runs with a temperature profile: local instability and explicit step size.

Both freeze the coefficients at a point ``x`` of the grid and use the exact roots of the uniform
model (:func:`tdgl_stt.propagator.exact_frequencies`) with ``c^2(x)``, ``I(x)`` and the local torque
``(Delta^2/T) v_T(x)``:

* :func:`local_growth`: the largest ``Im w`` of the frozen-coefficient operator over the sampled
  points and the retained wavevectors. Where it is positive the torque of the local gradient
  anti-damps the Carlson-Goldman mode faster than it is damped (the uniform model's
  ``Lambda > 1``, README): a WKB (frozen-coefficient) criterion for a physical instability of
  the non-uniform medium, not a theorem; a spot narrower than a wavelength can be more stable.
* :func:`explicit_rate`: ``rho = max |lambda_j(q; x) - lambda_j(q; T_ref)|`` over the slow roots:
  how fast the variation ``N(x)``, which the exponential integrators treat explicitly, changes a
  mode. ETDRK4 is stable for ``h rho`` below about 1 on the hot-spot problems of the tests and
  the demo (the threshold is empirical; ``docs/hotspot.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .grid import Grid
from .model import ModeEntries, eps_hat, mode_entries
from .propagator import exact_frequencies
from .variable_model import VariableModel

__all__ = ["LocalGrowth", "explicit_rate", "local_growth", "sample_points"]

#: Explicit steps with h * rho above this are reported as likely unstable (empirical, ETDRK4).
STABLE_H_RHO = 1.0


@dataclass(frozen=True)
class LocalGrowth:
    """The fastest-growing frozen-coefficient mode: rate ``Im w``, where and at which q."""

    rate: float
    x: tuple[float, ...]
    q: tuple[float, ...]
    T: float

    def message(self) -> str:
        if self.rate <= 0:
            return "no frozen-coefficient mode grows: the medium is locally stable everywhere"
        return (
            f"local (frozen-coefficient) instability: with the coefficients frozen at x = "
            f"{[round(v, 6) for v in self.x]} (T = {self.T:.6g}) the mode at q = {[round(v, 6) for v in self.q]} "
            f"grows at Im w = {self.rate:.6g}: the local gradient's torque anti-damps the Carlson-Goldman mode "
            "there (physics). Only where the unstable region is wider than the distance a wave travels "
            "in 1/rate can a mode grow in place; a narrower one amplifies the waves that cross it "
            "(docs/hotspot.md)"
        )


def sample_points(vm: VariableModel, limit: int = 128, seed: int = 0) -> NDArray[np.int_]:
    """Flat indices of grid points to test: every point up to ``limit``, else the extremes of T
    and of the torque plus a random subset."""
    size = vm.fields.T.size
    if size <= limit:
        return np.arange(size)
    tq = np.sqrt(np.sum(vm.fields.torque.reshape(vm.fields.torque.shape[0], -1) ** 2, axis=0))
    picks = {int(np.argmax(vm.fields.T)), int(np.argmin(vm.fields.T))}
    picks.update(int(i) for i in np.argsort(tq)[-limit // 4 :])
    rng = np.random.default_rng(seed)
    picks.update(int(i) for i in rng.choice(size, size=limit // 2, replace=False))
    return np.array(sorted(picks))


def _frozen_entries(vm: VariableModel, i: int, q_lap: NDArray, q_grad: NDArray) -> ModeEntries:
    f, ref = vm.fields, vm.reference
    nd = q_lap.shape[0]
    c2 = float(f.c2.flat[i])
    torque = [float(f.torque[k].flat[i]) for k in range(nd)]
    q2 = np.sum(q_lap**2, axis=0)
    a = c2 * q2 + 2j * sum(q_grad[k] * torque[k] for k in range(nd))
    return ModeEntries(a=np.asarray(a, complex), s=2.0 * f.D * q2, eps=eps_hat(np.sqrt(q2), ref.coulomb, ref.ks),
                       g=ref.g, I=float(f.I.flat[i]))


#: Wavevectors tested per point at most (an even subsample of the spectrum beyond).
_MAX_WAVEVECTORS = 4096


def _wavevectors(grid: Grid, keep: NDArray[np.bool_] | None) -> tuple[NDArray, NDArray]:
    """The wavevectors tested: all of ``keep`` but ``q = 0``, or an even subsample of at most
    :data:`_MAX_WAVEVECTORS` that keeps the largest ``|q|`` (where the rates are largest)."""
    ql = grid.q_lap.reshape(grid.ndim, -1)
    qg = grid.q_grad.reshape(grid.ndim, -1)
    sel = np.sum(ql**2, axis=0) > 0
    if keep is not None:
        sel &= keep.ravel()
    idx = np.flatnonzero(sel)
    if idx.size > _MAX_WAVEVECTORS:
        q2 = np.sum(ql[:, idx] ** 2, axis=0)
        order = idx[np.argsort(q2, kind="stable")]
        stride = int(np.ceil(idx.size / _MAX_WAVEVECTORS))
        idx = np.unique(np.concatenate([order[::stride], order[-64:]]))
    return ql[:, idx], qg[:, idx]


def local_growth(vm: VariableModel, grid: Grid, keep: NDArray[np.bool_] | None = None, limit: int = 128) -> LocalGrowth:
    """The largest frozen-coefficient growth rate over :func:`sample_points` and the wavevectors
    of ``keep`` (default: all but ``q = 0``)."""
    ql, qg = _wavevectors(grid, keep)
    coords = grid.mesh().reshape(grid.ndim, -1)
    best = LocalGrowth(rate=-np.inf, x=(), q=(), T=float("nan"))
    for i in sample_points(vm, limit):
        w = exact_frequencies(_frozen_entries(vm, int(i), ql, qg))
        im = np.where(np.isfinite(w.imag), w.imag, -np.inf)
        j = np.unravel_index(int(np.argmax(im)), im.shape)
        if im[j] > best.rate:
            best = LocalGrowth(rate=float(im[j]), x=tuple(float(v) for v in coords[:, i]),
                               q=tuple(float(v) for v in ql[:, j[0]]), T=float(vm.fields.T.flat[i]))
    return best


def explicit_rate(vm: VariableModel, grid: Grid, keep: NDArray[np.bool_] | None = None, limit: int = 128) -> float:
    """``rho``: the largest change of a slow root between the frozen local operator and the
    reference, over :func:`sample_points` and the wavevectors of ``keep``."""
    if vm.uniform:
        return 0.0
    ql, qg = _wavevectors(grid, keep)
    w_ref = exact_frequencies(mode_entries(vm.reference, ql, qg))[:, :2]
    rho = 0.0
    for i in sample_points(vm, limit):
        w = exact_frequencies(_frozen_entries(vm, int(i), ql, qg))[:, :2]
        d = np.abs(w - w_ref)
        rho = max(rho, float(np.max(np.where(np.isfinite(d), d, 0.0))))
    return rho
