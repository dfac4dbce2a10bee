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

Between the transforms, the copies into the FFT inputs (with the discarded modes zeroed), the
products and the assembly of ``d`` are fused compiled loops (:mod:`tdgl_stt.integrators.kernels`):
one pass over memory each.

Aliasing: the 2/3 rule. The state and the coefficient variations are band-limited to
``|k_i| <= K_i = floor((n_i - 1)/3)`` on every axis (:class:`SpectralBand`); a product of two such
fields has components up to ``2 K_i`` whose aliases land beyond ``K_i``, where they are discarded,
so every retained component of every product is exact. The integrator works on the retained
modes only (a ``(2/3)^ndim`` fraction of the spectrum).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..variable_model import VariableModel
from .kernels import gather_n_and_divergence, scatter_rows, theta_products, view_as

try:  # pragma: no cover - exercised on machines with and without pyFFTW
    import pyfftw

    from ..fft import HAVE_PYFFTW, planning
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

    def rows(self) -> NDArray[np.int64]:
        """For each compact row (leading axis; the single row of a 1D grid), its row of the full
        half-spectrum."""
        if self.grid.ndim == 1:
            return np.zeros(1, np.int64)
        n, K = self.grid.n[0], self.kmax[0]
        if not self.dealias:
            return np.arange(n, dtype=np.int64)
        return np.concatenate([np.arange(K + 1), np.arange(n - K, n)]).astype(np.int64)

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
            flags, threads = (("FFTW_ESTIMATE",), 1) if deterministic else ((planner,), threads)
            with planning(wisdom=not deterministic):
                self.inv = [
                    pyfftw.FFTW(ci, ro, axes=axes, direction="FFTW_BACKWARD", flags=flags + ("FFTW_DESTROY_INPUT",), threads=threads)
                    for ci, ro in zip(self.cin, self.rout)
                ]
                self.fwd = [
                    pyfftw.FFTW(ri, co, axes=axes, direction="FFTW_FORWARD", flags=flags, threads=threads)
                    for ri, co in zip(self.rin, self.cout)
                ]
        else:  # pragma: no cover - pyFFTW is a dependency
            import scipy.fft

            self._sfft, self._axes, self._shape = scipy.fft, axes, shape
            self.cin = [np.empty(sshape, complex) for _ in range(n_inv)]
            self.rout = [np.empty(shape) for _ in range(n_inv)]
            self.rin = [np.empty(shape) for _ in range(n_fwd)]
            self.cout = [np.empty(sshape, complex) for _ in range(n_fwd)]

        def as2d(arrays: list[NDArray]) -> tuple[NDArray, ...]:
            return tuple(a.reshape(a.shape if a.ndim == 2 else (1,) + a.shape) for a in arrays)

        # views for the compiled kernels (:mod:`tdgl_stt.integrators.kernels`)
        self.cin2d, self.rout2d = as2d(self.cin), as2d(self.rout)
        self.rin2d, self.cout2d = as2d(self.rin), as2d(self.cout)
        self.rin2d_theta = self.rin2d[1:]

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
        # the kernels' 2D views (a 1D grid is one row): compact shape, row map, coefficients
        self._compact2d = band.shape if nd == 2 else (1,) + band.shape
        self._rows = band.rows()
        self._owner = np.full(grid.spectral_shape[0] if nd == 2 else 1, -1, np.int64)
        self._owner[self._rows] = np.arange(self._rows.size)
        self._q2_2d = self._q2.reshape(self._compact2d)
        self._qg_2d = np.ascontiguousarray(np.stack(self._qg).reshape((nd,) + self._compact2d))
        real2d = grid.shape if nd == 2 else (1,) + grid.shape
        self._theta_coeffs = np.ascontiguousarray(np.stack([self._dc2] + self._w).reshape((1 + nd,) + real2d))
        self.plans = None if self.zero else _Plans(grid, self.n_inverse, self.n_forward, threads, planner, deterministic)

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
        p = self.plans
        R = self._compact2d
        # psi: scatter, inverse FFT, product, forward FFT while the product is in cache
        scatter_rows(view_as(psi, R), p.cin2d[1], self._owner)
        p.inverse(1)
        np.multiply(self._rm1, p.rout[1], out=p.rin[0])
        p.forward(0)
        # theta: scatter, inverse FFT, the 1 + ndim products in one pass, forward FFTs
        scatter_rows(view_as(theta, R), p.cin2d[0], self._owner)
        p.inverse(0)
        theta_products(self._theta_coeffs, p.rout2d[0], p.rin2d_theta)
        for i in range(1, self.n_forward):
            p.forward(i)
        # n gathered and d assembled from the FFT outputs in one pass
        gather_n_and_divergence(p.cout2d, self._rows, self._q2_2d, self._qg_2d, view_as(n_out, R), view_as(d_out, R))
