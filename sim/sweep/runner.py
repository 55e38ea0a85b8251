"""Run many experiments on an engine and collect one table: :func:`run_experiments`.

The engine is Dask distributed (see ``docs/sweeps.md`` for why): ``"processes"`` starts a
:class:`distributed.LocalCluster` on this machine, ``"dask"`` connects to a scheduler
that already runs (a cluster started with ``dask scheduler`` / ``dask worker``, or by
dask-jobqueue on Slurm/PBS), and ``"serial"`` runs in this process (debugging, tests).
All three call the same :func:`sim.sweep.worker.run_experiment`, so they give the same
table: seeds come with the experiments, never from the worker.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pandas as pd

from sim.params import ConfigError, check_horizon_days
from sim.sweep.experiment import Experiment, check_unique_ids
from sim.sweep.store import ResultStore
from sim.sweep.worker import DETAILS, failed_row, run_experiment

log = logging.getLogger(__name__)

ENGINES = ("serial", "processes", "dask")
#: Columns that describe a run, in table order (inputs and updates go between).
FRONT, MIDDLE = ("run_id", "seed"), ("overrides", "horizon_days", "status", "error", "wall_s", "sim_s")

OnResult = Callable[[dict[str, Any]], None]


def run_experiments(experiments: Sequence[Experiment], *, engine: str = "processes", workers: int | None = None,
                    results_dir: str | Path | None = None, progress: bool = True, retry_failed: bool = True,
                    scheduler_address: str | None = None, horizon_days: int | None = None,
                    batch_size: int = 100, flush_seconds: float = 10.0,
                    summary_by: Sequence[str] | None = None, details: Sequence[str] = ()) -> pd.DataFrame:
    """Run every experiment once and return one row per run, in the experiments' order.

    Args:
        experiments: the runs (unique ``run_id`` each).
        engine: ``"serial"`` (this process), ``"processes"`` (Dask LocalCluster on this
            machine) or ``"dask"`` (an existing Dask scheduler at ``scheduler_address``).
        workers: worker processes for ``"processes"`` (default: all cores).
        results_dir: where to keep results; with it the sweep is resumable: finished runs
            are written batch by batch, and a re-run skips them.
        progress: show a progress bar (runs done, runs/s, time left).
        retry_failed: when resuming, run again the runs recorded as failed.
        scheduler_address: ``tcp://host:8786`` or a scheduler JSON file, for ``"dask"``.
        horizon_days: simulate this many days in every run (default: each config's own).
        batch_size, flush_seconds: write a part when this many runs are waiting, or when
            this long has passed since the last part (at most that much work is lost).
        summary_by: with ``results_dir``, also write ``summary.csv`` grouped by these columns.
        details: per-run tables to keep beside the results (``"daily"``, ``"shipments"``,
            ``"edge_flows"``, ``"seized_by_node"``; needs ``results_dir``); read them back
            with :func:`sim.sweep.load_details`.

    Returns:
        run_id, seed, the inputs and updates columns, overrides, horizon_days, status
        ("ok"/"failed"), error, wall_s (time on the worker), sim_s (time in simulate),
        then every outcome of :func:`sim.model.outcomes.summarise`, sorted by name (NaN where a
        run lacks it).
    """
    experiments = list(experiments)
    check_unique_ids(experiments)
    if engine not in ENGINES:
        raise ConfigError(f"sweep error: engine: unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if engine == "dask" and not scheduler_address:
        raise ConfigError("sweep error: scheduler_address: the 'dask' engine needs the address of a running scheduler")
    if workers is not None and workers < 1:
        raise ConfigError(f"sweep error: workers: must be at least 1 (got {workers})")
    if horizon_days is not None:
        check_horizon_days(horizon_days)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"sweep error: batch_size: must be a positive integer (got {batch_size!r})")
    if not flush_seconds > 0:
        raise ConfigError(f"sweep error: flush_seconds: must be a positive number of seconds (got {flush_seconds!r})")
    details = tuple(dict.fromkeys(details))
    unknown = [d for d in details if d not in DETAILS]
    if unknown:
        raise ConfigError(f"sweep error: details: unknown detail {unknown[0]!r} (choose from {', '.join(DETAILS)})")
    if details and results_dir is None:
        raise ConfigError("sweep error: details: per-run details are written beside the results; give results_dir")

    store = ResultStore(results_dir, experiments, horizon_days, details) if results_dir is not None else None
    try:
        recorded = store.recorded() if store is not None else pd.DataFrame(columns=["run_id", "status"])
        keep = recorded["status"] == "ok" if retry_failed else recorded["status"].notna()
        finished = set(recorded.loc[keep, "run_id"])
        pending = [e for e in experiments if e.run_id not in finished]
        if store is not None and pending:
            store.retract_tables()  # until this sweep ends, no table may say it is finished
        collector = _Collector(store, total=len(experiments), already=len(experiments) - len(pending),
                               progress=progress, batch_size=batch_size, flush_seconds=flush_seconds)
        try:
            if pending:
                _ENGINE_FUNCS[engine](pending, (horizon_days, details), collector.add,
                                      workers=workers, scheduler_address=scheduler_address)
        except KeyboardInterrupt as stop:  # Ctrl-C (or SIGTERM, see sigterm_as_interrupt): keep what finished, stop
            collector.close()
            kept = len(store.recorded()) if store is not None else collector.received
            raise SweepInterrupted(kept=kept, total=len(experiments), results_dir=results_dir,
                                   signum=getattr(stop, "signum", signal.SIGINT)) from None
        finally:
            collector.close()  # whatever finished is on disk, even on Ctrl-C
        if store is not None and collector.written:  # read back from disk: memory stays flat
            table = assemble(experiments, store.recorded(), [])
        else:
            table = assemble(experiments, recorded, collector.rows)
        if store is not None:
            store.write_table("results.parquet", table)
            if summary_by is not None:
                from sim.sweep.summary import summarise_results
                by = [c for c in summary_by if c in table.columns]
                if len(by) < len(summary_by):
                    log.warning("sweep: summary_by %s: no such column(s); summary grouped by %s",
                                [c for c in summary_by if c not in by], by or "nothing")
                store.write_table("summary.csv", summarise_results(table, by=by))
    finally:
        if store is not None:
            store.close()
    report = failure_report(table, retry_hint=results_dir is not None)
    if report:  # on screen with the progress bar; through logging when quiet
        if progress:
            print(report, file=sys.stderr)
        else:
            log.warning(report)
    return table


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C or SIGTERM after writing every finished run to disk.

    A :class:`KeyboardInterrupt`, so code that lets Ctrl-C through lets this through too;
    ``kept`` runs of ``total`` are recorded in ``results_dir`` (when there is one), and
    running the same sweep again resumes it. :attr:`exit_code` is the shell's convention
    (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, *, kept: int, total: int, results_dir: str | Path | None, signum: int = signal.SIGINT):
        self.kept, self.total, self.results_dir, self.signum = kept, total, results_dir, int(signum)
        super().__init__(self.message())

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def message(self) -> str:
        if self.results_dir is None:
            return f"interrupted: {self.kept} of {self.total} runs finished; nothing kept (no results directory)"
        return (f"interrupted: {self.kept} runs kept, rerun the same command to resume "
                f"({self.kept} of {self.total} in {self.results_dir})")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it stops a sweep exactly as Ctrl-C does."""

    signum = signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within this block SIGTERM (``kill``, a batch system's time limit) stops a sweep as
    Ctrl-C does: runs finished on workers are collected, queued runs cancelled, and
    :func:`run_experiments` raises :class:`SweepInterrupted` (exit code 143).

    The command lines (``python -m sim.sweep``, ``python -m sim compare``) use it; a
    library does not take over signals on its own, and needs not for safety: without it
    SIGTERM ends the process, and the journal still holds every run that had arrived.
    Only in the main thread, and only when nobody else handles SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- engines ------------------------------------------------------------------------


def _run_serial(pending: Sequence[Experiment], settings: tuple, on_result: OnResult, **_: Any) -> None:
    for exp in pending:
        on_result(run_experiment(exp, *settings))


def _run_processes(pending: Sequence[Experiment], settings: tuple, on_result: OnResult, *,
                   workers: int | None = None, **_: Any) -> None:
    _run_on_client(local_client(workers or os.cpu_count() or 1), pending, settings, on_result)


_LOCAL: dict[str, Any] = {}


def local_client(workers: int):
    """A Dask client of a LocalCluster with ``workers`` single-threaded processes.

    The cluster is started once and kept for the next sweeps of this Python process
    (calibration and comparisons call :func:`run_experiments` many times; starting
    processes costs seconds, and warm workers keep their composed scenarios). It is
    closed at exit, or by :func:`close_local_cluster`. While it lives, Dask waits for a
    dead worker to come back (:data:`WAIT_FOR_RESTARTS`).
    """
    import dask
    from distributed import Client

    key = (int(workers), os.environ.get("NORTHERN_ROUTE_SCENARIOS"))
    client = _LOCAL.get("client")
    if client is not None and _LOCAL.get("key") == key and client.status == "running" \
            and len(client.nthreads()) == key[0]:
        return client
    close_local_cluster()
    _LOCAL["config"] = dask.config.set(WAIT_FOR_RESTARTS)  # read whenever a worker dies: held until closed
    cluster = start_local_cluster(key[0])
    client = Client(cluster, set_as_default=False)
    _LOCAL.update(key=key, cluster=cluster, client=client)
    if not _LOCAL.get("atexit"):
        atexit.register(close_local_cluster)
        _LOCAL["atexit"] = True
    return client


#: Dask settings for our worker processes. Dask's statistical profiler samples the running
#: thread every 10 ms and its monitors wake every 20-500 ms, each taking the GIL from the
#: (pure-Python) model: about 12% of a run's time here. Nothing of ours needs them.
#: On your own cluster: DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False and friends.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}

#: Dask settings for our scheduler: each worker is sent one run at a time, the others wait
#: on the scheduler. When a worker process dies, Dask counts a strike ("suspicious") against
#: every run it had been sent, and records a run with four strikes as ``KilledWorker``. By
#: default (1.1) a one-thread worker is sent two runs, so the run queued behind one that
#: kills its worker took strikes it did not earn, and on a loaded machine (workers slow to
#: come back, all runs on the one left) an innocent run could be recorded as failed. On
#: your own cluster: start the scheduler with DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0.
ONE_RUN_PER_WORKER = {"distributed.scheduler.worker-saturation": 1.0}

#: Held while our LocalCluster lives. Dask gives a worker that died ``lost-worker-timeout``
#: (15 s) to come back, then closes its nanny for good; on a loaded machine a worker takes
#: longer to start (the imports of its preload), so the cluster was left a worker short,
#: and once none was left, a sweep waited forever for its runs.
WAIT_FOR_RESTARTS = {"distributed.deploy.lost-worker-timeout": "10 minutes"}


def start_local_cluster(workers: int):
    """A LocalCluster of ``workers`` single-threaded processes, tuned for sweeps."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({**QUIET_WORKERS, **ONE_RUN_PER_WORKER}):
        return LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                            dashboard_address=":0", silence_logs=logging.ERROR,
                            preload=["sim.sweep.worker"])  # its dask_setup: Ctrl-C is the sweep's, not the workers'


def close_local_cluster() -> None:
    """Stop the LocalCluster kept by the ``"processes"`` engine (if any)."""
    for name in ("client", "cluster"):
        thing = _LOCAL.pop(name, None)
        if thing is not None:
            try:
                thing.close()
            except Exception:  # noqa: BLE001 -- closing at exit must not raise
                pass
    _LOCAL.pop("key", None)
    held = _LOCAL.pop("config", None)
    if held is not None:
        held.__exit__(None, None, None)  # Dask's own lost-worker timeout again


def _run_dask(pending: Sequence[Experiment], settings: tuple, on_result: OnResult, *,
              scheduler_address: str | None = None, **_: Any) -> None:
    from distributed import Client

    if scheduler_address and scheduler_address.endswith(".json") and Path(scheduler_address).exists():
        client = Client(scheduler_file=scheduler_address, set_as_default=False)
    else:
        client = Client(scheduler_address, set_as_default=False)
    with client:
        _run_on_client(client, pending, settings, on_result)


def _run_on_client(client, pending: Sequence[Experiment], settings: tuple, on_result: OnResult) -> None:
    """Keep every worker busy with a bounded number of runs in flight; record each as it ends.

    A sliding window (a few runs per worker thread) rather than submitting everything:
    memory stays flat for sweeps of any size, and a cluster that grows gets more work.
    The first window goes to the scheduler in one message: Dask holds the runs of a group
    larger than twice the cluster's threads on the scheduler (its queue), sending each
    worker only the run it is to run (:data:`ONE_RUN_PER_WORKER`); runs submitted one by
    one would be sent out as they came, two to a worker, until the group grew that large.
    """
    from distributed import as_completed

    queue: Iterator[Experiment] = iter(pending)
    in_flight: dict[str, tuple[Any, Experiment]] = {}
    done = as_completed(loop=client.loop)

    def window() -> int:
        return max(8, 3 * sum(client.nthreads().values()))

    def submit(n: int) -> None:
        batch = list(itertools.islice(queue, max(n, 0)))
        if not batch:
            return
        futures = client.map(run_experiment, batch, *([value] * len(batch) for value in settings), pure=False)
        for future, exp in zip(futures, batch):
            in_flight[future.key] = (future, exp)
            done.add(future)

    size, sized_at = window(), time.monotonic()
    try:
        submit(size)
        for future in done:
            _, exp = in_flight[future.key]
            try:
                row = future.result()
            except Exception as err:  # noqa: BLE001 -- a lost worker or unpicklable result
                row = failed_row(exp, err, horizon_days=settings[0])
            on_result(row)
            del in_flight[future.key]  # only now: a Ctrl-C before this still records the run
            future.release()
            if time.monotonic() - sized_at > 5:
                size, sized_at = window(), time.monotonic()
            submit(size - len(in_flight))
    except BaseException as stop:  # Ctrl-C or a failed write: do not leave runs queued on the cluster
        done.clear()
        futures = [f for f, _ in in_flight.values()]
        interrupted = isinstance(stop, KeyboardInterrupt)
        if interrupted:  # runs done on a worker reach us with a lag: wait a moment for them
            _settle(futures, HARVEST_SECONDS)
        client.cancel([f for f in futures if f.status != "finished"])
        if interrupted:
            _record_finished([f for f in futures if f.status == "finished"], on_result)
        raise


#: On Ctrl-C/SIGTERM, how long to wait for runs that a worker has finished but whose
#: result has not reached this process yet (Dask's messages take tens of milliseconds).
HARVEST_SECONDS = 1.0


def _settle(futures: list, seconds: float) -> None:
    """Wait up to ``seconds`` for the futures to end (a client's futures need no default client)."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and any(f.status == "pending" for f in futures):
            time.sleep(0.02)
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, keep what has arrived
        pass


def _record_finished(finished: list, on_result: OnResult) -> None:
    """On Ctrl-C/SIGTERM: record the runs that finished on a worker but were not collected yet."""
    for future in finished:
        try:
            row = future.result(timeout=10)
        except Exception:  # noqa: BLE001 -- a worker gone meanwhile: that run just runs again
            continue
        on_result(row)


_ENGINE_FUNCS = {"serial": _run_serial, "processes": _run_processes, "dask": _run_dask}


# --- collecting, writing, reporting -------------------------------------------------


class _Collector:
    """Receives finished runs: counts them, shows progress, writes them batch by batch."""

    def __init__(self, store: ResultStore | None, *, total: int, already: int, progress: bool,
                 batch_size: int, flush_seconds: float):
        self.store, self.rows, self.buffer, self.details = store, [], [], {}
        self.written = self.received = 0
        self.seen: set[str] = set()
        self.batch_size, self.flush_seconds = int(batch_size), float(flush_seconds)
        self.flushed_at = time.monotonic()
        self.failed = 0
        self.bar = None
        if progress:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=already, unit="run", desc="sweep", smoothing=0.05,
                            dynamic_ncols=True, file=sys.stderr)

    def add(self, row: dict[str, Any]) -> None:
        if row["run_id"] in self.seen:  # collected again while stopping: once is enough
            return
        self.seen.add(row["run_id"])
        details = row.pop("_details", {})
        for kind, frame in details.items():
            self.details.setdefault(kind, []).append(frame)
        self.buffer.append(row)  # first: a Ctrl-C while journalling still writes it with the batch
        if self.store is not None:  # on disk at once: a kill -9 now loses nothing finished
            self.store.append(row, details)
        else:  # with a store the rows are on disk, not kept here
            self.rows.append(row)
        self.received += 1
        if row.get("status") != "ok":
            self.failed += 1
            if self.bar is not None:
                self.bar.set_postfix(failed=self.failed, refresh=False)
        if self.bar is not None:
            self.bar.update(1)
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.flushed_at >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if self.store is not None and self.buffer:
            self.store.write_part(self.buffer, self.details)
            self.written += len(self.buffer)
        self.buffer, self.details = [], {}
        self.flushed_at = time.monotonic()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self.bar is not None:
                self.bar.close()


def assemble(experiments: Sequence[Experiment], recorded: pd.DataFrame, new_rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per experiment (the latest record of each), columns in a fixed order."""
    frames = [f for f in (recorded, pd.DataFrame(new_rows)) if len(f)]
    if frames:
        frames = [f.dropna(axis=1, how="all") for f in frames]
        table = pd.concat(frames, ignore_index=True, sort=False).drop_duplicates("run_id", keep="last")
    else:
        table = pd.DataFrame(columns=list(FRONT + MIDDLE))
    order = [e.run_id for e in experiments]
    table = table.set_index("run_id").reindex(order).reset_index()
    for column, default in (("status", "failed"), ("error", None), ("overrides", ""),
                            ("wall_s", float("nan")), ("sim_s", float("nan")), ("horizon_days", float("nan"))):
        if column not in table:
            table[column] = default
    table["status"] = table["status"].fillna("failed")  # cannot happen unless a part was removed by hand
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    labels = _ordered_keys(e.inputs for e in experiments)
    updated = [k for k in _ordered_keys(e.updates for e in experiments) if k not in labels and k not in MIDDLE]
    front = list(FRONT) + labels + updated + [c for c in MIDDLE if c not in labels]
    rest = sorted(c for c in table.columns if c not in front)  # sorted: not in the order runs finished
    table = table[front + rest]
    table.attrs["outcomes"] = rest
    return table


def _ordered_keys(dicts) -> list[str]:
    keys: dict[str, None] = {}
    for d in dicts:
        keys.update(dict.fromkeys(d))
    return list(keys)


def failure_report(table: pd.DataFrame, retry_hint: bool = True, limit: int = 20) -> str:
    """A few lines naming the failed runs and their errors ('' when none failed)."""
    failed = table[table["status"] != "ok"]
    if failed.empty:
        return ""
    lines = [f"sweep: {len(failed)} of {len(table)} runs failed"
             + (" (run the same sweep into the same results directory to retry only those):" if retry_hint else ":")]
    for run_id, error in zip(failed["run_id"].head(limit), failed["error"].head(limit)):
        lines.append(f"  {run_id}: {error}")
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more (see the 'error' column)")
    return "\n".join(lines)
