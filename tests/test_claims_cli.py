"""Command-line paths the README shows, run as a user runs them (subprocesses), and the
promise that a run directory with ``summary.json`` is complete.

Coverage of these subprocesses is measured too (``pytest --cov``; docs/testing.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import load_params, with_updates
from sim.outputs import write_run
from sim.run import simulate

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path = REPO, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


# --- summary.json is written last -------------------------------------------------------------


@pytest.fixture(scope="module")
def small_result():
    return simulate(with_updates(load_params(), {"horizon_days": 5}), seed=1)


def test_summary_json_is_written_after_every_other_file(tmp_path, small_result):
    out = write_run(small_result, tmp_path / "run", {"seed": 1}, plots=True)
    summary_time = (out / "summary.json").stat().st_mtime_ns
    others = [p for p in out.iterdir() if p.name != "summary.json"]
    assert len(others) >= 7
    assert all(p.stat().st_mtime_ns <= summary_time for p in others)


def test_a_run_that_fails_while_writing_leaves_no_summary(tmp_path, small_result):
    """README: "a directory without it [summary.json] is an incomplete run"."""
    out = tmp_path / "run"
    (out / "timeseries.png").mkdir(parents=True)            # the last picture cannot be written
    with pytest.raises(OSError):
        write_run(small_result, out, {"seed": 1}, plots=True)
    assert not (out / "summary.json").exists()


def test_rewriting_a_run_directory_replaces_its_old_summary_only_at_the_end(tmp_path, small_result):
    out = write_run(small_result, tmp_path / "run", {"seed": 1}, plots=False)
    (out / "config.yaml").unlink()
    (out / "config.yaml").mkdir()                          # the second write fails half-way
    with pytest.raises(OSError):
        write_run(small_result, out, {"seed": 1}, plots=False)
    assert not (out / "summary.json").exists()


# --- the paths never run before -------------------------------------------------------------------


def test_default_run_prints_intervals_over_its_replications(tmp_path):
    """README: `python -m sim` runs seed 0 and 8 more seeds through the sweep engine."""
    run_dir = tmp_path / "run"
    result = _run("-m", "sim", "horizon_days=4", "output.plots=false", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "over 9 runs" in result.stdout
    assert "n/a (1 run)" not in result.stdout
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 0


def test_hydra_multirun_writes_one_complete_directory_per_job(tmp_path):
    sweep_dir = tmp_path / "multi"
    result = _run("-m", "sim", "-m", "seed=1,2", "horizon_days=10", "report.replications=0", "output.plots=false",
                  f"hydra.sweep.dir={sweep_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    seeds = sorted(json.loads(p.read_text())["seed"] for p in sweep_dir.glob("*/summary.json"))
    assert seeds == [1, 2]


def test_calibration_targets_lists_every_target_with_its_source(tmp_path):
    import yaml

    result = _run("-m", "calibration", "targets", cwd=tmp_path)   # works from any directory
    assert result.returncode == 0, result.stderr[-2000:]
    targets = yaml.safe_load((REPO / "calibration" / "targets.yaml").read_text())
    names = [t["name"] for t in targets["targets"]] if isinstance(targets, dict) and "targets" in targets else list(targets)
    assert names and all(str(n) in result.stdout for n in names)
    assert "002_3aa904e3dc1761f0.txt" in result.stdout


def test_readme_install_line_names_an_entry_point_that_exists():
    """pyproject's `northern-route` script points at the CLI's main."""
    from sim.cli import main

    assert callable(main)
    text = (REPO / "pyproject.toml").read_text()
    assert 'northern-route = "sim.cli:main"' in text


def test_scenarios_directory_can_be_moved_with_the_environment_variable(tmp_path):
    """docs: ``NORTHERN_ROUTE_SCENARIOS`` points the CLI and the Python API at another scenarios tree."""
    import shutil

    copy = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", copy)
    world = copy / "world" / "baseline_2009.yaml"
    world.write_text(world.read_text().replace("recycle_share: 0.5", "recycle_share: 0.123"))
    code = "from sim.config import load_params; print(load_params().world.corruption.false_couriers.recycle_share)"
    env = {**os.environ, "NORTHERN_ROUTE_SCENARIOS": str(copy)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0.123"
