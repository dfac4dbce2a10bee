"""Command-line details: negative vector components, and round-off never announced as growth."""

from __future__ import annotations

import json
from pathlib import Path

from tdgl_stt.cli import main
from tdgl_stt.config import load_config
from tdgl_stt.runner import run

ROOT = Path(__file__).resolve().parents[1]


def test_negative_wavevector_components_are_values_not_options(tmp_path, capsys):
    cfg = load_config(ROOT / "runs" / "film_torque_eq22.toml")
    assert main(["modes", str(ROOT / "runs" / "film_torque_eq22.toml"), "--q", "-3e-8,3e-8", "3e-8,-3e-8", "--json"]) == 0
    q = [m["q"] for m in json.loads(capsys.readouterr().out)["modes"]]
    assert q == [[-3e-8, 3e-8], [3e-8, -3e-8]]
    assert len(cfg.grid.n) == 2


def test_an_undamped_plasmon_is_not_announced_as_a_physical_instability(tmp_path):
    """The T = 0 plasmon is undamped: its exact Im w is ~1e-17 |w| of round-off, not growth.
    A truly growing branch (instability.toml) is announced (tests/test_cli.py, test_regimes.py)."""
    notices: list[str] = []
    result = run(load_config(ROOT / "runs" / "t0_plasmon.toml"), output=tmp_path / "t0.nc", progress=False,
                 log=notices.append)
    assert result.status == "complete"
    assert result.growth.rate <= 0
    assert not any("instability" in n for n in notices)
