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

The transforms are pruned (the leading axes only on the retained columns) and, forward, in place
(:class:`WorkTransforms`); the copies of the retained modes into the FFT inputs, the products and
the gathers with the assembly of ``d`` are compiled loops
(:mod:`tdgl_stt.integrators.kernels`), one pass each.

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

from ..fft import HAVE_PYFFTW, planning
from ..grid import Grid
from ..variable_model import VariableModel
from .kernels import divergence_term, gather_rows, load_rows, multiply, view_as

if HAVE_PYFFTW:
    import pyfftw

__all__ = ["PseudoSpectralForcing", "SpectralBand", "WorkTransforms", "rows_by_columns"]


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
        """For each compact row, its row of the full half-spectrum, rows being the leading axes
        flattened (C order; the single row of a 1D grid)."""
        lead = self.grid.n[:-1]
        if not lead:
            return np.zeros(1, np.int64)
        kept = [np.arange(n) if not self.dealias else np.concatenate([np.arange(K + 1), np.arange(n - K, n)])
                for n, K in zip(lead, self.kmax)]
        mesh = np.meshgrid(*kept, indexing="ij")
        return np.ravel_multi_index([m.ravel() for m in mesh], lead).astype(np.int64)

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


class WorkTransforms:
    """Planned real FFTs on two aligned buffers, unnormalised (FFTW conventions).

    Buffer ``b`` (0 or 1) is a complex half-spectrum array whose memory also holds the real field
    :attr:`real2d` ``[b]`` (FFTW's padded in-place layout: the last real axis is padded to
    ``2 (n//2 + 1)`` values). Arrays are seen as rows (the leading axes flattened, C order; a 1D
    grid is one row) by columns (the last axis). The caller writes a spectrum with
    :meth:`load_rows` (the rows of the retained modes; every other mode is zero),
    :meth:`inverse` transforms it into ``real2d[0]`` (buffer 1 is its staging buffer), and
    :meth:`forward` transforms ``real2d[b]`` back and returns its retained columns, from which the
    caller gathers. Two buffers, touched by every evaluation, stay in cache better than more.

    Pruned transforms. The 2/3 rule keeps ``kc`` columns of the last, half-spectrum axis. A
    transform is done axis by axis, and the transforms over the leading axes (2D, 3D) touch only
    those ``kc`` columns:

    * inverse: a complex transform over the leading axes from :attr:`columns_in` (the retained
      columns; its discarded rows stay zero: FFTW preserves the input of an out-of-place complex
      transform) into the first ``kc`` columns of buffer 1 (whose other columns
      :meth:`load_rows` zeroes), then complex-to-real along the last axis into buffer 0, out of
      place (FFTW's in-place complex-to-real row transforms are slower; this one may overwrite
      buffer 1);
    * forward: real-to-complex along the last axis in place, then a complex transform over the
      leading axes of the first ``kc`` columns into :attr:`columns_out`, contiguous (faster than
      in place, and the gathers read it row by row).

    This is the same discrete Fourier transform, to round-off, as the full multidimensional
    one; it skips the ``1 - kc/(n_last/2 + 1)`` (about 1/3) of the leading-axis work that acts on
    known zeros or on modes that are thrown away, and the copy in writes only the retained modes.

    With ``deterministic=True`` (what runs use) every plan is a single-threaded
    ``FFTW_ESTIMATE`` plan made with the wisdom in memory set aside, so its arithmetic, hence
    every bit of a run, depends only on the shape and the FFTW build, not on the process or on
    timings (as :mod:`tdgl_stt.field_transforms`; a run resumes bit for bit). Otherwise the
    ``planner`` effort and ``threads`` are used with the cached wisdom.
    """

    def __init__(self, grid: Grid, threads: int, planner: str, deterministic: bool, kc: int | None = None) -> None:
        if not HAVE_PYFFTW:  # pragma: no cover - pyFFTW is a dependency
            raise ImportError("the pseudo-spectral forcing needs pyFFTW")
        shape, sshape = grid.shape, grid.spectral_shape
        axes = tuple(range(grid.ndim))
        lead, last = axes[:-1], axes[-1:]
        kc = sshape[-1] if kc is None else kc
        spectral = [pyfftw.zeros_aligned(sshape, dtype="complex128") for _ in range(2)]
        real = [c.view(np.float64)[..., : shape[-1]] for c in spectral]
        staging = spectral[1]
        self.columns_in = pyfftw.zeros_aligned(sshape[:-1] + (kc,), dtype="complex128") if lead else None
        self.columns_out = pyfftw.zeros_aligned(sshape[:-1] + (kc,), dtype="complex128") if lead else None
        flags, threads = (("FFTW_ESTIMATE",), 1) if deterministic else ((planner,), threads)

        def plan(a: NDArray, b: NDArray, on: tuple[int, ...], backward: bool) -> pyfftw.FFTW:
            direction = "FFTW_BACKWARD" if backward else "FFTW_FORWARD"
            extra = ("FFTW_DESTROY_INPUT",) if backward and a.dtype != b.dtype else ()
            return pyfftw.FFTW(a, b, axes=on, direction=direction, flags=flags + extra, threads=threads)

        with planning(wisdom=not deterministic):
            self._inverse = ([plan(self.columns_in, staging[..., :kc], lead, True)] if lead else []) + [
                plan(staging, real[0], last, True)]
            self._forward = [[plan(r, c, last, False)] + ([plan(c[..., :kc], self.columns_out, lead, False)] if lead else [])
                             for c, r in zip(spectral, real)]
        # the kernels' 2D views (:mod:`tdgl_stt.integrators.kernels`)
        staging2d = view_as(staging, rows_by_columns(sshape))
        self.real2d = tuple(view_as(r, rows_by_columns(shape)) for r in real)
        self._load_target = view_as(self.columns_in, rows_by_columns(self.columns_in.shape)) if lead else staging2d[:, :kc]
        self._load_zeros = staging2d[:, kc:]
        self._retained = ([view_as(self.columns_out, rows_by_columns(self.columns_out.shape))] * 2 if lead
                          else [view_as(c, rows_by_columns(sshape))[:, :kc] for c in spectral])

    def load_rows(self, compact: NDArray[np.complex128], rows: NDArray[np.int64]) -> None:
        """Write the spectrum to invert next: row ``i`` of the compact ``(R, kc)`` array is row
        ``rows[i]``; every other mode is zero. Buffer 1 is overwritten."""
        load_rows(compact, self._load_target, rows, self._load_zeros)

    def inverse(self) -> None:
        """``real2d[0] = `` the unnormalised inverse transform of the spectrum of :meth:`load_rows`
        (buffer 1 is overwritten)."""
        for p in self._inverse:
            p.execute()

    def forward(self, b: int) -> NDArray[np.complex128]:
        """The unnormalised forward transform of ``real2d[b]`` (which it overwrites), on the
        ``kc`` retained columns of every row: valid until the next call."""
        for p in self._forward[b]:
            p.execute()
        return self._retained[b]


def rows_by_columns(shape: tuple[int, ...]) -> tuple[int, int]:
    """The 2D shape of an array with its leading axes flattened into rows (1D: one row)."""
    return int(np.prod(shape[:-1])), shape[-1]


class PseudoSpectralForcing:
    """Evaluates the spectral fields ``n`` and ``d`` of the module docstring on the retained modes.

    The values returned are unnormalised FFT outputs: ``n_true = n_scale * n`` and
    ``d_true = d_scale * d`` (the integrator folds the scales into its coefficients, saving a
    pass over the data).

    One evaluation uses two buffers (:class:`WorkTransforms`): ``psi`` is transformed into
    buffer 0, multiplied by ``r - 1`` in place and transformed back, and ``n`` gathered;
    ``theta`` is transformed into buffer 0, and each product ``delta c^2 theta``,
    ``w_1 theta``, ... in turn is written into buffer 1 (the last over ``theta``, in buffer 0),
    transformed back while it is in cache, and its term of ``d`` accumulated.

    Parameters
    ----------
    vm
        The variable-coefficient model (its variations are band-limited here).
    grid, band
        The grid and the retained modes.
    threads, planner, deterministic
        FFTW threads and planner effort, or (``deterministic=True``, the default) single-threaded
        ``FFTW_ESTIMATE`` plans independent of wisdom: bitwise reproducible runs
        (:class:`WorkTransforms`).
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
        real2d = rows_by_columns(grid.shape)

        def field(f: NDArray[np.float64]) -> NDArray[np.float64]:
            return band.band_limit(f).reshape(real2d)

        self._rm1 = np.ascontiguousarray(field(vm.r_minus_1))
        self._theta_fields = [np.ascontiguousarray(field(f)) for f in [vm.dc2] + [vm.w[i] for i in range(nd)]]
        # the kernels' 2D views (leading axes flattened into rows; a 1D grid is one row):
        # compact shape, row map, and the wavevector by rows and columns (separable; the 2/3
        # rule retains no Nyquist wavenumber, the only place where q_grad and q_lap differ)
        self._compact2d = rows_by_columns(band.shape)
        self._rows = band.rows()
        q = band.gather(grid.q_grad).reshape((nd,) + self._compact2d)
        self._q_rows = np.ascontiguousarray(q[: nd - 1, :, 0])
        self._q_columns = np.ascontiguousarray(q[nd - 1, 0, :])
        kc = band.kmax[-1] + 1 if band.dealias else None
        self.transforms = None if self.zero else WorkTransforms(grid, threads, planner, deterministic, kc)

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
        tf, R, rows = self.transforms, self._compact2d, self._rows
        real = tf.real2d
        # n: psi to real space in buffer 0, times r - 1 in place (n_scale holds the 2), back
        tf.load_rows(view_as(psi, R), rows)
        tf.inverse()
        multiply(self._rm1, real[0], real[0])
        gather_rows(tf.forward(0), rows, view_as(n_out, R))
        # d: theta to real space in buffer 0; each product in turn in buffer 1 (the last over
        # theta, in buffer 0), transformed back and its term of d accumulated
        tf.load_rows(view_as(theta, R), rows)
        tf.inverse()
        d2 = view_as(d_out, R)
        last = len(self._theta_fields) - 1
        for k in range(last + 1):
            b = 0 if k == last else 1
            multiply(self._theta_fields[k], real[0], real[b])
            divergence_term(tf.forward(b), rows, self._q_rows, self._q_columns, k, d2)
