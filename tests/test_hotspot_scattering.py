"""A Carlson-Goldman wave packet crossing a hot spot: the wave-packet construction is a pure
right-moving mode, and the reflected (left-moving) part vanishes with the spot's amplitude and
grows with it, linearly at first (Born approximation)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from tdgl_stt.bcs import bcs_gap
from tdgl_stt.config import ModelConfig
from tdgl_stt.grid import Grid
from tdgl_stt.integrators.etd import ETDStepper
from tdgl_stt.integrators.exact import ExactStepper
from tdgl_stt.packets import branch_amplitudes, wave_packet
from tdgl_stt.params import coefficients_from_model
from tdgl_stt.profiles import TemperatureProfile
from tdgl_stt.variable_model import variable_model

TC = 1.0
#: A clean wire near T_c (d = 1, tau = 10, T = 0.8 Tc): v_G = 0.652, gamma_G = 0.026, q_G = 0.040.
MODEL = ModelConfig(Delta=1.0, T=0.8, vF=1.0, d=1, tau=10.0, coulomb="none", grad_T=(0.0,))
GRID = Grid((512,), (400.0,))
Q0, SIGMA, X0, XS, WIDTH = 0.5, 20.0, 100.0, 200.0, 2.5


def base() -> object:
    return coefficients_from_model(replace(MODEL, Delta=bcs_gap(MODEL.T, TC)))


def test_packet_is_a_pure_moving_mode():
    """The packet has no left-moving part, its theta is the Gaussian-enveloped cosine, and in the
    uniform medium it moves at the group velocity and decays at gamma_G (exact propagator)."""
    c = base()
    X = wave_packet(c, GRID, (Q0,), SIGMA, (X0,))
    amp = branch_amplitudes(c, GRID, X)
    assert np.abs(amp[1]).max() < 1e-14 * np.abs(amp[0]).max()
    x = GRID.coords()["x"]
    theta = np.fft.irfft(X[0] * GRID.size, GRID.n[0])
    expected = sum(np.exp(-((x - X0 + m * 400.0) ** 2) / (2 * SIGMA**2)) * np.cos(Q0 * (x - X0 + m * 400.0)) for m in (-1, 0, 1))
    np.testing.assert_allclose(theta, expected, atol=1e-13)  # periodic: with its images
    t = 150.0 / c.v_G
    U = ExactStepper(c, GRID, t)
    Y = U.step(U.project(X))
    thetat = np.fft.irfft(Y[0] * GRID.size, GRID.n[0])
    centre = np.sum(x * thetat**2) / np.sum(thetat**2)
    vg = c.v_G**2 * Q0 / math.sqrt(c.v_G**2 * Q0**2 - c.gamma_G**2)  # d Re w / dq of the CG root
    assert abs(centre - (X0 + vg * t)) < 0.5


def reflection(amplitude: float) -> tuple[float, float]:
    """(R, T): left- and right-moving norms after the crossing, relative to the packet that crossed
    the uniform medium in the same time."""
    c = base()
    X = wave_packet(c, GRID, (Q0,), SIGMA, (X0,))
    norm0 = np.linalg.norm(branch_amplitudes(c, GRID, X)[0])
    prof = TemperatureProfile("gaussian", amplitude=amplitude, width=WIDTH, center=(XS,))
    vm = variable_model(MODEL, TC, prof, GRID)
    t_end = 200.0 / c.v_G
    stepper = ETDStepper(vm, GRID, t_end / 4, 40, "etdrk4")
    Y = stepper.project(X)
    for _ in range(4):
        Y = stepper.step(Y)
    amp = branch_amplitudes(c, GRID, Y)
    decay = norm0 * math.exp(-c.gamma_G * t_end)
    return float(np.linalg.norm(amp[1]) / decay), float(np.linalg.norm(amp[0]) / decay)


def test_reflection_vanishes_with_the_amplitude_and_grows_with_it():
    r0, t0 = reflection(0.0)
    assert r0 < 1e-12 and abs(t0 - 1) < 1e-12
    amps = (0.005, 0.01, 0.02)
    R = [reflection(a)[0] for a in amps]
    assert R[0] > 1e-3 and R[0] < R[1] < R[2]
    # Born approximation: the reflected amplitude is linear in the spot's amplitude.
    assert abs(R[1] / R[0] - 2) < 0.15 and abs(R[2] / R[1] - 2) < 0.25
