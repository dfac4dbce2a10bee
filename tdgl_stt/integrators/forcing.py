r"""The coefficient variation ``N(x) u`` of equations (1)-(3), evaluated pseudo-spectrally.

With ``A = A_ref + N(x)`` (:mod:`tdgl_stt.variable_model`) the exponential integrators need, at
every stage, the two spectral fields

.. math::

    n = \mathcal F[2 (r - 1) \psi], \qquad
    d = \mathcal F[\nabla\cdot(j - j_{ref})]
      = -|q|^2 \mathcal F[\delta c^2 \theta] - i q \cdot \mathcal F[\theta\, w],

from which ``N_theta = n``, ``N_psi = d/(2 I_ref)`` and ``eps_hat N_mu = -d``. ``theta`` and ``psi``
go to real space (2 inverse real FFTs), the products are formed pointwise and transformed back
(``2 + ndim`` forward real FFTs): ``4 + ndim`` real FFTs per evaluation. ``d`` is a divergence,
so its ``q = 0`` component is zero exactly: the charge is conserved to round-off.

Aliasing: the 2/3 rule. The state and the coefficient variations are band-limited to
``|k_i| <= K_i = floor((n_i - 1)/3)`` on every axis (:class:`SpectralBand`); a product of two such
fields has components up to ``2 K_i`` whose aliases land beyond ``K_i``, where they are discarded,
so every retained component of every product is exact. The integrator works on the retained
modes only (a ``(2/3)^ndim`` fraction of the spectrum).
"""

from __future__ import annotations

import itertools

import numexpr
import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..variable_model import VariableModel

try:  # pragma: no cover - exercised on machines with and without pyFFTW
    import pyfftw

    from ..fft import HAVE_PYFFTW, _load_wisdom, _save_wisdom
except ImportError:  # pragma: no cover
    HAVE_PYFFTW = False

__all__ = ["PseudoSpectralForcing", "SpectralBand"]


class SpectralBand:
    """The retained modes of the rfft half-spectrum, stored densely ("compact" arrays).

    With ``dealias=True`` axis ``i`` keeps ``|k_i| <= K_i = floor((n_i - 1)/3)`` (the 2/3 rule):
    the leading axes keep ``[0, K]`` and ``[n - K, n)``, the last (half) axis ``[0, K]``. The
    compact array has shape ``(2 K_0 + 1, ..., K_last + 1)`` and is a copy of those blocks in
    order. With ``dealias=False`` every mode is retained and compact arrays are full spectra.
    """

    def __init__(self, grid: Grid, dealias: bool) -> None:
        self.grid = grid
        self.dealias = dealias
        full = grid.spectral_shape
        if not dealias:
            self.kmax = tuple(n // 2 for n in grid.n)
            self.shape = full
            self._blocks = [(tuple(slice(None) for _ in full), tuple(slice(None) for _ in full))]
        else:
            self.kmax = tuple((n - 1) // 3 for n in grid.n)
            per_axis = []
            for i, (n, K) in enumerate(zip(grid.n, self.kmax)):
                if i == grid.ndim - 1:
                    per_axis.append([(slice(0, K + 1), slice(0, K + 1))])
                else:
                    per_axis.append([(slice(0, K + 1), slice(0, K + 1)), (slice(n - K, n), slice(K + 1, 2 * K + 1))])
            self.shape = tuple(2 * K + 1 for K in self.kmax[:-1]) + (self.kmax[-1] + 1,)
            self._blocks = [tuple(zip(*combo)) for combo in itertools.product(*per_axis)]
        self.blocks: tuple[tuple[tuple[slice, ...], tuple[slice, ...]], ...] = tuple(self._blocks)
        self._complement = self._complement_pieces() if dealias else []
        self.size = int(np.prod(self.shape))
        self.fraction = self.size / float(np.prod(full))

    def _complement_pieces(self) -> list[tuple[slice, ...]]:
        """Disjoint boxes covering the discarded modes: retained ranges on the axes before ``i``,
        the discarded range on axis ``i``, everything after."""
        grid, nd = self.grid, self.grid.ndim
        kept, dropped = [], []
        for i, (n, K) in enumerate(zip(grid.n, self.kmax)):
            if i == nd - 1:
                kept.append([slice(0, K + 1)])
                dropped.append(slice(K + 1, n // 2 + 1))
            else:
                kept.append([slice(0, K + 1), slice(n - K, n)])
                dropped.append(slice(K + 1, n - K))
        pieces = []
        for i in range(nd):
            for head in itertools.product(*kept[:i]):
                pieces.append(tuple(head) + (dropped[i],) + (slice(None),) * (nd - 1 - i))
        return pieces

    def mask(self) -> NDArray[np.bool_]:
        """Boolean mask of the retained modes on the full half-spectrum."""
        m = np.zeros(self.grid.spectral_shape, dtype=bool)
        for src, _ in self._blocks:
            m[src] = True
        return m

    def gather(self, full: NDArray, out: NDArray | None = None) -> NDArray:
        """The retained modes of ``full`` (leading axes of ``full`` beyond the grid's are kept)."""
        lead = full.shape[: full.ndim - self.grid.ndim]
        if out is None:
            out = np.empty(lead + self.shape, dtype=full.dtype)
        pre = (slice(None),) * len(lead)
        for src, dst in self._blocks:
            out[pre + dst] = full[pre + src]
        return out

    def scatter(self, compact: NDArray, full: NDArray) -> NDArray:
        """Write ``compact`` into ``full`` and zero the discarded modes."""
        lead = compact.shape[: compact.ndim - self.grid.ndim]
        pre = (slice(None),) * len(lead)
        for piece in self._complement:
            full[pre + piece] = 0
        for src, dst in self._blocks:
            full[pre + src] = compact[pre + dst]
        return full

    def band_limit(self, field: NDArray[np.float64]) -> NDArray[np.float64]:
        """A real field with its discarded modes removed."""
        if not self.dealias:
            return np.array(field, dtype=float)
        axes = tuple(range(self.grid.ndim))
        F = np.fft.rfftn(field, axes=axes)
        F[~self.mask()] = 0
        return np.fft.irfftn(F, s=self.grid.shape, axes=axes)


class _Plans:
    """Planned real FFTs on aligned buffers: ``n_inv`` inverse (complex -> real) and ``n_fwd``
    forward (real -> complex), unnormalised (FFTW conventions).

    With ``deterministic=True`` (what runs use) every plan is a single-threaded
    ``FFTW_ESTIMATE`` plan made with the wisdom in memory set aside, so its arithmetic, hence
    every bit of a run, depends only on the shape and the FFTW build, not on the process or on
    timings (as :mod:`tdgl_stt.field_transforms`; a run resumes bit for bit). Otherwise the
    ``planner`` effort and ``threads`` are used with the cached wisdom.
    """

    def __init__(self, grid: Grid, n_inv: int, n_fwd: int, threads: int, planner: str, deterministic: bool) -> None:
        shape, sshape = grid.shape, grid.spectral_shape
        axes = tuple(range(grid.ndim))
        self.pyfftw = HAVE_PYFFTW
        if HAVE_PYFFTW:
            self.cin = [pyfftw.empty_aligned(sshape, dtype="complex128") for _ in range(n_inv)]
            self.rout = [pyfftw.empty_aligned(shape, dtype="float64") for _ in range(n_inv)]
            self.rin = [pyfftw.empty_aligned(shape, dtype="float64") for _ in range(n_fwd)]
            self.cout = [pyfftw.empty_aligned(sshape, dtype="complex128") for _ in range(n_fwd)]
            if deterministic:
                flags, threads = ("FFTW_ESTIMATE",), 1
                held = pyfftw.export_wisdom()
                pyfftw.forget_wisdom()
            else:
                flags = (planner,)
                _load_wisdom()
            try:
                self.inv = [
                    pyfftw.FFTW(ci, ro, axes=axes, direction="FFTW_BACKWARD", flags=flags + ("FFTW_DESTROY_INPUT",), threads=threads)
                    for ci, ro in zip(self.cin, self.rout)
                ]
                self.fwd = [
                    pyfftw.FFTW(ri, co, axes=axes, direction="FFTW_FORWARD", flags=flags, threads=threads)
                    for ri, co in zip(self.rin, self.cout)
                ]
            finally:
                if deterministic:
                    pyfftw.forget_wisdom()
                    pyfftw.import_wisdom(held)
            if not deterministic:
                _save_wisdom()
        else:  # pragma: no cover - pyFFTW is a dependency
            import scipy.fft

            self._sfft, self._axes, self._shape = scipy.fft, axes, shape
            self.cin = [np.empty(sshape, complex) for _ in range(n_inv)]
            self.rout = [np.empty(shape) for _ in range(n_inv)]
            self.rin = [np.empty(shape) for _ in range(n_fwd)]
            self.cout = [np.empty(sshape, complex) for _ in range(n_fwd)]

    def inverse(self, i: int) -> None:
        if self.pyfftw:
            self.inv[i].execute()
        else:  # pragma: no cover
            self.rout[i][...] = self._sfft.irfftn(self.cin[i], s=self._shape, axes=self._axes, norm="forward")

    def forward(self, i: int) -> None:
        if self.pyfftw:
            self.fwd[i].execute()
        else:  # pragma: no cover
            self.cout[i][...] = self._sfft.rfftn(self.rin[i], axes=self._axes, norm="backward")


class PseudoSpectralForcing:
    """Evaluates the spectral fields ``n`` and ``d`` of the module docstring on the retained modes.

    The values returned are unnormalised FFT outputs: ``n_true = n_scale * n`` and
    ``d_true = d_scale * d`` (the integrator folds the scales into its coefficients, saving a
    pass over the data).

    Parameters
    ----------
    vm
        The variable-coefficient model (its variations are band-limited here).
    grid, band
        The grid and the retained modes.
    threads, planner, deterministic
        FFTW threads and planner effort, or (``deterministic=True``, the default) single-threaded
        ``FFTW_ESTIMATE`` plans independent of wisdom: bitwise reproducible runs (:class:`_Plans`).
    """

    def __init__(self, vm: VariableModel, grid: Grid, band: SpectralBand, *, threads: int = 1,
                 planner: str = "FFTW_ESTIMATE", deterministic: bool = True) -> None:
        self.grid = grid
        self.band = band
        self.zero = vm.uniform
        nd = grid.ndim
        self.n_inverse = 2
        self.n_forward = 2 + nd
        self.n_scale = 2.0 / grid.size
        self.d_scale = 1.0 / grid.size
        self._rm1 = band.band_limit(vm.r_minus_1)
        self._dc2 = band.band_limit(vm.dc2)
        self._w = [band.band_limit(vm.w[i]) for i in range(nd)]
        q_lap = band.gather(grid.q_lap)
        q_grad = band.gather(grid.q_grad)
        self._q2 = np.ascontiguousarray(np.sum(q_lap**2, axis=0))
        self._qg = [np.ascontiguousarray(q_grad[i]) for i in range(nd)]
        self._q2_blocks = [self._q2[dst] for _, dst in band.blocks]
        self._qg_blocks = [[q[dst] for q in self._qg] for _, dst in band.blocks]
        self.plans = None if self.zero else _Plans(grid, self.n_inverse, self.n_forward, threads, planner, deterministic)
        self._expr_d = "-(q2 * g0) - 1j * (" + " + ".join(f"q{i} * g{i + 1}" for i in range(nd)) + ")"

    @property
    def ffts_per_evaluation(self) -> int:
        """Real FFTs per call (0 when the coefficients are uniform and N = 0)."""
        return 0 if self.zero else self.n_inverse + self.n_forward

    def __call__(self, theta: NDArray[np.complex128], psi: NDArray[np.complex128], n_out: NDArray[np.complex128], d_out: NDArray[np.complex128]) -> None:
        """Write the raw ``n`` and ``d`` of the compact state ``(theta, psi)`` into ``n_out``, ``d_out``."""
        if self.zero:
            n_out.fill(0)
            d_out.fill(0)
            return
        p, band = self.plans, self.band
        # Each product is transformed, and each transform gathered, while its data is still in
        # cache (a 512^2 field is 2 MB): this ordering is ~1.5x faster than batching the passes.
        band.scatter(psi, p.cin[1])
        p.inverse(1)
        np.multiply(self._rm1, p.rout[1], out=p.rin[0])
        p.forward(0)
        band.gather(p.cout[0], out=n_out)
        band.scatter(theta, p.cin[0])
        p.inverse(0)
        th = p.rout[0]
        factors = [self._dc2] + self._w
        for i in range(1, self.n_forward):
            np.multiply(factors[i - 1], th, out=p.rin[i])
            p.forward(i)
        # d straight from the FFT outputs, block by block (no gathered copies).
        for b, (src, dst) in enumerate(band.blocks):
            local = {"q2": self._q2_blocks[b], "g0": p.cout[1][src]}
            for i in range(self.grid.ndim):
                local[f"q{i}"] = self._qg_blocks[b][i]
                local[f"g{i + 1}"] = p.cout[2 + i][src]
            numexpr.evaluate(self._expr_d, local_dict=local, out=d_out[dst], casting="same_kind")
