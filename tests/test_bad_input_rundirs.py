"""A run directory's files always come from one run: runs started together get their own
directories, a re-used directory loses the old run's files first, a held one is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.outputs import LOCK_FILE, claim_run_dir
from sim.params import ConfigError

REPO = Path(__file__).resolve().parents[1]
QUICK = ["horizon_days=3", "report.replications=0", "output.plots=false", "output.events=false"]


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_two_runs_started_in_the_same_second_write_separate_directories(tmp_path):
    runs = [_start(f"seed={seed}", *QUICK, cwd=tmp_path) for seed in (1, 2)]
    for run in runs:
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    summaries = sorted(tmp_path.glob("outputs/*/*/summary.json"))
    assert len(summaries) == 2
    seeds = {json.loads(path.read_text())["seed"] for path in summaries}
    assert seeds == {1, 2}
    for path in summaries:      # each directory's config is its own run's
        assert f"seed: {json.loads(path.read_text())['seed']}" in (path.parent / "config.yaml").read_text()


def test_a_run_that_fails_in_a_reused_directory_leaves_the_earlier_run_whole(tmp_path):
    run_dir = tmp_path / "run"
    first = subprocess.run([sys.executable, "-m", "sim", "seed=1", *QUICK, f"hydra.run.dir={run_dir}"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir() if p.is_file()}
    second = subprocess.run([sys.executable, "-m", "sim", "seed=-1", *QUICK, f"hydra.run.dir={run_dir}"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2
    assert len(second.stderr.strip().splitlines()) == 1
    after = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir() if p.is_file()}
    assert after == before                                   # untouched: still one whole run
    assert json.loads((run_dir / "summary.json").read_text())["seed"] == 1


def test_claiming_a_directory_deletes_the_old_summary_before_the_run_starts(tmp_path):
    for name in ("summary.json", "shipments.parquet", "events.parquet", "config.yaml"):
        (tmp_path / name).write_text("from an earlier run")
    with pytest.raises(RuntimeError):
        with claim_run_dir(tmp_path):
            assert not (tmp_path / "summary.json").exists()
            raise RuntimeError("the run crashed")
    assert not any((tmp_path / name).exists() for name in ("summary.json", "shipments.parquet", "events.parquet",
                                                             "config.yaml", LOCK_FILE))


def test_a_directory_held_by_a_live_run_is_refused(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / LOCK_FILE).write_text(str(os.getppid()))          # a process that is alive
    with pytest.raises(ConfigError, match=r"hydra.run.dir: .* is in use by another run \(pid"):
        with claim_run_dir(tmp_path):
            pass
    assert (tmp_path / "summary.json").exists()                  # the holder's files are left alone


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_FILE).write_text(str(dead.pid))
    with claim_run_dir(tmp_path) as out:
        assert (out / LOCK_FILE).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_run_directory_that_is_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="hydra.run.dir: cannot write into"):
        with claim_run_dir(blocker):
            pass


def test_multirun_still_runs_every_job(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sim", "-m", "seed=1,2", *QUICK, f"hydra.sweep.dir={tmp_path}"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seeds = sorted(json.loads(p.read_text())["seed"] for p in tmp_path.glob("*/summary.json"))
    assert seeds == [1, 2]


def test_a_run_directory_inside_a_file_is_refused_before_hydra_starts(tmp_path, capsys):
    from sim.cli import main

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for target in (blocker, blocker / "run"):
        assert main(["horizon_days=2", f"hydra.run.dir={target}"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [f"config error: hydra.run.dir: {blocker} is a file, not a directory"]
