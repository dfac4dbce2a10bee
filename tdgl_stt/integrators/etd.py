r"""Exponential time differencing for equations (1)-(3) with coefficients that vary in space.

The system ``du/dt = A_ref u + N(x) u`` (:mod:`tdgl_stt.variable_model`) is advanced with the
uniform reference operator ``A_ref(q)`` integrated exactly, per Fourier mode, and the variation
``N`` (:mod:`tdgl_stt.integrators.forcing`) by one of three exponential Runge-Kutta schemes
(``E(h) = exp(h A_ref)``, ``phi_k = phi_k(h A_ref)`` from :mod:`tdgl_stt.integrators.phi`):

* ``exp_euler`` (order 1): ``u1 = E u + h phi_1 N(u)``;
* ``etd2`` (Cox and Matthews' ETD2RK, order 2): ``a = E u + h phi_1 N(u)``,
  ``u1 = a + h phi_2 (N(a) - N(u))``;
* ``etdrk4`` (Cox and Matthews, J. Comput. Phys. 176, 430 (2002), Eq. 26; order 4), with
  ``E_2 = E(h/2)``, ``P = (h/2) phi_1(hA/2)``:
  ``a = E_2 u + P N(u)``, ``b = E_2 u + P N(a)``, ``c = E_2 a + P (2 N(b) - N(u))``,
  ``u1 = E u + h [f_1 N(u) + 2 f_2 (N(a) + N(b)) + f_3 N(c)]`` with
  ``f_1 = phi_1 - 3 phi_2 + 4 phi_3``, ``f_2 = phi_2 - 2 phi_3``, ``f_3 = 4 phi_3 - phi_2``.

The state is ``(theta, psi, mu)`` on the retained modes of the 2/3 rule, ``psi = I(x) Phi/I_ref``
(conservative: the mean of ``psi`` only relaxes). Because ``N`` depends on ``(theta, psi)`` only
(``D`` does not depend on T), each stage needs only the rows ``theta`` and ``psi``;
``E_2 a = E u + E_2 P N(u)`` lets stage ``c`` reuse ``E u`` of the final combination. ``N`` of the
new state is computed at the end of each step and reused by the next (first same as last).

The constraint ``eps_hat = 0`` (``coulomb = "none"``)
------------------------------------------------------
Equation (3) then reads ``0 = 2 D lap mu - div j``: ``mu = (a_ref theta - d)/s`` with
``d = div(j - j_ref)``. In the block-triangular coordinates of the propagator the schemes reduce,
exactly, to the same scheme applied to ``(theta, psi)`` with ``mu`` eliminated (the isolated root is
``-inf`` and ``phi_k(h lambda_3) / eps_hat -> 1/((k-1)! h s)``). The ``mu`` a scheme produces is the
constraint evaluated at its last stage; it is replaced by the constraint at the new state, with
the ``d`` computed for the next step anyway, so ``mu`` has the order of the scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numexpr
import numpy as np
from numpy.typing import NDArray

from ..grid import Grid
from ..model import ModeEntries, mode_entries
from ..propagator import ModeSplit, propagator, split_modes
from ..variable_model import VariableModel
from .forcing import PseudoSpectralForcing, SpectralBand
from .kernels import (
    etdrk4_final,
    etdrk4_stage_a,
    etdrk4_stage_b,
    etdrk4_stage_c,
    view_as,
)
from .phi import phi_matrices

__all__ = ["SCHEMES", "ETDStepper", "SchemeInfo"]


@dataclass(frozen=True)
class SchemeInfo:
    """An exponential Runge-Kutta scheme: its name, order and evaluations of N per step."""

    name: str
    order: int
    evaluations: int


SCHEMES: dict[str, SchemeInfo] = {
    "exp_euler": SchemeInfo("exp_euler", 1, 1),
    "etd2": SchemeInfo("etd2", 2, 2),
    "etdrk4": SchemeInfo("etdrk4", 4, 4),
}


def _coefficient_streams(coefficients: list[NDArray], real: bool) -> NDArray[np.complex128] | NDArray[np.float64]:
    """The per-mode coefficients as one contiguous ``(k, M)`` array (one stream per coefficient).

    ``real=True`` (``A_ref(q)`` real for every mode) stores the real parts only: the exponential
    and the phi-functions of a real matrix are real, so the imaginary parts are round-off of the
    complex arithmetic that computed them, and half the memory traffic of the step is saved.
    """
    stacked = np.stack([np.asarray(c, complex).reshape(-1) for c in coefficients])
    return np.ascontiguousarray(stacked.real if real else stacked)


class ETDStepper:
    """Advances ``(theta, Phi, mu)`` by one frame of ``steps_per_frame`` exponential RK steps.

    Parameters
    ----------
    vm
        The variable-coefficient model (fields and the reference operator ``A_ref``).
    grid
        The periodic grid.
    dt
        Frame interval; the step is ``h = dt / steps_per_frame``.
    steps_per_frame
        Fixed number of steps per frame.
    scheme
        ``"etdrk4"``, ``"etd2"`` or ``"exp_euler"``.
    threads, planner, deterministic
        FFT plans (:class:`tdgl_stt.integrators.forcing.PseudoSpectralForcing`): by default
        single-threaded ``FFTW_ESTIMATE`` plans made without wisdom, so that a run is bitwise
        reproducible in any process (and resumes bit for bit); ``deterministic=False`` uses
        ``planner`` and ``threads`` with the cached wisdom. numexpr threads are the caller's.

    Notes
    -----
    The public state is the spectral ``(theta, Phi, mu)`` of shape ``(3, *grid.spectral_shape)``
    in amplitude normalisation (``rfftn(x)/N``), like :class:`tdgl_stt.integrators.exact.ExactStepper`.
    :meth:`project` loads a state (band-limits it, converts ``Phi`` to ``psi``, imposes the gauge and,
    where ``eps_hat = 0``, the constraint) and returns its image; :meth:`step` advances the
    internal state, which is reloaded only when it is given an array other than its last output.
    :meth:`internal_state` / :meth:`set_internal_state` expose the exact internal state (for
    checkpoints that resume bit for bit).
    """

    def __init__(
        self,
        vm: VariableModel,
        grid: Grid,
        dt: float,
        steps_per_frame: int,
        scheme: str = "etdrk4",
        *,
        threads: int = 1,
        planner: str = "FFTW_ESTIMATE",
        deterministic: bool = True,
    ) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
        if steps_per_frame < 1:
            raise ValueError("steps_per_frame must be >= 1")
        self.vm = vm
        self.grid = grid
        self.dt = float(dt)
        self.steps_per_frame = int(steps_per_frame)
        self.h = self.dt / self.steps_per_frame
        self.scheme = SCHEMES[scheme]
        self.band = SpectralBand(grid, dealias=not vm.uniform)
        self.forcing = PseudoSpectralForcing(vm, grid, self.band, threads=threads, planner=planner, deterministic=deterministic)
        band = self.band
        self.entries: ModeEntries = mode_entries(vm.reference, band.gather(grid.q_lap), band.gather(grid.q_grad))
        self.split: ModeSplit = split_modes(self.entries)
        self.constraint = bool(np.all(self.entries.eps == 0))
        self._build_coefficients()
        shape = band.shape
        self._x = np.zeros((3,) + shape, complex)
        self._N = np.zeros((2,) + shape, complex)  # (n, d) of the current state
        self._last_out: NDArray | None = None
        self._out_full = None
        nbuf = {"exp_euler": 1, "etd2": 2, "etdrk4": 4}[scheme]
        self._Ns = [np.zeros((2,) + shape, complex) for _ in range(nbuf)]
        self._tmp = np.zeros((3,) + shape, complex)
        self._stage = np.zeros((2,) + shape, complex)
        self._next = np.zeros((3,) + shape, complex)
        self.steps_taken = 0

    # ------------------------------------------------------------------ coefficients
    def _forcing_matrix(self, full: NDArray, source: NDArray) -> NDArray:
        """``phi C`` for the raw forcing ``(n, d)``: shape ``(3, 2, *band.shape)``."""
        f = self.forcing
        I_ref = self.vm.reference.I
        G = np.empty((3, 2) + full.shape[2:], complex)
        G[:, 0] = f.n_scale * full[:, 0]
        G[:, 1] = f.d_scale * (full[:, 1] / (2.0 * I_ref) - source)
        return G

    def _build_coefficients(self) -> None:
        e, sp, h = self.entries, self.split, self.h
        shape = self.band.shape

        def rs(a: NDArray) -> NDArray:
            return np.ascontiguousarray(a.reshape(a.shape[:-1] + shape))

        E = propagator(e, h, sp).reshape(3, 3, -1)
        self._P0 = rs(propagator(e, 0.0, sp).reshape(3, 3, -1))
        name = self.scheme.name
        if name == "etdrk4":
            ph = phi_matrices(e, h, 3, sp)
            ph2 = phi_matrices(e, 0.5 * h, 1, sp)
            E2 = propagator(e, 0.5 * h, sp).reshape(3, 3, -1)
            P = 0.5 * h * self._forcing_matrix(ph2.full[1], ph2.source[1])
            Q = np.einsum("ijm,jkm->ikm", E2, P)
            G = [self._forcing_matrix(ph.full[k], ph.source[k]) for k in range(4)]
            F1 = h * (G[1] - 3 * G[2] + 4 * G[3])
            F2 = 2 * h * (G[2] - 2 * G[3])
            F3 = h * (4 * G[3] - G[2])
            QP = Q - P
            # per-mode coefficient streams for the fused kernels (kernels.etdrk4_*); real
            # when A_ref(q) is (no uniform background gradient: the torque term of a is 0)
            real = not np.any(e.a.imag)
            self._Ca = _coefficient_streams([E2[0, 0], E2[0, 1], E2[0, 2], E2[1, 0], E2[1, 1], E2[1, 2],
                                             P[0, 0], P[0, 1], P[1, 0], P[1, 1]], real)
            self._Cb = _coefficient_streams([P[0, 0], P[0, 1], P[1, 0], P[1, 1]], real)
            self._Cc = _coefficient_streams([E[i, j] for i in range(3) for j in range(3)]
                                            + [QP[i, j] for i in range(2) for j in range(2)]
                                            + [2.0 * P[i, j] for i in range(2) for j in range(2)]
                                            + [F1[i, j] for i in range(3) for j in range(2)]
                                            + [F2[i, j] for i in range(3) for j in range(2)], real)
            self._Cf = _coefficient_streams([F3[i, j] for i in range(3) for j in range(2)], real)
        else:
            self._E = rs(E)
            ph = phi_matrices(e, h, 2, sp)
            self._F = [rs(h * self._forcing_matrix(ph.full[k], ph.source[k])) for k in (1, 2)]
        self.phi_methods = np.bincount(ph.method, minlength=5)
        if self.constraint:
            s = e.s.reshape(shape)
            with np.errstate(divide="ignore", invalid="ignore"):
                self._Kc = np.where(s > 0, e.a.reshape(shape) / s, 0.0).astype(complex)
                self._Dc = np.where(s > 0, -self.forcing.d_scale / s, 0.0).astype(complex)

    # ------------------------------------------------------------------ kernels
    @staticmethod
    def _eval(expr: str, out: NDArray, **arrays: NDArray) -> None:
        numexpr.evaluate(expr, local_dict=arrays, out=out, casting="same_kind")

    def _evaluate_N(self, x: NDArray, out: NDArray) -> None:
        self.forcing(x[0], x[1], out[0], out[1])

    def _fix_constraint(self, x: NDArray, N: NDArray) -> None:
        if self.constraint:
            self._eval("k * t + c * d", x[2], k=self._Kc, t=x[0], c=self._Dc, d=N[1])

    def _perturb(self, x: NDArray) -> None:
        """Hook applied to the internal state ``(theta, psi, mu)`` after each step, before ``N`` of
        the new state is formed (first same as last): a no-op here; a noisy subclass adds its
        increment (docs/noise.md)."""

    def _mat3(self, M: NDArray, x: NDArray, out: NDArray, rows: int = 3) -> None:
        for i in range(rows):
            self._eval("m0 * x0 + m1 * x1 + m2 * x2", out[i], m0=M[i, 0], m1=M[i, 1], m2=M[i, 2], x0=x[0], x1=x[1], x2=x[2])

    def _step(self) -> None:
        """One step ``h`` of the scheme from ``(self._x, self._N)``; leaves the new state and its N."""
        x, Nu, out = self._x, self._N, self._next
        name = self.scheme.name
        if name == "exp_euler":
            F1 = self._F[0]
            self._mat3(self._E, x, out)
            for i in range(3):
                self._eval("o + f0 * n + f1 * d", out[i], o=out[i], f0=F1[i, 0], f1=F1[i, 1], n=Nu[0], d=Nu[1])
        elif name == "etd2":
            F1, F2 = self._F
            Na = self._Ns[0]
            a = self._tmp
            self._mat3(self._E, x, a)
            for i in range(3):
                self._eval("o + f0 * n + f1 * d", a[i], o=a[i], f0=F1[i, 0], f1=F1[i, 1], n=Nu[0], d=Nu[1])
            self._evaluate_N(a, Na)
            for i in range(3):
                self._eval("o + f0 * (na - nu) + f1 * (da - du)", out[i], o=a[i], f0=F2[i, 0], f1=F2[i, 1],
                           na=Na[0], nu=Nu[0], da=Na[1], du=Nu[1])
        else:
            self._etdrk4(x, Nu, out)
        self._x, self._next = out, x
        self._perturb(self._x)
        self._evaluate_N(self._x, self._N)
        self._fix_constraint(self._x, self._N)
        self.steps_taken += 1

    def _etdrk4(self, x: NDArray, Nu: NDArray, out: NDArray) -> None:
        """Cox-Matthews ETDRK4 (module docstring) with the fused kernels of
        :mod:`tdgl_stt.integrators.kernels`: stage ``a``, ``b``, then ``c`` together with
        ``E u + F_1 N(u) + F_2 (N(a) + N(b))``, and finally ``+ F_3 N(c)``."""
        M = self.band.size
        Na, Nb, Nc = self._Ns[0], self._Ns[1], self._Ns[2]
        Eu, st = self._tmp[:2], self._stage
        xf, outf, stf, Euf = view_as(x, (3, M)), view_as(out, (3, M)), view_as(st, (2, M)), view_as(Eu, (2, M))
        Nuf, Naf, Nbf = view_as(Nu, (2, M)), view_as(Na, (2, M)), view_as(Nb, (2, M))
        etdrk4_stage_a(self._Ca, xf, Nuf, Euf, stf)
        self._evaluate_N(st, Na)
        etdrk4_stage_b(self._Cb, Euf, Naf, stf)
        self._evaluate_N(st, Nb)
        etdrk4_stage_c(self._Cc, xf, Nuf, Naf, Nbf, stf, outf)
        self._evaluate_N(st, Nc)
        etdrk4_final(self._Cf, view_as(Nc, (2, M)), outf)

    # ------------------------------------------------------------------ public
    @property
    def ffts_per_step(self) -> int:
        """Real FFTs per step (the evaluations of N times the FFTs per evaluation)."""
        return self.scheme.evaluations * self.forcing.ffts_per_evaluation

    @property
    def n_fallback(self) -> int:
        """Modes whose reference split is untrusted (their phi-functions use the 3x3 A itself)."""
        return int(np.count_nonzero(self.split.fallback))

    def checkpoint_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """The arrays of a restart checkpoint: the internal state on the retained modes."""
        return {"etd_state": ((3,) + self.band.shape, np.dtype(np.complex128))}

    def checkpoint_arrays(self, x: NDArray[np.complex128]) -> dict[str, NDArray[np.complex128]]:
        """A copy of the internal state behind ``x`` (the last output of :meth:`step`)."""
        if x is not self._last_out:
            raise ValueError("a checkpoint must be taken of the stepper's last output")
        return {"etd_state": self.internal_state()}

    def restore(self, arrays: dict[str, NDArray[np.complex128]]) -> NDArray[np.complex128]:
        """Continue from a checkpoint of :meth:`checkpoint_arrays`; returns its ``(theta, Phi, mu)``."""
        self.set_internal_state(np.asarray(arrays["etd_state"]))
        out = self.physical_state()
        self._last_out = out
        return out

    def internal_state(self) -> NDArray[np.complex128]:
        """A copy of the exact internal state ``(theta, psi, mu)`` on the retained modes."""
        return self._x.copy()

    def set_internal_state(self, x: NDArray[np.complex128]) -> None:
        """Restore a state from :meth:`internal_state` (bit for bit)."""
        self._x[...] = x
        self._evaluate_N(self._x, self._N)
        self._last_out = None

    def load(self, x: NDArray[np.complex128]) -> None:
        """Set the internal state from a spectral ``(theta, Phi, mu)`` (see :meth:`project`)."""
        band, grid = self.band, self.grid
        xc = band.gather(np.asarray(x, dtype=complex))
        if not self.vm.uniform:
            axes = tuple(range(grid.ndim))
            full = np.zeros(grid.spectral_shape, complex)
            band.scatter(xc[1], full)
            phi = np.fft.irfftn(full, s=grid.shape, axes=axes, norm="forward")
            psi = band.gather(np.fft.rfftn(self.vm.psi_from_phi(phi), axes=axes, norm="forward"))
            xc[1] = psi
        # U(q, 0): the gauge mu_0 = 0 and, where eps_hat = 0, the reference constraint.
        self._x = np.ascontiguousarray(np.einsum("ij...,j...->i...", self._P0, xc))
        self._next = np.empty_like(self._x)
        self._evaluate_N(self._x, self._N)
        self._fix_constraint(self._x, self._N)

    def physical_state(self, out: NDArray[np.complex128] | None = None) -> NDArray[np.complex128]:
        """The spectral ``(theta, Phi, mu)`` of the internal state, ``Phi = (band-limited) r psi``."""
        if out is None:
            out = np.empty((3,) + self.grid.spectral_shape, complex)
        comp = self._x.copy()
        if not self.vm.uniform:
            comp[1] += (0.5 * self.forcing.n_scale) * self._N[0]
        self.band.scatter(comp, out)
        return out

    def project(self, x: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Load ``x`` and return the state actually evolved (band-limited to the 2/3 rule when the
        coefficients vary, with the gauge and the constraint imposed)."""
        self.load(x)
        out = self.physical_state()
        self._last_out = out
        return out

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps of the internal state."""
        for _ in range(n_steps):
            self._step()

    def step(self, x: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Advance one frame (``steps_per_frame`` steps) and return the new ``(theta, Phi, mu)``."""
        if x is not self._last_out:
            self.load(x)
        self.advance(self.steps_per_frame)
        out = self.physical_state()
        self._last_out = out
        return out
