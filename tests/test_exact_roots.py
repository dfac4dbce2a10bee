"""The exact modes: eigenvalues of A(q) against the paper's det M(q, w) = 0 (Eq. 17).

The reference polynomial is built here from the paper's matrix entries, independently of
tdgl_stt.model, and solved with mpmath at 50 digits.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from physics_cases import CASES, model
from tdgl_stt.api import exact_modes
from tdgl_stt.params import coefficients_from_model

mpmath.mp.dps = 50


class MP:
    """A polynomial in w with mpmath coefficients (lowest order first), exact enough for 50 digits."""

    def __init__(self, coef):
        self.c = [mpmath.mpc(v) for v in coef]

    def __add__(self, o):
        o = o if isinstance(o, MP) else MP([o])
        n = max(len(self.c), len(o.c))
        return MP([(self.c[i] if i < len(self.c) else 0) + (o.c[i] if i < len(o.c) else 0) for i in range(n)])

    __radd__ = __add__

    def __sub__(self, o):
        return self + (o * -1 if isinstance(o, MP) else MP([-mpmath.mpc(o)]))

    def __mul__(self, o):
        o = o if isinstance(o, MP) else MP([o])
        out = [mpmath.mpc(0)] * (len(self.c) + len(o.c) - 1)
        for i, a in enumerate(self.c):
            for j, b in enumerate(o.c):
                out[i + j] += a * b
        return MP(out)

    __rmul__ = __mul__

    def __truediv__(self, x):
        return MP([v / mpmath.mpc(x) for v in self.c])


def paper_det_polynomial(c, q: np.ndarray) -> MP:
    """``w * 2 Delta^2 * det M(q, w)`` of Eq. 17 as a polynomial in w, in 50-digit arithmetic.

    Entries (per N0; the torque is Eq. 14's ``delta chi_yy / N0 = -i q.v_T / T``), with the
    relaxation prescription ``w -> w + i/tau_E`` on the gauge-invariant potential
    (row 2 multiplied by w before the shift):

        M11 = ((w + i/tauE) w I - c^2 q^2) / (2 Delta^2) - i q.v_T / T
        M12 = i (w + i/tauE) I / Delta,     M21' = -i (w + i/tauE) I w / Delta
        M22' = 2 I (w + i/tauE) + 2 i D q^2 + w / (N0 V_q)
    """
    f = lambda v: mpmath.mpf(float(v))  # noqa: E731 - exact copies of the double inputs
    w = MP([0, 1])
    g = mpmath.mpf(0) if math.isinf(c.tauE) else 1 / f(c.tauE)
    wg = w + 1j * g
    q2 = sum(f(v) ** 2 for v in q)
    qv = sum(f(a) * f(b) for a, b in zip(q, c.vT))
    if c.coulomb == "none":
        eps = mpmath.mpf(0)
    elif c.coulomb == "bulk":
        eps = q2 / f(c.ks) ** 2
    else:
        eps = mpmath.sqrt(q2) / f(c.ks)
    I, D, Delta, T, c2 = f(c.I), f(c.D), f(c.Delta), f(c.T), f(c.c2)
    M11 = (wg * w * I - c2 * q2) / (2 * Delta**2) + MP([-1j * qv / T])
    M12 = wg * (1j * I / Delta)
    M21 = wg * w * (-1j * I / Delta)
    M22 = wg * (2 * I) + MP([2j * D * q2]) + w * eps
    return (M11 * M22 - M12 * M21) * (2 * Delta**2)


def reference_roots(poly: MP) -> list[complex]:
    coef = list(poly.c)
    while abs(coef[-1]) == 0:
        coef = coef[:-1]
    try:  # mpmath >= 1.4 wants ascending order
        roots = mpmath.polyroots(coef, maxsteps=400, extraprec=400, asc=True)
    except TypeError:  # mpmath 1.3
        roots = mpmath.polyroots(coef[::-1], maxsteps=400, extraprec=400)
    return [complex(r) for r in roots]


def assert_roots_match(got, ref, context, rtol=1e-10):
    """Every reference root has a computed root within rtol.

    A double root (the Carlson-Goldman point) is ill-conditioned: its members move by
    sqrt(eps_machine) under a rounding of q. There each member is compared to sqrt(eps), and the
    pair through its sum and product, which are well conditioned, to rtol.
    """
    got = list(got)
    assert len(got) == len(ref), (context, got, ref)
    for r in ref:
        others = [x for x in ref if x is not r]
        partner = min(others, key=lambda x: abs(x - r)) if others else None
        near_double = partner is not None and abs(partner - r) < 1e-6 * abs(r)
        tol = (rtol + (4e-8 if near_double else 0.0)) * abs(r)
        assert min(abs(v - r) for v in got) <= tol, (context, r, got)
        if near_double:
            pair = sorted(got, key=lambda v: abs(v - r))[:2]
            assert abs(sum(pair) - (r + partner)) <= rtol * abs(r), (context, "sum", pair, r, partner)
            assert abs(pair[0] * pair[1] - r * partner) <= rtol * abs(r) ** 2, (context, "product")


def wavevectors(ndim: int, q_G: float) -> np.ndarray:
    mags = q_G * np.array([0.05, 0.4, 0.999, 1.0, 1.7, 12.0, 300.0])
    if ndim == 1:
        return np.concatenate([mags, -mags])[:, None]
    ang = np.array([0.0, 0.7, 1.9, 3.5])
    return np.array([[m * math.cos(a), m * math.sin(a)] for m in mags for a in ang])


@pytest.mark.parametrize("label,m", CASES, ids=[c[0] for c in CASES])
def test_eigenvalues_equal_roots_of_paper_determinant(label, m):
    c = coefficients_from_model(m)
    qs = wavevectors(len(c.vT), c.q_G)
    table = exact_modes(c, qs)
    for q, w in zip(qs, table.omega):
        ref = reference_roots(paper_det_polynomial(c, q))
        assert_roots_match([v for v in w if np.isfinite(v)], ref, (label, q))


def test_carlson_goldman_mode_is_exact_for_neutral_untorqued_model():
    """eps_hat = 0, no torque, tau_E = inf: w = +-(v_G^2 q^2 - gamma_G^2)^(1/2) - i gamma_G (paper, below Eq. 9)."""
    c = coefficients_from_model(model())
    q = c.q_G * np.array([0.2, 0.9, 1.0, 1.1, 5.0, 80.0])
    w = exact_modes(c, q).omega
    root = np.sqrt((c.v_G * q) ** 2 - c.gamma_G**2 + 0j)
    cg = np.column_stack([root - 1j * c.gamma_G, -root - 1j * c.gamma_G])
    for wn, cn in zip(w[:, :2], cg):
        assert_roots_match(wn, list(cn), "CG", rtol=1e-13)
    assert np.all(np.isnan(w[:, 2]))


def test_plasmon_of_eq7_exact_root():
    """T = 0 (I = 1, D = 0, n_s/n = 1), bulk: the Eq. 7 matrix gives w^2 = c^2 q^2 (2 + eps_hat)/eps_hat."""
    m = model(coulomb="bulk", ks=5.0, I=1.0, D=0.0, ns_over_n=1.0)
    c = coefficients_from_model(m)
    q = np.array([0.01, 0.3, 2.0, 40.0])
    w = exact_modes(c, q).omega
    eps = (q / c.ks) ** 2
    wp = np.sqrt(c.c2 * q**2 * (2 + eps) / eps)
    live = np.sort(w.real, axis=1)
    np.testing.assert_allclose(live[:, 2], wp, rtol=1e-13)
    np.testing.assert_allclose(live[:, 0], -wp, rtol=1e-13)
    np.testing.assert_allclose(np.abs(w.imag).max(axis=1), 0, atol=1e-13 * wp.max())


def test_stiff_bulk_tends_to_neutral_constraint():
    """As k_s -> inf, eps_hat -> 0: the bulk slow roots approach the eps_hat = 0 roots, the
    deviation shrinking like 1/k_s^2 (the dielectric rate 2 D k_s^2 grows)."""
    q = np.array([0.02, 0.07, 0.5])
    neutral = exact_modes(coefficients_from_model(model(grad_T=0.05)), q).omega[:, :2]
    devs = []
    for ks in (1e3, 1e4, 1e5, 1e6, 1e8):
        w = exact_modes(coefficients_from_model(model(coulomb="bulk", ks=ks, grad_T=0.05)), q).omega[:, :2]
        devs.append(np.max(np.abs(w - neutral) / np.abs(neutral)))
    ratios = np.array(devs[:3]) / np.array(devs[1:4])
    np.testing.assert_allclose(ratios, 100.0, rtol=0.05)
    assert devs[-1] < 1e-14 * 1e2  # round-off level: 1e-16 * (1e8)^2 / 1e4 would be visible if lost


def test_symmetry_q_and_gradient_reversal():
    """w(q, grad T) = w(-q, -grad T) (inversion), and w(-q, grad T) = -conj w(q, grad T) (reality)."""
    for angle in (0.0, 0.9):
        c1 = coefficients_from_model(model(2, coulomb="film", ks=0.5, d=2, grad_T=0.05, angle=angle))
        c2 = coefficients_from_model(model(2, coulomb="film", ks=0.5, d=2, grad_T=-0.05, angle=angle))
        q = np.array([[0.03, 0.01], [0.2, -0.4], [1.0, 2.0]])
        w = exact_modes(c1, q).omega
        np.testing.assert_allclose(np.sort_complex(exact_modes(c2, -q).omega), np.sort_complex(w), rtol=1e-13)
        wr = exact_modes(c1, -q).omega
        np.testing.assert_allclose(np.sort_complex(-np.conj(wr)), np.sort_complex(w), rtol=1e-13)


@pytest.mark.parametrize("label,m,q", [
    # Eq. 21's regime (Delta/T = 1e-3, strong torque): the overdamped root is ~1e-9 of the other.
    ("eq21-regime", model(Delta=0.001, tau=10.0, grad_T=2.24e-8), np.array([2.24e-10, 2.24e-9, 2.24e-8])),
    # q << q_G: -i D q^2/I next to -2 i gamma_G.
    ("far-below-q_G", model(), 0.5823 * np.array([1e-4, 1e-3])),
    ("far-below-q_G-bulk", model(coulomb="bulk", ks=1e4, grad_T=1e-3), 0.5823 * np.array([1e-4, 1e-3])),
])
def test_widely_separated_slow_pair_keeps_the_small_root_to_round_off(label, m, q):
    """The smaller slow root must not be the difference of two large numbers: it was computed
    as m - delta and lost up to 8e-8 relative in Eq. 21's regime before it came from p/larger."""
    c = coefficients_from_model(m)
    for qn in q:
        w = exact_modes(c, np.array([[qn]])).omega[0]
        # neutral: the w^3 terms of det M cancel only to ~1e-50 in 50 digits, leaving a spurious
        # root near 1e35 (not a root of the model); and w * det M adds the root w = 0.
        ref = [r for r in reference_roots(paper_det_polynomial(c, [qn])) if 0 < abs(r) < 1e20]
        assert_roots_match([v for v in w if np.isfinite(v)], ref, (label, qn), rtol=1e-13)
