r"""Wave packets of exact modes, and the decomposition of a state into the exact branches.

A packet of branch ``j`` centred at ``x0`` with carrier wavevector ``q0`` and envelope width
``sigma`` has, at each wavevector ``q`` of the rfft half-spectrum, the Fourier amplitude

.. math::

    X_q = P(q) + P(-q)^*, \qquad
    P(q) = \frac{A}{2}\, \hat g(q - q_0)\, e^{-i q\cdot x_0}\; v_j(q)/v_j(q)_\theta,
    \qquad \hat g(k) = \prod_i \frac{\sqrt{2\pi}\,\sigma}{L_i} e^{-k_i^2\sigma^2/2},

where ``v_j(q)`` is the right eigenvector of ``A(q)`` of root ``w_j(q)`` (:func:`tdgl_stt.propagator.eigenvector`),
scaled to a unit theta component. ``P`` is the complex packet around ``+q0``; ``P(-q)^*`` is its
partner around ``-q0`` that makes the fields real. On the rfft half spectrum both terms matter in
2D: the half of the envelope with ``k_y < 0`` is stored as the partner near ``-q0``. The partner
is a mode of ``A(q)`` too, because ``A(-q) = A(q)^*`` (the operator is real in real space:
``a(-q) = a(q)^*``, ``s`` and ``eps_hat`` even), so ``v_j(-q)^*`` is an eigenvector of ``A(q)``.
For ``q0 sigma >> 1`` its theta field is
``A exp(-|x - x0|^2/(2 sigma^2)) cos(q0.(x - x0))`` and every wavevector is a pure mode, so the
packet moves with the group velocity of branch ``j`` (branch 0, ``Re w > 0``: along ``+q0``) and
nothing else. :func:`branch_amplitudes` inverts the construction: it writes a state, wavevector by
wavevector, in the eigenvectors of ``A(q)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .grid import Grid
from .model import ModeEntries, mode_entries
from .params import Coefficients
from .propagator import eigenvector, exact_frequencies, split_modes

__all__ = ["branch_amplitudes", "wave_packet"]


def _entries(medium: Coefficients | ModeEntries, grid: Grid) -> ModeEntries:
    """The entries of A(q) on the grid's half spectrum (given, or from uniform coefficients)."""
    if isinstance(medium, ModeEntries):
        if medium.shape != grid.spectral_shape:
            raise ValueError(f"entries of shape {medium.shape} for a spectrum of shape {grid.spectral_shape}")
        return medium
    return mode_entries(medium, grid.q_lap, grid.q_grad)


def wave_packet(
    medium: Coefficients | ModeEntries,
    grid: Grid,
    q0: tuple[float, ...],
    sigma: float,
    x0: tuple[float, ...],
    amplitude: float = 1.0,
    branch: int = 0,
) -> NDArray[np.complex128]:
    """Spectral state ``(3, *grid.spectral_shape)`` of a packet of branch ``branch`` (module docstring).

    Parameters
    ----------
    medium
        The uniform medium whose modes make the packet (where it starts): its coefficients, or
        the entries of A(q) on the grid's half spectrum.
    grid
        The grid.
    q0, sigma, x0
        Carrier wavevector (one entry per axis), envelope width and centre.
    amplitude
        Peak of the theta envelope.
    branch
        Root index of :func:`tdgl_stt.propagator.exact_frequencies` (0: the slow root with the
        larger ``Re w``, moving along ``+q0`` above ``q_G``).
    """
    e = _entries(medium, grid)
    mirror = ModeEntries(a=np.conj(e.a), s=e.s, eps=e.eps, g=e.g, I=e.I)  # A(-q) = A(q)^*
    q = grid.q_lap
    X = _complex_packet(e, q, q0, sigma, x0, amplitude, branch, grid.L)
    # P(-q)^*: the envelope at -q - q0, the phase e^{+i q.x0} conjugated, v_j(-q)^*
    X += np.conj(_complex_packet(mirror, -q, q0, sigma, x0, amplitude, branch, grid.L))
    return X


def _complex_packet(e: ModeEntries, q: NDArray[np.float64], q0: tuple[float, ...], sigma: float,
                    x0: tuple[float, ...], amplitude: float, branch: int, L: tuple[float, ...]) -> NDArray[np.complex128]:
    """``P(q)`` of the module docstring at the wavevectors ``q`` (``(ndim, *shape)``), with ``e`` the
    entries of ``A`` at those wavevectors; zero where the envelope underflows."""
    shape = q.shape[1:]
    env = np.ones(shape)
    phase = np.zeros(shape)
    for i in range(q.shape[0]):
        k = q[i] - q0[i]
        env = env * (np.sqrt(2 * np.pi) * sigma / L[i]) * np.exp(-0.5 * (k * sigma) ** 2)
        phase = phase + q[i] * x0[i]
    keep = env > 1e-300
    v = np.zeros((3,) + shape, complex)
    flat = np.flatnonzero(keep)
    sub = ModeEntries(a=e.a.ravel()[flat], s=e.s.ravel()[flat], eps=e.eps.ravel()[flat], g=e.g, I=e.I)
    vec = eigenvector(sub, branch)  # (n, 3)
    vec = vec / vec[:, :1]
    for c in range(3):
        v[c].ravel()[flat] = vec[:, c]
    X = 0.5 * amplitude * env * np.exp(-1j * phase) * v
    X[..., ~keep] = 0.0
    X[:, ~np.isfinite(X).all(axis=0)] = 0.0
    return X


def branch_amplitudes(medium: Coefficients | ModeEntries, grid: Grid, X: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Coefficients ``c_j(q)`` of ``X_q = sum_j c_j(q) v_j(q)`` (``v_j`` scaled to a unit theta
    component), shape ``(n_branches, *grid.spectral_shape)``: 2 branches where ``eps_hat = 0``
    (``mu`` is then fixed by the constraint and only ``(theta, Phi)`` are used), 3 otherwise.
    ``q = 0`` is left at zero."""
    e = _entries(medium, grid)
    neutral = bool(np.all(e.eps == 0))
    nb = 2 if neutral else 3
    flat = np.flatnonzero(np.sum(grid.q_lap**2, axis=0).ravel() > 0)
    sub = ModeEntries(a=e.a.ravel()[flat], s=e.s.ravel()[flat], eps=e.eps.ravel()[flat], g=e.g, I=e.I)
    sp = split_modes(sub)
    V = np.stack([eigenvector(sub, j, sp) for j in range(nb)], axis=-1)  # (n, 3, nb)
    V = V / V[:, :1, :]
    rhs = X.reshape(3, -1)[:, flat].T  # (n, 3)
    if neutral:
        c = np.linalg.solve(V[:, :2, :], rhs[:, :2, None])[..., 0]
    else:
        c = np.linalg.solve(V, rhs[:, :, None])[..., 0]
    out = np.zeros((nb,) + grid.spectral_shape, complex)
    for j in range(nb):
        out[j].ravel()[flat] = c[:, j]
    return out


def branch_frequencies(medium: Coefficients | ModeEntries, grid: Grid) -> NDArray[np.complex128]:
    """Exact ``w_j(q)`` on the grid, shape ``(*grid.spectral_shape, 3)`` (see :func:`exact_frequencies`)."""
    return exact_frequencies(_entries(medium, grid))
