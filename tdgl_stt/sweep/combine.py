"""The sweep as datasets: every case's fields, and every case's modes, indexed by the sweep axes.

:func:`open_sweep` opens the finished case files with :func:`xarray.open_mfdataset` (lazily,
through dask) as one dataset with dims ``(*axes, t, x[, y])``; :func:`sweep_modes` extracts the
modes of every case (:func:`tdgl_stt.analysis.compare.analyze_modes`) into one dataset with dims
``(*axes, q, branch)``: ``omega_j(q; grad T, T/T_c)``. Axis coordinates follow
:mod:`tdgl_stt.sweep.coords`. A case that is not finished (failed, not run yet) is NaN (empty
string for text variables) in both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..errors import TdglSttError
from .coords import AxisCoordinate, axis_coordinates
from .execute import SWEEP_FILE, case_status
from .spec import Case, SweepSpec, load_sweep

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

    from ..analysis.spectra import WavevectorSelection

__all__ = ["Selection", "case_modes", "finished_cases", "is_sweep_directory", "open_sweep", "sweep_modes"]

#: Per-case global attributes turned into data variables of the combined dataset (with every
#: ``coef_*`` and ``si_*``); the others are kept as dataset attributes where all cases agree.
PER_CASE_ATTRS: tuple[str, ...] = ("status", "status_message", "config_toml", "max_growth_rate",
                                   "max_growth_q", "n_fallback_modes")
#: Frames per dask chunk of the combined dataset.
CHUNK_FRAMES = 256


def is_sweep_directory(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a directory holding a ``sweep.toml`` (written by ``tdgl-stt sweep``)."""
    return Path(path).is_dir() and (Path(path) / SWEEP_FILE).is_file()


def _load(directory: str | os.PathLike[str]) -> tuple[SweepSpec, Path]:
    d = Path(directory)
    if not is_sweep_directory(d):
        raise TdglSttError(f"{d} is not a sweep directory (no {SWEEP_FILE}; run `tdgl-stt sweep` first)")
    return load_sweep(d / SWEEP_FILE), d.resolve()


def finished_cases(spec: SweepSpec, directory: str | os.PathLike[str]) -> list[tuple[Case, Path]]:
    """The cases whose file in ``directory`` is finished and written from the case's config
    (the resume rule of :mod:`.execute`), with their paths, in case order."""
    d = Path(directory).resolve()
    out = []
    for case in spec.cases():
        path = d / case.filename
        if case_status(path, case.text) is not None:
            out.append((case, path))
    return out


def _hypercube(ds: xr.Dataset, coords: Sequence[AxisCoordinate], attrs: Mapping[str, Any]) -> xr.Dataset:
    """Turn the ``case`` dimension (one index value per axis along it) into the sweep axes, in
    the sweep's order of values, NaN where a case is absent, with the auxiliary coordinates."""
    dims = [c.dim for c in coords]
    if len(dims) == 1:
        ds = ds.swap_dims(case=dims[0])
    else:
        ds = ds.set_index(case=dims).unstack("case")
    ds = ds.reindex({c.dim: c.values for c in coords})
    for name, var in ds.data_vars.items():
        if var.dtype == object:
            ds[name] = var.fillna("")
    ds = ds.assign_coords({k: v for c in coords for k, v in c.coords().items()})
    ds.attrs.update(attrs)
    return ds.transpose(*dims, ...)


def _sweep_attrs(spec: SweepSpec, title: str) -> dict[str, Any]:
    return {"title": title, "sweep_toml": spec.source_text, "sweep_axes": list(spec.keys),
            "sweep_dims": list(spec.dims)}


def _tag(ds: xr.Dataset, case: Case, coords: Sequence[AxisCoordinate]) -> xr.Dataset:
    """Add a ``case`` dimension, the case's axis values along it, and its per-case attributes
    as variables."""
    promoted = {}
    for key, value in ds.attrs.items():
        if key in PER_CASE_ATTRS or key.startswith(("coef_", "si_")):
            v = np.asarray(value)
            if v.ndim == 0:
                promoted[key] = ((), v.item() if v.dtype.kind in "OUS" else v)
            elif v.ndim == 1 and v.dtype.kind in "iuf":
                promoted[key] = (("axis",), v)
    ds = ds.assign(promoted)
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in promoted}
    ds = ds.expand_dims("case")
    ds = ds.assign_coords({c.dim: ("case", [c.values[i]]) for c, i in zip(coords, case.position)})
    return ds.assign_coords(case_file=("case", [case.filename]))


def open_sweep(directory: str | os.PathLike[str], *, chunks: Mapping[str, int] | None = None) -> xr.Dataset:
    """The fields of every finished case as one lazy dataset indexed by the sweep axes.

    Opens the case files with :func:`xarray.open_mfdataset` (dask arrays, ``chunks``
    defaulting to ``CHUNK_FRAMES`` frames) and arranges them on the axes.

    Returns
    -------
    xarray.Dataset
        ``theta``, ``Phi``, ``mu`` with dims ``(*axes, t, x[, y])``; per case, the variables
        ``status``, ``config_toml`` (the case's complete run config), ``max_growth_rate`` and
        every ``coef_*``/``si_*`` attribute of the run; the coordinate ``case_file``. The
        positions ``x`` and times ``t`` are the union over the cases (a diverged run's missing
        frames, or the points of a coarser grid of a ``grid.n`` axis, are NaN).

    Raises
    ------
    TdglSttError
        Not a sweep directory, or no finished case.
    """
    spec, d = _load(directory)
    done = finished_cases(spec, d)
    if not done:
        raise TdglSttError(f"{d}: no finished case yet (run `tdgl-stt sweep {d / SWEEP_FILE} -o {d}`)")
    coords = axis_coordinates(spec)
    by_path = {str(p): c for c, p in done}

    def preprocess(ds: xr.Dataset) -> xr.Dataset:
        return _tag(ds, by_path[str(Path(ds.encoding["source"]).resolve())], coords)

    combined = xr.open_mfdataset(
        [str(p) for _, p in done], engine="netcdf4", chunks=dict(chunks or {"t": CHUNK_FRAMES}),
        combine="nested", concat_dim="case", preprocess=preprocess, data_vars="all",
        coords="minimal", compat="override", join="outer", combine_attrs="drop_conflicts",
        decode_timedelta=False,
    )
    return _hypercube(combined, coords, _sweep_attrs(spec, "tdgl-stt sweep: fields of every case"))


# --------------------------------------------------------------------------------------------
# Modes against the parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which wavevectors to analyse in each case (the ``--q``/``--direction``/``--shell``
    options of ``tdgl-stt analyze``; at most one). Default: every wavevector in 1D, the cut
    along x in 2D/3D."""

    q: tuple[tuple[float, ...], ...] | None = None
    direction: tuple[int, ...] | None = None
    shell: float | None = None

    def apply(self, ds: xr.Dataset) -> WavevectorSelection:
        from ..analysis.spectra import (
            all_wavevectors,
            cut,
            grid_of,
            nearest_wavevectors,
            shell,
        )

        given = sum(v is not None for v in (self.q, self.direction, self.shell))
        if given > 1:
            raise ValueError("give at most one of q, direction and shell")
        n = grid_of(ds)[1]
        if self.shell is not None:
            return shell(ds, self.shell)
        if self.q is not None:
            return nearest_wavevectors(ds, np.array(self.q, dtype=float))
        if self.direction is not None:
            return cut(ds, self.direction)
        return all_wavevectors(ds) if len(n) == 1 else cut(ds, (1,) + (0,) * (len(n) - 1))


def case_modes(path: str | os.PathLike[str], selection: Selection = Selection(), field: str = "theta") -> xr.Dataset:
    """The modes of one run as a dataset: extracted and exact, per wavevector and branch.

    Every extracted mode (:func:`~tdgl_stt.analysis.compare.analyze_modes`) is put in the column
    of the exact root it matched (``branch`` 0, 1: the collective pair, 2: the dielectric
    relaxation); if two match one root, the one of larger amplitude is kept.

    Returns
    -------
    xarray.Dataset
        Dims ``(q, branch)`` in 1D (``q`` the wavevector) or ``(wavevector, branch)`` with
        coordinates ``q_x``, ``q_y``, ... otherwise. Variables ``omega_re``, ``omega_im``, their
        standard errors ``*_err``, ``amplitude``, ``resolved`` (1/0; NaN where no mode was
        extracted), ``exact_re``, ``exact_im``; scalars ``growth_simulated`` (largest
        ``omega_im`` of a resolved mode) and ``growth_exact`` (largest exact ``Im w`` over the
        grid's wavevectors except q = 0, :func:`tdgl_stt.sweep.instability.max_growth_rate`);
        ``analysis_message`` (why nothing was extracted, or empty).
    """
    import dask

    from ..analysis.compare import analyze_modes, coefficients_from_attrs, exact_at
    from ..config import parse_config
    from ..io_netcdf import open_run
    from .instability import max_growth_rate

    with dask.config.set(scheduler="synchronous"), open_run(path) as ds:
        sel = selection.apply(ds)
        message = ""
        try:
            rows = analyze_modes(ds, sel, field=field)
        except ValueError as exc:
            rows, message = [], str(exc)
        coeffs = coefficients_from_attrs(ds.attrs)
        config_text = str(ds.attrs["config_toml"])
        t_units = ds["t"].attrs.get("units", "1")
    q = sel.q
    names = ("omega_re", "omega_im", "omega_re_err", "omega_im_err", "amplitude", "resolved")
    data = {k: np.full((len(q), 3), np.nan) for k in names}
    index = {tuple(np.round(qn, 12)): i for i, qn in enumerate(q)}
    for r in rows:
        i, j = index[tuple(np.round(r.q, 12))], r.branch
        if np.isfinite(data["amplitude"][i, j]) and data["amplitude"][i, j] >= r.amplitude:
            continue
        for k in names[:-1]:
            data[k][i, j] = getattr(r, k)
        data["resolved"][i, j] = float(r.resolved)
    exact = exact_at(coeffs, q) if len(q) else np.zeros((0, 3), complex)
    ndim = q.shape[1]
    wdim = "q" if ndim == 1 else "wavevector"
    units = f"rad/({t_units})"
    variables: dict[str, Any] = {k: ((wdim, "branch"), v, {"units": units} if k != "resolved" else {}) for k, v in data.items()}
    variables["exact_re"] = ((wdim, "branch"), exact.real, {"units": units, "long_name": "Re of the exact root"})
    variables["exact_im"] = ((wdim, "branch"), exact.imag, {"units": units, "long_name": "Im of the exact root"})
    im = np.where(data["resolved"] == 1.0, data["omega_im"], np.nan)
    variables["growth_simulated"] = ((), np.nanmax(im) if np.isfinite(im).any() else np.nan,
                                     {"units": units, "long_name": "largest Im w of the resolved extracted modes"})
    variables["growth_exact"] = ((), max_growth_rate(parse_config(config_text)),
                                 {"units": units, "long_name": "largest exact Im w over the grid's wavevectors, q != 0"})
    variables["analysis_message"] = ((), message)
    axes = "xyz"[:ndim]
    if ndim == 1:
        coord = {"q": ("q", q[:, 0])}  # no k_x: along a grid.L axis one q has different k
    else:
        coord = {f"q_{a}": (wdim, q[:, i]) for i, a in enumerate(axes)}
        coord |= {f"k_{a}": (wdim, sel.k[:, i]) for i, a in enumerate(axes)}
        coord["q_abs"] = (wdim, np.linalg.norm(q, axis=1))
    coord["branch"] = ("branch", np.arange(3))
    return xr.Dataset(variables, coords=coord, attrs={"field": field})


def sweep_modes(
    directory: str | os.PathLike[str],
    selection: Selection = Selection(),
    *,
    field: str = "theta",
    client: Client | None = None,
) -> xr.Dataset:
    """The modes of every finished case as one dataset indexed by the sweep axes.

    Parameters
    ----------
    directory
        A sweep directory.
    selection
        Wavevectors analysed in each case.
    field
        The field whose Fourier amplitudes are analysed.
    client
        Analyse the cases as tasks on this dask.distributed client (default: one by one here).

    Returns
    -------
    xarray.Dataset
        :func:`case_modes` of every case, dims ``(*axes, q, branch)``: e.g. ``omega_re`` is
        ``Re w_j(q; axes)``. In 1D the ``q`` of different grids (a ``grid.L`` axis) are merged
        (NaN where a case has no such wavevector).

    Raises
    ------
    TdglSttError
        Not a sweep directory, no finished case, or (2D/3D) cases with different wavevector
        selections.
    """
    spec, d = _load(directory)
    done = finished_cases(spec, d)
    if not done:
        raise TdglSttError(f"{d}: no finished case to analyse")
    coords = axis_coordinates(spec)
    paths = [str(p) for _, p in done]
    if client is not None:
        parts = client.gather(client.map(case_modes, paths, selection=selection, field=field, pure=False))
    else:
        parts = [case_modes(p, selection, field) for p in paths]
    if "wavevector" in parts[0].dims:
        ref = parts[0]["q_abs"].values
        for (case, _), part in zip(done, parts):
            if part.sizes["wavevector"] != ref.size or not all(
                np.array_equal(part[k].values, parts[0][k].values) for k in part.coords if k.startswith("q_")
            ):
                raise TdglSttError(f"{case.name} selects other wavevectors than {done[0][0].name}: in 2D/3D the "
                                   "modes of a sweep are combined only on a common selection (same grid)")
    tagged = [_tag(p, case, coords) for (case, _), p in zip(done, parts)]
    combined = xr.concat(tagged, dim="case", data_vars="all", coords="minimal", compat="override",
                         join="outer", combine_attrs="drop_conflicts")
    return _hypercube(combined, coords, _sweep_attrs(spec, "tdgl-stt sweep: modes of every case") | {"field": field})
