r"""Reproducible draws of the per-mode noise ``xi = G zeta`` on the real-FFT half-spectrum.

Reality conditions. The state holds ``x_q = rfftn(x)/N`` of real fields, so

- the self-conjugate modes (every index 0 or ``n/2``; ``q = 0`` and the Nyquist corners) are real:
  ``A(q)`` is real there (first derivatives vanish at Nyquist), ``C`` is real, ``G`` is taken real
  and ``zeta`` is real standard normal: ``E[xi xi^T] = C``;
- on the planes of the last axis at 0 and ``n/2`` both ``q`` and ``-q`` are stored; the noise of
  the second is the complex conjugate of the first (``G(-q) = conj G(q)``,
  ``zeta(-q) = conj zeta(q)``), so the noise is the transform of a real field;
- every other mode is complex circular: ``zeta = (z_1 + i z_2)/sqrt(2)``,
  ``E[xi xi^H] = C``, ``E[xi xi^T] = 0``.

Reproducibility. One ``numpy.random.Generator(PCG64(seed))`` fills ``3 x n_modes`` complex numbers (real and
imaginary parts interleaved, C order) with standard normals per step; the partner and real
modes use (part of) their own draws. The per-mode multiply is an elementwise numexpr expression (no reduction, no BLAS), so
the noise is bitwise the same for any thread count. The generator's state is a dict
(:attr:`NoiseSampler.rng_state`) or six uint64 words (:func:`rng_state_to_array`) for a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numexpr
import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from .covariance import psd_factor

_ROW = "o + g0 * z0 + g1 * z1 + g2 * z2"
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class RealityLayout:
    """Flat indices (C order of ``grid.spectral_shape``) of the modes with a reality condition.

    Attributes
    ----------
    real
        Self-conjugate modes: real amplitude.
    src, dst
        Pairs ``(q, -q)`` both stored in the half-spectrum: ``x[dst] = conj(x[src])``.
    """

    real: NDArray[np.intp]
    src: NDArray[np.intp]
    dst: NDArray[np.intp]


def reality_layout(grid: Grid) -> RealityLayout:
    """The :class:`RealityLayout` of a grid's rfft half-spectrum."""
    shape = grid.spectral_shape
    last = grid.n[-1]
    planes = [0] + ([last // 2] if last % 2 == 0 and last // 2 != 0 else [])
    lead = [np.arange(n) for n in grid.n[:-1]]
    mesh = np.meshgrid(*lead, planes, indexing="ij")
    idx = [m.ravel() for m in mesh]
    partner = [(-i) % n for i, n in zip(idx[:-1], grid.n[:-1])] + [idx[-1]]
    flat = np.ravel_multi_index(idx, shape)
    pflat = np.ravel_multi_index(partner, shape)
    real = np.sort(flat[flat == pflat])
    src = flat[flat < pflat]
    dst = pflat[flat < pflat]
    order = np.argsort(src)
    return RealityLayout(real=real.astype(np.intp), src=src[order].astype(np.intp), dst=dst[order].astype(np.intp))


def impose_reality(cov: NDArray[np.complex128], factor: NDArray[np.complex128], layout: RealityLayout) -> NDArray[np.complex128]:
    """The factor (flat, ``(N, 3, 3)``) with the reality conditions of the module notes imposed:
    a real factor of ``Re C`` on the self-conjugate modes, ``conj`` of the partner's on ``dst``."""
    G = factor.copy()
    if layout.real.size:
        G[layout.real] = psd_factor(np.real(cov[layout.real]))
    if layout.src.size:
        G[layout.dst] = np.conj(G[layout.src])
    return G


def stationary_factor(P: NDArray[np.complex128], zero: NDArray[np.bool_], q_Phi: NDArray[np.float64], g: float,
                      layout: RealityLayout) -> NDArray[np.complex128]:
    """The factor (flat ``(N, 3, 3)``, reality imposed) of a draw from the stationary covariance
    ``P`` (flat, from :func:`~tdgl_stt.noise.covariance.stationary_covariance`).

    ``q = 0`` (``zero``): the global phase has no stationary distribution and starts at 0, Phi_0
    has the stationary variance ``q_Phi / (2 g)`` of its OU process (0 when ``g = 0``), mu_0 = 0.

    Raises
    ------
    ValueError
        If another mode has no stationary state (NaN in ``P``: a root with ``Im w >= 0``).
    """
    P = np.array(P, dtype=complex).reshape(-1, 3, 3)
    zero = np.ravel(zero)
    P[zero] = 0.0
    if g > 0:
        P[zero, 1, 1] = np.ravel(q_Phi)[zero] / (2.0 * g)
    bad = ~np.all(np.isfinite(P), axis=(1, 2))
    if np.any(bad):
        raise ValueError(f"{int(bad.sum())} modes have no stationary state (a root with Im w >= 0)")
    return impose_reality(P, psd_factor(P), layout)


#: The checkpoint array of a noise generator's state: six uint64 words (:func:`rng_state_to_array`).
RNG_STATE_SPEC: tuple[tuple[int, ...], np.dtype] = ((6,), np.dtype(np.uint64))


def rng_state_to_array(state: dict[str, Any]) -> NDArray[np.uint64]:
    """A PCG64 ``bit_generator.state`` as six uint64 words (for a checkpoint array)."""
    if state.get("bit_generator") != "PCG64":
        raise ValueError(f"expected a PCG64 state, got {state.get('bit_generator')!r}")
    s, inc = int(state["state"]["state"]), int(state["state"]["inc"])
    return np.array([s >> 64, s & _MASK64, inc >> 64, inc & _MASK64,
                     int(state["has_uint32"]), int(state["uinteger"])], dtype=np.uint64)


def rng_state_from_array(words: NDArray[np.uint64]) -> dict[str, Any]:
    """Inverse of :func:`rng_state_to_array`."""
    w = [int(v) for v in np.asarray(words, dtype=np.uint64)]
    if len(w) != 6:
        raise ValueError(f"a PCG64 state has 6 words, got {len(w)}")
    return {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
            "has_uint32": w[4], "uinteger": w[5]}


class NoiseSampler:
    """Draws ``xi = G zeta`` for every mode of a half-spectrum, reproducibly from a seed.

    Parameters
    ----------
    factor
        ``G`` per mode, flat ``(N, 3, 3)`` in C order of ``shape``, reality already imposed
        (:func:`impose_reality`).
    layout
        The grid's :class:`RealityLayout`.
    shape
        ``grid.spectral_shape``.
    seed
        Seed of a new PCG64 generator, or an existing generator to draw from (shared stream).
    """

    def __init__(self, factor: NDArray[np.complex128], layout: RealityLayout, shape: tuple[int, ...],
                 seed: int | np.random.Generator) -> None:
        self.shape = tuple(shape)
        self.n_modes = int(np.prod(self.shape))
        if factor.shape != (self.n_modes, 3, 3):
            raise ValueError(f"factor must have shape ({self.n_modes}, 3, 3), got {factor.shape}")
        # standard_normals() returns sqrt(2) zeta (z1 + i z2; sqrt(2) z1 on the real modes):
        # the 1/sqrt(2) is folded into the factor
        self._G = [[np.ascontiguousarray(factor[:, i, j] * np.sqrt(0.5)) for j in range(3)] for i in range(3)]
        self._layout = layout
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.Generator(np.random.PCG64(seed))
        self.active = bool(np.any(factor))
        self._zeta = np.empty((3, self.n_modes), dtype=complex)

    @property
    def rng_state(self) -> dict[str, Any]:
        """The generator's state (``bit_generator.state``); assigning it resumes the stream."""
        return self._rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state

    @property
    def generator(self) -> np.random.Generator:
        """The generator itself (shared by :meth:`draw` and any stationary initial state)."""
        return self._rng

    def standard_normals(self) -> NDArray[np.complex128]:
        """``sqrt(2) zeta`` of one step, shape ``(3, N)``: ``z1 + i z2`` (circular, ``E|.|^2 = 2``),
        ``sqrt(2) z1`` on the real modes, the conjugate of the source on the partner modes.

        The standard normals fill the array in C order of its float64 view (``Re, Im`` per entry).
        """
        zeta = self._zeta
        self._rng.standard_normal(out=zeta.view(np.float64))
        lay = self._layout
        zeta[:, lay.real] = np.sqrt(2.0) * zeta[:, lay.real].real
        zeta[:, lay.dst] = np.conj(zeta[:, lay.src])
        return zeta

    def add_to(self, out: NDArray[np.complex128]) -> None:
        """``out += xi`` in place; ``out`` has shape ``(3,) + shape`` and is C-contiguous."""
        if not self.active:
            return
        if not out.flags.c_contiguous:
            raise ValueError("the state must be C-contiguous")
        zeta = self.standard_normals()
        flat = out.reshape(3, self.n_modes)
        for i in range(3):
            g = self._G[i]
            numexpr.evaluate(
                _ROW,
                local_dict={"o": flat[i], "g0": g[0], "g1": g[1], "g2": g[2],
                            "z0": zeta[0], "z1": zeta[1], "z2": zeta[2]},
                out=flat[i],
                casting="same_kind",
            )

    def draw(self) -> NDArray[np.complex128]:
        """One noise increment ``xi``, shape ``(3,) + shape``."""
        out = np.zeros((3,) + self.shape, dtype=complex)
        self.add_to(out)
        return out
