"""Stopping a sweep: Ctrl-C, SIGTERM and kill -9 keep every finished run; dead workers are replaced.

Real subprocesses and real signals, short horizons, fixed seeds. "Finished" is measured
independently of the results folder: the child wraps the function that runs one
experiment so that it appends the run's id to a side file the moment the run returns,
before the sweep sees it. A run in that file but not in the results folder is a finished
run lost; the docs promise none beyond the runs in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from sim.sweep import Experiment, SweepInterrupted, run_experiments
from sim.sweep.store import JOURNAL, ResultStore

REPO = Path(__file__).resolve().parents[1]
INTERRUPTED = "interrupted: {n} runs kept, rerun the same command to resume"

CHILD = """
import sys
import sim.sweep.runner as runner
from sim.sweep import Experiment, run_experiments, sigterm_as_interrupt
from sim.sweep.worker import run_experiment

FINISHED = sys.argv[2] if len(sys.argv) > 2 else None   # None when a test imports experiments()

def experiments():
    return [Experiment(f"run{{i:02d}}", (), {{"world.flow.supply_multiplier": 0.8 + 0.02 * i}}, seed=i,
                       inputs={{"i": i}}) for i in range({n})]

def run_and_tell(exp, *settings):
    row = run_experiment(exp, *settings)
    with open(FINISHED, "a") as side:      # finished: told before the sweep records it
        side.write(exp.run_id + "\\n")
    return row

if __name__ == "__main__":
    runner.run_experiment = run_and_tell
    try:
        with sigterm_as_interrupt():  # as the command lines do
            run_experiments(experiments(), engine="{engine}", workers=2, horizon_days={horizon},
                            results_dir=sys.argv[1], progress=False, **{batching})
    except KeyboardInterrupt as stop:
        print(stop, file=sys.stderr)
        sys.exit(getattr(stop, "exit_code", 130))
"""


def terminal_like(**kwargs) -> dict:
    """Popen arguments for a child that gets Ctrl-C as from a terminal (its own process group,
    SIGINT not inherited as ignored from a background shell)."""
    return dict(cwd=REPO, start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                **kwargs)


def wait_for_lines(path: Path, n: int, child: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and len(path.read_text().splitlines()) >= n):
        assert child.poll() is None, f"the child ended early: {child.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, f"fewer than {n} lines in {path.name} after {timeout} s"
        time.sleep(0.02)


def recorded_runs(out: Path) -> pd.DataFrame:
    """What a resume would find (it turns the journal into a part first)."""
    manifest = json.loads((out / "manifest.json").read_text())
    with ResultStore(out, experiments_of(out), manifest["horizon_days"], manifest["details"]) as store:
        return store.recorded()


def experiments_of(out: Path) -> list[Experiment]:
    lines = (out / "experiments.jsonl").read_text().splitlines()
    return [Experiment(**json.loads(line)) for line in lines]


def every_part(out: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted((out / "parts").glob("part-*.parquet"))], ignore_index=True)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_a_stopped_sweep_keeps_every_finished_run_and_resumes_to_each_run_once(tmp_path, how):
    n, horizon = 30, 15
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD.format(n=n, horizon=horizon, engine="serial", batching={})))
    out, finished_file = tmp_path / "sweep", tmp_path / "finished.txt"
    child = subprocess.Popen([sys.executable, str(script), str(out), str(finished_file)],
                             **terminal_like(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:
        wait_for_lines(finished_file, 4, child)
        child.send_signal(getattr(signal, how))
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    finished = set(finished_file.read_text().split())
    assert len(finished) < n, "the sweep ended before the signal; the test proved nothing"
    assert not (out / "results.parquet").exists()  # nothing looks complete
    kept = recorded_runs(out)
    lost = finished - set(kept["run_id"])
    # serial: the one run in flight may have returned and not yet reached the journal
    assert len(lost) <= 1, f"{how}: finished runs lost: {sorted(lost)}"
    said = f"{how}: the child exited {child.returncode}; its stderr:\n{stderr}"  # a crash names its cause
    if how == "SIGKILL":
        assert child.returncode == -signal.SIGKILL, said
    else:  # stopped cleanly: one line, the shell's exit code, finished runs in parts
        assert child.returncode == 128 + getattr(signal, how), said
        assert stderr.strip().splitlines()[-1].startswith(INTERRUPTED.format(n=len(kept))), stderr
        assert "Traceback" not in stderr

    sys.path.insert(0, str(tmp_path))
    try:
        from child import experiments
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("child", None)
    exps = experiments()
    table = run_experiments(exps, engine="serial", horizon_days=horizon, results_dir=out, progress=False)
    assert (table["status"] == "ok").all() and list(table["run_id"]) == [e.run_id for e in exps]
    assert sorted(every_part(out)["run_id"]) == sorted(e.run_id for e in exps)  # each run recorded once
    assert (out / "parts" / JOURNAL).read_text() == ""


def test_the_store_reads_parquet_in_the_calling_thread_only_so_exiting_right_after_cannot_abort(
        tmp_path, monkeypatch):
    """An interrupted sweep reads its parts to count the runs kept, prints one line and exits.
    pandas.read_parquet would leave pyarrow's threads finishing the read after it returned,
    the last step taking the GIL; one that asks for it while the interpreter finalizes aborts
    the process ("terminate called without an active exception"): the SIGTERM test above saw
    exit status -6 instead of 143 on a loaded machine, a few runs in a hundred. That race cannot
    be forced from here, so this checks what prevents it: every read of the store (parts,
    details, a journal recovered with its details, a part checked on opening) goes through
    pyarrow's own file I/O, with no pre-buffering and no threads (sim.parquet.read_parquet).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.sweep import load_details

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(4)]
    out = tmp_path / "sweep"
    with ResultStore(out, exps, horizon_days=3, details=["daily"]) as store:
        row, frames = _finished_row(exps[0])
        store.write_part([row], {"daily": [frames["daily"]]})
        for exp in exps[1:3]:
            store.append(*_finished_row(exp))  # stopped with these in the journal: recovered on opening

    opened, threaded = [], []  # (source, pre_buffer) of each file opened; use_threads of each read

    class Watched(pq.ParquetFile):
        def __init__(self, source, **options):
            opened.append((source, options.get("pre_buffer", True)))
            super().__init__(source, **options)

        def read(self, *args, use_threads=True, **options):
            threaded.append(use_threads)
            return super().read(*args, use_threads=use_threads, **options)

    def dataset_reader(*args, **kwargs):
        raise AssertionError("read through pyarrow's dataset reader (pandas.read_parquet, pyarrow.parquet.read_table)")

    monkeypatch.setattr(pq, "ParquetFile", Watched)
    monkeypatch.setattr(pq, "read_table", dataset_reader)
    monkeypatch.setattr(pd, "read_parquet", dataset_reader)
    with ResultStore(out, exps, horizon_days=3, details=["daily"]) as store:
        assert sorted(store.recorded()["run_id"]) == ["r0", "r1", "r2"]
    assert sorted(load_details(out, "daily")["run_id"]) == ["r0", "r0", "r1", "r1", "r2", "r2"]

    sources = [type(source) for source, _ in opened]
    assert str in sources and pa.BufferReader in sources  # parts by path, journalled details from bytes
    assert set(sources) <= {str, pa.BufferReader}, f"read through {sources}: a Python file object?"
    assert [pre_buffer for _, pre_buffer in opened] == [False] * len(opened)
    assert threaded == [False] * len(opened)


def test_ctrl_c_on_the_command_line_stops_workers_quietly_and_says_how_to_resume(tmp_path):
    """Ctrl-C in a terminal reaches the whole process group, Dask's worker processes too."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text("uncertainties: {world.flow.supply_multiplier: {low: 0.8, high: 1.2}}\n"
                     "design: lhs\nn_samples: 40\nseed: 1\nhorizon_days: 15\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.sweep", str(sweep), "--workers", "2", "--out", str(out), "--no-progress"]
    child = subprocess.Popen(cmd, **terminal_like(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        wait_for_lines(out / "parts" / JOURNAL, 3, child)
        workers = psutil.Process(child.pid).children(recursive=True)
        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130
    kept = recorded_runs(out)
    lines = [line for line in stderr.splitlines() if not line.startswith(("sweep s:", "  levers:", "  uncertainties:"))]
    assert lines == [f"{INTERRUPTED.format(n=len(kept))} ({len(kept)} of 40 in {out})"], stderr
    assert 3 <= len(kept) < 40 and not (out / "results.parquet").exists()
    gone, alive = psutil.wait_procs(workers, timeout=20)
    for proc in alive:
        proc.kill()
    assert not alive, "worker processes outlived the sweep"

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(pd.read_parquet(out / "results.parquet")) == 40
    assert sorted(every_part(out)["run_id"]) == sorted(experiments_run_ids(out))


def experiments_run_ids(out: Path) -> list[str]:
    return [e.run_id for e in experiments_of(out)]


def test_kill_9_between_parts_loses_no_finished_run_on_a_local_cluster(tmp_path):
    """Before the first part (here: 1,000 runs or 10 minutes), finished runs live only in the journal."""
    n, horizon = 40, 15
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD.format(n=n, horizon=horizon, engine="processes",
                                                       batching=dict(batch_size=1000, flush_seconds=600))))
    out, finished_file = tmp_path / "sweep", tmp_path / "finished.txt"
    child = subprocess.Popen([sys.executable, str(script), str(out), str(finished_file)],
                             **terminal_like(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:
        wait_for_lines(out / "parts" / JOURNAL, 5, child)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    finished = set(finished_file.read_text().split())
    journal = [json.loads(line)["row"]["run_id"] for line in (out / "parts" / JOURNAL).read_text().splitlines()]
    assert not list((out / "parts").glob("part-*.parquet")), "a part was written; the test did not test the journal"
    kept = recorded_runs(out)
    assert set(kept["run_id"]) == set(journal) and len(journal) >= 5
    in_flight = max(8, 3 * 2)  # the runner's window: runs submitted and not yet received
    assert len(finished - set(journal)) <= in_flight
    assert len(list((out / "parts").glob("part-*.parquet"))) == 1  # the journal became one part


def test_a_line_cut_short_in_the_journal_is_dropped_and_its_run_runs_again(tmp_path, caplog):
    exps = [Experiment(f"r{i}", (), seed=i) for i in range(3)]
    out = tmp_path / "sweep"
    with ResultStore(out, exps, horizon_days=3) as store:
        for exp in exps[:2]:
            store.append({"run_id": exp.run_id, "seed": exp.seed, "status": "ok", "kg_entered": 1.0})
    journal = out / "parts" / JOURNAL
    journal.write_text(journal.read_text()[:-20])  # the second line half written when killed
    table = run_experiments(exps, engine="serial", horizon_days=3, results_dir=out, progress=False)
    assert "journal.jsonl line 2 is cut short" in caplog.text
    parts = every_part(out)
    assert sorted(parts["run_id"]) == ["r0", "r1", "r2"]
    assert parts.set_index("run_id").loc["r0", "kg_entered"] == 1.0  # kept, not run again
    assert (table["status"] == "ok").all()


def test_a_truncated_part_is_named_set_aside_and_only_its_runs_run_again(tmp_path, caplog):
    exps = [Experiment(f"r{i}", (), {"world.flow.supply_multiplier": 0.9 + 0.05 * i}, seed=i) for i in range(6)]
    out = tmp_path / "sweep"
    first = run_experiments(exps, engine="serial", horizon_days=5, results_dir=out, progress=False, batch_size=2)
    parts = sorted((out / "parts").glob("part-*.parquet"))
    assert len(parts) == 3
    lost_runs = set(pd.read_parquet(parts[1])["run_id"])
    parts[1].write_bytes(parts[1].read_bytes()[:300])  # a disk filled up, a copy cut short
    (out / "results.parquet").unlink()

    table = run_experiments(exps, engine="serial", horizon_days=5, results_dir=out, progress=False, batch_size=2)
    assert f"{parts[1]} is unreadable" in caplog.text and "its runs will run again" in caplog.text
    assert parts[1].with_name(parts[1].name + ".unreadable").exists()
    newest = sorted((out / "parts").glob("part-*.parquet"))[-1]
    assert set(pd.read_parquet(newest)["run_id"]) == lost_runs  # only the runs of the bad part ran again
    assert sorted(every_part(out)["run_id"]) == sorted(e.run_id for e in exps)
    numbers = [c for c in first.columns if c not in ("wall_s", "sim_s")]
    pd.testing.assert_frame_equal(table[numbers], first[numbers])


def test_a_dead_worker_is_replaced_and_its_runs_retried(tmp_path):
    from sim.sweep.runner import close_local_cluster, local_client

    exps = [Experiment(f"r{i:02d}", (), {"world.flow.supply_multiplier": 0.8 + 0.03 * i}, seed=i) for i in range(16)]
    out = tmp_path / "sweep"
    client = local_client(2)
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one_worker_mid_sweep():
        journal = out / "parts" / JOURNAL
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= 2:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_worker_mid_sweep)
    killer.start()
    try:
        table = run_experiments(exps, engine="processes", workers=2, horizon_days=30, results_dir=out,
                                progress=False, batch_size=1000)
    finally:
        killer.join()
    try:
        assert killed, "no worker was killed: the sweep finished first"
        assert (table["status"] == "ok").all(), table.loc[table["status"] != "ok", ["run_id", "error"]]
        assert sorted(every_part(out)["run_id"]) == [e.run_id for e in exps]
        deadline = time.monotonic() + 30
        while len(client.nthreads()) < 2:  # the nanny starts a new worker process
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        assert set(client.run(os.getpid).values()) != set(pids)
        reference = run_experiments(exps[:2], engine="serial", horizon_days=30, progress=False)
        pd.testing.assert_series_equal(table["kg_entered"].head(2), reference["kg_entered"])
    finally:
        close_local_cluster()


def test_the_interrupt_is_a_keyboard_interrupt_with_the_shell_exit_code():
    stop = SweepInterrupted(kept=3, total=10, results_dir="results/sweeps/x", signum=signal.SIGTERM)
    assert isinstance(stop, KeyboardInterrupt) and stop.exit_code == 143
    assert stop.message() == "interrupted: 3 runs kept, rerun the same command to resume (3 of 10 in results/sweeps/x)"
    assert SweepInterrupted(kept=0, total=4, results_dir=None).exit_code == 130


def _run_or_kill_the_worker(exp, *settings):
    """Stands in for sim.sweep.worker.run_experiment: the run 'poison' kills its worker process."""
    from sim.sweep.worker import run_experiment

    if exp.run_id == "poison":
        os._exit(1)
    return run_experiment(exp, *settings)


def test_a_run_that_kills_workers_repeatedly_is_recorded_as_failed_and_the_others_finish(tmp_path, monkeypatch):
    import cloudpickle

    import sim.sweep.runner as runner
    from sim.sweep.runner import close_local_cluster

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(4)]
    exps.insert(1, Experiment("poison", (), seed=99))
    monkeypatch.setattr(runner, "run_experiment", _run_or_kill_the_worker)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    try:
        table = run_experiments(exps, engine="processes", workers=2, horizon_days=5, results_dir=tmp_path / "s",
                                progress=False)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        close_local_cluster()
    status = table.set_index("run_id")["status"]
    assert status["poison"] == "failed" and (status.drop("poison") == "ok").all()
    assert table.set_index("run_id").loc["poison", "error"].startswith("KilledWorker")


def test_a_resumed_sweep_stopped_again_leaves_no_stale_results_table(tmp_path, monkeypatch):
    """The first session ended with a failed run and wrote results.parquet; the retry is
    interrupted: the old table (which says 'failed') must not stay beside newer parts."""
    import sim.sweep.runner as runner
    from sim.sweep.worker import run_experiment

    exps = [Experiment("good", (), seed=1), Experiment("flaky", (), {"world.corruption.deterrence": 1.7}, seed=2)]
    out = tmp_path / "sweep"
    first = run_experiments(exps, engine="serial", horizon_days=3, results_dir=out, progress=False, summary_by=[])
    assert list(first["status"]) == ["ok", "failed"] and (out / "results.parquet").exists()

    def interrupted_on_flaky(exp, *settings):
        if exp.run_id == "flaky":
            raise KeyboardInterrupt
        return run_experiment(exp, *settings)

    monkeypatch.setattr(runner, "run_experiment", interrupted_on_flaky)
    with pytest.raises(SweepInterrupted) as stop:
        run_experiments(exps, engine="serial", horizon_days=3, results_dir=out, progress=False, summary_by=[])
    assert stop.value.kept == 2 and stop.value.exit_code == 130
    assert not (out / "results.parquet").exists() and not (out / "summary.csv").exists()
    assert sorted(every_part(out)["run_id"]) == ["flaky", "good"]  # what was recorded is kept


class _Killed(BaseException):
    """Stands for kill -9 landing at one moment of writing a part: nothing after it runs."""


def _kill_at(moment: str, monkeypatch, store_module) -> None:
    """Make the next part written stop dead at ``moment`` (the steps of ResultStore.write_part, in order)."""
    atomic_parquet, fsync_file, fsync_dir = store_module._atomic_parquet, store_module._fsync_file, store_module._fsync_dir
    empty_journal = ResultStore._empty_journal

    def in_parts(path) -> bool:
        return Path(path).parent.name == "parts" or Path(path).name == "parts"

    def details_written_part_not(frame, path):
        if in_parts(path):
            raise _Killed
        atomic_parquet(frame, path)

    def part_on_disk_under_its_temporary_name(path):
        fsync_file(path)
        if in_parts(path):
            raise _Killed

    def part_renamed_directory_not_synced(path):
        if in_parts(path):
            raise _Killed
        fsync_dir(path)

    def part_whole_journal_not_emptied(self):
        raise _Killed

    def journal_emptied(self):
        empty_journal(self)
        raise _Killed

    hooks = {"details written, part not": ("_atomic_parquet", details_written_part_not),
             "part on disk under its temporary name": ("_fsync_file", part_on_disk_under_its_temporary_name),
             "part renamed, directory not synced": ("_fsync_dir", part_renamed_directory_not_synced)}
    if moment in hooks:
        monkeypatch.setattr(store_module, *hooks[moment])
    else:
        monkeypatch.setattr(ResultStore, "_empty_journal",
                            {"part whole, journal not emptied": part_whole_journal_not_emptied,
                             "journal emptied": journal_emptied}[moment])


KILL_MOMENTS = ["details written, part not", "part on disk under its temporary name",
                "part renamed, directory not synced", "part whole, journal not emptied", "journal emptied"]


def _finished_row(exp: Experiment) -> tuple[dict, dict]:
    row = {"run_id": exp.run_id, "seed": exp.seed, "status": "ok", "kg_entered": float(exp.seed)}
    return row, {"daily": pd.DataFrame({"run_id": [exp.run_id] * 2, "day": [1, 2]})}


@pytest.mark.parametrize("moment", KILL_MOMENTS)
def test_a_kill_at_any_moment_of_writing_a_part_leaves_each_finished_run_recorded_exactly_once(
        tmp_path, monkeypatch, moment):
    import sim.sweep.store as store_module

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(5)]
    out = tmp_path / "sweep"
    store = ResultStore(out, exps, horizon_days=3, details=["daily"])
    try:
        for killed, batch in ((False, exps[:2]), (True, exps[2:4])):
            rows, details = [], {"daily": []}
            for exp in batch:
                row, frames = _finished_row(exp)
                store.append(row, frames)
                rows.append(row)
                details["daily"].append(frames["daily"])
            if killed:
                _kill_at(moment, monkeypatch, store_module)
                with pytest.raises(_Killed):
                    store.write_part(rows, details)
            else:
                store.write_part(rows, details)
    finally:
        store.close()  # what the operating system does for a killed process: nothing is written
    monkeypatch.undo()

    finished = ["r0", "r1", "r2", "r3"]
    kept = recorded_runs(out)  # the resume: the journal is recovered, the parts read back
    assert sorted(kept["run_id"]) == finished
    assert sorted(every_part(out)["run_id"]) == finished  # each run in exactly one part
    from sim.sweep import load_details
    assert sorted(load_details(out, "daily")["run_id"]) == sorted(finished * 2)  # and its details once
    assert not (out / "parts" / JOURNAL).exists() or (out / "parts" / JOURNAL).read_text() == ""


@pytest.mark.parametrize("moment", KILL_MOMENTS)
def test_a_resume_killed_while_recovering_the_journal_still_records_each_run_exactly_once(
        tmp_path, monkeypatch, moment):
    import sim.sweep.store as store_module

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(4)]
    out = tmp_path / "sweep"
    with ResultStore(out, exps, horizon_days=3, details=["daily"]) as store:
        store.write_part([_finished_row(exps[0])[0]], {"daily": [_finished_row(exps[0])[1]["daily"]]})
        for exp in exps[1:3]:
            store.append(*_finished_row(exp))  # killed with these two in the journal only
    _kill_at(moment, monkeypatch, store_module)
    with pytest.raises(_Killed):
        ResultStore(out, exps, horizon_days=3, details=["daily"])  # the resume, killed turning the journal into a part
    monkeypatch.undo()

    finished = ["r0", "r1", "r2"]
    assert sorted(recorded_runs(out)["run_id"]) == finished
    assert sorted(every_part(out)["run_id"]) == finished
    from sim.sweep import load_details
    assert sorted(load_details(out, "daily")["run_id"]) == sorted(finished * 2)


def test_ctrl_c_landing_just_after_a_part_is_renamed_does_not_write_its_runs_again(tmp_path, monkeypatch):
    """The collector retries a batch whose write was interrupted; a batch already on disk must not
    become a second part (the retry rewrites the same part, with any run harvested since)."""
    import sim.sweep.store as store_module

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(4)]
    out = tmp_path / "sweep"
    fsync_dir, calls = store_module._fsync_dir, []

    def interrupted_once(path):
        fsync_dir(path)
        if Path(path).name == "parts" and not calls:
            calls.append(path)
            raise KeyboardInterrupt  # Ctrl-C arriving while the directory is synced, right after the rename

    monkeypatch.setattr(store_module, "_fsync_dir", interrupted_once)
    with pytest.raises(SweepInterrupted) as stop:
        run_experiments(exps, engine="serial", horizon_days=3, results_dir=out, progress=False, batch_size=2)
    assert calls, "the interrupt was never raised; the test proved nothing"
    assert stop.value.kept == 2
    assert sorted(every_part(out)["run_id"]) == ["r0", "r1"]
    table = run_experiments(exps, engine="serial", horizon_days=3, results_dir=out, progress=False, batch_size=2)
    assert (table["status"] == "ok").all()
    assert sorted(every_part(out)["run_id"]) == ["r0", "r1", "r2", "r3"]


def test_a_run_left_twice_by_an_older_version_is_read_back_once_with_its_details(tmp_path):
    """Folders written before journal lines named their part can hold a run in two parts."""
    from sim.sweep import load_details

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(3)]
    out = tmp_path / "sweep"
    with ResultStore(out, exps, horizon_days=3, details=["daily"]) as store:
        for batch in ([exps[0], exps[1]], [exps[1], exps[2]]):  # r1 in both parts
            finished = [_finished_row(e) for e in batch]
            store.write_part([row for row, _ in finished], {"daily": [frames["daily"] for _, frames in finished]})
        assert sorted(store.recorded()["run_id"]) == ["r0", "r1", "r2"]
    assert sorted(every_part(out)["run_id"]) == ["r0", "r1", "r1", "r2"]  # the situation this test is about
    daily = load_details(out, "daily")
    assert sorted(daily["run_id"]) == ["r0", "r0", "r1", "r1", "r2", "r2"]
    assert list(daily["day"]) == [1, 2] * 3


def test_the_number_of_a_part_set_aside_is_not_reused_so_a_killed_recovery_keeps_each_run_once(
        tmp_path, monkeypatch, caplog):
    import sim.sweep.store as store_module

    exps = [Experiment(f"r{i}", (), seed=i) for i in range(4)]
    out = tmp_path / "sweep"
    with ResultStore(out, exps, horizon_days=3) as store:
        for exp in exps[:2]:
            store.write_part([_finished_row(exp)[0]])
        store.append(_finished_row(exps[2])[0])  # bound for part 3; killed before it was written
    last = out / "parts" / "part-000002.parquet"
    last.write_bytes(last.read_bytes()[:100])  # and the last part is damaged
    _kill_at("part whole, journal not emptied", monkeypatch, store_module)
    with pytest.raises(_Killed):
        ResultStore(out, exps, horizon_days=3)  # sets part 2 aside, killed recovering the journal
    monkeypatch.undo()
    assert "part-000002.parquet is unreadable" in caplog.text
    assert sorted(recorded_runs(out)["run_id"]) == ["r0", "r2"]  # r1 runs again
    assert sorted(every_part(out)["run_id"]) == ["r0", "r2"]
    assert sorted(p.name for p in (out / "parts").glob("part-*")) == [
        "part-000001.parquet", "part-000002.parquet.unreadable", "part-000003.parquet"]
