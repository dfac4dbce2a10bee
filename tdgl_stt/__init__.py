"""tdgl-stt: phase/charge TDGL dynamics of a superconductor with the superconducting torque.

The model is equations (1)-(3) of ``DESIGN.md``, derived from Eqs. 17-19 and 23 of I. Garate,
"Possible charge analogues of spin transfer torques in bulk superconductors".

Public API::

    from tdgl_stt import load_config, run, exact_modes, open_run
"""

from ._version import __version__
from .api import ModeTable, exact_modes, grid_modes
from .config import RunConfig, load_config, parse_config
from .params import Coefficients, coefficients_from_model
from .runner import RunResult, run


def open_run(path, **kwargs):
    """Open a run's NetCDF output as an ``xarray.Dataset`` (see :func:`tdgl_stt.io_netcdf.open_run`)."""
    from .io_netcdf import open_run as _open_run

    return _open_run(path, **kwargs)


__all__ = [
    "__version__",
    "Coefficients",
    "ModeTable",
    "RunConfig",
    "RunResult",
    "coefficients_from_model",
    "exact_modes",
    "grid_modes",
    "load_config",
    "open_run",
    "parse_config",
    "run",
]
