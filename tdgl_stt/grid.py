"""Periodic 1D/2D/3D grids and their real-FFT wavevectors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

AXES: tuple[str, ...] = ("x", "y", "z")


@dataclass(frozen=True)
class Grid:
    """A periodic box of ``n[i]`` points over length ``L[i]`` per axis, ``x_j = j L / n``.

    Spectral arrays follow ``numpy.fft.rfftn``: the last axis holds ``n[-1]//2 + 1``
    non-negative wavenumbers, the others the full ``fftfreq`` set. Wavevectors are
    ``q = 2 pi k / L``.
    """

    n: tuple[int, ...]
    L: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.n) != len(self.L) or not 1 <= len(self.n) <= 3:
            raise ValueError("grid n and L must have the same length, 1 to 3")

    @property
    def ndim(self) -> int:
        return len(self.n)

    @property
    def axes(self) -> tuple[str, ...]:
        return AXES[: self.ndim]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.n)

    @property
    def spectral_shape(self) -> tuple[int, ...]:
        return tuple(self.n[:-1]) + (self.n[-1] // 2 + 1,)

    @property
    def size(self) -> int:
        return int(np.prod(self.n))

    @property
    def dx(self) -> tuple[float, ...]:
        return tuple(L / n for L, n in zip(self.L, self.n))

    def coords(self) -> dict[str, NDArray[np.float64]]:
        """Cell positions per axis."""
        return {ax: np.arange(n) * (L / n) for ax, n, L in zip(self.axes, self.n, self.L)}

    def mesh(self) -> NDArray[np.float64]:
        """Positions, shape ``(ndim, *n)``."""
        return np.array(np.meshgrid(*self.coords().values(), indexing="ij"))

    def _k1d(self, axis: int) -> NDArray[np.float64]:
        n, L = self.n[axis], self.L[axis]
        if axis == self.ndim - 1:
            return 2 * np.pi * np.fft.rfftfreq(n, d=L / n)
        return 2 * np.pi * np.fft.fftfreq(n, d=L / n)

    @cached_property
    def q_lap(self) -> NDArray[np.float64]:
        """Wavevector components on the spectral grid, shape ``(ndim, *spectral_shape)``."""
        return np.array(np.meshgrid(*(self._k1d(i) for i in range(self.ndim)), indexing="ij"))

    @cached_property
    def q_grad(self) -> NDArray[np.float64]:
        """Like :attr:`q_lap` but with Nyquist wavenumbers set to 0 (first derivatives)."""
        ks = []
        for i in range(self.ndim):
            k = self._k1d(i).copy()
            if self.n[i] % 2 == 0:
                nyq = len(k) - 1 if i == self.ndim - 1 else self.n[i] // 2
                k[nyq] = 0.0
            ks.append(k)
        return np.array(np.meshgrid(*ks, indexing="ij"))

    def spectral_index(self, k: tuple[int, ...]) -> tuple[tuple[int, ...], bool]:
        """Index into the rfft half-spectrum of integer wavenumber ``k``, and whether it is the
        conjugate partner (``k`` has a negative last component)."""
        k = tuple(int(v) for v in k)
        conj = k[-1] < 0
        if conj:
            k = tuple(-v for v in k)
        idx = tuple(v % n for v, n in zip(k[:-1], self.n[:-1])) + (k[-1],)
        return idx, conj
