r"""The ETDRK4 path side by side with solve_ivp and Dedalus: a Carlson-Goldman packet on a hot spot.

The problem (built with tdgl-stt's own config machinery, :data:`CONFIG`): a clean superconductor
at ``T = 0.8 T_c`` with a Gaussian hot spot ``T(x) = 0.8 + 0.04 exp(-|x - c|^2/(2 * 5^2))``, bulk
Coulomb ``k_s = 1e4`` (dielectric rate ``2 D k_s^2 ~ 1e9`` against mode rates ~1), a wave packet
of the CG branch (carrier ``q0 = 0.5``, envelope 10) launched towards the spot, on a periodic
1D grid (256 points over 200) or 2D grid (64^2 over 100^2), frames every 2 up to ``T = 100``.

Equations (``docs/hotspot.md``; :mod:`tdgl_stt.variable_model`), for the state
``u = (theta, psi, mu)`` with ``psi = I(x) Phi / I_ref``:

.. math::

    \dot\theta = 2(\psi - \mu) + 2 (r - 1)\psi, \qquad
    \dot\psi = \frac{\nabla\cdot j}{2 I_{ref}} - g\psi, \qquad
    \hat\varepsilon\,\dot\mu = 2 D \nabla^2\mu - \nabla\cdot j,

``j = c^2(x)\nabla\theta - 2 (\Delta^2/T)(x) v_T(x)\,\theta``, ``r = I_ref/I(x)``, ``Phi = r psi``.
Split as ``du/dt = A_ref u + N(u)``: ``A_ref`` is the uniform model at ``T_ref`` (per mode, as in
:func:`peers.block_operator`) and ``N = (2 (r-1) psi, d/(2 I_ref), -d/eps_hat)`` with
``d = div(j - j_ref) = div(dc2 grad theta - 2 dtau theta)``, ``dc2 = c^2 - c^2_ref``,
``dtau = (Delta^2/T) v_T - ((Delta^2/T) v_T)_ref``.

The discrete system, the same for every method: the modes ``|k_i| <= K_i = floor((n_i - 1)/3)``
(the 2/3 rule of tdgl-stt's ETD stepper) of ``theta, psi, mu``; the coefficient variations
``r - 1``, ``dc2``, ``dtau`` band-limited to the same modes; every product formed exactly on them
(pseudo-spectrally on the ``n`` grid, whose aliases of products of such fields fall outside the
band). Phi is output as the band-limited ``r psi``.

* **tdgl-stt**: :class:`tdgl_stt.integrators.etd.ETDStepper` (ETDRK4), built from the config;
  per frame its ``step`` and 3 inverse real FFTs of the output fields.
* **solve_ivp** (Radau, BDF): the Fourier-space method of lines on the retained modes with the
  right-hand side ``A_ref u + N(u)`` written here independently of tdgl-stt (real-space products
  with numpy's FFTs); Jacobian: the sparse block-diagonal ``A_ref``, an approximation that omits
  ``N`` (exact for the stiff dielectric part, which ``N`` does not touch; Newton then converges
  linearly at the rate ~``h |N|``, which is what a hand-written solver would supply).
* **Dedalus** (RK443, SBDF2): ``A_ref`` on the left (implicit), ``N`` on the right (explicit),
  ``RealFourier`` bases of ``2K + 2`` modes (so exactly ``|k| <= K``) with ``dealias = 3/2``:
  its products are then exact on the retained modes, the same discrete system.

The reference is ETDRK4 with many more steps, checked by Richardson: the relative difference of
the runs with ``h`` and ``h/2``, divided by ``2^4 - 1``, estimates the error of the ``h/2`` run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.fft
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

import peers
from tdgl_stt.config import RunConfig, parse_config
from tdgl_stt.fft import RealFFT
from tdgl_stt.grid import Grid
from tdgl_stt.initial import initial_state
from tdgl_stt.integrators.etd import ETDStepper
from tdgl_stt.model import ModeEntries, mode_entries
from tdgl_stt.steppers import build_stepper, initial_medium
from tdgl_stt.variable_model import VariableModel

CONFIG = """
[model]
T = 0.8
Tc = 1.0
vF = 1.0
d = {d}
tau = 10.0
tauE = "inf"
ns_over_n = "clean"
coulomb = "bulk"
ks = 1.0e4

[model.temperature_profile]
kind = "gaussian"
amplitude = 0.04
width = 5.0
center = {spot}

[grid]
n = {n}
L = {L}

[time]
dt = {dt}
n_frames = {frames}
integrator = "etdrk4"
steps_per_frame = 1

[initial]
kind = "packet"
k = {k}
width = 10.0
center = {start}
branch = 0
amplitude = 1.0e-3
"""


def config_text(n: tuple[int, ...], frames: int, dt: float = 2.0) -> str:
    """The hot-spot config on a 1D grid (200 long) or a 2D grid (100 x 100): the spot in the middle,
    the packet (q0 = 2 pi k/L = 0.50) starting 50 (1D) or 30 (2D) before it, moving along +x."""
    if len(n) == 1:
        L, spot, start, k = [200.0], [100.0], [50.0], [16]
    elif len(n) == 2:
        L, spot, start, k = [100.0, 100.0], [50.0, 50.0], [20.0, 50.0], [8, 0]
    else:
        raise ValueError("1D or 2D")
    return CONFIG.format(d=len(n), spot=spot, n=list(n), L=L, dt=dt, frames=frames, k=k, start=start)


# ---------------------------------------------------------------------------------------------
# the retained modes |k_i| <= K_i, stored compactly in fftfreq order per axis ([0..K, -K..-1];
# the last, half axis [0..K]) -- the layout of tdgl-stt's SpectralBand


def band_K(n: tuple[int, ...]) -> tuple[int, ...]:
    """``K_i = floor((n_i - 1)/3)``: the 2/3 rule."""
    return tuple((ni - 1) // 3 for ni in n)


def _axis_index(m: int, K: int, last: bool) -> NDArray[np.intp]:
    return np.arange(K + 1) if last else np.r_[0 : K + 1, m - K : m]


def _index(shape: tuple[int, ...], K: tuple[int, ...]) -> tuple:
    """Open-mesh index of the retained modes in a half-spectrum of grid ``shape``."""
    nd = len(shape)
    return np.ix_(*(_axis_index(shape[i], K[i], i == nd - 1) for i in range(nd)))


def gather(full: NDArray, K: tuple[int, ...], shape: tuple[int, ...]) -> NDArray:
    """The retained modes of the half-spectrum ``full`` (trailing axes) of a grid ``shape``."""
    lead = full.shape[: full.ndim - len(shape)]
    return full[(Ellipsis,) + _index(shape, K)].reshape(lead + compact_shape(K))


def scatter(compact: NDArray, K: tuple[int, ...], shape: tuple[int, ...]) -> NDArray:
    """The half-spectrum of a grid ``shape`` (``2 K_i + 1 <= shape_i``) holding ``compact``, zero elsewhere."""
    lead = compact.shape[: compact.ndim - len(shape)]
    spec = tuple(shape[:-1]) + (shape[-1] // 2 + 1,)
    full = np.zeros(lead + spec, dtype=complex)
    full[(Ellipsis,) + _index(shape, K)] = compact
    return full


def compact_shape(K: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(2 * k + 1 for k in K[:-1]) + (K[-1] + 1,)


def to_real(compact: NDArray, K: tuple[int, ...], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Real fields on the grid ``shape`` from compact amplitude spectra (``rfftn(f)/N``)."""
    nd = len(shape)
    return scipy.fft.irfftn(scatter(compact, K, shape), s=shape, axes=tuple(range(-nd, 0)), norm="forward")


def to_compact(real: NDArray[np.float64], K: tuple[int, ...]) -> NDArray[np.complex128]:
    """Compact amplitude spectra of real fields (trailing axes: the grid)."""
    nd = len(K)
    shape = real.shape[-nd:]
    return gather(scipy.fft.rfftn(real, axes=tuple(range(-nd, 0)), norm="forward"), K, shape)


def band_limit(real: NDArray[np.float64], K: tuple[int, ...]) -> NDArray[np.float64]:
    """A real field with the modes beyond ``K`` removed."""
    return to_real(to_compact(real, K), K, real.shape[-len(K):])


# ---------------------------------------------------------------------------------------------


@dataclass
class HotspotProblem:
    """The hot-spot problem (module docstring) on grid ``n`` with ``frames`` frames of ``dt``.

    Attributes
    ----------
    config, grid
        The run config (tdgl-stt's parser) and grid.
    vm
        tdgl-stt's coefficient fields and reference operator (:func:`tdgl_stt.variable_model.variable_model`).
    rate
        ``rho``, the rate of the explicit variation (:func:`tdgl_stt.stability.explicit_rate`).
    x0
        The initial spectral ``(theta, Phi, mu)`` of the config (a packet), full half-spectrum,
        as the spectrum of the real fields it represents (``rfftn(irfftn(.))``).
    K, entries
        The retained modes and the entries of ``A_ref`` on them (compact arrays).
    rm1, dc2, dtau
        ``r - 1``, ``dc2`` and ``dtau`` (shape ``(ndim, *grid)``) band-limited, real space.
    u0
        The initial internal state ``(theta, psi, mu)`` on the retained modes, as the ETD stepper
        loads it: ``psi = band(I Phi/I_ref)`` of the band-limited Phi, the gauge ``mu_0 = 0``.
    reference
        The reference final ``(theta, Phi, mu)`` (compact), set by :func:`make_reference`.
    """

    n: tuple[int, ...]
    frames: int
    dt: float = 2.0
    config: RunConfig = field(init=False)
    grid: Grid = field(init=False)
    vm: VariableModel = field(init=False)
    reference: NDArray[np.complex128] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.n = tuple(self.n)
        self.config = parse_config(config_text(self.n, self.frames, self.dt))
        self.grid = Grid(tuple(self.config.grid.n), tuple(float(v) for v in self.config.grid.L))
        setup = build_stepper(self.config, self.grid)
        self.vm = setup.variable
        self.rate = setup.rate
        x0 = initial_state(self.config.initial, self.grid, RealFFT(self.grid.shape),
                           initial_medium(setup, self.config, self.grid))
        # the spectrum of the real fields x0 stands for (what a run writes at t = 0): in 2D the
        # packet's half-spectrum fills only the stored wavevectors near +q0 (on the plane k_y = 0
        # the conjugate partners at -k stay zero), which is not the spectrum of a real field;
        # irfftn keeps its Hermitian part, and Dedalus (grid space) could carry nothing else
        axes = tuple(range(1, 1 + self.grid.ndim))
        self.x0 = np.fft.rfftn(np.fft.irfftn(x0, s=self.grid.shape, axes=axes, norm="forward"),
                               axes=axes, norm="forward")
        g, vm, nd = self.grid, self.vm, self.grid.ndim
        self.K = band_K(g.n)
        if any(abs(k) > K for k, K in zip(self.config.initial.k, self.K)):
            raise ValueError(f"the packet's carrier k = {list(self.config.initial.k)} lies beyond the retained "
                             f"modes |k_i| <= {list(self.K)} of the grid {list(g.n)}")
        self.cshape = compact_shape(self.K)
        self.entries: ModeEntries = mode_entries(vm.reference, gather(g.q_lap, self.K, g.shape),
                                                 gather(g.q_grad, self.K, g.shape))
        ref = vm.reference
        torque_ref = ref.torque_prefactor * np.asarray(ref.vT, dtype=float)
        self.rm1 = band_limit(vm.r_minus_1, self.K)
        self.dc2 = band_limit(vm.fields.c2 - ref.c2, self.K)
        self.dtau = np.array([band_limit(vm.fields.torque[i] - torque_ref[i], self.K) for i in range(nd)])
        theta = gather(self.x0[0], self.K, g.shape)
        phi_real = to_real(gather(self.x0[1], self.K, g.shape), self.K, g.shape)
        psi = to_compact(phi_real / (1.0 + vm.r_minus_1), self.K)
        mu = gather(self.x0[2], self.K, g.shape)
        mu.flat[0] = 0.0
        self.u0 = np.array([theta, psi, mu])

    @property
    def label(self) -> str:
        return "x".join(map(str, self.n))

    @property
    def t_final(self) -> float:
        return self.frames * self.dt

    @property
    def modes(self) -> int:
        return int(np.prod(self.cshape))

    def physical(self, u: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """``(theta, Phi, mu)`` of internal states ``u`` (compact, shape ``(..., 3, *cshape)``):
        ``Phi = psi + band((r - 1) psi)``, as the ETD stepper outputs it."""
        lead = u.ndim - self.grid.ndim - 1
        at_psi = (slice(None),) * lead + (1,)
        out = np.array(u)
        out[at_psi] += to_compact(self.rm1 * to_real(u[at_psi], self.K, self.grid.shape), self.K)
        return out

    def error(self, x: NDArray[np.complex128]) -> float:
        """Relative 2-norm of ``x - reference`` over the retained modes and the three fields."""
        if self.reference is None:
            raise ValueError("no reference yet: call make_reference")
        return float(np.linalg.norm(x - self.reference) / np.linalg.norm(self.reference))


# ---------------------------------------------------------------------------------------------
# tdgl-stt's ETD stepper


def etd_final(hp: HotspotProblem, steps_per_frame: int, scheme: str = "etdrk4",
              max_seconds: float | None = None) -> tuple[float, NDArray[np.complex128] | None, dict]:
    """tdgl-stt's ETD stepper on ``hp`` with ``steps_per_frame`` steps per frame: set-up (phi-functions
    of every mode, FFT plans) included; per frame ``step`` and the inverse real FFTs of the 3
    fields. Returns (seconds, final compact (theta, Phi, mu) or None if stopped, info)."""
    t0 = time.perf_counter()
    st = ETDStepper(hp.vm, hp.grid, hp.dt, steps_per_frame, scheme)
    fft = RealFFT(hp.grid.shape)
    outs = [fft.output_buffer() for _ in range(3)]
    x = st.project(hp.x0)
    setup = time.perf_counter() - t0
    deadline = None if max_seconds is None else t0 + max_seconds
    info = {"scheme": scheme, "steps_per_frame": steps_per_frame, "h": hp.dt / steps_per_frame,
            "h_times_rho": hp.rate * hp.dt / steps_per_frame, "setup_seconds": setup}
    for _ in range(hp.frames):
        x = st.step(x)
        for i in range(3):
            fft.inverse(x[i], out=outs[i])
        if deadline is not None and time.perf_counter() > deadline:
            return float("nan"), None, {**info, "status": f"stopped after {max_seconds} s"}
    final = gather(x, hp.K, hp.grid.shape)
    seconds = time.perf_counter() - t0
    return seconds, final, {**info, "status": "ok"}


def run_etd(hp: HotspotProblem, steps_per_frame: int, max_seconds: float | None = None) -> peers.Result:
    """ETDRK4 (:func:`etd_final`) with its error against the reference."""
    s, x, info = etd_final(hp, steps_per_frame, max_seconds=max_seconds)
    return peers.Result(s, hp.error(x) if x is not None else float("nan"), info)


def make_reference(hp: HotspotProblem, start: int, tol: float, max_steps_per_frame: int = 4096) -> dict:
    """Set ``hp.reference`` to an ETDRK4 run with ``s`` steps per frame, ``s`` doubled from
    ``start`` until the Richardson estimate of its error, ``||x_s - x_{s/2}|| / ||x_s|| / 15``, is
    at most ``tol``. Returns the steps per frame, the estimate and the ratio of successive
    differences (16 for a 4th-order scheme in its asymptotic range)."""
    s = start
    _, prev, _ = etd_final(hp, s)
    diffs = []
    while True:
        s *= 2
        _, cur, _ = etd_final(hp, s)
        diffs.append(float(np.linalg.norm(cur - prev) / np.linalg.norm(cur)))
        if (diffs[-1] / 15.0 <= tol and len(diffs) >= 2) or s >= max_steps_per_frame:
            break
        prev = cur
    hp.reference = cur
    return {"steps_per_frame": s, "h": hp.dt / s, "richardson_error_estimate": diffs[-1] / 15.0,
            "difference_ratios": [a / b for a, b in zip(diffs, diffs[1:])], "tolerance": tol,
            "converged": diffs[-1] / 15.0 <= tol}


# ---------------------------------------------------------------------------------------------
# solve_ivp on the Fourier-space method of lines


class HotspotRHS:
    """``du/dt = A_ref u + N(u)`` on the retained modes (module docstring), written independently of
    tdgl-stt's forcing: ``theta``, ``grad theta`` and ``psi`` to real space, the products there,
    back with real FFTs (numpy/scipy pocketfft, amplitude normalisation)."""

    def __init__(self, hp: HotspotProblem) -> None:
        self.hp = hp
        e = hp.entries
        self.K, self.shape, self.nd = hp.K, hp.grid.shape, hp.grid.ndim
        self.a, self.s, self.eps, self.I, self.g = e.a, e.s, e.eps, e.I, e.g
        pos = self.eps > 0
        self.inv_eps = np.where(pos, 1.0 / np.where(pos, self.eps, 1.0), 0.0)  # q = 0: gauge, dmu/dt = 0
        self.iq = 1j * gather(hp.grid.q_grad, self.K, self.shape)

    def forcing(self, theta: NDArray, psi: NDArray) -> tuple[NDArray, NDArray]:
        """``(n, d)``: ``n = 2 (r - 1) psi`` and ``d = div(dc2 grad theta - 2 dtau theta)``, compact."""
        hp, K, shape = self.hp, self.K, self.shape
        th = to_real(np.concatenate([theta[None], self.iq * theta[None]]), K, shape)  # theta, grad theta
        psi_r = to_real(psi, K, shape)
        flux = hp.dc2 * th[1:] - 2.0 * hp.dtau * th[0]
        F = to_compact(np.concatenate([(2.0 * hp.rm1 * psi_r)[None], flux]), K)
        return F[0], np.sum(self.iq * F[1:], axis=0)

    def __call__(self, u: NDArray[np.complex128]) -> NDArray[np.complex128]:
        theta, psi, mu = u
        n, d = self.forcing(theta, psi)
        out = np.empty_like(u)
        out[0] = 2.0 * psi - 2.0 * mu + n
        out[1] = -self.a / (2.0 * self.I) * theta - self.g * psi + d / (2.0 * self.I)
        out[2] = (self.a * theta - self.s * mu - d) * self.inv_eps
        return out


def run_solve_ivp(hp: HotspotProblem, method: str, rtol: float, atol: float | None = None,
                  max_seconds: float | None = None) -> peers.Result:
    """solve_ivp on :class:`HotspotRHS` (real and imaginary parts of the compact state), the
    block-diagonal ``A_ref`` as the sparse Jacobian, output at every frame via ``t_eval`` and the
    3 real fields of every frame (Phi = band(r psi)). ``atol`` defaults to ``rtol`` times 1e-3 of
    the largest initial amplitude."""
    if atol is None:
        atol = rtol * 1e-3 * float(np.abs(hp.u0).max())
    t0 = time.perf_counter()
    rhs = HotspotRHS(hp)
    J = peers.real_form(peers.block_operator(hp.entries))
    M = hp.modes
    y0 = np.concatenate([hp.u0.reshape(3 * M).real, hp.u0.reshape(3 * M).imag])
    deadline = None if max_seconds is None else t0 + max_seconds

    class _Timeout(Exception):
        pass

    def f(t, y):
        if deadline is not None and time.perf_counter() > deadline:
            raise _Timeout
        du = rhs((y[: 3 * M] + 1j * y[3 * M:]).reshape((3,) + hp.cshape)).reshape(3 * M)
        return np.concatenate([du.real, du.imag])

    t_eval = hp.dt * np.arange(1, hp.frames + 1)
    info = {"method": method, "rtol": rtol, "atol": atol,
            "jacobian": "A_ref block-diagonal, sparse (approximate: omits N)"}
    try:
        sol = solve_ivp(f, (0.0, hp.t_final), y0, method=method, t_eval=t_eval, jac=J, rtol=rtol, atol=atol)
    except _Timeout:
        return peers.Result(float("nan"), float("nan"), {**info, "status": f"stopped after {max_seconds} s"})
    if not sol.success or sol.y.shape[1] != hp.frames:
        return peers.Result(float("nan"), float("nan"), {**info, "status": sol.message})
    U = (sol.y[: 3 * M] + 1j * sol.y[3 * M:]).T.reshape((hp.frames, 3) + hp.cshape)
    X = hp.physical(U)
    to_real(X, hp.K, hp.grid.shape)  # the output's real-space fields, every frame
    seconds = time.perf_counter() - t0
    return peers.Result(seconds, hp.error(X[-1]), {**info, "nfev": int(sol.nfev), "njev": int(sol.njev),
                                                   "nlu": int(sol.nlu), "status": "ok"})


# ---------------------------------------------------------------------------------------------
# Dedalus, IMEX: A_ref implicit, N explicit


def dedalus_solver(hp: HotspotProblem, scheme: str) -> tuple[Any, list[Any], Any, Any]:
    """Dedalus IVP of the hot-spot problem (module docstring): ``RealFourier`` bases of
    ``2 K_i + 2`` modes, ``dealias = 3/2``; returns the solver, the state fields ``(theta, psi, mu)``,
    the operator of Phi = r psi and the domain."""
    import dedalus_peer as dp  # noqa: PLC0415

    size = tuple(2 * k + 2 for k in hp.K)
    dom = dp.Domain.build(size, hp.grid.L, dealias=1.5)
    d3 = dom.d3
    theta, psi, mu = dom.field("theta"), dom.field("psi"), dom.field("mu")
    tau_mu = dom.dist.Field(name="tau_mu")
    rm1, dc2 = dom.field("rm1"), dom.field("dc2")
    nd = hp.grid.ndim

    def load(f, compact):
        dp.set_amplitudes(f, scatter(compact, hp.K, size), size)

    load(rm1, to_compact(hp.rm1, hp.K))
    load(dc2, to_compact(hp.dc2, hp.K))
    dtau_c = to_compact(hp.dtau, hp.K)
    ref = hp.vm.reference
    Ir, c2r, D, ks, g = ref.I, ref.c2, ref.D, ref.ks, ref.g
    torque_ref = 0
    for i, v in enumerate(ref.vT):
        if v != 0.0:
            torque_ref = torque_ref + (ref.torque_prefactor * v) * d3.Differentiate(theta, dom.coord(i))
    if nd == 1:
        dtau = dom.field("dtau")
        load(dtau, dtau_c[0])
        dx = dom.coord(0)
        dj = d3.Differentiate(dc2 * d3.Differentiate(theta, dx) - 2 * dtau * theta, dx)
    else:
        dtau = dom.dist.VectorField(dom.coords, name="dtau", bases=dom.bases)
        dtau.change_scales(1)
        dtau["g"] = to_real(dtau_c, hp.K, size)
        dj = d3.div(dc2 * d3.grad(theta) - 2 * dtau * theta)
    lap = d3.lap
    problem = d3.IVP([theta, psi, mu, tau_mu], namespace={})
    problem.add_equation((d3.dt(theta) - 2 * psi + 2 * mu, 2 * rm1 * psi))
    problem.add_equation((Ir * d3.dt(psi) + Ir * g * psi - (c2r / 2) * lap(theta) + torque_ref, dj / 2))
    problem.add_equation((-d3.dt(lap(mu)) / ks**2 - 2 * D * lap(mu) + c2r * lap(theta) - 2 * torque_ref + tau_mu, -dj))
    problem.add_equation((d3.integ(mu), 0))
    solver = problem.build_solver(getattr(d3, scheme))
    for f, c in zip((theta, psi, mu), hp.u0):
        load(f, c)
    return solver, [theta, psi, mu], psi + rm1 * psi, dom


def run_dedalus(hp: HotspotProblem, scheme: str, steps_per_frame: int,
                max_seconds: float | None = None) -> peers.Result:
    """Dedalus (:func:`dedalus_solver`) with the fixed step ``dt/steps_per_frame``; after every
    frame theta, mu (copies of the coefficients) and Phi = r psi (evaluated) in grid space."""
    import dedalus_peer as dp  # noqa: PLC0415

    t0 = time.perf_counter()
    solver, (theta, psi, mu), phi_op, dom = dedalus_solver(hp, scheme)
    out = dp.FrameOutput(dom, [theta, mu])
    h = hp.dt / steps_per_frame
    setup = time.perf_counter() - t0
    info = {"scheme": scheme, "steps_per_frame": steps_per_frame, "h": h, "setup_seconds": setup}
    deadline = None if max_seconds is None else t0 + max_seconds
    phi = None
    for _ in range(hp.frames):
        for _ in range(steps_per_frame):
            solver.step(h)
        out()
        phi = phi_op.evaluate()
        phi.change_scales(1)
        phi.change_layout("g")
        if deadline is not None and time.perf_counter() > deadline:
            return peers.Result(float("nan"), float("nan"), {**info, "status": f"stopped after {max_seconds} s"})
    seconds = time.perf_counter() - t0
    size = tuple(2 * k + 2 for k in hp.K)
    final = np.array([gather(dp.amplitudes(f), hp.K, size) for f in (out.outs[0], phi, out.outs[1])])
    if abs(solver.sim_time - hp.t_final) > 0.5 * h:  # the right number of steps (sim_time accumulates h)
        raise RuntimeError(f"Dedalus stopped at t = {solver.sim_time}, not {hp.t_final}")
    return peers.Result(seconds, hp.error(final), {**info, "status": "ok", "steps": hp.frames * steps_per_frame})
