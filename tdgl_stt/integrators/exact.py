"""Frame-to-frame stepping with the exact per-mode propagator ``exp(A(q) dt)``.

With uniform coefficients each Fourier mode of ``(theta, Phi, mu)`` obeys ``d x_q/dt = A(q) x_q``
(equations (1)-(3)), so ``x_q(t + dt) = U(q, dt) x_q(t)`` exactly for any dt: the output interval
is the only time step and the only error is round-off.
"""

from __future__ import annotations

import numexpr
import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..model import ModeEntries, mode_entries
from ..params import Coefficients
from ..propagator import ModeSplit, propagator, split_modes

_ROW = "u0 * x0 + u1 * x1 + u2 * x2"


class ExactStepper:
    """Applies ``U(q, dt)`` to a spectral state of shape ``(3, *grid.spectral_shape)``.

    The 3x3 multiply is one fused numexpr pass per output row (memory-bound; numpy's
    elementwise expression would make ~15 passes with temporaries).

    Parameters
    ----------
    coeffs, grid, dt
        Model, grid and frame interval.
    """

    def __init__(self, coeffs: Coefficients, grid: Grid, dt: float) -> None:
        self.grid = grid
        self.dt = dt
        self.entries: ModeEntries = mode_entries(coeffs, grid.q_lap, grid.q_grad)
        self.split: ModeSplit = split_modes(self.entries)
        U = propagator(self.entries, dt, self.split)
        self._U = [[np.ascontiguousarray(U[i, j]) for j in range(3)] for i in range(3)]
        self._P = propagator(self.entries, 0.0, self.split)
        self._buf = np.empty((3,) + grid.spectral_shape, dtype=complex)

    @property
    def n_fallback(self) -> int:
        """Modes propagated by ``scipy.linalg.expm`` (ill-conditioned split; normally 0)."""
        return int(np.count_nonzero(self.split.fallback))

    def project(self, x: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """``U(q, 0) x``: imposes the constraint ``mu = K theta`` where ``eps_hat = 0`` and the gauge
        ``mu(q=0) = 0``; the identity elsewhere."""
        P = self._P
        return np.einsum("ij...,j...->i...", P, x)

    def checkpoint_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """The arrays of a restart checkpoint: the spectral state itself."""
        return {"state": ((3,) + self.grid.spectral_shape, np.dtype(np.complex128))}

    def checkpoint_arrays(self, x: NDArray[np.complex128]) -> dict[str, NDArray[np.complex128]]:
        """The checkpoint of state ``x`` (no copy: a state buffer is reused only two steps later)."""
        return {"state": x}

    def restore(self, arrays: dict[str, NDArray[np.complex128]]) -> NDArray[np.complex128]:
        """The state of a checkpoint of :meth:`checkpoint_arrays`."""
        return np.array(arrays["state"])

    def step(self, x: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Advance one frame. Returns a new array (an internal buffer swapped with ``x``)."""
        out = self._buf
        for i in range(3):
            u = self._U[i]
            numexpr.evaluate(
                _ROW,
                local_dict={"u0": u[0], "u1": u[1], "u2": u[2], "x0": x[0], "x1": x[1], "x2": x[2]},
                out=out[i],
                casting="same_kind",
            )
        self._buf = x
        return out
