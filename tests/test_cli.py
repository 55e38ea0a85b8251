"""The README's run command writes a complete run directory and a summary that cites its sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def test_a_run_writes_every_output(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "sim", "horizon_days=20", "seed=4", "report.replications=0", f"hydra.run.dir={run_dir}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for name in ("shipments.parquet", "events.parquet", "daily.parquet", "daily.csv", "config.yaml",
                 "route_map.png", "timeseries.png", "summary.json"):
        assert (run_dir / name).stat().st_size > 0, name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["seed"] == 4
    assert "provenance.yaml" in summary["provenance"]["parameters"]
    events = pd.read_parquet(run_dir / "events.parquet")
    assert {"shipment_id", "day", "node", "event", "agency", "bribe_usd"} <= set(events.columns)
    assert set(events["event"].unique()) >= {"dispatched", "passed", "delivered"}
    daily = pd.read_parquet(run_dir / "daily.parquet")
    assert len(daily) == 20
    assert "Seized in Kazakhstan" in result.stdout and "provenance" in result.stdout


def test_provenance_command_prints_sources():
    result = subprocess.run([sys.executable, "-m", "sim", "provenance", "price_usd_per_kg"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "world.economics.price_usd_per_kg.russia = 25000" in result.stdout
    assert "002_3aa904e3dc1761f0.txt ¶16" in result.stdout
