"""The shared problem and the solvers compared by ``benchmarks/run.py``.

The problem: equations (1)-(3) with the physics of ``runs/quickstart.toml`` (the Carlson-Goldman
mode of a clean bulk superconductor, torque from grad_T = 1e-3 along x, bulk Coulomb k_s = 1e4:
dielectric relaxation ~1e9 times faster than the mode rates) on a 1D or 2D periodic grid.

The initial condition is, for every q != 0, the eigenvector of the less damped of the two slow
roots (collective modes) with a random complex amplitude c_q, so the exact solution is known from the roots alone:
``x_q(t) = c_q v_q exp(-i w_q t)``, projected on real fields (``x_k`` and ``x_-k`` conjugate; the
Nyquist modes, which a real field cannot carry as complex amplitudes, are zero). The error of a method is
``||x(T) - x_exact(T)||_2 / ||x_exact(T)||_2`` over all modes and the three fields, at the final
time T. The q = 0 mode (global phase and gauge) is set to zero.

Every solver produces the same output: the three fields in real space at every frame
(``t = dt, 2 dt, ..., T``), obtained by inverse real FFTs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
from scipy.integrate import solve_ivp

from tdgl_stt.config import parse_config
from tdgl_stt.fft import RealFFT
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.exact import ExactStepper
from tdgl_stt.model import ModeEntries, mode_entries
from tdgl_stt.params import Coefficients, coefficients_from_model
from tdgl_stt.propagator import eigenvector, exact_frequencies, split_modes

#: The physics of runs/quickstart.toml (the [model] table), in 1D or 2D.
MODEL = """
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 3
tau = 1.0
tauE = "inf"
ns_over_n = "clean"
grad_T = {grad_T}
coulomb = "bulk"
ks = 1.0e4
"""


def config_text(n: tuple[int, ...], frames: int, dt: float = 2.0, L: float = 1000.0) -> str:
    """A run config of the quickstart physics on an ``n`` grid of side ``L`` (noise initial state)."""
    grad = "[1.0e-3]" if len(n) == 1 else "[1.0e-3" + ", 0.0" * (len(n) - 1) + "]"
    return MODEL.format(grad_T=grad) + f"""
[grid]
n = {list(n)}
L = {[L] * len(n)}
[time]
dt = {dt}
n_frames = {frames}
[initial]
kind = "noise"
amplitude = 1.0e-3
seed = 1
"""


def nyquist_mask(grid: Grid) -> np.ndarray:
    """True on the half-spectrum entries with a Nyquist wavenumber on any axis of even length."""
    m = np.zeros(grid.spectral_shape, dtype=bool)
    for i, n in enumerate(grid.n):
        if n % 2 == 0:
            idx = [slice(None)] * grid.ndim
            idx[i] = n // 2
            m[tuple(idx)] = True
    return m


@dataclass
class Problem:
    """One benchmark problem: grid, model, frame interval, number of frames, initial state."""

    n: tuple[int, ...]
    frames: int
    dt: float = 2.0
    L: float = 1000.0
    seed: int = 0
    grid: Grid = field(init=False)
    coeffs: Coefficients = field(init=False)
    entries: ModeEntries = field(init=False)

    def __post_init__(self) -> None:
        self.grid = Grid(tuple(self.n), (self.L,) * len(self.n))
        self.coeffs = coefficients_from_model(parse_config(config_text(self.n, 1, self.dt, self.L)).model)
        self.entries = mode_entries(self.coeffs, self.grid.q_lap, self.grid.q_grad)
        split = split_modes(self.entries)
        w = exact_frequencies(self.entries, split)
        # per mode the less damped of the slow pair: the other decays below the round-off of
        # the first within a few hundred time units, which would leave nothing to compare
        pick = (w[..., 1].imag > w[..., 0].imag)
        self.omega = np.where(pick, w[..., 1], w[..., 0])  # shape: spectral
        v = np.where(pick[..., None], eigenvector(self.entries, 1, split), eigenvector(self.entries, 0, split))
        rng = np.random.default_rng(self.seed)
        c = rng.standard_normal(self.grid.spectral_shape) + 1j * rng.standard_normal(self.grid.spectral_shape)
        c.flat[0] = 0.0  # q = 0: global phase and gauge
        c[nyquist_mask(self.grid)] = 0.0  # not a mode of a real field (nor of Dedalus' RealFourier)
        self._raw = np.moveaxis(c[..., None] * v, -1, 0)  # (3, *spectral): c_q v_q, mode by mode
        self.x0 = np.ascontiguousarray(self.real_fields(self._raw))

    @property
    def label(self) -> str:
        return "x".join(map(str, self.n))

    @property
    def t_final(self) -> float:
        return self.frames * self.dt

    @property
    def modes(self) -> int:
        return int(np.prod(self.grid.spectral_shape))

    def real_fields(self, x: np.ndarray) -> np.ndarray:
        """The spectrum of the real fields whose half-spectrum is ``x`` (``rfftn(irfftn(x))``).

        On the plane ``k_last = 0`` of a 2D/3D half-spectrum the entries ``k`` and ``-k`` of a
        real field are complex conjugates; random amplitudes drawn mode by mode are not, and this
        keeps ``(x_k + conj(x_-k))/2``. Elsewhere (and everywhere in 1D, Nyquist being zero) ``x``
        is unchanged. Since ``A(-q) = conj(A(q))`` (real equations), the exact evolution commutes
        with this projection, so the evolved projection is the projection of the evolved modes.
        """
        out = np.array(x)
        out[:, nyquist_mask(self.grid)] = 0.0
        lead = tuple(range(1, self.grid.ndim))  # the full (fftfreq) axes of the plane k_last = 0
        plane = out[..., 0]
        minus_k = np.roll(np.flip(plane, axis=lead), 1, axis=lead) if lead else plane
        out[..., 0] = 0.5 * (plane + minus_k.conj())
        return out

    def exact_final(self) -> np.ndarray:
        """``c_q v_q exp(-i w_q T)`` from the roots alone, mode by mode, projected on real fields
        (:meth:`real_fields`; q = 0 and Nyquist modes are zero)."""
        ph = np.exp(-1j * np.nan_to_num(self.omega) * self.t_final)
        return self.real_fields(self._raw * ph[None])

    def error(self, xT: np.ndarray) -> float:
        ref = self.exact_final()
        return float(np.linalg.norm(xT - ref) / np.linalg.norm(ref))

    def slowest_surviving(self) -> float:
        """exp(-min Im-damping * T) of the least damped q != 0 mode (how much signal is left)."""
        d = -self.omega.imag.ravel()[1:]
        return float(np.exp(-d.min() * self.t_final))


@dataclass
class Result:
    seconds: float
    error: float
    info: dict = field(default_factory=dict)


def run_exact(p: Problem) -> Result:
    """tdgl-stt's exact integrator, the stepper alone: set-up (roots, propagator, FFT plan)
    included, then per frame one propagator multiply and the inverse real FFTs of the 3 fields
    into real-space buffers (no file output)."""
    t0 = time.perf_counter()
    st = ExactStepper(p.coeffs, p.grid, p.dt)
    fft = RealFFT(p.grid.shape)
    outs = [fft.output_buffer() for _ in range(3)]
    x = np.array(p.x0)
    keep = np.empty_like(x)
    setup = time.perf_counter() - t0
    for _ in range(p.frames):
        x = st.step(x)
        for i in range(3):
            fft.inverse(x[i], out=outs[i])
    np.copyto(keep, x)
    seconds = time.perf_counter() - t0
    return Result(seconds, p.error(keep), {"what": "ExactStepper.step + 3 irfft per frame, set-up included",
                                            "setup_seconds": setup})


def output_floor(p: Problem, repeats: int = 3) -> float:
    """The FFT part of core_frame_cost's floor, for in-memory output: per frame the inverse
    real FFTs of the 3 saved fields (planned pyFFTW, the stepper's own RealFFT), best of repeats,
    times the number of frames. The write + sync part is added in run.py's runner rows."""
    fft = RealFFT(p.grid.shape)
    outs = [fft.output_buffer() for _ in range(3)]
    x = np.array(p.x0)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(p.frames):
            for i in range(3):
                fft.inverse(x[i], out=outs[i])
        best = min(best, time.perf_counter() - t0)
    return best


def block_operator(e: ModeEntries) -> scipy.sparse.csc_matrix:
    """The block-diagonal A(q) of all modes of ``e`` as a sparse (3M, 3M) matrix, state ordered
    ``[theta_q..., Phi_q..., mu_q...]`` (q flattened). Where ``eps_hat = 0`` (q = 0: a = s = 0)
    the mu equation is replaced by the gauge ``dmu/dt = 0``."""
    a, s, eps = e.a.ravel(), e.s.ravel(), e.eps.ravel()
    M = a.size
    pos = eps > 0
    a_eps = np.where(pos, a / np.where(pos, eps, 1.0), 0.0)
    s_eps = np.where(pos, s / np.where(pos, eps, 1.0), 0.0)
    idx = np.arange(M)
    rows, cols, vals = [], [], []

    def put(r, c, v):
        rows.append(r * M + idx)
        cols.append(c * M + idx)
        vals.append(np.broadcast_to(np.asarray(v, dtype=complex), (M,)))

    put(0, 1, 2.0)
    put(0, 2, -2.0)
    put(1, 0, -a / (2 * e.I))
    put(1, 1, -e.g)
    put(2, 0, a_eps)
    put(2, 2, -s_eps)
    J = scipy.sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(3 * M, 3 * M)
    )
    J.eliminate_zeros()
    return J


def real_form(J: scipy.sparse.spmatrix) -> scipy.sparse.csc_matrix:
    """A complex linear map on ``x`` as a real one on ``[Re x, Im x]`` (Radau does not integrate
    complex states): ``[[Re J, -Im J], [Im J, Re J]]``."""
    Jr = scipy.sparse.bmat([[J.real, -J.imag], [J.imag, J.real]], format="csc")
    Jr.eliminate_zeros()
    return Jr


def jacobian(p: Problem) -> scipy.sparse.csc_matrix:
    """:func:`block_operator` of problem ``p``'s modes."""
    return block_operator(p.entries)


def real_jacobian(p: Problem) -> scipy.sparse.csc_matrix:
    """:func:`real_form` of :func:`jacobian`."""
    return real_form(jacobian(p))


def run_solve_ivp(p: Problem, method: str, rtol: float, atol: float | None = None,
                  max_seconds: float | None = None) -> Result:
    """scipy.integrate.solve_ivp on the Fourier-space method of lines (spectral derivatives:
    f(y) = A y with the block-diagonal A(q), supplied as the sparse, constant Jacobian, for the real
    and imaginary parts of the Fourier amplitudes, since Radau is real-only), output at
    every frame via ``t_eval``, then the inverse real FFTs of the 3 fields of every frame.
    ``atol`` defaults to ``rtol`` times 1e-3 of the largest initial amplitude."""
    M = p.modes
    if atol is None:
        atol = rtol * 1e-3 * float(np.abs(p.x0).max())
    t0 = time.perf_counter()
    J = real_jacobian(p)
    y0 = np.concatenate([p.x0.reshape(3 * M).real, p.x0.reshape(3 * M).imag])
    deadline = None if max_seconds is None else t0 + max_seconds

    class _Timeout(Exception):
        pass

    def f(t, y):
        if deadline is not None and time.perf_counter() > deadline:
            raise _Timeout
        return J @ y

    t_eval = p.dt * np.arange(1, p.frames + 1)
    try:
        sol = solve_ivp(f, (0.0, p.t_final), y0, method=method, t_eval=t_eval, jac=J, rtol=rtol, atol=atol)
    except _Timeout:
        return Result(float("nan"), float("nan"), {"method": method, "rtol": rtol, "atol": atol,
                                                   "status": f"stopped after {max_seconds} s"})
    Y = (sol.y[: 3 * M] + 1j * sol.y[3 * M:]).T.reshape((-1, 3) + p.grid.spectral_shape)
    axes = tuple(range(2, 2 + p.grid.ndim))
    np.fft.irfftn(Y, s=p.grid.shape, axes=axes, norm="forward")  # the output's real-space fields
    seconds = time.perf_counter() - t0
    err = p.error(Y[-1]) if sol.success and Y.shape[0] == p.frames else float("nan")
    return Result(seconds, err, {"method": method, "rtol": rtol, "atol": atol, "nfev": int(sol.nfev),
                                 "njev": int(sol.njev), "nlu": int(sol.nlu), "status": sol.message})


def real_space_rhs(p: Problem):
    """``f(t, y)`` of equations (1)-(3) for the real fields on the grid, ``y = [theta, Phi, mu]``
    (1D), written as a physicist would by hand: derivatives by FFT (``dx`` zero at Nyquist),

    ``theta' = 2 (Phi - mu)``,
    ``Phi' = ((c^2/2) theta_xx - (Delta^2/T) v_T theta_x)/I - Phi/tau_E``,
    ``mu' = eps_hat^{-1} [2 D mu_xx - c^2 theta_xx + 2 (Delta^2/T) v_T theta_x]`` with
    ``eps_hat^{-1} = (k_s/q)^2`` applied in Fourier space (``-lap(mu')/k_s^2 = rhs``: a Poisson
    solve) and ``mu'`` of zero mean (the gauge)."""
    if p.grid.ndim != 1 or p.coeffs.coulomb != "bulk":
        raise ValueError("the real-space method of lines is written for the 1D bulk-Coulomb problem")
    c = p.coeffs
    n = p.grid.n[0]
    q = p.grid.q_lap[0]
    iq = 1j * p.grid.q_grad[0]
    q2 = q**2
    inv_eps = np.where(q2 > 0, c.ks**2 / np.where(q2 > 0, q2, 1.0), 0.0)
    tq = c.torque_prefactor * c.vT[0]
    I, c2, D, g = c.I, c.c2, c.D, c.g

    def f(t: float, y: np.ndarray) -> np.ndarray:
        theta, phi, mu = y[:n], y[n : 2 * n], y[2 * n :]
        th = np.fft.rfft(theta)
        theta_xx = np.fft.irfft(-q2 * th, n)
        theta_x = np.fft.irfft(iq * th, n)
        mu_xx = np.fft.irfft(-q2 * np.fft.rfft(mu), n)
        rhs3 = 2 * D * mu_xx - c2 * theta_xx + 2 * tq * theta_x
        dmu = np.fft.irfft(inv_eps * np.fft.rfft(rhs3), n)
        dphi = (0.5 * c2 * theta_xx - tq * theta_x) / I - g * phi
        return np.concatenate([2 * (phi - mu), dphi, dmu])

    return f


def run_solve_ivp_real_space(p: Problem, method: str, rtol: float, atol: float | None = None,
                             max_seconds: float | None = None) -> Result:
    """solve_ivp on the real-space method of lines (:func:`real_space_rhs`), no Jacobian supplied
    (solve_ivp estimates a dense one by finite differences), the three real fields of every frame
    via ``t_eval``. ``atol`` defaults to ``rtol`` times 1e-3 of the largest initial field value."""
    n = p.grid.n[0]
    y0 = np.fft.irfft(p.x0, n, axis=-1, norm="forward").reshape(3 * n)
    if atol is None:
        atol = rtol * 1e-3 * float(np.abs(y0).max())
    t0 = time.perf_counter()
    f0 = real_space_rhs(p)
    deadline = None if max_seconds is None else t0 + max_seconds

    class _Timeout(Exception):
        pass

    def f(t, y):
        if deadline is not None and time.perf_counter() > deadline:
            raise _Timeout
        return f0(t, y)

    t_eval = p.dt * np.arange(1, p.frames + 1)
    info = {"method": method, "rtol": rtol, "atol": atol, "jacobian": "none supplied (dense finite differences)"}
    try:
        sol = solve_ivp(f, (0.0, p.t_final), y0, method=method, t_eval=t_eval, rtol=rtol, atol=atol)
    except _Timeout:
        return Result(float("nan"), float("nan"), {**info, "status": f"stopped after {max_seconds} s"})
    seconds = time.perf_counter() - t0
    if not sol.success or sol.y.shape[1] != p.frames:
        return Result(float("nan"), float("nan"), {**info, "status": sol.message})
    xT = np.fft.rfft(sol.y[:, -1].reshape(3, n), axis=-1, norm="forward")
    return Result(seconds, p.error(xT), {**info, "nfev": int(sol.nfev), "njev": int(sol.njev),
                                         "nlu": int(sol.nlu), "status": "ok"})
