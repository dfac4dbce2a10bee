r"""Spectra of stationary (noise-driven) runs: averaged periodograms, their exact expectation from
the linear-response theory, and Lorentzian-sum fits with errors, against the exact roots.

Conventions (DESIGN section 2, as in :mod:`tdgl_stt.analysis.spectra`): fields go as
``exp(i q.x - i w t)``; a mode ``exp(-i w0 t)`` peaks at ``w = +w0``; the spectral density is
two-sided with ``int S(w) dw / (2 pi) = <|a_q|^2>``.

Estimator
---------
:func:`averaged_periodogram` is ``scipy.signal.welch`` (density scaling, two-sided, no
detrending: a detrend would remove the ``w = 0`` line of overdamped modes) of ``conj(a_q(t))``:
scipy's FFT has ``e^{-i 2 pi f t}``, so conjugating the series gives the package's sign,
``S(w) = dt/sum(w_n^2) |sum_n w_n a_n e^{+i w t_n}|^2`` averaged over segments.

Statistics. For a Gaussian stationary series each bin of the average is ``E[S] chi^2_nu / nu``
with the equivalent degrees of freedom of Welch (1967) / Percival & Walden (1993, eq. 292b),
``nu = 2 K / (1 + 2 sum_{l=1}^{K-1} (1 - l/K) rho_l)``, ``rho_l = (sum_n w_n w_{n+lD})^2 /
(sum_n w_n^2)^2`` (K segments, shift D). Neighbouring bins are correlated through the window and the overlap
(:func:`bin_correlation`; 0.459 and 0.039 at d = 1, 2 for Hann with 50 % overlap). Residuals ``(S - E) / (E sqrt(2/nu))`` are whitened with
the inverse square root of that (circulant) correlation matrix before any chi-square.

Exact expectation. With the lag covariance ``R(k) = E[a_{n+k} a_n^*]`` (``= (U^k P)_ff`` for the
exact update ``x -> U x + xi`` and field f), the expected averaged periodogram is, without any
approximation (window leakage and aliasing included),

.. math::  E[S(w)] = \frac{dt}{\sum_n w_n^2}\sum_{|k|<M} r_w(k)\, R(k)\, e^{i w k\, dt},
           \qquad r_w(k) = \sum_n w_n w_{n+|k|},\quad R(-k) = R(k)^* .

Lorentzian sums. A linear mode of complex frequency ``w_j`` contributes ``c_j e^{-i w_j k dt}``
(k >= 0, complex residue ``c_j``) to ``R(k)``; with ``dt -> 0`` and no window this is
``2 Re[-i c_j / (w_j - w)]``: a Lorentzian centred at ``Re w_j`` of FWHM ``2 |Im w_j|`` (with
a dispersive part for complex ``c_j``). :func:`fit_lorentzians` fits the *expectation* above of
``R(k) = sum_j c_j e^{-i w_j k dt} + (b/dt) delta_k0`` (one term per resolved exact root, plus a
white background b for the unresolved ones, e.g. the dielectric relaxation) to the periodogram,
by iteratively reweighted least squares with the chi-square variances ``(E sqrt(2/nu))^2``
(whose fixed point is the Whittle maximum-likelihood estimate), so window and sampling leave no
bias on the widths. Parameter errors are ``(J^T J)^{-1}`` of the whitened residuals, i.e. the
Fisher information of the chi-square statistics; the fit's chi-square has ``M - n_params``
degrees of freedom.

Analytic spectra. :func:`linear_response_spectrum` is the continuous
``S(w) = [(A + i w)^{-1} Q (A + i w)^{-H}]_ff``; :func:`sampled_spectrum` is that of the frame
sequence, ``dt [(1 - e^{i w dt} U)^{-1} C (1 - e^{i w dt} U)^{-H}]_ff``, which equals the alias
sum ``sum_m S(w + 2 pi m / dt)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.signal
import scipy.stats
from numpy.typing import NDArray

from ..model import ModeEntries, mode_entries
from ..noise.config import NoiseConfig
from ..noise.covariance import fast_blocks, stationary_covariance
from ..noise.sources import ModeNoise, mode_noise
from ..params import Coefficients
from ..propagator import ModeSplit, exact_frequencies, propagator, split_modes
from .compare import RESOLVED_DECAY_PER_FRAME

#: Index of each field in the state ``(theta, Phi, mu)``.
FIELD_INDEX = {"theta": 0, "Phi": 1, "mu": 2}


@dataclass(frozen=True)
class Periodogram:
    """An averaged periodogram and what its statistics need.

    Attributes
    ----------
    omega : (M,) float
        Angular frequencies, ascending (``fftshift`` order), ``2 pi m / (M dt)``.
    S : (..., M) float
        Spectral density per series (leading shape of the input's series axes).
    dt : float
        Sampling interval.
    window : (M,) float
        The segment window (as ``scipy.signal.get_window(window, M)``).
    n_segments : int
        Segments averaged.
    dof : float
        Equivalent degrees of freedom ``nu`` of each bin.
    bin_correlation : (M,) float
        Correlation of bins ``d`` apart, ``d = 0 .. M-1`` (circular).
    """

    omega: NDArray[np.float64]
    S: NDArray[np.float64]
    dt: float
    window: NDArray[np.float64]
    n_segments: int
    dof: float
    bin_correlation: NDArray[np.float64]

    @property
    def nperseg(self) -> int:
        return int(self.window.size)


def _lag_spectra(window: NDArray[np.float64], step: int, n_segments: int) -> list[tuple[float, NDArray[np.float64]]]:
    """``(weight, |sum_n w_n w_{n+lD} e^{-2 pi i d n/M}|^2 / (sum w^2)^2 over d)`` for the segment
    lags ``l = 0 .. K-1`` that overlap; the weight ``(1 - l/K)`` counts ``+l`` and ``-l`` (x2 for l > 0)."""
    w = np.asarray(window, dtype=float)
    M = w.size
    s2 = np.sum(w**2) ** 2
    out = [(1.0, np.abs(np.fft.fft(w**2)) ** 2 / s2)]
    for lag in range(1, n_segments):
        shift = lag * step
        if shift >= M:
            break
        prod = np.zeros(M)
        prod[: M - shift] = w[: M - shift] * w[shift:]
        out.append((2.0 * (1 - lag / n_segments), np.abs(np.fft.fft(prod)) ** 2 / s2))
    return out


def equivalent_dof(window: NDArray[np.float64], step: int, n_segments: int) -> float:
    """``nu = 2K / (1 + 2 sum_l (1 - l/K) rho_l)`` for K segments of ``window`` shifted by ``step``,
    ``rho_l = (sum_n w_n w_{n+l step})^2 / (sum_n w_n^2)^2`` (Percival & Walden 1993, eq. 292b)."""
    terms = _lag_spectra(window, step, n_segments)
    return 2.0 * n_segments / sum(wt * spec[0] for wt, spec in terms)


def bin_correlation(window: NDArray[np.float64], step: int | None = None, n_segments: int = 1) -> NDArray[np.float64]:
    """Correlation of the averaged periodogram's bins ``d = 0 .. M-1`` apart (circular).

    For a spectrum that is flat over the window's bandwidth, the covariance of bins ``m`` and
    ``m + d`` of segments ``l`` apart is ``E^2 |sum_n w_n w_{n+l D} e^{-2 pi i d n/M}|^2 /
    (sum w^2)^2``; summed over segment pairs (weights ``1 - |l|/K``) and normalised at ``d = 0``.
    A single Hann segment gives 4/9 and 1/36 at ``d = 1, 2``; Hann with 50 % overlap and many
    segments 0.459 and 0.039 (the overlapping segments add to the correlation).
    """
    terms = _lag_spectra(window, step if step is not None else np.asarray(window).size, n_segments)
    total = sum(wt * spec for wt, spec in terms)
    return total / total[0]


def averaged_periodogram(
    a: NDArray[np.complex128], dt: float, nperseg: int, window: str = "hann", noverlap: int | None = None
) -> Periodogram:
    """Welch's averaged periodogram of complex series ``a`` (time on axis 0) in the package's sign.

    Parameters
    ----------
    a
        ``a_q(t_n)``, shape ``(nt,)`` or ``(nt, n_series)``.
    dt
        Sampling interval.
    nperseg
        Segment length M (the frequency resolution is ``2 pi / (M dt)``).
    window, noverlap
        As for ``scipy.signal.welch`` (default Hann, ``M // 2`` overlap).
    """
    a = np.asarray(a)
    nt = a.shape[0]
    if nperseg > nt or nperseg < 8:
        raise ValueError(f"nperseg must be between 8 and the series length {nt}, got {nperseg}")
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    f, S = scipy.signal.welch(np.conj(a), fs=1.0 / dt, window=window, nperseg=nperseg, noverlap=noverlap,
                              detrend=False, return_onesided=False, scaling="density", axis=0)
    w = scipy.signal.get_window(window, nperseg)
    step = nperseg - noverlap
    K = (nt - noverlap) // step
    S = np.moveaxis(np.fft.fftshift(S, axes=0), 0, -1)
    return Periodogram(omega=np.fft.fftshift(2 * np.pi * f), S=S, dt=float(dt), window=w, n_segments=int(K),
                       dof=equivalent_dof(w, step, K), bin_correlation=bin_correlation(w, step, K))


def expected_periodogram(R: NDArray[np.complex128], window: NDArray[np.float64], dt: float) -> NDArray[np.float64]:
    """``E[S(w)]`` of the module notes from lags ``R(k)``, ``k = 0 .. M-1`` (shape ``(..., M)``),
    on the :class:`Periodogram` grid (ascending omega)."""
    w = np.asarray(window, dtype=float)
    M = w.size
    R = np.asarray(R)[..., :M]
    rw = np.correlate(w, w, mode="full")[M - 1:]
    G = M * np.fft.ifft(rw * R, axis=-1)
    E = dt / rw[0] * (2.0 * G.real - rw[0] * R[..., :1].real)
    return np.fft.fftshift(E, axes=-1)


def _entries_at(coeffs: Coefficients, q: NDArray[np.float64]) -> ModeEntries:
    return mode_entries(coeffs, np.atleast_2d(np.asarray(q, dtype=float)).T)


def lag_covariance(U: NDArray[np.complex128], P: NDArray[np.complex128], field: str, nlags: int) -> NDArray[np.complex128]:
    """``R(k) = (U^k P)_ff``, ``k = 0 .. nlags-1``, for flat batches ``U, P`` of shape ``(N, 3, 3)``."""
    i = FIELD_INDEX[field]
    out = np.empty((U.shape[0], nlags), dtype=complex)
    X = np.array(P, dtype=complex)
    for k in range(nlags):
        out[:, k] = X[:, i, i]
        X = U @ X
    return out


def linear_response_spectrum(e: ModeEntries, mn: ModeNoise, omega: NDArray[np.float64], field: str,
                             split: ModeSplit | None = None) -> NDArray[np.float64]:
    r"""``S(w) = [(A + i w)^{-1} Q (A + i w)^{-H}]_ff`` per mode, shape ``(N, n_omega)``.

    Computed in the split coordinates, ``(A_w + i w)^{-1} = [[R_B, -R_B c r_3], [0, r_3]]`` with
    ``R_B = (B + i w)^{-1}``, ``r_3 = 1/(lambda_3 + i w)``, so it is exact in the stiff limit;
    where ``eps_hat = 0``, theta and Phi are driven by the limiting white noise ``Qt`` and mu is
    ``K theta`` (``tdgl_stt.noise.covariance``, note 4).
    """
    fe = ModeEntries(a=np.ravel(e.a).astype(complex), s=np.ravel(e.s).astype(float),
                     eps=np.ravel(e.eps).astype(float), g=float(e.g), I=float(e.I))
    mn = mn.ravel()
    sp = split if split is not None else split_modes(fe)
    n = fe.eps.size
    dyn = np.isfinite(sp.lam_fast) & ~sp.zero & (fe.eps > 0)
    fast = fast_blocks(sp, mn, fe)  # the same algebra as the discretisation
    Qw = np.zeros((n, 3, 3), dtype=complex)
    Qw[:, 0, 0], Qw[:, 1, 1] = mn.q_theta, mn.q_Phi
    Qw[~dyn, :2, :2] = fast.Qt[~dyn]
    Qw[dyn, :2, 2] = fast.Qyz[dyn]
    Qw[dyn, 2, :2] = np.conj(fast.Qyz[dyn])
    Qw[dyn, 2, 2] = fast.Qzz[dyn]
    Ti = np.zeros((n, 3, 3), dtype=complex)
    Ti[:, 0, 0] = Ti[:, 1, 1] = Ti[:, 2, 2] = 1.0
    Ti[:, 2, 0], Ti[:, 2, 1] = sp.K, sp.L
    i = FIELD_INDEX[field]
    omega = np.asarray(omega, dtype=float)
    out = np.empty((n, omega.size))
    eye = np.eye(2)
    for m, w in enumerate(omega):
        RB = np.linalg.inv(sp.B + 1j * w * eye)
        r3 = np.where(dyn, 1.0 / (np.where(dyn, sp.lam_fast, 1.0) + 1j * w), 0.0)
        Mw = np.zeros((n, 3, 3), dtype=complex)
        Mw[:, :2, :2] = RB
        Mw[:, :2, 2] = -RB[:, :, 0] * (-2.0) * r3[:, None]
        Mw[:, 2, 2] = r3
        row = np.einsum("nj,njk->nk", Ti[:, i, :], Mw)  # row f of T^{-1} (A_w + i w)^{-1}
        out[:, m] = np.einsum("nj,njk,nk->n", row, Qw, np.conj(row)).real
    return out


def sampled_spectrum(U: NDArray[np.complex128], C: NDArray[np.complex128], omega: NDArray[np.float64], dt: float,
                     field: str) -> NDArray[np.float64]:
    """``dt [(1 - e^{i w dt} U)^{-1} C (1 - e^{i w dt} U)^{-H}]_ff``: the spectral density of the
    frames ``x_{n+1} = U x_n + xi_n`` (``Cov xi = C``), flat batches ``(N, 3, 3)``."""
    i = FIELD_INDEX[field]
    out = np.empty((U.shape[0], np.size(omega)))
    eye = np.eye(3)
    for m, w in enumerate(np.atleast_1d(omega)):
        Minv = np.linalg.inv(eye - np.exp(1j * w * dt) * U)
        row = Minv[:, i, :]
        out[:, m] = dt * np.einsum("nj,njk,nk->n", row, C, np.conj(row)).real
    return out


def _whitener(per: Periodogram, keep: NDArray[np.intp]) -> NDArray[np.float64]:
    """Upper Cholesky factor ``L^T`` of the bin-correlation matrix on the bins ``keep``."""
    M = per.nperseg
    d = np.subtract.outer(keep, keep) % M
    Cb = per.bin_correlation[d]
    return scipy.linalg.cholesky(Cb, lower=True)


@dataclass(frozen=True)
class ChiSquare:
    """A chi-square statistic with its degrees of freedom and upper-tail probability."""

    chi2: float
    dof: int
    p_value: float


def shape_chi_square(per: Periodogram, S: NDArray[np.float64], expected: NDArray[np.float64]) -> ChiSquare:
    """Whitened chi-square of one periodogram ``S`` (shape ``(M,)``) against its exact expectation.

    ``r = (S - E) / (E sqrt(2/nu))``, whitened by the bin correlation; ``chi2 = |r_w|^2`` has M
    degrees of freedom when ``E`` is right (no parameter was fitted).
    """
    keep = np.arange(per.nperseg)
    r = (S - expected) / (expected * np.sqrt(2.0 / per.dof))
    L = _whitener(per, keep)
    rw = scipy.linalg.solve_triangular(L, r, lower=True)
    chi2 = float(rw @ rw)
    return ChiSquare(chi2, int(keep.size), float(scipy.stats.chi2.sf(chi2, keep.size)))


@dataclass(frozen=True)
class LorentzianFit:
    """Fit of a sum of (windowed, sampled) Lorentzians to one periodogram.

    Attributes
    ----------
    omega, omega_err : complex arrays (J,)
        Fitted complex frequencies ``w' - i gamma`` and their standard errors packed as
        ``complex(err Re, err Im)``.
    residue, residue_err : complex arrays (J,)
        ``c_j`` (the weight of ``e^{-i w_j t}`` in the lag covariance) and errors, packed alike.
    background, background_err : float
        White background level of S (the unresolved roots) and its error.
    fit : ChiSquare
        Whitened chi-square at the solution, ``M - 4J - 1`` degrees of freedom.
    covariance : (4J+1, 4J+1) float
        Parameter covariance, order ``Re w, Im w, Re c, Im c`` (each J) then b.
    model : (M,) float
        The fitted expectation on the periodogram's grid.
    """

    omega: NDArray[np.complex128]
    omega_err: NDArray[np.complex128]
    residue: NDArray[np.complex128]
    residue_err: NDArray[np.complex128]
    background: float
    background_err: float
    fit: ChiSquare
    covariance: NDArray[np.float64]
    model: NDArray[np.float64] = field(repr=False)

    @property
    def fwhm(self) -> NDArray[np.float64]:
        """Full widths at half maximum ``2 |Im w|``."""
        return 2.0 * np.abs(self.omega.imag)

    @property
    def fwhm_err(self) -> NDArray[np.float64]:
        return 2.0 * self.omega_err.imag


class _LorentzModel:
    """The expectation of :func:`fit_lorentzians`' ``R(k)`` in FFT order, and its Jacobian."""

    def __init__(self, per: Periodogram, J: int) -> None:
        self.M = per.nperseg
        self.J = J
        w = per.window
        self.rw = np.correlate(w, w, mode="full")[self.M - 1:]
        self.scale = per.dt / self.rw[0]
        self.kdt = np.arange(self.M) * per.dt

    def _G(self, om: NDArray[np.complex128]) -> tuple[NDArray, NDArray]:
        Z = np.exp(-1j * np.outer(om, self.kdt))
        G = self.M * np.fft.ifft(self.rw * Z, axis=-1)
        dG = self.M * np.fft.ifft(self.rw * (-1j * self.kdt) * Z, axis=-1)
        return G, dG

    def __call__(self, x: NDArray[np.float64], jac: bool = False):
        J = self.J
        om = x[:J] + 1j * x[J:2 * J]
        c = x[2 * J:3 * J] + 1j * x[3 * J:4 * J]
        b = x[4 * J]
        G, dG = self._G(om)
        E = self.scale * (2.0 * (c[:, None] * G).real.sum(axis=0) - self.rw[0] * c.real.sum()) + b
        if not jac:
            return E
        D = np.empty((4 * J + 1, self.M))
        D[:J] = self.scale * 2.0 * (c[:, None] * dG).real
        D[J:2 * J] = self.scale * 2.0 * (1j * c[:, None] * dG).real
        D[2 * J:3 * J] = self.scale * (2.0 * G.real - self.rw[0])
        D[3 * J:4 * J] = -self.scale * 2.0 * G.imag
        D[4 * J] = 1.0
        return E, D.T


def fit_lorentzians(per: Periodogram, S: NDArray[np.float64], guesses: NDArray[np.complex128],
                    max_reweight: int = 8) -> LorentzianFit:
    """Fit ``len(guesses)`` Lorentzians plus a white background to one periodogram ``S`` (ascending
    omega, shape ``(M,)``), starting from the complex frequencies ``guesses``.

    The residues and background start from a linear least-squares fit at the guessed
    frequencies; the chi-square weights are recomputed from the model until the parameters
    change by less than 1e-4 of their errors (iteratively reweighted least squares).
    """
    guesses = np.atleast_1d(np.asarray(guesses, dtype=complex))
    J = guesses.size
    M = per.nperseg
    y = np.fft.ifftshift(np.asarray(S, dtype=float))
    model = _LorentzModel(per, J)
    keep = np.arange(M)
    L = _whitener(per, keep)  # in FFT order the circulant is the same matrix
    sq = np.sqrt(2.0 / per.dof)

    def white(v: NDArray) -> NDArray:
        return scipy.linalg.solve_triangular(L, v, lower=True)

    # linear start: residues and background at the guessed frequencies, weights from the data
    x = np.concatenate([guesses.real, guesses.imag, np.zeros(2 * J), [0.0]])
    _, D = model(x, jac=True)
    lin = np.r_[2 * J:4 * J + 1]
    sig = np.maximum(y, np.finfo(float).tiny) * sq
    coef, *_ = np.linalg.lstsq(white(D[:, lin] / sig[:, None]), white(y / sig), rcond=None)
    x[lin] = coef

    prev = None
    for _ in range(max_reweight):
        sig = np.abs(model(x)) * sq
        sig = np.maximum(sig, 1e-300)

        def fun(p: NDArray, sig: NDArray = sig) -> NDArray:
            return white((model(p) - y) / sig)

        def jac(p: NDArray, sig: NDArray = sig) -> NDArray:
            return white(model(p, jac=True)[1] / sig[:, None])

        res = scipy.optimize.least_squares(fun, x, jac=jac, method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
        x = res.x
        Jw = jac(x)
        cov = np.linalg.pinv(Jw.T @ Jw)
        err = np.sqrt(np.clip(np.diag(cov), 0, None))
        if prev is not None and np.all(np.abs(x - prev) <= 1e-4 * np.where(err > 0, err, np.inf)):
            break
        prev = x.copy()
    sig = np.maximum(np.abs(model(x)) * sq, 1e-300)
    r = white((y - model(x)) / sig)
    Jw = white(model(x, jac=True)[1] / sig[:, None])
    cov = np.linalg.pinv(Jw.T @ Jw)
    err = np.sqrt(np.clip(np.diag(cov), 0, None))
    chi2 = float(r @ r)
    dof = M - x.size
    return LorentzianFit(
        omega=x[:J] + 1j * x[J:2 * J], omega_err=err[:J] + 1j * err[J:2 * J],
        residue=x[2 * J:3 * J] + 1j * x[3 * J:4 * J], residue_err=err[2 * J:3 * J] + 1j * err[3 * J:4 * J],
        background=float(x[4 * J]), background_err=float(err[4 * J]),
        fit=ChiSquare(chi2, dof, float(scipy.stats.chi2.sf(chi2, dof))), covariance=cov,
        model=np.fft.fftshift(model(x)),
    )


def resolved_roots(roots: NDArray[np.complex128], dt: float) -> NDArray[np.bool_]:
    """Roots a periodogram at interval ``dt`` can resolve as a peak: finite, damped, decaying by
    less than ``e^RESOLVED_DECAY_PER_FRAME`` per frame and inside the Nyquist band."""
    r = np.asarray(roots)
    with np.errstate(invalid="ignore"):
        return np.isfinite(r) & (r.imag < 0) & (-r.imag * dt < RESOLVED_DECAY_PER_FRAME) & (np.abs(r.real) * dt < np.pi)


@dataclass(frozen=True)
class PeakRow:
    """A fitted peak against the exact root it started from.

    ``z_center = (Re w_fit - Re w_exact) / err`` and ``z_width = (FWHM - 2|Im w_exact|) / err``
    are the deviations in units of the fit's standard errors; ``branch`` is the index of the
    exact root among the roots of det M = 0 at that q (as ``tdgl-stt modes`` numbers them; -1
    where unknown).
    """

    exact: complex
    omega: complex
    omega_err: complex
    fwhm: float
    fwhm_err: float
    exact_fwhm: float
    z_center: float
    z_width: float
    branch: int = -1


def compare_with_roots(fit: LorentzianFit, exact: NDArray[np.complex128],
                       branches: NDArray[np.intp] | None = None) -> list[PeakRow]:
    """One :class:`PeakRow` per fitted peak, against the exact root of the same index
    (``branches``: the roots' indices among all roots, for the report)."""
    rows = []
    exact = np.atleast_1d(exact)
    br = np.full(exact.size, -1) if branches is None else np.asarray(branches)
    for w, we, x, b in zip(fit.omega, fit.omega_err, exact, br):
        fwhm, ferr, xf = 2 * abs(w.imag), 2 * we.imag, 2 * abs(x.imag)
        rows.append(PeakRow(exact=complex(x), omega=complex(w), omega_err=complex(we), fwhm=float(fwhm),
                            fwhm_err=float(ferr), exact_fwhm=float(xf),
                            z_center=float((w.real - x.real) / we.real) if we.real > 0 else float("nan"),
                            z_width=float((fwhm - xf) / ferr) if ferr > 0 else float("nan"), branch=int(b)))
    return rows


def lorentzian_components(per: Periodogram, fit: LorentzianFit) -> NDArray[np.float64]:
    """The expectation of each fitted term alone (its windowed, sampled Lorentzian, without the
    background), shape ``(J, M)`` on the periodogram's ascending grid: the curves of a figure."""
    J = fit.omega.size
    model = _LorentzModel(per, 1)
    out = np.empty((J, per.nperseg))
    for j in range(J):
        x = np.array([fit.omega[j].real, fit.omega[j].imag, fit.residue[j].real, fit.residue[j].imag, 0.0])
        out[j] = np.fft.fftshift(model(x))
    return out


@dataclass(frozen=True)
class StationaryRow:
    """The stationary spectrum of one wavevector: fitted peaks and the shape test.

    ``shape`` is the chi-square of the periodogram against the exact expectation (None when no
    noise configuration was given or the mode has no stationary state). The curves (not part of
    :meth:`as_dict`) are kept for figures: the angular frequencies ``omega``, the periodogram
    ``S``, the fitted expectation ``model``, each fitted term alone (``components``, one row per
    peak), the exact expectation ``expected`` (None without the shape test) and all the exact
    roots ``roots`` at this q.
    """

    q: list[float]
    peaks: list[PeakRow]
    fit: ChiSquare
    shape: ChiSquare | None
    omega: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    S: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    model: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    components: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    expected: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    roots: NDArray[np.complex128] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """A JSON-ready dict (complex numbers split into ``_re``/``_im``, errors as ``_err``)."""
        peaks = [{"branch": p.branch, "exact_re": p.exact.real, "exact_im": p.exact.imag, "omega_re": p.omega.real,
                  "omega_im": p.omega.imag, "omega_re_err": p.omega_err.real, "omega_im_err": p.omega_err.imag,
                  "fwhm": p.fwhm, "fwhm_err": p.fwhm_err, "exact_fwhm": p.exact_fwhm,
                  "z_center": p.z_center, "z_width": p.z_width} for p in self.peaks]
        out = {"q": list(self.q), "peaks": peaks, "fit_chi2": self.fit.chi2, "fit_dof": self.fit.dof,
               "fit_p_value": self.fit.p_value}
        if self.shape is not None:
            out.update(shape_chi2=self.shape.chi2, shape_dof=self.shape.dof, shape_p_value=self.shape.p_value)
        return out


def analyze_stationary(
    a: NDArray[np.complex128],
    q: NDArray[np.float64],
    dt: float,
    coeffs: Coefficients,
    *,
    noise: NoiseConfig | None = None,
    volume: float | None = None,
    field: str = "theta",
    nperseg: int = 256,
    window: str = "hann",
) -> list[StationaryRow]:
    """Periodograms of ``a_q(t)`` (shape ``(nt, n_q)``), Lorentzian fits started at the resolved
    exact roots, and (given ``noise`` and the box ``volume``) the chi-square of each periodogram
    against its exact expectation. ``q`` has shape ``(n_q, ndim)`` (no Nyquist wavevectors)."""
    q = np.atleast_2d(np.asarray(q, dtype=float))
    per = averaged_periodogram(a, dt, nperseg, window)
    e = _entries_at(coeffs, q)
    sp = split_modes(e)
    roots = exact_frequencies(e, sp)
    expected = None
    if noise is not None:
        if volume is None:
            raise ValueError("the shape test needs the box volume of the run")
        mn = mode_noise(noise, e, np.sum(q**2, axis=1), volume)
        P = stationary_covariance(e, mn, sp)
        U = np.moveaxis(propagator(e, dt, sp), -1, 0)
        expected = expected_periodogram(lag_covariance(U, P, field, nperseg), per.window, dt)
    rows = []
    S = np.atleast_2d(per.S)
    for m in range(q.shape[0]):
        r = roots[m]
        branches = np.flatnonzero(resolved_roots(r, dt))
        guess = r[branches]
        failed = (f"the Lorentzian fit at q = {q[m].tolist()} did not converge (a fitted root ran off to "
                  "Im w >= 0 or beyond the band): is the series a stationary, noise-driven one?")
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                fit = fit_lorentzians(per, S[m], guess)
        except ValueError:
            raise ValueError(failed) from None
        if not (np.all(np.isfinite(fit.omega)) and np.all(np.isfinite(fit.model))):
            raise ValueError(failed)
        shape = None
        exp_m = None
        if expected is not None and np.all(np.isfinite(expected[m])):
            shape = shape_chi_square(per, S[m], expected[m])
            exp_m = expected[m]
        rows.append(StationaryRow(q=q[m].tolist(), peaks=compare_with_roots(fit, guess, branches), fit=fit.fit,
                                  shape=shape, omega=per.omega, S=S[m], model=fit.model,
                                  components=lorentzian_components(per, fit), expected=exp_m, roots=r))
    return rows


def consistency(rows: list[StationaryRow]) -> dict:
    """How the fitted peaks as a whole agree with the exact roots.

    ``n_statistics`` deviations ``z`` (a centre and a width per peak); ``max_abs_z`` against
    ``bound = norm.isf(1e-3 / (2 n))`` (Bonferroni: family-wise 1e-3 two-sided); ``chi2 = sum z^2``
    with ``n`` degrees of freedom and its upper-tail ``p_value`` (each z is standard normal when
    the fit's errors are right and the peak sits at the exact root; the calibration of
    ``docs/noise.md`` section 7 found the centre errors ~7 % optimistic).
    """
    z = np.array([v for r in rows for p in r.peaks for v in (p.z_center, p.z_width)], dtype=float)
    z = z[np.isfinite(z)]
    n = int(z.size)
    if n == 0:
        return {"n_statistics": 0, "max_abs_z": float("nan"), "bound": float("nan"), "chi2": float("nan"),
                "p_value": float("nan"), "consistent": None}
    bound = float(scipy.stats.norm.isf(1e-3 / (2 * n)))
    chi2 = float(np.sum(z**2))
    p = float(scipy.stats.chi2.sf(chi2, n))
    return {"n_statistics": n, "max_abs_z": float(np.max(np.abs(z))), "bound": bound, "chi2": chi2, "p_value": p,
            "consistent": bool(np.max(np.abs(z)) < bound and p > 1e-3)}


def peaks_as_mode_rows(rows: list[StationaryRow]):
    """The fitted peaks as :class:`~tdgl_stt.analysis.compare.ModeRow` (centre = Re w,
    ``-FWHM/2`` = Im w, errors alike), so that the closed-form table and the dispersion figure
    of the ringdown analysis take them as the simulation's modes."""
    from .compare import ModeRow, rel_dev

    out = []
    for r in rows:
        for p in r.peaks:
            w = complex(p.omega.real, -0.5 * p.fwhm)
            dre, dim = rel_dev(w, p.exact)
            out.append(ModeRow(q=list(r.q), omega_re=w.real, omega_im=w.imag, omega_re_err=p.omega_err.real,
                               omega_im_err=0.5 * p.fwhm_err, amplitude=float("nan"), exact_re=p.exact.real,
                               exact_im=p.exact.imag, rel_dev_re=dre, rel_dev_im=dim, branch=p.branch,
                               gamma=0.5 * p.fwhm, fwhm=p.fwhm, resolved=True))
    return out


__all__ = [
    "FIELD_INDEX", "ChiSquare", "LorentzianFit", "PeakRow", "Periodogram", "StationaryRow",
    "analyze_stationary", "averaged_periodogram", "bin_correlation", "compare_with_roots", "consistency",
    "equivalent_dof", "expected_periodogram", "fit_lorentzians", "lag_covariance",
    "linear_response_spectrum", "lorentzian_components", "peaks_as_mode_rows", "resolved_roots",
    "sampled_spectrum", "shape_chi_square",
]
