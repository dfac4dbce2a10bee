"""2D spectra: dask-blocked Fourier amplitudes, wavevector shells and the angle-resolved view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tdgl_stt.analysis.compare import analyze_modes
from tdgl_stt.analysis.spectra import (
    WavevectorSelection,
    angle_resolved,
    fourier_amplitudes,
    shell,
    spectrum,
)
from tdgl_stt.api import exact_modes
from tdgl_stt.cli import main
from tdgl_stt.config import parse_config
from tdgl_stt.io_netcdf import open_run
from tdgl_stt.runner import run

FILM = """
[model]
Delta = 0.3
T = 1.0
vF = 1.0
d = 2
tau = 1.0
grad_T = {grad}
coulomb = "film"
ks = 10.0
[grid]
n = [24, 20]
L = [300.0, 250.0]
[time]
dt = 2.0
n_frames = {frames}
[initial]
{initial}
"""


@pytest.fixture(scope="module")
def film_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("film") / "film.nc"
    run(parse_config(FILM.format(grad="[2.0e-3, 1.0e-3]", frames=300, initial='kind = "noise"\nseed = 4')),
        output=path, progress=False)
    return path


@pytest.mark.parametrize("chunks", [None, {"t": 7}])
def test_fourier_amplitudes_equal_a_direct_transform_of_the_frames(film_run, chunks) -> None:
    """(1/N) sum_x f(x) exp(-i q.x) at wavevectors in every quadrant, including those stored as
    conjugates in the half-spectrum, read whole or in odd-sized dask chunks."""
    ds = open_run(film_run, chunks=chunks)
    k = np.array([[3, 2], [-3, 2], [0, 5], [5, 0], [-1, -4], [2, -9], [-11, 9]])
    sel = WavevectorSelection(k=k, L=(300.0, 250.0))
    a = fourier_amplitudes(ds, "Phi", sel).values
    f = ds["Phi"].values
    x, y = np.meshgrid(ds["x"].values, ds["y"].values, indexing="ij")
    for j, q in enumerate(sel.q):
        direct = np.einsum("txy,xy->t", f, np.exp(-1j * (q[0] * x + q[1] * y))) / f[0].size
        np.testing.assert_allclose(a[:, j], direct, rtol=0, atol=1e-13 * np.abs(direct).max())


def test_shell_holds_exactly_the_lattice_points_within_half_a_width(film_run) -> None:
    ds = open_run(film_run)
    q0 = 0.1
    sel = shell(ds, q0, width=0.02)
    qn = np.linalg.norm(sel.q, axis=1)
    assert np.all(np.abs(qn - q0) <= 0.01)
    # brute force over the whole half-plane of the grid, below Nyquist
    count = 0
    for kx in range(-11, 12):
        for ky in range(-9, 10):
            upper = ky > 0 or (ky == 0 and kx > 0)
            if upper and abs(math.hypot(2 * math.pi * kx / 300, 2 * math.pi * ky / 250) - q0) <= 0.01:
                count += 1
    assert len(sel.k) == count
    with pytest.raises(ValueError, match="no grid wavevector"):
        shell(ds, 10.0)


def test_angle_resolved_peaks_at_the_exact_mode_and_mirrors_minus_q(tmp_path) -> None:
    """A single plane wave at k = (3, 2) on branch 0: S(angle, w) peaks at the angle of q (from
    grad T) and w = Re w_0, and at angle + pi with w = -Re w_0 (the -q half is the mirror)."""
    grad = np.array([2.0e-3, 1.0e-3])
    cfg = parse_config(FILM.format(grad="[2.0e-3, 1.0e-3]", frames=512,
                                   initial='kind = "mode"\nk = [3, 2]\nbranch = 0'))
    path = tmp_path / "mode.nc"
    run(cfg, output=path, progress=False)
    ds = open_run(path)
    q = np.array([2 * math.pi * 3 / 300, 2 * math.pi * 2 / 250])
    w0 = exact_modes(cfg, q[None, :]).omega[0, 0]
    sel = shell(ds, float(np.linalg.norm(q)))
    Sa = angle_resolved(spectrum(fourier_amplitudes(ds, "theta", sel)), reference=grad)
    dw = float(Sa["omega"][1] - Sa["omega"][0])
    phi = math.atan2(q[1], q[0]) - math.atan2(grad[1], grad[0])
    ang = Sa["angle"].values
    on_q = int(np.argmin(np.abs(ang - phi)))
    off_q = int(np.argmin(np.abs(np.angle(np.exp(1j * (ang - phi - math.pi))))))
    assert abs(ang[on_q] - phi) < 1e-12 and abs(np.angle(np.exp(1j * (ang[off_q] - phi - math.pi)))) < 1e-12
    assert int(np.unravel_index(int(np.argmax(Sa.values)), Sa.shape)[0]) in (on_q, off_q)
    assert abs(float(Sa["omega"][int(np.argmax(Sa.values[on_q]))]) - w0.real) <= dw
    assert abs(float(Sa["omega"][int(np.argmax(Sa.values[off_q]))]) + w0.real) <= dw
    om = Sa["omega"].values
    mirror = [int(np.argmin(np.abs(om + w))) for w in om]  # index of -omega (513 frames: exact grid)
    assert np.allclose(om[mirror], -om)
    np.testing.assert_array_equal(Sa.values[off_q], Sa.values[on_q][mirror])


def test_cli_shell_analysis_matches_exact_roots_and_draws_the_angle_figure(film_run, tmp_path, capsys) -> None:
    png = tmp_path / "angle.png"
    assert main(["analyze", str(film_run), "--shell", "0.1", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert png.stat().st_size > 10_000
    assert "resolved modes" in out
    rows = analyze_modes(open_run(film_run), shell(open_run(film_run), 0.1))
    res = [r for r in rows if r.resolved]
    assert res and max(max(abs(r.rel_dev_re), abs(r.rel_dev_im)) for r in res) < 1e-7
    assert main(["analyze", str(film_run), "--shell", "0.1", "--q", "0.1,0"]) == 2


@pytest.mark.parametrize("frames", [300, 301])
def test_minus_q_half_is_the_frequency_mirror_for_even_and_odd_frame_counts(film_run, frames) -> None:
    """S(-q, w) = S(q, -w) (real fields), checked against a direct spectrum of a_{-q} = conj(a_q)."""
    ds = open_run(film_run).isel(t=slice(0, frames))
    sel = shell(ds, 0.1)
    a = fourier_amplitudes(ds, "theta", sel)
    S = spectrum(a)
    Sa = angle_resolved(S)
    S_minus = spectrum(a.conj())  # the spectrum of the -q amplitudes, computed directly
    for m in range(len(sel.k)):
        phi = math.atan2(float(S["q_y"][m]), float(S["q_x"][m]))
        row = int(np.argmin(np.abs(np.angle(np.exp(1j * (Sa["angle"].values - phi - math.pi))))))
        # equal up to the round-off of the FFT, which is relative to the largest value of the row
        np.testing.assert_allclose(Sa.values[row], S_minus.values[m], rtol=0, atol=1e-12 * S_minus.values[m].max())
