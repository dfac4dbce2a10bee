"""The canonical runs of ``runs/`` (one per regime of the paper), reduced, end to end.

Each canonical run is loaded from its file and shrunk: fewer grid points (same box, so the analysed
wavevectors ``q = 2 pi k/L`` stay on the grid) and fewer frames (same ``dt``); every physics
parameter is kept. The run goes config -> runner -> NetCDF -> analyzer, and four properties are
checked:

1. every resolved simulated mode at the analysed wavevectors equals an exact root to 1e-7 relative;
2. the symmetry ``w(q, grad T) = w(-q, -grad T)``, from two simulations;
3. the torque's effect is linear in ``grad T``: ``dw(2g) - 2 dw(g)`` is bounded by the second-order
   term of perturbation theory, and ``dw(g)`` matches the first-order term;
4. the instability threshold located by a scan of simulations equals the root of ``Im w(grad T) = 0``
   of the exact roots.

The references are the exact roots (:func:`tdgl_stt.api.exact_modes`) and, written out here
independently of the package's model code, the determinant of the paper's Eq. 17 with the torque of
Eqs. 14-15 (:func:`eq17`): the package's exact roots are checked against it, and the perturbative
derivatives of tests 3 come from it. No expected value is copied from program output.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from tdgl_stt.analysis.compare import analyze_modes
from tdgl_stt.analysis.spectra import WavevectorSelection
from tdgl_stt.api import exact_modes
from tdgl_stt.config import RunConfig, load_config
from tdgl_stt.io_netcdf import open_run
from tdgl_stt.params import Coefficients, coefficients_from_model
from tdgl_stt.runner import run

RUNS = Path(__file__).resolve().parents[1] / "runs"

#: Relative agreement of a simulated mode with its exact root. 1e-7 is achievable because neither
#: step has a truncation error: the propagator advances each Fourier mode by exp(A(q) dt), built
#: from the exact roots, so the sampled Fourier amplitude is a sum of damped exponentials with the
#: exact frequencies up to round-off; and a noise-free sum of exponentials is recovered exactly (up
#: to round-off times the conditioning of its Hankel matrix) by the matrix pencil + least-squares
#: extraction. Observed in these reduced runs: 5e-16 .. 3e-13 of |w|, and 4e-11 for the film's slow
#: diffusive root, whose |w| is 3000 times below the plasmon's at the same q (the round-off scales
#: with the largest rate in the series). Each part (Re, Im) is held to 1e-7 of |w_exact|: a part
#: many orders below |w| (the round-off Im of the undamped T = 0 plasmon, the 1e-6 Re of the film's
#: diffusive root) cannot be held to 1e-7 of itself.
RTOL = 1e-7

#: Analysed integer wavevectors of each canonical run (listed in the comment block of each file),
#: and the reduced size: points per axis (above 2 max|k|) and frames.
CANONICAL = {
    "t0_plasmon": {"k": [(1,), (2,), (3,), (4,), (6,)], "n": 14, "n_frames": 200},
    "cg_neutral": {"k": [(1,), (2,), (4,), (8,), (16,), (30,)], "n": 62, "n_frames": 300},
    "cg_bulk": {"k": [(1,), (2,), (4,), (8,), (16,), (30,)], "n": 62, "n_frames": 300},
    "cg_torque_eq20": {"k": [(4,), (5,), (6,), (7,), (8,), (9,)], "n": 20, "n_frames": 200},
    "cg_torque_eq21": {"k": [(2,), (3,), (4,)], "n": 10, "n_frames": 400},
    "film_torque_eq22": {
        "k": [(2, 0), (3, 0), (4, 0), (2, 2), (3, 3), (0, 2), (0, 3), (0, 4), (-2, 2), (-3, 3), (-2, 0), (-3, 0), (-4, 0)],
        "n": 10, "n_frames": 150},
    "overdamped_eq23": {"k": [(1,), (2,), (4,), (7,), (10,), (14,)], "n": 30, "n_frames": 300},
    "instability": {"k": [(2,), (4,), (8,), (12,), (15,)], "n": 32, "n_frames": 200},
}


# --- configs and runs ---------------------------------------------------------------------------

def reduced(name: str, grad_T: tuple[float, ...] | None = None) -> RunConfig:
    """The canonical run ``name``, reduced in grid points and frames (physics unchanged unless
    ``grad_T`` is given)."""
    cfg = load_config(RUNS / f"{name}.toml")
    spec = CANONICAL[name]
    ndim = len(cfg.grid.n)
    assert all(2 * abs(ki) < spec["n"] for k in spec["k"] for ki in k), "reduced grid must keep the analysed k"
    cfg = dataclasses.replace(
        cfg,
        grid=dataclasses.replace(cfg.grid, n=(spec["n"],) * ndim),
        time=dataclasses.replace(cfg.time, n_frames=spec["n_frames"]),
    )
    if grad_T is not None:
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, grad_T=tuple(float(g) for g in grad_T)))
    return cfg


@pytest.fixture(scope="module")
def simulate(tmp_path_factory):
    """``simulate(name, grad_T=None)`` -> (config, dataset), each distinct run done once per module."""
    root = tmp_path_factory.mktemp("regimes")

    @cache
    def _sim(name: str, grad_T: tuple[float, ...] | None = None):
        cfg = reduced(name, grad_T)
        tag = "canonical" if grad_T is None else "_".join(f"{g:.6e}" for g in grad_T)
        path = root / f"{name}_{tag}.nc"
        res = run(cfg, output=path, progress=False, log=lambda m: None)
        assert res.status == "complete" and res.frames_written == cfg.time.n_frames + 1, res
        return cfg, open_run(path)

    return _sim


def wavevectors(cfg: RunConfig, ks) -> np.ndarray:
    return 2 * np.pi * np.asarray(ks, dtype=float) / np.asarray(cfg.grid.L, dtype=float)[None, :]


def simulated_modes(cfg: RunConfig, ds, ks) -> dict[tuple[int, ...], list[complex]]:
    """Resolved simulated complex frequencies at each integer wavevector of ``ks``."""
    sel = WavevectorSelection(k=np.asarray(ks, dtype=int).reshape(len(ks), -1), L=tuple(float(v) for v in cfg.grid.L))
    rows = analyze_modes(ds, sel)
    out: dict[tuple[int, ...], list[complex]] = {tuple(k): [] for k in ks}
    qs = sel.q
    for r in rows:
        if not r.resolved:
            continue
        i = int(np.argmin(np.linalg.norm(qs - np.asarray(r.q)[None, :], axis=1)))
        out[tuple(ks[i])].append(complex(r.omega_re, r.omega_im))
    return out


def close(w: complex, ref: complex, scale: float, rtol: float = RTOL) -> bool:
    """Real and imaginary parts each within ``rtol * scale``."""
    return abs(w.real - ref.real) <= rtol * scale and abs(w.imag - ref.imag) <= rtol * scale


# --- the paper's Eq. 17, written out ------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Eq17:
    """``F(w) = i w (2 Delta^2) det M(q, w)`` of Eq. 17 as a cubic in w, at one wavevector.

    With ``a = c^2 q^2 + 2 i (Delta^2/T) q.v_T`` (the (1,1) entry with delta chi_yy = -i q.v_T/T of
    Eq. 14 and v_T of Eq. 15), ``s = 2 D q^2``, ``eps = 1/(N0 V_q)`` and the relaxation rate
    ``g = 1/tau_E`` entering through w -> w + i g for Phi (DESIGN section 2; g = 0 is Eq. 17):

        F(w) = -i w I (g - i w)(s - i w eps) + a (s - i w eps) + 2 a I (g - i w).

    For g = 0 this is i w times 2 Delta^2 times the determinant of Eq. 17.
    """

    I: float
    s: float
    eps: float
    g: float
    a0: float            # c^2 q^2
    a1: complex          # da/d|grad T| along the direction of the config's grad T

    def a(self, G: float) -> complex:
        return self.a0 + self.a1 * G

    def coefficients(self, G: float) -> list[complex]:
        I, s, e, g, a = self.I, self.s, self.eps, self.g, self.a(G)
        return [1j * I * e, -I * (g * e + s), -1j * (I * g * s + a * e + 2 * a * I), a * s + 2 * a * I * g]

    def F(self, w: complex, G: float) -> complex:
        return complex(np.polyval(self.coefficients(G), w))

    def dF_dw(self, w: complex, G: float) -> complex:
        return complex(np.polyval(np.polyder(self.coefficients(G)), w))

    def roots(self, G: float) -> np.ndarray:
        """All roots, Newton-polished (the stiff cubic's companion matrix loses the slow pair's
        last digits; a few Newton steps on F restore them)."""
        coeffs = np.array(self.coefficients(G), dtype=complex)
        while abs(coeffs[0]) == 0:
            coeffs = coeffs[1:]
        ws = np.roots(coeffs)
        for _ in range(4):
            ws = np.array([w - self.F(w, G) / self.dF_dw(w, G) if self.dF_dw(w, G) != 0 else w for w in ws])
        return ws

    def derivatives(self, w: complex, G: float) -> tuple[complex, complex]:
        """``dw/dG`` and ``d2w/dG2`` of the root ``w`` at gradient ``G`` (implicit differentiation;
        F is linear in a, so F_aa = 0)."""
        I, s, e, g, a1 = self.I, self.s, self.eps, self.g, self.a1
        F_a = s - 1j * w * e + 2 * I * (g - 1j * w)
        F_w = self.dF_dw(w, G)
        F_ww = 6j * I * e * w - 2 * I * (g * e + s)
        F_wa = -1j * (e + 2 * I)
        d1 = -F_a * a1 / F_w
        d2 = -(F_ww * d1**2 + 2 * F_wa * a1 * d1) / F_w
        return d1, d2


def eq17(cfg: RunConfig, q: np.ndarray) -> tuple[Eq17, float]:
    """Eq. 17 at wavevector ``q`` for the config's material, and the config's |grad T|."""
    c: Coefficients = coefficients_from_model(cfg.model)
    q = np.asarray(q, dtype=float)
    qa = float(np.linalg.norm(q))
    grad = np.zeros(q.size)
    grad[: len(cfg.model.grad_T)] = cfg.model.grad_T[: q.size]
    G = float(np.linalg.norm(grad))
    direction = grad / G if G > 0 else grad
    # Eq. 15: v_T = pi D grad T / (4 T cosh^2(Delta/2T)); the torque of Eq. 14 enters as 2 i (Delta^2/T) q.v_T.
    vT_per_G = math.pi * c.D / (4 * c.T * math.cosh(c.Delta / (2 * c.T)) ** 2) * direction
    eps = {"none": 0.0, "bulk": (qa / c.ks) ** 2, "film": qa / c.ks}[c.coulomb]
    g = 0.0 if math.isinf(c.tauE) else 1.0 / c.tauE
    return Eq17(I=c.I, s=2 * c.D * qa**2, eps=eps, g=g, a0=c.c2 * qa**2,
                a1=2j * (c.Delta**2 / c.T) * float(np.dot(q, vT_per_G))), G


# --- 1. simulated against exact ----------------------------------------------------------------

@pytest.mark.parametrize("name", list(CANONICAL))
def test_simulated_modes_equal_exact_roots(name, simulate):
    """Every resolved mode at the analysed wavevectors equals an exact root (Re and Im to 1e-7 of
    |w|); every exact root the sampling resolves (0 < |w|, |Im w| dt <= 1) is found exactly once;
    and the package's exact roots are the roots of Eq. 17 written out above."""
    cfg, ds = simulate(name)
    ks = CANONICAL[name]["k"]
    found = simulated_modes(cfg, ds, ks)
    dt = cfg.time.dt
    for k, q in zip(ks, wavevectors(cfg, ks)):
        ex = exact_modes(cfg, q[None, :]).omega[0]
        ex = ex[np.isfinite(ex)]
        scale = float(np.max(np.abs(ex)))
        ref, G = eq17(cfg, q)
        roots17 = ref.roots(G)
        for w in ex:  # the package's exact roots are Eq. 17's
            assert np.min(np.abs(roots17 - w)) <= 1e-9 * max(abs(w), 1e-12 * scale), (name, k, w, roots17)
        for w in found[k]:
            j = int(np.argmin(np.abs(ex - w)))
            assert close(w, ex[j], abs(ex[j])), (name, k, w, ex[j], abs(w - ex[j]) / abs(ex[j]))
        # |w| > 1e-12 scale: the static w = 0 root of the T = 0 plasmon has theta = 0 and is not in theta.
        expected = [w for w in ex if abs(w.imag) * dt <= 1 and abs(w) > 1e-12 * scale]
        for w in expected:
            hits = [v for v in found[k] if close(v, w, abs(w))]
            assert len(hits) == 1, (name, k, w, found[k])


# --- 2. w(q, grad T) = w(-q, -grad T) -----------------------------------------------------------

@pytest.mark.parametrize("name", ["cg_torque_eq20", "film_torque_eq22"])
def test_symmetry_q_and_grad_T_reversed(name, simulate):
    """A run with grad T analysed at q and a run with -grad T analysed at -q give the same modes
    (to the extraction error of both, 2 x 1e-7 |w|); the torque breaks q -> -q alone, by far more."""
    cfg, ds_plus = simulate(name)
    minus = tuple(-g for g in cfg.model.grad_T)
    cfg_m, ds_minus = simulate(name, minus)
    ks = CANONICAL[name]["k"]
    neg = [tuple(-v for v in k) for k in ks]
    at_q = simulated_modes(cfg, ds_plus, ks)
    at_mq = simulated_modes(cfg, ds_plus, neg)
    rev = simulated_modes(cfg_m, ds_minus, neg)
    grad = np.asarray(cfg.model.grad_T, dtype=float)
    broken = 0
    for k, kn, q in zip(ks, neg, wavevectors(cfg, ks)):
        assert at_q[k] and len(at_q[k]) == len(rev[kn]), (k, at_q[k], rev[kn])
        for w in at_q[k]:
            assert any(close(v, w, abs(w), 2 * RTOL) for v in rev[kn]), (k, w, rev[kn])
        if abs(float(np.dot(q, grad))) > 0:
            # the same run at -q: w(-q, grad T) differs from w(q, grad T) by the torque
            gap = max(min(abs(w - v) for v in at_mq[kn]) / abs(w) for w in at_q[k])
            assert gap > 1e3 * 2 * RTOL, (k, at_q[k], at_mq[kn])
            broken += 1
    assert broken >= len(ks) // 2


# --- 3. linear in grad T ------------------------------------------------------------------------

#: Run and the gradient g (a fraction of its canonical one) for the linearity test. For Eq. 20 the
#: canonical gradient itself: its second-order term w2 g^2/2 is ~5 % of the real shift (1 % of |dw|).
LINEAR = {"cg_torque_eq20": 1.0, "film_torque_eq22": 0.1}


@pytest.mark.parametrize("name", list(LINEAR))
def test_torque_shift_is_linear_in_grad_T(name, simulate):
    """Simulations at grad T = 0, g and 2g. With w(G) = w0 + w1 G + w2 G^2/2 + O(G^3), where w1, w2
    follow from Eq. 17 by implicit differentiation at the exact torque-free root:

    - dw(2g) - 2 dw(g) = w2 g^2 + O(g^3): held to 2 |w2| g^2 plus the extraction error of the three
      runs ((1 + 2 + 1) x 1e-7 |w| per part, from test 1: 8e-7 |w| in modulus);
    - dw(g) = w1 g + w2 g^2/2: held to |w2| g^2 plus the extraction error of two runs (4e-7 |w|).

    The check has content only if the linear term dominates: |w2| g^2 < |w1| g/20 is required for
    every shift far above the extraction error (both collective branches wherever q.grad T != 0);
    where q.grad T = 0 (the film at 90 degrees) w1 = w2 = 0 and the runs must agree to the
    extraction error.
    """
    cfg0, _ = simulate(name)
    G0 = float(np.linalg.norm(cfg0.model.grad_T))
    unit = np.asarray(cfg0.model.grad_T, dtype=float) / G0
    g = LINEAR[name] * G0
    runs = {}
    for mult in (0, 1, 2):
        cfg, ds = simulate(name, tuple(mult * g * unit))
        runs[mult] = simulated_modes(cfg, ds, CANONICAL[name]["k"])
    tested = 0
    for k, q in zip(CANONICAL[name]["k"], wavevectors(cfg0, CANONICAL[name]["k"])):
        ref, _ = eq17(cfg0, q)
        for w0 in runs[0][k]:
            w1 = min(runs[1][k], key=lambda v: abs(v - w0))
            w2 = min(runs[2][k], key=lambda v: abs(v - w1))
            ex0 = ref.roots(0.0)
            root = ex0[int(np.argmin(np.abs(ex0 - w0)))]
            d1, d2 = ref.derivatives(root, 0.0)
            err = RTOL * abs(root)
            second = abs(d2) * g**2
            dw_g, dw_2g = w1 - w0, w2 - w0
            assert abs(dw_2g - 2 * dw_g) <= 2 * second + 4 * 2 * err, (k, w0, dw_g, dw_2g, d2 * g**2)
            assert abs(dw_g - d1 * g) <= second + 2 * 2 * err, (k, w0, dw_g, d1 * g)
            if d1 == 0:  # q.grad T = 0: no shift at any order
                assert abs(dw_g) <= 2 * 2 * err and abs(dw_2g) <= 2 * 2 * err, (k, w0, dw_g, dw_2g)
            elif abs(d1) * g > 100 * 4 * 2 * err:  # a shift far above the extraction error: the check has content
                assert second < abs(d1) * g / 20, (k, w0, d1 * g, d2 * g**2)
                tested += 1
    # both collective branches at every analysed q with q.grad T != 0 (the film's slow diffusive
    # root shifts by less than the extraction error and only gets the bounds above)
    assert tested >= 2 * len([k for k in CANONICAL[name]["k"] if np.dot(k, unit) != 0]), tested


# --- 4. the instability threshold ---------------------------------------------------------------

#: The scanned gradients, as fractions of instability.toml's grad_T, and the analysed wavevector.
THRESHOLD_SCAN = (0.40, 0.45, 0.50, 0.55, 0.60)
THRESHOLD_K = (4,)


def test_instability_threshold_from_simulations(simulate):
    """Scan grad T; Im w of the growing branch (the resolved mode with the largest Im w) from each
    simulation; the zero crossing by linear interpolation between the bracketing runs.

    Reference: brentq on Im w(grad T) = 0 of the package's exact roots, itself checked against the
    roots of Eq. 17. Tolerance: the linear interpolation error |f''| h^2/(8 |f'|), with f'' from the
    simulated second differences (times 2, as it is estimated), plus the extraction error
    1e-7 |w|/|f'|. It must be below 1e-3 of the threshold for the comparison to mean something.
    """
    cfg0 = reduced("instability")
    G0 = float(cfg0.model.grad_T[0])
    q = wavevectors(cfg0, [THRESHOLD_K])[0]
    gs = np.array([f * G0 for f in THRESHOLD_SCAN])
    f, scale = [], 0.0
    for G in gs:
        cfg, ds = simulate("instability", (float(G),))
        modes = simulated_modes(cfg, ds, [THRESHOLD_K])[THRESHOLD_K]
        assert len(modes) >= 2, modes
        f.append(max(w.imag for w in modes))
        scale = max(scale, max(abs(w) for w in modes))
    f = np.array(f)
    sign = np.nonzero(np.diff(np.sign(f)) > 0)[0]
    assert sign.size == 1, f"Im w of the growing branch must cross zero once upward in the scan: {f}"
    i = int(sign[0])
    h = float(gs[1] - gs[0])
    slope = (f[i + 1] - f[i]) / h
    g_sim = gs[i] - f[i] / slope
    d2 = np.abs(f[:-2] - 2 * f[1:-1] + f[2:]) / h**2
    tol = 2 * float(np.max(d2)) * h**2 / (8 * abs(slope)) + RTOL * scale / abs(slope)

    def im_exact(G: float) -> float:
        m = dataclasses.replace(cfg0.model, grad_T=(G,))
        return float(np.nanmax(exact_modes(m, q[None, :]).omega[0, :2].imag))

    ref, _ = eq17(cfg0, q)

    def im_eq17(G: float) -> float:  # the slow pair: the two roots of smallest |w| (the third is the dielectric relaxation)
        r = ref.roots(G)
        return float(np.max(r[np.argsort(np.abs(r))[:2]].imag))

    g_exact = brentq(im_exact, gs[0], gs[-1], xtol=1e-15 * G0, rtol=1e-13)
    g_17 = brentq(im_eq17, gs[0], gs[-1], xtol=1e-15 * G0, rtol=1e-13)
    assert abs(g_17 - g_exact) <= 1e-8 * g_exact, (g_17, g_exact)
    assert tol <= 1e-3 * g_exact, (tol, g_exact)
    assert abs(g_sim - g_exact) <= tol, (g_sim, g_exact, tol)
