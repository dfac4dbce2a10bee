"""Figures: S(q, w) with extracted modes, exact roots and closed forms; linewidth versus q.

matplotlib is an optional dependency (``pip install tdgl-stt[plot]``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import TdglSttError
from ..params import Coefficients
from .closed_forms import evaluate_closed_forms
from .compare import ModeRow, exact_at

_STYLES = {"cg": ("tab:orange", "--"), "eq20": ("tab:red", "--"), "eq21": ("tab:purple", "--"),
           "eq22": ("tab:brown", "--"), "eq23": ("tab:pink", "--"), "eq7": ("tab:olive", "--"),
           "plasmon2d": ("tab:cyan", "--")}


#: A closed form is drawn where every small parameter of its regime is at most this (the tables
#: use the stricter REGIME_THRESHOLD of closed_forms for "in regime").
APPLICABLE_RATIO = 0.3


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        raise TdglSttError("plots need matplotlib: pip install 'tdgl-stt[plot]'") from None
    return plt


def _finish(fig, ax1, ax2, path: str | Path) -> Path:
    """Legends, save as PNG, close."""
    ax1.legend(fontsize=7, loc="upper left")
    ax2.legend(fontsize=7, loc="best")
    path = Path(path)
    fig.savefig(path, dpi=130)
    _pyplot().close(fig)
    return path


def closed_form_lines(c: Coefficients, qf: np.ndarray) -> list[tuple[str, int, np.ndarray]]:
    """``(name, branch, w(q))`` of each closed form along the wavevectors ``qf`` (N, ndim), for
    those roughly applicable somewhere (every small parameter <= :data:`APPLICABLE_RATIO`)."""
    lines = []
    for name in _STYLES:
        vals = [evaluate_closed_forms(c, q, (name,)) for q in qf]
        if not any(all(cond.ratio <= APPLICABLE_RATIO for cond in v.conditions) for vv in vals for v in vv):
            continue
        nb = max((len(v) for v in vals), default=0)
        for b in range(nb):
            w = np.array([v[b].omega if b < len(v) else np.nan for v in vals], dtype=complex)
            if np.any(np.isfinite(w)):
                lines.append((name, b, w))
    return lines


def dispersion_figure(S: xr.DataArray, rows: list[ModeRow], c: Coefficients, path: str | Path,
                      *, direction: np.ndarray | None = None, title: str = "",
                      label: str = "extracted (simulation)") -> Path:
    """Two panels along one direction of q: S(|q|, w) in log colour with the modes, and gamma(q).

    Extracted modes are points with error bars; exact roots (eigenvalues of A(q)) solid lines;
    the paper's closed forms dashed, drawn only where finite.
    """
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    draw_dispersion(fig, ax1, ax2, S, rows, c, direction=direction, title=title, label=label)
    return _finish(fig, ax1, ax2, path)


def draw_dispersion(fig, ax1, ax2, S: xr.DataArray, rows: list[ModeRow], c: Coefficients, *,
                    direction: np.ndarray | None = None, title: str = "",
                    label: str = "extracted (simulation)") -> None:
    """The two panels of :func:`dispersion_figure` on the axes ``ax1`` (S(q, w), Re w) and
    ``ax2`` (gamma = -Im w); ``rows`` are drawn with their errors under ``label``."""
    qcols = [k for k in S.coords if str(k).startswith("q_")]
    Q = np.column_stack([np.asarray(S[k].values, dtype=float) for k in qcols])
    direction = np.asarray(direction if direction is not None else np.eye(Q.shape[1])[0], dtype=float)
    direction = direction / np.linalg.norm(direction)
    qpar = Q @ direction
    order = np.argsort(qpar)
    qpar = qpar[order]
    Sv = np.asarray(S.values)[order]
    omega = np.asarray(S["omega"].values)
    floor = np.nanmax(Sv) * 1e-12
    im = ax1.pcolormesh(qpar, omega, np.log10(np.maximum(Sv.T, floor)), shading="nearest", cmap="viridis")
    fig.colorbar(im, ax=ax1, label="log10 S(q, w)")
    fine = np.linspace(qpar.min(), qpar.max(), 400)
    qf = fine[:, None] * direction[None, :]
    ex = exact_at(c, qf)
    for j in range(2):  # the collective modes; the dielectric root is far off both panels
        lab = "exact roots (det M = 0)" if j == 0 else None
        ax1.plot(fine, ex[:, j].real, "w-", lw=0.8, alpha=0.9, label=lab)
        ax2.plot(fine, -ex[:, j].imag, "k-", lw=0.8, label=lab)
    seen = set()
    for name, b, w in closed_form_lines(c, qf):
        col, ls = _STYLES[name]
        lab = name if name not in seen else None
        seen.add(name)
        ax1.plot(fine, w.real, color=col, ls=ls, lw=1.0, label=lab)
        ax2.plot(fine, -w.imag, color=col, ls=ls, lw=1.0, label=lab)
    res = [r for r in rows if r.resolved]
    if res:
        qr = np.array([np.dot(r.q, direction) for r in res])
        ax1.errorbar(qr, [r.omega_re for r in res], yerr=[r.omega_re_err for r in res], fmt="o", ms=2.5,
                     color="tab:red", mfc="none", label=label)
        ax2.errorbar(qr, [r.gamma for r in res], yerr=[r.omega_im_err for r in res], fmt="o", ms=2.5,
                     color="tab:red", mfc="none", label=label)
    qu = S[qcols[0]].attrs.get("units", "")
    ou = S["omega"].attrs.get("units", "")
    band = 1.3 * np.nanmax(np.abs(ex[:, :2].real)) if np.any(np.isfinite(ex[:, :2])) else omega.max()
    band = min(max(band, 8 * (omega[1] - omega[0])), omega.max())
    ax1.set(xlabel=f"q along {np.round(direction, 3).tolist()} [{qu}]", ylabel=f"Re w [{ou}]",
            ylim=(-band, band), title=title or "S(q, w), modes and exact roots")
    ax2.set(xlabel=f"q [{qu}]", ylabel=f"damping gamma = -Im w [{ou}]  (FWHM = 2 gamma)", yscale="log",
            title="linewidth")
    gam = [r.gamma for r in res if r.gamma > 0]
    if gam:
        ax2.set_ylim(min(gam) / 5, max(gam) * 5)
    ax1.text(0.99, 0.01, "dashed: the paper's closed forms where every small parameter is <= 0.3",
             transform=ax1.transAxes, ha="right", va="bottom", fontsize=7, color="w")


def angle_figure(Sa: xr.DataArray, rows: list[ModeRow], c: Coefficients, path: str | Path, *, title: str = "") -> Path:
    """Two panels on a shell |q| ~ q0 in 2D: S(angle, w) in log colour, and gamma(angle).

    ``Sa`` comes from :func:`tdgl_stt.analysis.spectra.angle_resolved`. The ``-q`` half circle
    is the mirror image of the computed one (``w(-q) = -w(q)*``); extracted modes are mirrored
    with it. Exact roots at the shell's own wavevectors are drawn as lines, the paper's closed
    forms (at |q| = the shell's mean) dashed where roughly applicable (every small parameter <= APPLICABLE_RATIO).
    """
    plt = _pyplot()
    angle = np.asarray(Sa["angle"].values)
    deg = np.degrees(angle)
    omega = np.asarray(Sa["omega"].values)
    Sv = np.asarray(Sa.values)
    ref = np.asarray(Sa["angle"].attrs.get("reference_direction", [1.0, 0.0]), dtype=float)
    phi0 = math.atan2(ref[1], ref[0])
    Q = np.column_stack([Sa["q_x"].values, Sa["q_y"].values])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    floor = np.nanmax(Sv) * 1e-12
    im = ax1.pcolormesh(deg, omega, np.log10(np.maximum(Sv.T, floor)), shading="nearest", cmap="viridis")
    fig.colorbar(im, ax=ax1, label="log10 S(angle, w)")
    ex = exact_at(c, Q)
    for j in range(3):  # markers at the shell's own wavevectors: |q| varies across the shell
        lab = "exact roots at the shell's q (det M = 0)" if j == 0 else None
        ax1.plot(deg, ex[:, j].real, "wx", ms=3.5, mew=0.8, label=lab)
        ax2.plot(deg, -ex[:, j].imag, "kx", ms=3.5, mew=0.8, label=lab)
    q0 = float(np.mean(Sa["q_abs"].values))
    fine = np.linspace(-math.pi, math.pi, 361)
    qf = q0 * np.column_stack([np.cos(fine + phi0), np.sin(fine + phi0)])
    seen = set()
    for name, b, w in closed_form_lines(c, qf):
        col, ls = _STYLES[name]
        lab = name if name not in seen else None
        seen.add(name)
        ax1.plot(np.degrees(fine), w.real, color=col, ls=ls, lw=1.0, label=lab)
        ax2.plot(np.degrees(fine), -w.imag, color=col, ls=ls, lw=1.0, label=lab)
    res = [r for r in rows if r.resolved]
    if res:
        a = np.array([math.atan2(r.q[1], r.q[0]) - phi0 for r in res])
        a = np.concatenate([a, a + math.pi])
        a = np.degrees((a + math.pi) % (2 * math.pi) - math.pi)
        re = np.array([r.omega_re for r in res])
        kw = {"fmt": "o", "ms": 2.5, "color": "tab:red", "mfc": "none"}
        ax1.errorbar(a, np.concatenate([re, -re]), yerr=np.tile([r.omega_re_err for r in res], 2),
                     label="extracted (simulation; -q mirrored)", **kw)
        ax2.errorbar(a, np.tile([r.gamma for r in res], 2), yerr=np.tile([r.omega_im_err for r in res], 2),
                     label="extracted (simulation)", **kw)
        gam = [r.gamma for r in res if r.gamma > 0]
        if gam:
            ax2.set_ylim(min(gam) / 5, max(gam) * 5)
    qu = Sa["q_abs"].attrs.get("units", "")
    ou = Sa["omega"].attrs.get("units", "")
    band = 1.3 * np.nanmax(np.abs(ex[:, :2].real)) if np.any(np.isfinite(ex[:, :2])) else omega.max()
    band = min(max(band, 8 * (omega[1] - omega[0])), omega.max())
    where = f"|q| = {q0:.4g} {qu} (shell {np.min(Sa['q_abs'].values):.4g}-{np.max(Sa['q_abs'].values):.4g})"
    unit_ref = ref / np.linalg.norm(ref) if np.any(ref) else np.array([1.0, 0.0])
    ax1.set(xlabel=f"angle of q from the direction {np.round(unit_ref, 3).tolist()} (grad T, or x) [deg]", ylabel=f"Re w [{ou}]", ylim=(-band, band),
            xlim=(-180, 180), title=title or f"S(angle, w) at {where}")
    ax2.set(xlabel="angle of q [deg]", ylabel=f"damping gamma = -Im w [{ou}]  (FWHM = 2 gamma)", yscale="log",
            xlim=(-180, 180), title=f"linewidth at {where}")
    return _finish(fig, ax1, ax2, path)


def _spectrum_panel(ax, row, qu: str, ou: str, first: bool) -> None:
    """One wavevector of a stationary run: the Welch periodogram, the fitted Lorentzians (each,
    and their sum with the background), the exact expectation, and every resolved exact root:
    its centre Re w (dotted) and its FWHM 2|Im w| (a bar at half the fitted line's maximum)."""
    om, S = np.asarray(row.omega), np.asarray(row.S)
    ax.semilogy(om, S, color="0.6", lw=0.8, drawstyle="steps-mid", label="Welch periodogram")
    if row.expected is not None:
        ax.semilogy(om, row.expected, "k--", lw=0.9, label="exact expectation (from A(q) and Q, no fit)")
    ax.semilogy(om, row.model, color="tab:red", lw=1.3, label="fit: Lorentzians + white background")
    colors = ("tab:blue", "tab:green", "tab:purple")
    span = 0.0
    for j, p in enumerate(row.peaks):
        col = colors[j % len(colors)]
        comp = np.asarray(row.components[j])
        ax.semilogy(om, np.where(comp > 0, comp, np.nan), color=col, lw=0.8, alpha=0.8,
                    label="one fitted line (colour: its exact root)" if j == 0 else None)
        top = float(np.max(comp)) if np.any(comp > 0) else float(np.max(S))
        gam = 0.5 * p.exact_fwhm
        ax.axvline(p.exact.real, color=col, ls=":", lw=1.0, label="exact Re w (det M = 0)" if j == 0 else None)
        ax.hlines(0.5 * top, p.exact.real - gam, p.exact.real + gam, color=col, lw=2.2,
                  label="exact FWHM 2|Im w|, at half the fitted line's maximum" if j == 0 else None)
        k = int(np.argmin(np.abs(om - p.omega.real)))
        ax.errorbar([p.omega.real], [1.6 * max(top, float(row.model[k]))], xerr=[p.omega_err.real], fmt="v", ms=4,
                    color=col, capsize=2,
                    label="fitted centre +- its error" if j == 0 else None)
        ax.text(0.02, 0.975 - 0.06 * j, f"root {p.branch}: z centre {p.z_center:+.2f}, z FWHM {p.z_width:+.2f}",
                transform=ax.transAxes, fontsize=6.5, va="top", color=col)
        span = max(span, abs(p.exact.real) + 5 * gam, abs(p.omega.real) + 5 * 0.5 * p.fwhm)
    nyq = float(np.max(np.abs(om)))
    if span > 0:
        ax.set_xlim(-min(span, nyq), min(span, nyq))
    shown = np.abs(om) <= (min(span, nyq) if span > 0 else nyq)
    lo, hi = float(np.min(S[shown])), float(max(np.max(S[shown]), np.max(row.model[shown])))
    ax.set_ylim(lo / 2, hi * 10)  # headroom for the markers and the z values
    ax.set(xlabel=f"w [{ou}]", ylabel=f"S(q, w) at |q| = {math.hypot(*row.q):.4g} [{qu}]")


def stationary_figure(rows, c: Coefficients, path: str | Path, *, q_units: str = "", omega_units: str = "",
                      title: str = "", max_spectra: int = 4) -> Path:
    """The stationary spectra of a noise-driven run against the exact roots.

    Top row: the Welch spectrum S(q, w) at up to ``max_spectra`` wavevectors (evenly chosen
    among those with a fitted peak) with the fitted Lorentzians, the exact expectation from
    A(q) and Q, and each exact root's centre Re w and width 2|Im w| marked
    (:func:`_spectrum_panel`). Bottom row (two or more wavevectors): the dispersion figure of
    :func:`dispersion_figure` with the Welch S(q, w) in colour and the fitted centres and
    damping rates FWHM/2 with their errors over the exact roots and the paper's closed forms.

    Parameters
    ----------
    rows
        :func:`tdgl_stt.analysis.stationary.analyze_stationary` rows (with their curves).
    c
        The run's coefficients (exact roots and closed forms).
    q_units, omega_units
        Unit labels of q and w.
    """
    from .stationary import peaks_as_mode_rows

    plt = _pyplot()
    with_peaks = [r for r in rows if r.peaks and r.S is not None]
    if not with_peaks:
        raise TdglSttError("no wavevector has a resolved exact root to fit: nothing to plot")
    pick = np.unique(np.linspace(0, len(with_peaks) - 1, min(max_spectra, len(with_peaks))).round().astype(int))
    shown = [with_peaks[i] for i in pick]
    dispersion = len(rows) >= 2
    fig = plt.figure(figsize=(max(3.4 * len(shown), 9.0) + 1.5, 9.6 if dispersion else 5.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.1, 1.0)) if dispersion else (fig, None)
    axes = np.atleast_1d(top.subplots(1, len(shown)))
    for i, (ax, r) in enumerate(zip(axes, shown)):
        _spectrum_panel(ax, r, q_units, omega_units, i == 0)
    handles, labels = axes[0].get_legend_handles_labels()
    top.legend(handles, labels, loc="outside upper center", ncols=4, fontsize=7, frameon=False,
               title=title or None, title_fontsize=9)
    path = Path(path)
    if bottom is None:
        fig.savefig(path, dpi=130)
        plt.close(fig)
        return path
    ax1, ax2 = bottom.subplots(1, 2)
    ndim = len(rows[0].q)
    coords = {f"q_{ax}": ("mode", np.array([r.q[i] for r in rows])) for i, ax in enumerate("xyz"[:ndim])}
    coords["omega"] = np.asarray(rows[0].omega)
    S = xr.DataArray(np.array([r.S for r in rows]), dims=("mode", "omega"), coords=coords, name="S")
    S["omega"].attrs["units"] = omega_units
    for ax in "xyz"[:ndim]:
        S[f"q_{ax}"].attrs["units"] = q_units
    draw_dispersion(bottom, ax1, ax2, S, peaks_as_mode_rows(rows), c,
                    title="Welch S(q, w), fitted centres and exact roots", label="Lorentzian fits (+- error)")
    ax2.set_title("linewidth: fitted FWHM/2 against -Im w of the exact roots")
    return _finish(fig, ax1, ax2, path)
