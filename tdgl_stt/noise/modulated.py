r"""Langevin noise where the temperature varies in space: exact reference increments, with the
local intensity imposed on the white sources in real space (``docs/noise.md``, section 10).

The ETD integrator (:mod:`tdgl_stt.integrators.etd`) advances the internal state
``u = (theta, psi, mu)``, ``psi = I(x) Phi / I_ref``, on the retained modes in steps ``h``, with
the uniform reference operator ``A_ref(q)`` exact. The noisy scheme is

.. math::  u_{k+1} = \mathrm{ETD}_h(u_k) + \xi_k, \qquad
           \xi_k = \sum_s \xi_{s,k}, \qquad
           \xi_{s}(q) = G_s(q)\, \zeta_s(q),

one term per independent white force ``s`` of the model (``docs/noise.md``, section 2):

``Phi``
    the force of the relaxation of Phi (equation (2)): on ``d psi/dt`` it has the local
    intensity ``(T(x)/N0) g I(x) / I_ref^2`` (``zeta/I_ref`` with ``<zeta zeta'> = 2 (T/N0) (g I/2)``),
    i.e. the reference intensity ``q_Phi = Theta g / (2 I_ref)`` (``Theta = 2 strength/V`` at the
    base temperature ``T_0`` of ``[model]``, ``strength = T_0/N0``) times
    ``sigma_Phi(x)^2 = (T(x)/T_0) (I(x)/I_ref)``;
``current``
    the Johnson-Nyquist current of the normal conductance ``2 D`` (equation (3), ``D``
    independent of T): ``<dj_i dj_k'> = 2 (T(x)/N0) (2 D) delta_ik``, the reference
    ``eta = Theta s`` times ``sigma_j(x)^2 = T(x)/T_0``, entering through its divergence;
``theta``
    only for ``kind = "explicit"`` (uniform, ``sigma = 1``; explicit intensities are given in
    real space and do not follow T).

``G_s(q)`` is the Cholesky factor (:func:`~tdgl_stt.noise.covariance.cholesky_factor`) of the
exact reference increment of force ``s`` alone,
``C_s(q, h) = int_0^h e^{A_ref u} Q_s e^{A_ref^H u} du`` (:func:`increment_covariance`; the
forces are independent, so ``sum_s C_s = C_ref``). ``zeta_s`` has three components (one per
column of ``G_s``; columns that vanish for every mode are not drawn), each the transform of a
white field in real space multiplied by ``sigma_s(x)``:

* scalar force: ``zeta(q) = W(q)``, ``W = rfftn(sigma w) / sqrt(N)``, ``w`` standard normal at every point;
* current: ``zeta(q) = (-i q_grad + q_nyq) . W(q) / |q|`` with one white field per component of
  the current: the normalised divergence ``-i q.dj/|q|`` (``q_grad`` the first-derivative
  wavevector, zero at Nyquist, and ``q_nyq = q_lap - q_grad`` its Nyquist components, which keep
  ``|zeta|^2`` exact and ``zeta`` the transform of a real field at those modes).

Properties
----------
* **Uniform intensity** (``sigma = 1``): every ``zeta`` is standard normal per mode, independent
  across modes, with the reality conditions of the rfft half-spectrum built in (it is the
  transform of a real field), so ``Cov xi = C_ref(h)`` exactly: with uniform coefficients the
  scheme is the exact OU update of :mod:`tdgl_stt.integrators.noisy_exact` (other draws, the same
  statistics).
* **Local intensity**: ``sigma_s(x)^2`` is the ratio of the local to the reference intensity of
  force ``s`` exactly; it multiplies the *source* (before the divergence, before the response),
  as in the Langevin equations. The approximation is in the response within one step: the
  exact increment of the modulated source has cross-covariances
  ``Cov(xi(q), xi(q')) = (sigma^2)^(q - q') int_0^h e^{A(q) u} B_s(q) B_s(q')^H e^{A(q')^H u} du``
  (``(sigma^2)^`` the Fourier coefficients of ``sigma^2``), and the scheme has
  ``(sigma^2)^(q - q') G_s(q) G_s(q')^H``: equal for ``q = q'`` (each mode's increment variance
  is exact), and for ``q != q'`` with an error of first order in ``|lambda(q) - lambda(q')| h``,
  i.e. in the distance a mode travels during one step over the width of the temperature
  variation (``v_G h / w``). The
  Cholesky factor is continuous in q, which this needs (an eigendecomposition fixes each column
  only up to a phase and would scramble the cross-covariances). The fast dielectric block is
  reproduced exactly in bulk (its rate ``2 D k_s^2`` does not depend on q) and to second order
  in ``(q - q')/q`` for a film.

The increment is a deterministic function of the white fields (:meth:`ModulatedIncrement.increment`),
which come from one ``numpy.random.Generator`` in C order; numpy's FFT and elementwise
arithmetic make it bitwise reproducible in any process and for any thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import ModeEntries
from ..propagator import ModeSplit
from .config import NoiseConfig
from .covariance import cholesky_factor, increment_covariance
from .sampler import RealityLayout
from .sources import ModeNoise

__all__ = ["ModulatedIncrement", "NoiseSource", "band_layout", "noise_sources"]


@dataclass(frozen=True)
class NoiseSource:
    """One independent white force of the Langevin equations on a set of modes.

    Attributes
    ----------
    name
        ``"theta"``, ``"Phi"`` or ``"current"``.
    intensity
        The reference intensities of this force alone (the other two entries zero).
    sigma
        Real-space amplitude factor ``sqrt(local / reference intensity)`` on the grid, or None
        where it is 1 everywhere.
    current
        True for the random current (a vector field entering through its divergence).
    """

    name: str
    intensity: ModeNoise
    sigma: NDArray[np.float64] | None
    current: bool = False


def _factor_or_none(s2: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    if s2 is None:
        return None
    s2 = np.asarray(s2, dtype=float)
    if not np.all(np.isfinite(s2)) or np.any(s2 < 0):
        raise ValueError("the local noise intensity must be finite and non-negative")
    return None if np.all(s2 == 1.0) else np.sqrt(s2)


def noise_sources(
    noise: NoiseConfig,
    mn: ModeNoise,
    *,
    T: NDArray[np.float64] | None = None,
    T_base: float | None = None,
    I: NDArray[np.float64] | None = None,
    I_ref: float | None = None,
) -> list[NoiseSource]:
    """The independent forces of ``noise`` with their local intensity factors (module notes).

    Parameters
    ----------
    noise
        The ``[noise]`` table.
    mn
        Reference intensities on the modes (:func:`~tdgl_stt.noise.sources.mode_noise` of the
        reference entries, at the base temperature's strength).
    T, T_base
        Thermal noise with a temperature profile: ``T(x)`` on the grid and the base temperature
        ``T_0`` of ``[model]`` at which ``strength = T_0/N0`` is given. None: uniform.
    I, I_ref
        ``I(x)`` and the reference ``I_ref`` (the internal variable is ``psi = I Phi/I_ref``).

    Returns
    -------
    list of NoiseSource
        The forces with a non-zero intensity somewhere, in the order theta, Phi, current.
    """
    zero = np.zeros_like(np.asarray(mn.q_Phi, dtype=float))
    thermal = noise.kind == "thermal" and T is not None
    if thermal and (T_base is None or not T_base > 0):
        raise ValueError("a temperature profile needs the base temperature T_base > 0")
    s2_phi = s2_cur = None
    if thermal:
        s2_cur = np.asarray(T, dtype=float) / T_base
        s2_phi = s2_cur if I is None else s2_cur * (np.asarray(I, dtype=float) / I_ref)
    out = []
    if np.any(mn.q_theta):
        out.append(NoiseSource("theta", ModeNoise(mn.q_theta, zero, zero), None))
    if np.any(mn.q_Phi):
        out.append(NoiseSource("Phi", ModeNoise(zero, mn.q_Phi, zero), _factor_or_none(s2_phi)))
    if np.any(mn.eta):
        out.append(NoiseSource("current", ModeNoise(zero, zero, mn.eta), _factor_or_none(s2_cur), current=True))
    return out


def band_layout(grid_layout: RealityLayout, spectral_shape: tuple[int, ...],
                gather: Callable[[NDArray], NDArray]) -> RealityLayout:
    """The :class:`RealityLayout` of a set of retained modes (``gather`` maps a full half-spectrum
    to them), in flat indices of the retained set. The set must contain the partner of each of
    its modes (true for the 2/3 rule and for the full spectrum)."""
    full = np.arange(int(np.prod(spectral_shape))).reshape(spectral_shape)
    kept = np.ravel(gather(full))
    where = np.full(full.size, -1, dtype=np.intp)
    where[kept] = np.arange(kept.size)
    real = where[grid_layout.real]
    src, dst = where[grid_layout.src], where[grid_layout.dst]
    pair = (src >= 0) & (dst >= 0)
    if np.any((src >= 0) != (dst >= 0)):
        raise ValueError("the retained modes must contain the conjugate partner of each of their modes")
    return RealityLayout(real=np.sort(real[real >= 0]), src=src[pair], dst=dst[pair])


class ModulatedIncrement:
    """Draws the increment ``xi = sum_s G_s zeta_s`` of the module notes on a set of modes.

    Parameters
    ----------
    entries, split
        Reference operator entries of the modes (flat or band-shaped) and their
        :func:`~tdgl_stt.propagator.split_modes`.
    h
        The step.
    sources
        :func:`noise_sources`.
    grid_shape
        Real-space shape of the grid (the white fields).
    gather
        Full rfft half-spectrum -> the modes (leading axes kept).
    mode_shape
        Shape of the modes' array.
    q_lap, q_grad
        Wavevectors of the modes, shape ``(ndim,) + mode_shape`` (the grid's, gathered).
    layout
        :func:`band_layout` of the modes.
    U
        ``propagator(entries, h)`` if already computed.
    """

    def __init__(
        self,
        entries: ModeEntries,
        split: ModeSplit,
        h: float,
        sources: list[NoiseSource],
        grid_shape: tuple[int, ...],
        gather: Callable[[NDArray], NDArray],
        mode_shape: tuple[int, ...],
        q_lap: NDArray[np.float64],
        q_grad: NDArray[np.float64],
        layout: RealityLayout,
        U: NDArray[np.complex128] | None = None,
    ) -> None:
        self.grid_shape = tuple(grid_shape)
        self.mode_shape = tuple(mode_shape)
        self.sources = list(sources)
        self._gather = gather
        ndim = len(self.grid_shape)
        n_modes = int(np.prod(self.mode_shape))
        ql = np.asarray(q_lap, dtype=float).reshape(ndim, n_modes)
        qg = np.asarray(q_grad, dtype=float).reshape(ndim, n_modes)
        qabs = np.sqrt(np.sum(ql**2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            direction = np.where(qabs > 0, (-1j * qg + (ql - qg)) / np.where(qabs > 0, qabs, 1.0), 0.0)
        coeffs: list[NDArray[np.complex128]] = []  # per white field: its (3, n_modes) coefficients
        sigmas: list[NDArray[np.float64] | None] = []
        names: list[str] = []
        self.factors: dict[str, NDArray[np.complex128]] = {}
        for src in self.sources:
            inc = increment_covariance(entries, src.intensity, h, split, U, factorization="cholesky")
            G = inc.factor.copy()
            if layout.real.size:
                G[layout.real] = cholesky_factor(np.real(inc.cov[layout.real]))
            if layout.src.size:
                G[layout.dst] = np.conj(G[layout.src])
            self.factors[src.name] = G
            for k in range(3):
                col = G[:, :, k]
                if not np.any(col):
                    continue
                for c in range(ndim if src.current else 1):
                    coeffs.append(np.ascontiguousarray((col * direction[c][:, None]).T if src.current else col.T))
                    sigmas.append(src.sigma)
                    names.append(f"{src.name}[{k}]" + (f".{'xyz'[c]}" if src.current else ""))
        self.n_white = len(coeffs)
        self.white_names = tuple(names)
        self._H = [np.stack([c[i] for c in coeffs]).reshape((self.n_white,) + self.mode_shape) if coeffs else None
                   for i in range(3)]
        # consecutive white fields with the same sigma: one multiply per run
        self._runs: list[tuple[int, int, NDArray[np.float64]]] = []
        j = 0
        while j < self.n_white:
            k = j
            while k + 1 < self.n_white and sigmas[k + 1] is sigmas[j]:
                k += 1
            if sigmas[j] is not None:
                self._runs.append((j, k + 1, sigmas[j]))
            j = k + 1
        self._axes = tuple(range(1, ndim + 1))

    @property
    def active(self) -> bool:
        """True when there is anything to draw."""
        return self.n_white > 0

    def increment(self, white: NDArray[np.float64]) -> NDArray[np.complex128]:
        """``xi`` of the white fields ``white`` (shape ``(n_white,) + grid_shape``, standard
        normal; modified in place by the factors ``sigma``): shape ``(3,) + mode_shape``."""
        xi = np.zeros((3,) + self.mode_shape, dtype=complex)
        if not self.active:
            return xi
        for a, b, sigma in self._runs:
            white[a:b] *= sigma
        W = self._gather(np.fft.rfftn(white, axes=self._axes, norm="ortho"))
        tmp = np.empty(self.mode_shape, dtype=complex)
        for i in range(3):
            H = self._H[i]
            acc = xi[i]
            for j in range(self.n_white):
                np.multiply(H[j], W[j], out=tmp)
                acc += tmp
        return xi

    def draw(self, rng: np.random.Generator) -> NDArray[np.complex128]:
        """One increment from ``rng`` (``n_white * prod(grid_shape)`` standard normals, C order)."""
        if not self.active:
            return np.zeros((3,) + self.mode_shape, dtype=complex)
        white = rng.standard_normal((self.n_white,) + self.grid_shape)
        return self.increment(white)

    def covariance(self) -> NDArray[np.complex128]:
        """``sum_s G_s G_s^H`` per mode, shape ``(n_modes, 3, 3)``: the covariance of the
        increment where the intensities are uniform (``C_ref(h)``)."""
        n_modes = int(np.prod(self.mode_shape))
        out = np.zeros((n_modes, 3, 3), dtype=complex)
        for G in self.factors.values():
            out += G @ np.conj(np.swapaxes(G, 1, 2))
        return out
