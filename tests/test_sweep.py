"""Sweeps on a real Dask cluster: same numbers as serial, nothing lost, failures recorded.

These tests start real Dask LocalClusters (separate worker processes) and kill a sweep
with SIGKILL; they use 30-day runs so that the file takes well under a minute.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

import sim.sweep.worker as worker
from sim.params import ConfigError
from sim.sweep import Experiment, SweepMismatchError, run_experiments
from sim.sweep.store import ResultStore

HORIZON = 30
TIMING = ["wall_s", "sim_s"]


def small_sweep() -> list[Experiment]:
    """2 levers x 2 supply levels x 2 replications (common random numbers), + 1 bad run."""
    exps = [
        Experiment(f"{lever}/m{m}/r{r}", scenario, {"world.flow.supply_multiplier": m}, seed=100 + r,
                   inputs={"lever": lever, "replication": r})
        for lever, scenario in (("baseline", ()), ("customs_union", ("regime=customs_union",)))
        for m in (0.8, 1.3)
        for r in range(2)
    ]
    exps.append(Experiment("bad/prob", (), {"world.corruption.deterrence": 1.7}, seed=7, inputs={"lever": "bad"}))
    return exps


def same_numbers(a: pd.DataFrame, b: pd.DataFrame) -> None:
    columns = [c for c in a.columns if c not in TIMING]
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a[columns].reset_index(drop=True), b[columns].reset_index(drop=True))


@pytest.fixture(scope="module")
def serial_table() -> pd.DataFrame:
    return run_experiments(small_sweep(), engine="serial", horizon_days=HORIZON, progress=False)


def test_serial_table_has_one_row_per_run_in_order_with_inputs_updates_and_outcomes(serial_table):
    table = serial_table
    assert list(table["run_id"]) == [e.run_id for e in small_sweep()]
    assert list(table.columns[:7]) == ["run_id", "seed", "lever", "replication", "world.flow.supply_multiplier",
                                      "world.corruption.deterrence", "overrides"]
    ok = table[table["status"] == "ok"]
    assert len(ok) == 8 and ok["error"].isna().all()
    assert (ok["horizon_days"] == HORIZON).all()
    assert (ok["kg_entered"] > 0).all() and (ok["wall_s"] >= ok["sim_s"]).all()
    # more supply, more heroin entering (same seeds: common random numbers)
    base = ok[ok["lever"] == "baseline"].set_index(["world.flow.supply_multiplier", "replication"])["kg_entered"]
    assert (base.loc[1.3].to_numpy() > base.loc[0.8].to_numpy()).all()
    assert set(ok.loc[ok["lever"] == "customs_union", "overrides"]) == {"regime=customs_union"}


def test_a_failing_run_is_recorded_with_its_error_and_inputs_and_the_others_succeed(serial_table):
    bad = serial_table.set_index("run_id").loc["bad/prob"]
    assert bad["status"] == "failed"
    assert "world.corruption.deterrence" in bad["error"] and "1.7" in bad["error"]
    assert bad["lever"] == "bad" and bad["seed"] == 7 and bad["world.corruption.deterrence"] == 1.7
    assert pd.isna(bad["kg_entered"])


def test_local_dask_cluster_with_two_worker_processes_gives_the_serial_table(serial_table, tmp_path):
    table = run_experiments(small_sweep(), engine="processes", workers=2, horizon_days=HORIZON,
                            results_dir=tmp_path / "sweep", progress=False)
    same_numbers(table, serial_table)
    # and the table written to disk is the same table
    on_disk = pd.read_parquet(tmp_path / "sweep" / "results.parquet")
    same_numbers(on_disk, serial_table)


def test_results_do_not_depend_on_the_number_of_workers(serial_table):
    one = run_experiments(small_sweep(), engine="processes", workers=1, horizon_days=HORIZON, progress=False)
    same_numbers(one, serial_table)


def test_the_dask_engine_runs_on_a_scheduler_given_by_address(serial_table):
    import sim.sweep.runner as runner

    run_experiments(small_sweep()[:1], engine="processes", workers=2, horizon_days=5, progress=False)
    address = runner._LOCAL["cluster"].scheduler_address  # a running scheduler with 2 worker processes
    table = run_experiments(small_sweep(), engine="dask", scheduler_address=address, horizon_days=HORIZON,
                            progress=False)
    same_numbers(table, serial_table)


def test_the_local_cluster_is_kept_for_the_next_sweep_of_the_same_size():
    import sim.sweep.runner as runner

    exps = small_sweep()[:2]
    run_experiments(exps, engine="processes", workers=1, horizon_days=5, progress=False)
    cluster = runner._LOCAL["cluster"]
    again = run_experiments(exps, engine="processes", workers=1, horizon_days=5, progress=False)
    assert runner._LOCAL["cluster"] is cluster and (again["status"] == "ok").all()


def test_workers_compose_each_scenario_once_and_reuse_it(monkeypatch):
    calls = []
    real = worker.load_params
    monkeypatch.setattr(worker, "load_params", lambda overrides: calls.append(tuple(overrides)) or real(overrides))
    monkeypatch.setattr(worker, "_BASE_PARAMS", {})
    exps = [Experiment(f"{s}/{r}", scenario, seed=r)
            for s, scenario in (("a", ()), ("b", ("regime=customs_union",))) for r in range(3)]
    table = run_experiments(exps, engine="serial", horizon_days=5, progress=False)
    assert (table["status"] == "ok").all()
    assert sorted(calls) == [(), ("regime=customs_union",)]


def test_rerun_into_the_same_results_dir_retries_only_the_failed_run(tmp_path):
    exps = small_sweep()[:2] + small_sweep()[-1:]
    out = tmp_path / "sweep"
    first = run_experiments(exps, engine="serial", horizon_days=HORIZON, results_dir=out, progress=False)
    assert list(first["status"]) == ["ok", "ok", "failed"]
    parts_before = sorted((out / "parts").glob("part-*.parquet"))

    second = run_experiments(exps, engine="serial", horizon_days=HORIZON, results_dir=out, progress=False)
    new_parts = sorted(set((out / "parts").glob("part-*.parquet")) - set(parts_before))
    assert len(new_parts) == 1
    assert list(pd.read_parquet(new_parts[0])["run_id"]) == ["bad/prob"]  # only the failed run ran again
    same_numbers(second, first)

    third = run_experiments(exps, engine="serial", horizon_days=HORIZON, results_dir=out, progress=False,
                            retry_failed=False)
    assert len(list((out / "parts").glob("part-*.parquet"))) == len(parts_before) + 1  # nothing ran
    same_numbers(third, first)


def test_resuming_a_different_sweep_into_the_same_dir_is_a_clear_error(tmp_path):
    exps = small_sweep()[:2]
    run_experiments(exps, engine="serial", horizon_days=5, results_dir=tmp_path, progress=False)
    with pytest.raises(SweepMismatchError, match="different sweep"):
        run_experiments(exps[:1], engine="serial", horizon_days=5, results_dir=tmp_path, progress=False)
    with pytest.raises(SweepMismatchError, match="different sweep"):
        run_experiments(exps, engine="serial", horizon_days=6, results_dir=tmp_path, progress=False)


def test_two_sweeps_cannot_write_into_one_dir_at_once(tmp_path):
    exps = small_sweep()[:1]
    with ResultStore(tmp_path, exps):
        with pytest.raises(ConfigError, match="another sweep"):
            ResultStore(tmp_path, exps)


def test_bad_arguments_are_clear_errors():
    exps = small_sweep()[:1]
    with pytest.raises(ConfigError, match="engine"):
        run_experiments(exps, engine="threads", progress=False)
    with pytest.raises(ConfigError, match="scheduler_address"):
        run_experiments(exps, engine="dask", progress=False)
    with pytest.raises(ConfigError, match="duplicate run_id"):
        run_experiments(exps + exps, engine="serial", progress=False)
    with pytest.raises(ConfigError, match="seed"):
        Experiment("x", updates={"seed": 3})
    with pytest.raises(ConfigError, match="reserved"):
        Experiment("x", inputs={"status": "mine"})


KILLED_SWEEP = """
import sys
from sim.sweep import Experiment, run_experiments

def experiments():
    return [Experiment(f"run{{i:02d}}", (), {{"world.flow.supply_multiplier": 0.8 + 0.05 * i}}, seed=i,
                       inputs={{"i": i}}) for i in range({n})]

if __name__ == "__main__":
    run_experiments(experiments(), engine="processes", workers=2, horizon_days={horizon},
                    results_dir=sys.argv[1], progress=False, batch_size=1)
"""


def test_a_sweep_killed_half_way_resumes_and_runs_each_run_exactly_once(tmp_path):
    n, horizon = 8, 120
    script = tmp_path / "killed_sweep.py"
    script.write_text(textwrap.dedent(KILLED_SWEEP.format(n=n, horizon=horizon)))
    out = tmp_path / "sweep"
    child = subprocess.Popen([sys.executable, str(script), str(out)], cwd=Path(__file__).resolve().parents[1],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while not list((out / "parts").glob("part-*.parquet")):
            assert child.poll() is None, f"the sweep ended before a part was written: {child.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "no part written within 90 s"
            time.sleep(0.02)
        workers = psutil.Process(child.pid).children(recursive=True)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stderr.close()
    assert not (out / "results.parquet").exists(), "the sweep finished before it was killed; the test proved nothing"
    # the cluster's worker processes notice their parent died and exit (nothing left burning CPU)
    gone, alive = psutil.wait_procs(workers, timeout=20)
    for proc in alive:  # started by this test; clean up before failing
        proc.kill()
    assert not alive, f"orphaned worker processes: {[p.pid for p in alive]}"

    done_before = pd.concat([pd.read_parquet(p) for p in (out / "parts").glob("part-*.parquet")])
    assert 1 <= len(done_before) < n

    sys.path.insert(0, str(tmp_path))
    try:
        from killed_sweep import experiments
    finally:
        sys.path.remove(str(tmp_path))
    exps = experiments()
    table = run_experiments(exps, engine="processes", workers=2, horizon_days=horizon, results_dir=out,
                            progress=False, batch_size=1)
    assert list(table["run_id"]) == [e.run_id for e in exps]
    assert (table["status"] == "ok").all()
    every_part = pd.concat([pd.read_parquet(p) for p in sorted((out / "parts").glob("part-*.parquet"))])
    assert sorted(every_part["run_id"]) == sorted(e.run_id for e in exps)  # each run recorded exactly once
    assert not list((out / "parts").glob("*.tmp*"))
    # the numbers of runs finished before the kill are those a fresh serial run gives
    check = [e for e in exps if e.run_id in set(done_before["run_id"])][:1]
    fresh = run_experiments(check, engine="serial", horizon_days=horizon, progress=False)
    shared = [c for c in fresh.columns if c not in TIMING]
    resumed = table[table["run_id"] == check[0].run_id].reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed[shared], fresh[shared], check_dtype=False)
    assert resumed.drop(columns=shared + TIMING).isna().all(axis=None)  # outcomes this run lacks are NaN


def test_per_run_details_are_kept_in_a_few_files_and_survive_a_resume(tmp_path):
    from sim.sweep import load_details

    exps = small_sweep()[:3] + small_sweep()[-1:]
    out = tmp_path / "sweep"
    table = run_experiments(exps[:2], engine="serial", horizon_days=HORIZON, progress=False)  # reference, no details
    with pytest.raises(ConfigError, match="details"):
        run_experiments(exps, engine="serial", progress=False, details=["daily"])  # no results_dir
    with pytest.raises(ConfigError, match="unknown detail"):
        run_experiments(exps, engine="serial", progress=False, results_dir=out, details=["everything"])
    full = run_experiments(exps, engine="serial", horizon_days=HORIZON, results_dir=out, progress=False,
                           details=["daily", "seized_by_node"], batch_size=2)
    shared = [c for c in table.columns if c not in TIMING and table[c].notna().any()]
    pd.testing.assert_frame_equal(full.iloc[:2][shared], table[shared], check_dtype=False)
    daily = load_details(out, "daily")
    assert sorted(daily["run_id"].unique()) == sorted(full.loc[full["status"] == "ok", "run_id"])
    assert (daily.groupby("run_id")["day"].max() == HORIZON).all()
    assert len(list((out / "details" / "daily").iterdir())) == 2  # one file per batch, not per run
    seized = load_details(out, "seized_by_node").groupby("run_id")["kg"].sum()
    assert seized.loc[exps[0].run_id] == pytest.approx(full.set_index("run_id").loc[exps[0].run_id, "kg_seized"], rel=1e-6)
    # details written but the sweep killed before its part: an orphan, removed on resume
    orphan = out / "details" / "daily" / "part-000099.parquet"
    daily.head(3).to_parquet(orphan)
    run_experiments(exps, engine="serial", horizon_days=HORIZON, results_dir=out, progress=False,
                    details=["daily", "seized_by_node"], retry_failed=False)
    assert not orphan.exists()
    assert len(load_details(out, "daily")) == len(daily)


def test_a_config_edited_between_two_sweeps_is_composed_again(tmp_path, monkeypatch):
    import shutil

    import sim.config

    scenarios = tmp_path / "scenarios"
    shutil.copytree(sim.config.SCENARIOS_DIR, scenarios)
    monkeypatch.setattr(sim.config, "SCENARIOS_DIR", scenarios)
    monkeypatch.setattr(worker, "SCENARIOS_DIR", scenarios)
    exps = [Experiment("one", (), seed=1)]
    before = run_experiments(exps, engine="serial", horizon_days=10, progress=False)
    world = scenarios / "world" / "baseline_2009.yaml"
    # supply_multiplier: not among the calibrated keys that scenarios/calibrated/ sets after `world`
    text, halved = re.subn(r"supply_multiplier: *([0-9.]+)",
                           lambda m: f"supply_multiplier: {float(m.group(1)) / 2}", world.read_text())
    assert halved == 1
    world.write_text(text)
    after = run_experiments(exps, engine="serial", horizon_days=10, progress=False)
    assert after.loc[0, "kg_entered"] < 0.75 * before.loc[0, "kg_entered"]


def test_runs_of_one_design_point_validate_their_updates_once_and_keep_their_own_seed(monkeypatch):
    """run_params validates a set of updates once per worker; each run still gets exactly
    the params (seed included) that validating its own updates gives."""
    from sim.config import load_params, with_updates

    calls = []
    monkeypatch.setattr(worker, "_RUN_PARAMS", {})
    monkeypatch.setattr(worker, "with_updates", lambda p, u: calls.append(u) or with_updates(p, u))
    updates = {"world.flow.supply_multiplier": 1.3}
    params = [worker.run_params(Experiment(f"p/{s}", (), updates, seed=s), horizon_days=30) for s in (5, 6, 7)]
    assert len(calls) == 1
    for seed, p in zip((5, 6, 7), params):
        assert p == with_updates(load_params(), {**updates, "seed": seed, "horizon_days": 30})
    worker.run_params(Experiment("q/5", (), {"world.flow.supply_multiplier": 1.4}, seed=5), horizon_days=30)
    assert len(calls) == 2
