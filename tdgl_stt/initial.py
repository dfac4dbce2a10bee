"""Initial states ``(theta, Phi, mu)``: white noise, an exact eigenmode, a Gaussian pulse, or a
wave packet of an exact branch.

Every initial state goes through ``U(q, 0)`` (:meth:`ExactStepper.project`): where
``eps_hat = 0`` it replaces mu by the constraint of equation (3), ``mu_q = a theta_q / s``, and it
sets the mean of mu to 0 (the gauge of DESIGN section 2). Elsewhere it is the identity.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .config import FIELDS, InitialConfig
from .errors import ConfigError
from .fft import RealFFT
from .grid import Grid
from .model import ModeEntries
from .propagator import eigenvector, exact_frequencies


def _periodic_offset(x: NDArray[np.float64], c: float, L: float) -> NDArray[np.float64]:
    return (x - c + 0.5 * L) % L - 0.5 * L


def mode_wavevector(grid: Grid, k: tuple[int, ...]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(q_lap, q_grad)`` of integer wavenumber ``k``, shape ``(ndim, 1)``."""
    q = np.array([2 * np.pi * ki / Li for ki, Li in zip(k, grid.L)], dtype=float)[:, None]
    q_grad = q.copy()
    for i, (ki, ni) in enumerate(zip(k, grid.n)):
        if abs(ki) * 2 == ni:
            q_grad[i] = 0.0
    return q, q_grad


def _single_mode_spectrum(grid: Grid, k: tuple[int, ...], amp_v: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Fourier amplitudes of ``Re[amp_v * exp(i q_k . x)]``, set directly in the half-spectrum.

    Only the coefficients at ``+k`` and ``-k`` are non-zero: no round-off leaks into other modes
    (which would outlive a strongly damped mode in a long ringdown).
    """
    X = np.zeros((3,) + grid.spectral_shape, dtype=complex)
    idx, conj = grid.spectral_index(k)
    X[(slice(None),) + idx] = 0.5 * (np.conj(amp_v) if conj else amp_v)
    if k[-1] == 0:  # the partner -k is stored too
        midx, _ = grid.spectral_index(tuple(-v for v in k))
        X[(slice(None),) + midx] = 0.5 * np.conj(amp_v)
    return X


def initial_state(
    cfg: InitialConfig,
    grid: Grid,
    fft: RealFFT,
    entries_at: "callable[[NDArray, NDArray], ModeEntries]",
) -> NDArray[np.complex128]:
    """The initial spectral state, shape ``(3, *grid.spectral_shape)``, before projection.

    Parameters
    ----------
    cfg
        The ``[initial]`` table.
    grid, fft
        Grid and its transforms.
    entries_at
        ``(q_lap, q_grad) -> ModeEntries`` of the model, for the "mode" eigenvector.

    Notes
    -----
    - ``noise``: independent standard normal theta, Phi, mu at every grid point, times
      ``amplitude``, from ``numpy.random.default_rng(seed)``.
    - ``mode``: ``Re[amplitude * v * exp(i q.x)]`` where ``v`` is the unit eigenvector of A(q) of
      root ``branch`` (default 0: the slow root with the larger Re w; see
      :func:`tdgl_stt.propagator.exact_frequencies`). Its Fourier amplitude at ``+q`` is then
      ``amplitude * v / 2`` and evolves as ``exp(-i w t)``. It is set directly in Fourier space.
    - ``gaussian``: ``amplitude * exp(-|x - center|^2 / (2 width^2))`` (periodic distance) in
      ``field``, the other fields 0.
    - ``packet``: a wave packet of root ``branch`` (default 0) with carrier wavevector
      ``q0 = 2 pi k / L``, envelope width ``width`` and centre ``center``: theta is
      ``amplitude exp(-|x - center|^2/(2 width^2)) cos(q0.(x - center))`` and every wavevector
      is a pure mode of ``entries_at`` (:func:`tdgl_stt.packets.wave_packet`); with a temperature
      profile, ``entries_at`` is the medium at the packet's centre.
    """
    shape = grid.shape
    if cfg.kind == "noise":
        rng = np.random.default_rng(cfg.seed)
        real = cfg.amplitude * rng.standard_normal((3,) + shape)
    elif cfg.kind == "gaussian":
        center = cfg.center if cfg.center is not None else tuple(0.5 * L for L in grid.L)
        X = grid.mesh()
        r2 = sum(_periodic_offset(X[i], center[i], grid.L[i]) ** 2 for i in range(grid.ndim))
        real = np.zeros((3,) + shape)
        real[FIELDS.index(cfg.field)] = cfg.amplitude * np.exp(-r2 / (2 * cfg.width**2))
    elif cfg.kind == "mode":
        k = tuple(cfg.k or ())
        if len(k) != grid.ndim:
            raise ConfigError("initial.k", f"needs {grid.ndim} integer wavenumbers, got {list(k)}")
        if all(ki == 0 for ki in k) or any(2 * abs(ki) >= ni for ki, ni in zip(k, grid.n)):
            raise ConfigError(
                "initial.k",
                f"a single travelling mode needs 0 < |k| and |k_i| < n_i/2, got {list(k)} on a grid of {list(grid.n)}",
            )
        q, q_grad = mode_wavevector(grid, k)
        e = entries_at(q, q_grad)
        branch = 0 if cfg.branch is None else cfg.branch
        w = exact_frequencies(e)[0]
        if branch > 2 or not np.isfinite(w[branch]):
            raise ConfigError("initial.branch", f"root {branch} does not exist here (roots: {w.tolist()}); use 0 or 1")
        v = eigenvector(e, branch)[0]
        return _single_mode_spectrum(grid, k, cfg.amplitude * v)
    elif cfg.kind == "packet":
        from .packets import wave_packet

        k = tuple(cfg.k or ())
        if len(k) != grid.ndim or all(ki == 0 for ki in k):
            raise ConfigError("initial.k", f"a packet needs {grid.ndim} integer wavenumbers, not all 0, got {list(k)}")
        center = cfg.center if cfg.center is not None else tuple(0.5 * L for L in grid.L)
        q0 = tuple(2 * np.pi * ki / Li for ki, Li in zip(k, grid.L))
        branch = 0 if cfg.branch is None else cfg.branch
        return wave_packet(entries_at(grid.q_lap, grid.q_grad), grid, q0, float(cfg.width), center, cfg.amplitude, branch)
    else:  # pragma: no cover - config validation forbids it
        raise ConfigError("initial.kind", f"unknown kind {cfg.kind!r}")
    return np.stack([fft.forward(real[i]) for i in range(3)])
