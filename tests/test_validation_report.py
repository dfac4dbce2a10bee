"""The validation report's generator (postprocess/validation_report.py) on one regime."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_report_module():
    spec = importlib.util.spec_from_file_location("validation_report", ROOT / "postprocess" / "validation_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["validation_report"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_neutral_cg_regime_reports_round_off_agreement(tmp_path):
    """In the neutral CG regime (eps_hat = 0, no torque) the CG form is the exact root set, so
    the report must show the simulation and the closed form at round-off against the exact roots."""
    vr = load_report_module()
    md = tmp_path / "validation.md"
    assert vr.main(["--outputs", str(tmp_path / "out"), "--only", "cg_neutral", "--markdown", str(md),
                    "--figures", str(tmp_path / "fig")]) == 0
    text = md.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| cg_neutral |"))
    sim, closed = re.findall(r"\| ([0-9.e+-]+) \| cg: ([0-9.e+-]+) \((\d+)/(\d+)\)", row)[0][:2]
    assert float(sim) < 1e-10
    assert float(closed) < 1e-12
    assert (tmp_path / "fig" / "cg_neutral.png").stat().st_size > 10_000
    # a second call reuses the complete output of the same config instead of running it again
    before = (tmp_path / "out" / "cg_neutral.nc").stat().st_mtime_ns
    vr.main(["--outputs", str(tmp_path / "out"), "--only", "cg_neutral", "--markdown", str(md), "--figures", str(tmp_path / "fig")])
    assert (tmp_path / "out" / "cg_neutral.nc").stat().st_mtime_ns == before
