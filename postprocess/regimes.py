"""The canonical runs of ``runs/`` and how the validation report analyses each one.

One entry per regime of the paper: the config, the equation it tests, the wavevectors of its
tables, the span of its figure, and the closed forms that belong to it. This is data only;
``postprocess/validation_report.py`` does the work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regime:
    """How one canonical run is analysed in ``docs/validation.md``.

    Attributes
    ----------
    name
        Short identifier; also the stem of the output file and of the figure.
    config
        Path of the run config, relative to the repository root.
    title
        Section title of the report.
    tests
        The equation(s) of the paper the run tests.
    table_q
        Wavevectors (one tuple per wavevector, one component per grid axis) of the tables; the
        nearest grid wavevectors are used.
    figure
        ``("cut", direction, q_max)`` for S(q, w) along an integer lattice direction up to
        ``|q| <= q_max``, or ``("shell", q_abs)`` for the angle-resolved S(angle, w) in 2D.
    closed_forms
        Names of the closed forms (``tdgl_stt.analysis.closed_forms``) tabulated for this run.
    verdict
        What the comparison shows and why (the derivations are in ``docs/closed-forms.md``);
        the numbers themselves come from the tables the report computes.
    field
        The field analysed.
    """

    name: str
    config: str
    title: str
    tests: str
    table_q: tuple[tuple[float, ...], ...]
    figure: tuple
    closed_forms: tuple[str, ...]
    field: str = "theta"
    notes: str = ""
    verdict: str = ""


INF = float("inf")

REGIMES: tuple[Regime, ...] = (
    Regime(
        name="t0_plasmon",
        config="runs/t0_plasmon.toml",
        title="T = 0 bulk plasmon (Eq. 7)",
        tests="Eq. 7",
        table_q=((0.005,), (0.01,), (0.015,), (0.02,), (0.03,)),
        figure=("cut", (1,), INF),
        closed_forms=("eq7",),
        verdict='Eq. 7 agrees asymptotically. It drops the c^2 q^2 term of the exact w^2 = w_p^2 + c^2 q^2, so it is low by ~eps_hat/4: first order in the small parameter eps_hat/2 of its regime, an approximation and nothing else.',
    ),
    Regime(
        name="cg_neutral",
        config="runs/cg_neutral.toml",
        title="Carlson-Goldman mode near T_c, neutral",
        tests="the CG mode below Eq. 9 (exact for eps_hat = 0, no torque, tau_E = inf)",
        table_q=((3.1416e-4,), (6.2832e-4,), (1.2566e-3,), (2.5133e-3,), (5.0265e-3,), (9.4248e-3,)),
        figure=("cut", (1,), INF),
        closed_forms=("cg",),
        verdict='The CG form is the exact root set here (eps_hat = 0, no torque, tau_E = inf): agreement to round-off.',
    ),
    Regime(
        name="cg_bulk",
        config="runs/cg_bulk.toml",
        title="Carlson-Goldman mode near T_c, bulk Coulomb",
        tests="the CG mode below Eq. 9",
        table_q=((3.1416e-4,), (6.2832e-4,), (1.2566e-3,), (2.5133e-3,), (5.0265e-3,), (9.4248e-3,)),
        figure=("cut", (1,), INF),
        closed_forms=("cg",),
        verdict='The CG form agrees to the size of its Coulomb small parameter w eps_hat/(D q^2): an approximation of the form, as stated by the paper.',
    ),
    Regime(
        name="cg_torque_eq20",
        config="runs/cg_torque_eq20.toml",
        title="CG mode with the torque, q >> q_G (Eq. 20)",
        tests="Eq. 20",
        table_q=((3.5904e-3,), (4.4880e-3,), (5.3856e-3,), (6.2832e-3,), (7.1808e-3,), (8.0784e-3,)),
        figure=("cut", (1,), INF),
        closed_forms=("eq20", "cg"),
        verdict="Eq. 20 disagrees with the exact roots, and not because of its approximations. (i) Its real torque shift has the right size but the opposite sign on the lower branch; the exact shift has the same sign on both branches, as the reality condition w(-q) = -w(q)* requires. (ii) Its damping change is the subleading term, with the opposite sign; the leading one, -+(Delta^2/T) q.v_T/(I v_G q), is (q/q_G)^2/2 times larger (51-259 here). The whole of the torque's effect on the damping is therefore missing from Eq. 20 (its Im w is off by 7-9 % at Lambda = 0.08), although its |w| is within ~1 % because v_G q dominates. The re-derivation (docs/closed-forms.md) reproduces Eq. 20 only if the torque is dropped from the a/I term of Eq. 17 and the sign of q.grad T is reversed. The plain CG form is out of regime here: the torque is not negligible.",
    ),
    Regime(
        name="cg_torque_eq21",
        config="runs/cg_torque_eq21.toml",
        title="The anomalous mode below q* (Eq. 21)",
        tests="Eq. 21",
        table_q=((8.0168e-7,), (1.2025e-6,), (1.6034e-6,)),
        figure=("cut", (1,), INF),
        closed_forms=("eq21",),
        verdict="Eq. 21 disagrees at every q (deviation of order 1 and more), and no root of equations (1)-(3) behaves like it for any parameters: the slow root is the overdamped -i D q^2/I, whose small real part is -(q/2q_G)^2 times Eq. 21 (opposite sign, q^5 instead of q^3). Eq. 21 follows from the same quadratic with the torque dropped from the a/I term, the omission behind Eq. 20; the paper's footnote 32 also uses Re delta chi_yy of its Appendix C, which Eq. 17 does not contain. This is not an approximation error.",
    ),
    Regime(
        name="film_torque_eq22",
        config="runs/film_torque_eq22.toml",
        title="2D film plasmon with the torque, at five angles to grad T (Eq. 22)",
        tests="Eq. 22 and the 2D gapless plasmon below Eq. 9",
        table_q=((3e-8, 0.0), (3e-8, 3e-8), (0.0, 3e-8), (-3e-8, 3e-8), (-3e-8, 0.0),
                 (4.5e-8, 0.0), (0.0, 4.5e-8), (-4.5e-8, 0.0)),
        figure=("shell", 4.5e-8),
        closed_forms=("eq22", "plasmon2d"),
        notes="The table's wavevectors lie at 0, 45, 90, 135 and 180 degrees from grad T (along x); "
              "the figure is the angle-resolved S(angle, w) on the shell |q| ~ 4.5e-8. The largest per-part deviation of the "
              "simulation, ~4e-3, is on the real part of the slow diffusive root, which is 1e-6 of its |w|: its |dw|/|w| "
              "is ~5e-9 (last columns).",
        verdict="Eq. 22 and the 2D plasmon agree with the exact roots to a few percent, of the order of their small parameters, when 4 pi e^2 n_s/m is read with the paper's own Eq. E6 identity n/m = N0 vF^2/2 (the N0-per-spin reading makes them sqrt(2) too large). The torque term of Eq. 22 is exact up to cosh^2(Delta/2T) -> 1. At 90 degrees Eq. 22 has Im w = 0 while the exact root keeps a damping ~D |q| k_s that it omits: a per-part deviation of 1 on an Im w that is 0.4 % of |w|. One branch grows wherever q.grad T != 0, in Eq. 22 and in the exact roots alike.",
    ),
    Regime(
        name="overdamped_eq23",
        config="runs/overdamped_eq23.toml",
        title="Overdamped TDGL regime with the torque (Eq. 23)",
        tests="Eq. 23",
        table_q=((0.02,), (0.04,), (0.08,), (0.14,), (0.2,), (0.28,)),
        figure=("cut", (1,), INF),
        closed_forms=("eq23",),
        verdict='Eq. 23 agrees asymptotically: its error is |a| tau_E^2/I to leading order, first order in w tau_E, the small parameter it neglects.',
    ),
    Regime(
        name="instability",
        config="runs/instability.toml",
        title="A torque strong enough to make a branch grow",
        tests="the anti-damping of the CG mode by the torque (exact roots; Eq. 20 for comparison)",
        table_q=((1.7952e-3,), (3.5904e-3,), (7.1808e-3,), (1.0771e-2,), (1.3464e-2,)),
        figure=("cut", (1,), INF),
        closed_forms=("eq20",),
        notes="Im w > 0 is growth. The run announces the instability at its start and completes.",
        verdict='The growth rates of the simulation equal those of the exact roots. The exact threshold is Lambda = 1 for every q >> q_G (grad_T = 9.6e-5 here); Eq. 20 as printed would put it at 4.9e-3 at k = 4, fifty times higher, because it misses the leading damping change (see cg_torque_eq20).',
    ),
    Regime(
        name="quickstart",
        config="runs/quickstart.toml",
        title="Quickstart: Carlson-Goldman mode with a temperature gradient (1D, bulk Coulomb)",
        tests="below Eq. 9 (CG mode), Eq. 20",
        table_q=((0.01,), (0.03,), (0.06,), (0.1,), (0.2,), (0.4,), (0.6,)),
        figure=("cut", (1,), 0.8),
        closed_forms=("cg", "eq20"),
        verdict='The quickstart sits outside the stated regimes of the CG form and of Eq. 20 (Delta/T = 0.3 is not small, and its torque is not perturbative at small q); the tables show by how much they are off there.',
    ),
)
