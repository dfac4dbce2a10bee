"""Parameter sweeps on dask.distributed: run every case, combine the outputs, map the instability.

A sweep file is a run config plus a ``[sweep]`` table of axes (:mod:`.spec`); the cases are the
Cartesian product of the axes, each run on a dask.distributed cluster into its own NetCDF file
(:mod:`.execute`), skipped when rerun once finished. The finished cases open as one dataset
indexed by the axes (:mod:`.combine`, coordinates in :mod:`.coords`), their modes as another,
and :mod:`.instability` maps the largest growth rate against two axes. Usage::

    from tdgl_stt.sweep import load_sweep, run_sweep, sweep_client, open_sweep, sweep_modes

    spec = load_sweep("runs/sweeps/gradT_temperature.toml")
    with sweep_client(workers=2) as client:
        report = run_sweep(spec, "gradT_temperature", client)
    fields = open_sweep("gradT_temperature")      # theta(grad_T, T, t, x), lazily (dask)
    modes = sweep_modes("gradT_temperature")      # omega_re(grad_T, T, q, branch), ...

The command line is ``tdgl-stt sweep | instability-map`` and ``tdgl-stt analyze DIR``
(:mod:`.cli`); ``docs/sweeps.md`` is the guide.
"""

from .combine import Selection, case_modes, is_sweep_directory, open_sweep, sweep_modes
from .coords import AxisCoordinate, axis_coordinates
from .execute import (
    CaseOutcome,
    SweepReport,
    case_status,
    run_case,
    run_sweep,
    sweep_client,
)
from .instability import (
    exact_growth,
    exact_growth_map,
    max_growth_rate,
    simulated_growth_map,
    zero_line,
)
from .spec import Case, SweepAxis, SweepSpec, load_sweep, parse_sweep

__all__ = [
    "AxisCoordinate",
    "Case",
    "CaseOutcome",
    "Selection",
    "SweepAxis",
    "SweepReport",
    "SweepSpec",
    "axis_coordinates",
    "case_modes",
    "case_status",
    "exact_growth",
    "exact_growth_map",
    "is_sweep_directory",
    "load_sweep",
    "max_growth_rate",
    "open_sweep",
    "parse_sweep",
    "run_case",
    "run_sweep",
    "simulated_growth_map",
    "sweep_client",
    "sweep_modes",
    "zero_line",
]
