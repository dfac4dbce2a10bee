"""Simulated modes against the exact roots, and the paper's closed forms against both.

Reads only the NetCDF file of a run: the coefficients come from its attributes (``coef_*``), so
the analysis needs nothing else. The JSON schema is public::

    {"modes": [{"q": [...], "omega_re", "omega_im", "omega_re_err", "omega_im_err", "amplitude",
                "exact_re", "exact_im", "rel_dev_re", "rel_dev_im", "branch", "gamma", "fwhm", "resolved"}],
     "closed_forms": [{"name": "eq20", "q": [...], "branch", "omega_re", "omega_im", "exact_re",
                       "exact_im", "in_regime", "rel_dev_re", "rel_dev_im", ...}]}

``gamma = -Im w`` is the damping rate and ``fwhm = 2 gamma`` the full width at half maximum of
the Lorentzian in ``S(q, w)`` (angular frequency). Relative deviations are ``(x - x_exact)/|x_exact|`` for the real and the imaginary part
separately, with ``|w_exact|`` as the denominator where that part of the exact root is zero. They
are reported as they are: never clipped or hidden.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from ..model import mode_entries
from ..params import Coefficients
from ..propagator import ROUND_OFF_PART, exact_frequencies
from .closed_forms import evaluate_closed_forms
from .extraction import extract_modes_batch
from .spectra import WavevectorSelection, all_wavevectors, fourier_amplitudes

#: A mode decaying by more than e^RESOLVED_DECAY_PER_FRAME between two frames is not resolved
#: by the sampling (e.g. the dielectric relaxation, gone within the first frame): it is
#: reported with ``resolved = False`` and left out of the agreement statistics.
RESOLVED_DECAY_PER_FRAME = 1.0
#: Fourier amplitudes above this are refused: a run stops as diverged at 1e150 (runner), and the
#: extractor's squares of larger values overflow.
MAX_AMPLITUDE = 1e150


def coefficients_from_attrs(attrs: dict) -> Coefficients:
    """Rebuild :class:`Coefficients` from a run's ``coef_*`` attributes."""
    def vec(name: str) -> tuple[float, ...]:
        v = attrs.get(name, ())
        return tuple(float(x) for x in np.atleast_1d(v))

    try:
        return Coefficients(
            Delta=float(attrs["coef_Delta"]), T=float(attrs["coef_T"]), I=float(attrs["coef_I"]),
            ns_over_n=float(attrs["coef_ns_over_n"]), c2=float(attrs["coef_c2"]), D=float(attrs["coef_D"]),
            vT=vec("coef_vT"), tauE=float(attrs["coef_tauE"]), coulomb=str(attrs["coef_coulomb"]),
            ks=float(attrs["coef_ks"]), d=int(attrs["coef_d"]), vF=float(attrs["coef_vF"]),
            tau=float(attrs["coef_tau"]), grad_T=vec("coef_grad_T"),
        )
    except KeyError as exc:
        from ..errors import InputFileError

        raise InputFileError(f"the file lacks the coefficient attribute {exc.args[0]!r}: not a complete tdgl-stt run") from None


def rel_dev(x: complex, ref: complex) -> tuple[float, float]:
    """``((Re x - Re ref)/|Re ref|, (Im x - Im ref)/|Im ref|)``, with ``|ref|`` as the denominator
    of a part that is zero or round-off (at most :data:`ROUND_OFF_PART` ``|ref|``)."""
    mag = abs(ref)
    if not np.isfinite(ref) or mag == 0:  # a root at w = 0 has no relative deviation
        return math.nan, math.nan
    small = ROUND_OFF_PART * mag
    dre = (x.real - ref.real) / (abs(ref.real) if abs(ref.real) > small else mag)
    dim = (x.imag - ref.imag) / (abs(ref.imag) if abs(ref.imag) > small else mag)
    return float(dre), float(dim)


@dataclass(frozen=True)
class ModeRow:
    """One extracted mode at one wavevector, matched to an exact root."""

    q: list[float]
    omega_re: float
    omega_im: float
    omega_re_err: float
    omega_im_err: float
    amplitude: float
    exact_re: float
    exact_im: float
    rel_dev_re: float
    rel_dev_im: float
    branch: int
    gamma: float = field(default=math.nan)
    fwhm: float = field(default=math.nan)
    resolved: bool = True


@dataclass(frozen=True)
class ClosedFormRow:
    """One branch of a closed form at one wavevector, against the exact root and the simulation."""

    name: str
    q: list[float]
    branch: int
    omega_re: float
    omega_im: float
    exact_re: float
    exact_im: float
    in_regime: bool
    rel_dev_re: float
    rel_dev_im: float
    sim_re: float | None
    sim_im: float | None
    failing_conditions: list[str]


def exact_at(c: Coefficients, q: np.ndarray) -> np.ndarray:
    """Exact roots at wavevectors ``q`` (N, ndim) strictly below Nyquist: (N, 3)."""
    return exact_frequencies(mode_entries(c, np.asarray(q, dtype=float).T))


def analyze_modes(ds: xr.Dataset, sel: WavevectorSelection | None = None, *, field: str = "theta",
                  max_order: int | None = None) -> list[ModeRow]:
    """Extract every mode at every selected wavevector and match it to the nearest exact root."""
    c = coefficients_from_attrs(ds.attrs)
    sel = sel if sel is not None else all_wavevectors(ds)
    amps = fourier_amplitudes(ds, field, sel)
    largest = float(np.max(np.abs(amps.values))) if amps.size else 0.0
    if not math.isfinite(largest) or largest > MAX_AMPLITUDE:
        raise ValueError(f"the field {field!r} holds values of size {largest:.3g}: non-finite or above {MAX_AMPLITUDE:.0e} "
                         "(a diverged run, or a corrupted file); nothing to extract")
    t = amps["t"].values
    if t.size < 8:
        raise ValueError(f"{t.size} frames are too few to extract modes (at least 8)")
    dt = float(t[1] - t[0])
    kw = {} if max_order is None else {"max_order": max_order}
    extractions = extract_modes_batch(amps.values.T, dt, t0=float(t[0]), **kw)
    exact = exact_at(c, sel.q)
    rows: list[ModeRow] = []
    for qn, ex, wn in zip(sel.q, extractions, exact):
        for m in ex.modes:
            finite = np.isfinite(wn)
            j = int(np.argmin(np.where(finite, np.abs(wn - m.omega), np.inf)))
            ref = complex(wn[j])
            dre, dim = rel_dev(m.omega, ref)
            rows.append(ModeRow(
                q=[float(v) for v in qn], omega_re=m.omega.real, omega_im=m.omega.imag,
                omega_re_err=float(m.omega_err.real), omega_im_err=float(m.omega_err.imag),
                amplitude=float(abs(m.amplitude)), exact_re=ref.real, exact_im=ref.imag,
                rel_dev_re=dre, rel_dev_im=dim, branch=j, gamma=m.gamma, fwhm=m.fwhm,
                resolved=bool(abs(m.omega.imag) * dt <= RESOLVED_DECAY_PER_FRAME),
            ))
    return rows


def compare_closed_forms(c: Coefficients, q_list: np.ndarray, modes: list[ModeRow] | None = None) -> list[ClosedFormRow]:
    """Each closed form at each wavevector: against the nearest exact root and simulated mode."""
    rows: list[ClosedFormRow] = []
    exact = exact_at(c, q_list)
    for qn, wn in zip(np.asarray(q_list, dtype=float), exact):
        sims = [m for m in (modes or []) if m.resolved and np.allclose(m.q, qn)]
        for v in evaluate_closed_forms(c, qn):
            if not np.isfinite(v.omega):
                continue
            finite = np.isfinite(wn)
            j = int(np.argmin(np.where(finite, np.abs(wn - v.omega), np.inf)))
            ref = complex(wn[j])
            dre, dim = rel_dev(v.omega, ref)
            sim = min(sims, key=lambda m: abs(complex(m.omega_re, m.omega_im) - ref), default=None)
            rows.append(ClosedFormRow(
                name=v.name, q=list(v.q), branch=v.branch, omega_re=v.omega.real, omega_im=v.omega.imag,
                exact_re=ref.real, exact_im=ref.imag, in_regime=v.in_regime, rel_dev_re=dre, rel_dev_im=dim,
                sim_re=None if sim is None else sim.omega_re, sim_im=None if sim is None else sim.omega_im,
                failing_conditions=[f"{cond.description} = {cond.ratio:.3g}" for cond in v.conditions if not cond.holds],
            ))
    return rows


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    return obj


def report_dict(modes: list[ModeRow], closed: list[ClosedFormRow]) -> dict:
    """The public JSON document (NaN and inf become null)."""
    return _clean({"modes": [asdict(m) for m in modes], "closed_forms": [asdict(r) for r in closed]})


def rows_from_dict(doc: dict) -> tuple[list[ModeRow], list[ClosedFormRow]]:
    """Inverse of :func:`report_dict` (null becomes NaN)."""
    def unnull(d: dict) -> dict:
        return {k: (math.nan if v is None and k not in ("sim_re", "sim_im") else v) for k, v in d.items()}

    return ([ModeRow(**unnull(m)) for m in doc.get("modes", [])],
            [ClosedFormRow(**unnull(r)) for r in doc.get("closed_forms", [])])
