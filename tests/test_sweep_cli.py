"""The sweep command line as a user meets it: every bad input is one line and exit 2 before
anything runs; overrides, --dry-run, --quick; exit 1 when runs fail; resuming."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.sweep.cli import main

REPO = Path(__file__).resolve().parents[1]
MINI = ("levers: {baseline: []}\n"
        "uncertainties: {world.flow.supply_multiplier: {values: [0.8, 1.2]}}\n"
        "design: grid\nreplications: 1\nseed: 3\nhorizon_days: 5\n")


def sweep_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(capsys, argv: list[str]) -> str:
    """Run the command; it must exit 2 with exactly one error line and no traceback."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


@pytest.mark.parametrize("text, names", [
    ("", "the sweep config is empty"),
    ("# only a comment\n", "the sweep config is empty"),
    ("levers: {}\n", "levers: is empty"),
    ("levers: {}\nuncertainties: {world.flow.supply_multiplier: {low: 0.9, high: 1.1}}\n", "levers: is empty"),
    ("uncertainties: {}\nreplications: 3\n", "levers: nothing varies"),
    ("levers: [baseline\n", "line 2 column 1: malformed YAML"),
    ("levers:\n  a: [regime=customs_union]\n   b: []\n", "malformed YAML"),
    ("replications: -1\nlevers: {baseline: []}\n", "replications: must be a positive integer (got -1)"),
    ("levers: {a: ['report.replications=-1']}\n", "levers.a: 'report.replications=-1': `report` settings do not apply"),
    ("levers: {a: ['report.engine=bogus']}\n", "`report` settings do not apply to sweep runs"),
    ("levers: {a: ['output.events=false']}\n", "`output` settings do not apply"),
    ("levers: {a: ['seed=3']}\n", "levers.a: 'seed=3': a sweep sets every run's seed"),
    ("levers: {a: ['horizon_days=30']}\nhorizon_days: 60\n", "give it there or in each lever, not both"),
    ("levers: {a: []}\nuncertainties: {report.replications: {values: [1, 2]}}\n", "uncertainties.report.replications"),
    ("levers: [a, b]\n", "levers: must map lever names"),
    ("levers: {baseline: []}\nuncertainties: [world.flow.supply_multiplier]\n", "uncertainties: must map"),
    ("- 1\n- 2\n", "a sweep config is a mapping"),
])
def test_a_bad_sweep_file_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, text, names):
    out = tmp_path / "out"
    line = refused(capsys, [str(sweep_file(tmp_path, text)), "--engine", "serial", "--out", str(out), "--no-progress"])
    assert names in line
    assert not out.exists()


def test_a_lever_whose_network_is_disconnected_is_named_before_any_run(capsys, tmp_path):
    text = ("levers:\n  baseline: []\n"
            "  trucks_by_rail: ['world.conveyances.truck.edge_modes=[rail]', 'world.conveyances.car.edge_modes=[rail]']\n"
            "replications: 2\nhorizon_days: 5\n")
    out = tmp_path / "out"
    line = refused(capsys, [str(sweep_file(tmp_path, text)), "--engine", "serial", "--out", str(out)])
    assert line.startswith("error: sweep error: levers.trucks_by_rail: world.organisations.turkmen_networks: "
                           "no route from 'af_mazar'"), line
    assert not out.exists()


def test_a_results_directory_that_is_a_file_is_one_line_and_the_file_is_untouched(capsys, tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("my notes\n")
    line = refused(capsys, [str(sweep_file(tmp_path, MINI)), "--engine", "serial", "--out", str(target), "--no-progress"])
    assert f"results directory {target} is a file" in line
    assert target.read_text() == "my notes\n"
    line = refused(capsys, [str(sweep_file(tmp_path, MINI)), "--engine", "serial", "--out", str(target / "sub")])
    assert "results directory" in line and "not a directory" in line


@pytest.fixture
def unwritable_dir(tmp_path):
    """A directory this process cannot write in (root ignores permission bits: use sysfs)."""
    if os.geteuid() == 0:
        yield Path("/sys/kernel/northern-route-results")
        return
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder / "sweep"
    folder.chmod(0o755)


def test_a_read_only_results_directory_is_one_line(capsys, tmp_path, unwritable_dir):
    line = refused(capsys, [str(sweep_file(tmp_path, MINI)), "--engine", "serial", "--out", str(unwritable_dir)])
    assert f"results directory {unwritable_dir}" in line and ("read-only" in line or "not permitted" in line), line


def test_resuming_another_sweep_says_what_differs_in_plain_words(capsys, tmp_path):
    out = tmp_path / "out"
    path = sweep_file(tmp_path, MINI)
    assert main([str(path), "--engine", "serial", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    line = refused(capsys, [str(path), "--engine", "serial", "--out", str(out), "seed=4"])
    assert "holds a different sweep: run baseline/s0/r0 has other seed" in line and "None" not in line, line
    line = refused(capsys, [str(path), "--engine", "serial", "--out", str(out), "replications=2"])
    assert "it has 2 runs, this one 4 runs; runs only in this one: baseline/s0/r1, baseline/s1/r1" in line, line
    line = refused(capsys, [str(path), "--engine", "serial", "--out", str(out), "--horizon-days", "7"])
    assert "it ran each run's own horizon, this one asks for a horizon of 7 days" in line, line
    line = refused(capsys, [str(path), "--engine", "serial", "--out", str(out), "--details", "daily"])
    assert "it kept details none, this one asks for ['daily']" in line, line


def test_overrides_may_follow_options_and_dry_run_lists_the_runs_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(sweep_file(tmp_path, MINI)), "--workers", "2",
           "--out", str(out), "replications=2", "--dry-run", "design=grid"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "= 4 runs (grid)" in done.stderr and "levers: baseline (no overrides)" in done.stderr
    assert "uncertainties: world.flow.supply_multiplier" in done.stderr
    listed = done.stdout.splitlines()
    assert [line.split()[0] for line in listed] == ["baseline/s0/r0", "baseline/s0/r1", "baseline/s1/r0", "baseline/s1/r1"]
    assert not out.exists()


def test_a_bad_override_on_the_command_line_is_one_line_exit_2(tmp_path):
    cmd = [sys.executable, "-m", "sim.sweep", str(sweep_file(tmp_path, MINI)), "--engine", "serial",
           "--out", str(tmp_path / "out"), "replications=-2"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: sweep error: replications: must be a positive integer (got -2) (in {tmp_path / 's.yaml'})"]


def test_failed_runs_give_exit_1_and_are_listed_and_a_rerun_retries_only_them(capsys, caplog, tmp_path):
    # each value is admissible alone (checked up front); one combination is not: a run-time failure
    text = ("levers: {baseline: []}\nuncertainties:\n"
            "  world.policies.dedicated_checkpoints.cargo_only: {values: [[kz_korday], [kz_merke]]}\n"
            "  world.policies.dedicated_checkpoints.passengers_only: {values: [[kz_karasu], [kz_merke]]}\n"
            "design: grid\nhorizon_days: 5\n")
    out = tmp_path / "out"
    argv = [str(sweep_file(tmp_path, text)), "--engine", "serial", "--out", str(out), "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err + caplog.text  # with --no-progress the list goes through logging
    assert "sweep: 1 of 4 runs failed" in err and "baseline/s3/r0: ConfigError" in err
    table = pd.read_parquet(out / "results.parquet")
    assert list(table["status"]) == ["ok", "ok", "ok", "failed"]
    assert main(argv) == 1  # retried, fails again; the three good runs are not run again
    parts = sorted((out / "parts").glob("part-*.parquet"))
    assert len(parts) == 2 and list(pd.read_parquet(parts[1])["run_id"]) == ["baseline/s3/r0"]
    assert main(argv + ["--no-retry-failed"]) == 1  # kept as failed: nothing runs
    assert sorted((out / "parts").glob("part-*.parquet")) == parts


def test_quick_runs_a_small_version_into_its_own_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = REPO / "scenarios" / "sweep" / "example.yaml"
    assert main([str(example), "--quick", "--engine", "serial", "--no-progress"]) == 0
    out = tmp_path / "results" / "sweeps" / "example-quick"
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["lever"]) == {"baseline", "customs_union"}
    assert (table["replication"] == 0).all() and table["sample"].nunique() == 3
    assert (table["horizon_days"] == 30).all() and (table["status"] == "ok").all()
    assert json.loads((out / "manifest.json").read_text())["n_runs"] == len(table) == 6


def test_the_scenarios_folder_can_live_elsewhere_for_workers_and_validation(tmp_path):
    """NORTHERN_ROUTE_SCENARIOS: a lever naming a regime that exists only in the other folder."""
    import shutil

    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", scenarios)
    shutil.copy(scenarios / "regime" / "customs_union.yaml", scenarios / "regime" / "my_union.yaml")
    path = sweep_file(tmp_path, "levers: {mine: [regime=my_union]}\nreplications: 1\nhorizon_days: 3\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.sweep", str(path), "--engine", "serial", "--out", str(out), "--no-progress"]
    elsewhere = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120,
                               env={**os.environ, "NORTHERN_ROUTE_SCENARIOS": str(scenarios)})
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert (pd.read_parquet(out / "results.parquet")["status"] == "ok").all()
    here = subprocess.run(cmd[:-3] + ["--out", str(tmp_path / "out2")], capture_output=True, text=True, cwd=REPO,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "NORTHERN_ROUTE_SCENARIOS"})
    assert here.returncode == 2 and "levers.mine" in here.stderr and "my_union" in here.stderr


def test_hydra_multirun_writes_one_full_run_directory_per_job(tmp_path):
    cmd = [sys.executable, "-m", "sim", "-m", "seed=1,2", "horizon_days=5", "report.replications=0",
           f"hydra.sweep.dir={tmp_path / 'multirun'}"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for job, seed in (("0", 1), ("1", 2)):
        folder = tmp_path / "multirun" / job
        for name in ("summary.json", "daily.parquet", "shipments.parquet", "route_map.png", "timeseries.png"):
            assert (folder / name).is_file(), f"{job}/{name}"
        assert json.loads((folder / "summary.json").read_text())["seed"] == seed


@pytest.mark.parametrize("option, value, message", [
    ("--batch-size", "0", "batch_size: must be a positive integer (got 0)"),
    ("--flush-seconds", "-1", "flush_seconds: must be a positive number of seconds (got -1.0)"),
    ("--horizon-days", "0", "horizon_days: must be from 1 to"),
    ("--workers", "0", "workers: must be at least 1 (got 0)"),
    ("--details", "everything", "details: unknown detail 'everything'"),
])
def test_bad_options_are_one_line_exit_2_and_create_no_folder(capsys, tmp_path, option, value, message):
    out = tmp_path / "out"
    line = refused(capsys, [str(sweep_file(tmp_path, MINI)), "--engine", "processes", "--out", str(out), option, value])
    assert message in line
    assert not out.exists()
