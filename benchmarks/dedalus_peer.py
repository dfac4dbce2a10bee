r"""Dedalus 3 on the benchmark problems of :mod:`benchmarks.peers`: the uniform problem here, the
hot-spot problem in :mod:`benchmarks.hotspot_peers` (which uses the helpers of this module).

Equations (1)-(3) of DESIGN section 2 with uniform coefficients, written for Dedalus' IVP
(linear terms on the left, integrated implicitly by the IMEX timestepper; nothing on the right):

.. math::

    \partial_t\theta - 2\Phi + 2\mu = 0, \\
    I\,\partial_t\Phi + I g\,\Phi - \tfrac{c^2}{2}\nabla^2\theta
        + (\Delta^2/T)\,v_T\cdot\nabla\theta = 0, \\
    -\partial_t \nabla^2\mu / k_s^2 - 2D\nabla^2\mu + c^2\nabla^2\theta
        - 2(\Delta^2/T)\,v_T\cdot\nabla\theta + \tau_\mu = 0, \qquad \int\mu\,dx = 0 .

The bulk Coulomb kernel ``eps_hat = (q/k_s)^2`` is ``-lap/k_s^2`` in real space, so equation (3)
has ``d/dt`` of ``-lap(mu)/k_s^2`` on the left: its dielectric rate ``2 D k_s^2`` (~1e8 here) is
then inside the implicit solve, as it must be. At ``q = 0`` equation (3) is empty (both
``eps_hat`` and ``D q^2`` vanish): ``mu_0`` is a gauge, fixed by the constant tau variable
``tau_mu`` and the constraint ``integ(mu) = 0`` (the gauge of tdgl-stt and of the exact roots).

Basis: ``RealFourier`` on every axis, of the problem's size, ``dealias = 1`` (there are no
products). Dedalus' grid is ``x_j = j L/n`` like tdgl-stt's; its ``RealFourier`` drops the Nyquist
mode, which the problems set to zero. States go in and out through grid space: the amplitude
spectrum ``X`` (``rfftn(x)/N``, peers' normalisation) is ``rfftn(field['g'])/N``, and a field is set
by ``field['g'] = irfftn(X N)``, which avoids mapping Dedalus' cos/-sin coefficient layout by hand
(``tests/test_benchmark_dedalus.py`` checks the round trip and one mode against its exact root).

Output: after every frame the three fields are brought to grid space as Dedalus' own evaluator
does for its output handlers: a copy of the coefficients into an output field, transformed to
grid space (the state stays in coefficient space for the next step).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

import peers

SCHEMES = ("RK443", "SBDF2")

INSTALL_HELP = """Dedalus is not importable, so its rows are null. To install it (needs MPI and FFTW/HDF5 headers):
  Debian/Ubuntu: sudo apt-get install libopenmpi-dev libfftw3-dev libfftw3-mpi-dev libhdf5-mpi-dev
                 CC=mpicc pip install dedalus        (add --no-binary=h5py for an MPI-enabled h5py)
  or conda:      conda install -c conda-forge dedalus"""


def import_dedalus() -> Any:
    """``dedalus.public`` with its stdout logging lowered to warnings; raises ImportError (or
    whatever a broken MPI installation raises) when Dedalus is absent."""
    import dedalus.public as d3  # noqa: PLC0415
    from dedalus.tools import logging as dlog  # noqa: PLC0415

    handler = getattr(dlog, "stdout_handler", None)
    if handler is not None:
        handler.setLevel(logging.WARNING)
    return d3


def available() -> tuple[bool, str]:
    """(True, version) when Dedalus imports, else (False, the reason)."""
    try:
        import_dedalus()
        import dedalus  # noqa: PLC0415

        return True, f"dedalus {dedalus.__version__}"
    except Exception as exc:  # ImportError, or a broken MPI install
        return False, f"{type(exc).__name__}: {exc}"


@dataclass
class Domain:
    """Dedalus coordinates, distributor and RealFourier bases of a periodic box.

    Attributes
    ----------
    d3
        ``dedalus.public``.
    coords
        ``Coordinate('x')`` in 1D, ``CartesianCoordinates('x', 'y')`` in 2D.
    dist
        The distributor (one process, float64 grid data).
    bases
        One ``RealFourier`` per axis, ``size`` points over ``L``, with ``dealias``.
    """

    d3: Any
    coords: Any
    dist: Any
    bases: tuple

    @classmethod
    def build(cls, size: tuple[int, ...], L: tuple[float, ...], dealias: float) -> Domain:
        d3 = import_dedalus()
        names = ("x", "y", "z")[: len(size)]
        coords = d3.Coordinate("x") if len(size) == 1 else d3.CartesianCoordinates(*names)
        dist = d3.Distributor(coords, dtype=np.float64)
        axis = (lambda i: coords) if len(size) == 1 else (lambda i: coords[names[i]])
        bases = tuple(d3.RealFourier(axis(i), size=n, bounds=(0.0, Li), dealias=dealias)
                      for i, (n, Li) in enumerate(zip(size, L)))
        return cls(d3, coords, dist, bases)

    def coord(self, i: int) -> Any:
        """The i-th coordinate (for ``Differentiate``)."""
        return self.coords if len(self.bases) == 1 else self.coords[("x", "y", "z")[i]]

    def field(self, name: str) -> Any:
        return self.dist.Field(name=name, bases=self.bases)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(b.size for b in self.bases)


def set_amplitudes(field: Any, X: np.ndarray, shape: tuple[int, ...]) -> None:
    """Set a Dedalus field from its amplitude half-spectrum ``X`` (``rfftn(f)/N``) on the grid of
    ``shape`` points (the field's scale-1 grid)."""
    field.change_scales(1)
    field["g"] = np.fft.irfftn(X, s=shape, axes=tuple(range(len(shape))), norm="forward")


def amplitudes(field: Any) -> np.ndarray:
    """The amplitude half-spectrum ``rfftn(f)/N`` of a Dedalus field's grid values (scale 1)."""
    field.change_scales(1)
    g = np.asarray(field["g"])
    return np.fft.rfftn(g, axes=tuple(range(g.ndim)), norm="forward")


class FrameOutput:
    """The three output fields of a frame in grid space: coefficients copied into separate
    fields and transformed there (what Dedalus' evaluator does for an output handler), so the
    state itself stays in coefficient space."""

    def __init__(self, dom: Domain, fields: list[Any]) -> None:
        self.fields = fields
        self.outs = [dom.field(f"out_{f.name}") for f in fields]

    def __call__(self) -> None:
        for f, o in zip(self.fields, self.outs):
            o.preset_layout("c")
            np.copyto(o.data, f["c"])
            o.change_layout("g")


def uniform_solver(p: peers.Problem, scheme: str) -> tuple[Any, list[Any], Domain]:
    """Dedalus IVP solver of equations (1)-(3) (module docstring) for ``p``'s coefficients, with
    the state ``(theta, Phi, mu)`` set to ``p.x0``. Returns the solver, the three state fields and
    the domain."""
    c = p.coeffs
    if c.coulomb != "bulk":
        raise ValueError("the Dedalus formulation here is for the bulk Coulomb kernel eps_hat = (q/ks)^2")
    dom = Domain.build(p.grid.shape, p.grid.L, dealias=1.0)
    d3 = dom.d3
    theta, Phi, mu = dom.field("theta"), dom.field("Phi"), dom.field("mu")
    tau_mu = dom.dist.Field(name="tau_mu")
    I, c2, D, ks, g = c.I, c.c2, c.D, c.ks, c.g
    # (Delta^2/T) v_T . grad theta
    torque = 0
    for i, v in enumerate(c.vT):
        if v != 0.0:
            torque = torque + (c.torque_prefactor * v) * d3.Differentiate(theta, dom.coord(i))
    lap = d3.lap
    problem = d3.IVP([theta, Phi, mu, tau_mu], namespace={})
    problem.add_equation((d3.dt(theta) - 2 * Phi + 2 * mu, 0))
    problem.add_equation((I * d3.dt(Phi) + I * g * Phi - (c2 / 2) * lap(theta) + torque, 0))
    problem.add_equation((-d3.dt(lap(mu)) / ks**2 - 2 * D * lap(mu) + c2 * lap(theta) - 2 * torque + tau_mu, 0))
    problem.add_equation((d3.integ(mu), 0))
    solver = problem.build_solver(getattr(d3, scheme))
    for f, X in zip((theta, Phi, mu), p.x0):
        set_amplitudes(f, X, p.grid.shape)
    return solver, [theta, Phi, mu], dom


def run_uniform(p: peers.Problem, scheme: str, steps_per_frame: int,
                max_seconds: float | None = None) -> peers.Result:
    """Dedalus on the uniform problem ``p`` with the fixed step ``h = p.dt / steps_per_frame``,
    the three fields in grid space after every frame. The wall time includes the set-up (bases,
    problem, the factorisation of the implicit matrices at the first step); the error is
    :meth:`peers.Problem.error` of the final state (outside the timing)."""
    t0 = time.perf_counter()
    solver, state, dom = uniform_solver(p, scheme)
    out = FrameOutput(dom, state)
    h = p.dt / steps_per_frame
    setup = time.perf_counter() - t0
    info = {"scheme": scheme, "steps_per_frame": steps_per_frame, "h": h, "setup_seconds": setup}
    deadline = None if max_seconds is None else t0 + max_seconds
    for _ in range(p.frames):
        for _ in range(steps_per_frame):
            solver.step(h)
        out()
        if deadline is not None and time.perf_counter() > deadline:
            return peers.Result(float("nan"), float("nan"), {**info, "status": f"stopped after {max_seconds} s"})
    seconds = time.perf_counter() - t0
    xT = np.array([amplitudes(o) for o in out.outs])
    if abs(solver.sim_time - p.t_final) > 0.5 * h:  # the right number of steps (sim_time accumulates h)
        raise RuntimeError(f"Dedalus stopped at t = {solver.sim_time}, not {p.t_final}")
    return peers.Result(seconds, p.error(xT), {**info, "status": "ok", "steps": p.frames * steps_per_frame})
