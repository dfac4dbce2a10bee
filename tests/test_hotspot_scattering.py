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


def test_2d_packet_is_the_documented_real_field():
    """In 2D, a packet at an angle to the axes is ``A exp(-|x - x0|^2/(2 sigma^2)) cos(q0.(x - x0))``
    in theta, with real Phi and mu: the half of its envelope with k_y < 0 lives in the rfft half
    spectrum as the conjugate partner near -q0, which the construction must include. The only
    differences allowed are the envelope beyond the grid's wavenumbers and its periodic images,
    both below 1e-40 here (exp(-(k_Nyquist - |q0|)^2 sigma^2/2), exp(-(L/2)^2/(2 sigma^2)))."""
    m = ModelConfig(Delta=0.3, T=1.0, vF=1.0, d=3, tau=1.0, coulomb="bulk", ks=3.0, grad_T=(0.02, 0.01))
    grid = Grid((128, 96), (200.0, 150.0))
    q0, sigma, x0, amp = (2 * math.pi * 5 / 200.0, 2 * math.pi * 3 / 150.0), 8.0, (90.0, 70.0), 0.7
    X = wave_packet(coefficients_from_model(m), grid, q0, sigma, x0, amp)
    fields = np.fft.irfftn(X, s=grid.shape, axes=(1, 2), norm="forward")
    c = grid.coords()
    dx, dy = np.meshgrid(c["x"] - x0[0], c["y"] - x0[1], indexing="ij")
    expected = amp * np.exp(-(dx**2 + dy**2) / (2 * sigma**2)) * np.cos(q0[0] * dx + q0[1] * dy)
    assert np.max(np.abs(fields[0] - expected)) < 1e-13 * amp
    # the spectrum is that of real fields (the k_y = 0 plane Hermitian) for all three
    back = np.fft.rfftn(fields, axes=(1, 2), norm="forward")
    assert np.max(np.abs(back - X)) < 1e-14 * np.max(np.abs(X))
