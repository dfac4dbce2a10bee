"""Figures of a sweep: the instability map, and the dispersion of every case on one plot.

matplotlib is an optional dependency (``pip install tdgl-stt[plot]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..analysis.plots import _pyplot
from .instability import plot_coordinate, zero_line

__all__ = ["instability_figure", "modes_figure"]


def instability_figure(
    exact: xr.DataArray,
    simulated: xr.DataArray | None,
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """Plot the instability map(s) (dims ``(y, x)``): ``max_q Im w`` colour-coded about 0 (red
    grows, blue decays) with its zero line in black; on the simulated panel the exact zero line
    is dashed for comparison."""
    from matplotlib.colors import CenteredNorm

    plt = _pyplot()
    panels = [("exact roots", exact)]
    if simulated is not None:
        panels.append(("simulations (extracted modes)", simulated))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 4.4), squeeze=False, sharex=True, sharey=True,
                             constrained_layout=True)
    exact_lines = zero_line(exact)
    for ax, (label, da) in zip(axes[0], panels):
        ydim, xdim = da.dims
        z = np.asarray(da.values, dtype=float)
        mesh = ax.pcolormesh(da[xdim].values, da[ydim].values, z, shading="nearest", cmap="RdBu_r",
                             norm=CenteredNorm(0.0))
        fig.colorbar(mesh, ax=ax, label="max_q Im w")
        for line in zero_line(da):
            ax.plot(line[:, 0], line[:, 1], "k-", lw=1.6)
        if da is not exact:
            for line in exact_lines:
                ax.plot(line[:, 0], line[:, 1], "k--", lw=1.0)
        if plot_coordinate(da[xdim])[1]:
            ax.set_xscale("log")
        if plot_coordinate(da[ydim])[1]:
            ax.set_yscale("log")
        ax.set_xlabel(da[xdim].attrs.get("long_name", xdim))
        ax.set_ylabel(da[ydim].attrs.get("long_name", ydim))
        note = "; exact zero line dashed" if da is not exact and exact_lines else ""
        ax.set_title(f"{label}: zero line solid{note}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def modes_figure(modes: xr.Dataset, path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Re w and Im w of the collective pair (branches 0, 1) against |q| for every case of
    :func:`~tdgl_stt.sweep.combine.sweep_modes`: exact roots as lines, resolved extracted modes
    as dots, one colour per case."""
    plt = _pyplot()
    dims = list(modes.attrs.get("sweep_dims", []))
    stacked = modes.stack(case=dims) if dims else modes.expand_dims(case=[0])
    qdim = "q" if "q" in modes.dims else "wavevector"
    qabs = np.abs(modes["q"].values) if qdim == "q" else modes["q_abs"].values
    order = np.argsort(qabs)
    n = stacked.sizes["case"]
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(n, 1)))
    fig, (ax_re, ax_im) = plt.subplots(1, 2, figsize=(10.5, 4.2), constrained_layout=True)
    for i in range(n):
        c = stacked.isel(case=i)
        label = ", ".join(f"{d}={c[d].item():.3g}" if np.issubdtype(np.asarray(c[d].values).dtype, np.number)
                          else f"{d}={c[d].item()}" for d in dims)
        for b in (0, 1):
            ex_re = c["exact_re"].isel(branch=b).values[order]
            ex_im = c["exact_im"].isel(branch=b).values[order]
            ax_re.plot(qabs[order], ex_re, "-", color=colours[i], lw=1, label=label if b == 0 else None)
            ax_im.plot(qabs[order], ex_im, "-", color=colours[i], lw=1)
            ok = c["resolved"].isel(branch=b).values == 1.0
            ax_re.plot(qabs[ok], c["omega_re"].isel(branch=b).values[ok], "o", ms=3, color=colours[i])
            ax_im.plot(qabs[ok], c["omega_im"].isel(branch=b).values[ok], "o", ms=3, color=colours[i])
    ax_im.axhline(0.0, color="k", lw=0.6)
    ax_re.set_xlabel("|q|")
    ax_im.set_xlabel("|q|")
    ax_re.set_ylabel("Re w")
    ax_im.set_ylabel("Im w (> 0 grows)")
    if n <= 12:
        ax_re.legend(fontsize=7)
    fig.suptitle(title or "modes of every case: exact roots (lines), extracted (dots)", fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
