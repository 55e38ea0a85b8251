"""What a worker process does for one run: compose (cached), update, simulate, summarise.

Composing a scenario with Hydra costs ~0.3 s, about half a simulated year, so each worker
process composes each distinct ``scenario`` once and keeps the validated
:class:`~sim.params.Params` in :data:`_BASE_PARAMS`; each distinct set of updates is
validated once (:func:`sim.config.with_updates`, ~30 ms) and every run of it gets its seed
by a copy (:func:`run_params`). A run that raises becomes a row with
``status="failed"`` and the error message: one bad corner of a design must not stop the
sweep.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import SCENARIOS_DIR, config_dirs_in, load_params, with_updates
from sim.params import ConfigError, Params
from sim.sweep.experiment import Experiment, table_value

#: (scenario overrides, configs fingerprint) -> composed base params (or the ConfigError composing raised).
_BASE_PARAMS: dict[tuple[tuple[str, ...], int], Params | ConfigError] = {}
_LOCK = threading.Lock()
#: (id of the base params, the updates as JSON) -> (that base, the validated params of one of its runs)
_RUN_PARAMS: dict[tuple[int, str], tuple[Params, Params]] = {}


def configs_fingerprint(user_dirs: tuple[Path, ...] = ()) -> int:
    """Changes when any YAML file under ``scenarios/`` (or the user's config folders)
    changes (~0.5 ms to compute).

    Workers outlive a sweep (the processes engine keeps its cluster), so a config edited
    between two sweeps must not be served from the cache.
    """
    stamp = []
    for root, _dirs, files in (entry for folder in (SCENARIOS_DIR, *user_dirs) for entry in os.walk(folder)):
        for name in files:
            if name.endswith((".yaml", ".yml")):
                info = os.stat(os.path.join(root, name))
                stamp.append((root, name, info.st_mtime_ns, info.st_size))
    return hash(tuple(sorted(stamp)))


def base_params(scenario: tuple[str, ...]) -> Params:
    """The composed, validated params of a scenario, composed once per process."""
    key = (scenario, configs_fingerprint(tuple(config_dirs_in(scenario))))
    with _LOCK:  # Hydra's global state is not thread-safe
        cached = _BASE_PARAMS.get(key)
        if cached is None:
            if len(_BASE_PARAMS) > 256:
                _BASE_PARAMS.clear()
            try:
                cached = load_params(list(scenario))
            except ConfigError as err:
                cached = err
            _BASE_PARAMS[key] = cached
    if isinstance(cached, ConfigError):
        raise cached
    return cached


def run_params(exp: Experiment, horizon_days: int | None = None) -> Params:
    """The exact params of one run: the scenario, its updates, its seed (and horizon).

    Validating the updates costs ~30 ms, a tenth of a simulated year; the runs of a design
    point differ only by their seed, so each worker validates each distinct set of updates
    once (:data:`_RUN_PARAMS`) and gives every run its seed with a copy (the seed is
    checked against its bounds as validation would).
    """
    updates = dict(exp.updates)
    if horizon_days is not None:
        updates["horizon_days"] = int(horizon_days)
    base = base_params(exp.scenario)
    if not 0 <= exp.seed <= 2**63 - 1:                 # out of bounds: validation says so in its words
        return with_updates(base, {**updates, "seed": exp.seed})
    key = (id(base), json.dumps(updates, sort_keys=True, default=str))
    with _LOCK:
        cached = _RUN_PARAMS.get(key)
    if cached is None or cached[0] is not base:
        cached = (base, with_updates(base, {**updates, "seed": exp.seed}))
        with _LOCK:
            if len(_RUN_PARAMS) > 256:
                _RUN_PARAMS.clear()
            _RUN_PARAMS[key] = cached
    params = cached[1]
    return params if params.seed == exp.seed else params.model_copy(update={"seed": exp.seed})


def base_row(exp: Experiment) -> dict[str, Any]:
    """The columns of a row that describe the run (not what it measured)."""
    row: dict[str, Any] = {"run_id": exp.run_id, "seed": exp.seed, "overrides": " ".join(exp.scenario)}
    row.update({k: table_value(v) for k, v in exp.inputs.items()})
    row.update({k: table_value(v) for k, v in exp.updates.items()})
    return row


def failed_row(exp: Experiment, error: BaseException | str, wall_s: float = float("nan"),
               horizon_days: int | None = None) -> dict[str, Any]:
    """The row of a run that did not finish: its inputs, its error, no outcomes."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}".strip()
    row = base_row(exp)
    horizon = horizon_days if horizon_days is not None else exp.updates.get("horizon_days")
    if horizon is not None:
        row["horizon_days"] = horizon
    row.update(status="failed", error=message.splitlines()[0] if message else "error", wall_s=wall_s, sim_s=float("nan"))
    return row


def dask_setup(worker) -> None:
    """Dask preload of our LocalCluster's workers: leave Ctrl-C to the process that runs the sweep.

    A terminal sends Ctrl-C to every process of the command, worker processes included;
    each would print a traceback. The sweep's own process stops the workers and writes
    what finished, so the workers ignore SIGINT (they still exit when their parent dies).
    """
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


#: Per-run details a sweep can keep (``details=``): name -> what it holds.
DETAILS = {
    "daily": "the daily time series (RunResult.daily), one row per run and day",
    "shipments": "every shipment (RunResult.shipments), one row per run and shipment",
    "edge_flows": "kg carried over each link (u, v, kg), one row per run and link",
    "seized_by_node": "kg seized at each node (node, kg), one row per run and node",
}


def detail_frames(result, run_id: str, kinds: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The asked-for per-run tables of a finished run, each with a leading run_id column."""
    frames: dict[str, pd.DataFrame] = {}
    for kind in kinds:
        if kind == "daily":
            frame = result.daily.copy()
        elif kind == "shipments":
            frame = result.shipments.copy()
        elif kind == "edge_flows":
            frame = pd.DataFrame([(str(u), str(v), float(kg)) for (u, v), kg in result.edge_flows_kg.items()],
                                 columns=["u", "v", "kg"])
        elif kind == "seized_by_node":
            frame = pd.DataFrame(list(result.seized_kg_by_node.items()), columns=["node", "kg"])
        else:
            raise ConfigError(f"sweep error: details: unknown detail {kind!r} (choose from {', '.join(DETAILS)})")
        frame.insert(0, "run_id", run_id)
        frames[kind] = frame
    return frames


def run_experiment(exp: Experiment, horizon_days: int | None = None, details: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run one experiment and return its results-table row; never raises for a bad run.

    With ``details``, the row also carries ``"_details"``: {kind: DataFrame} (see
    :data:`DETAILS`), which the runner writes beside the table and removes from the row.
    """
    from sim.run import simulate  # imported here so the module stays cheap to import

    start = time.perf_counter()
    try:
        params = run_params(exp, horizon_days)
        sim_start = time.perf_counter()
        result = simulate(params, keep_events=False, keep_shipments="shipments" in details)
        sim_s = time.perf_counter() - sim_start
    except Exception as err:  # noqa: BLE001 -- a failed run is data, not a crash
        return failed_row(exp, err, time.perf_counter() - start, horizon_days)
    row = base_row(exp)
    row["horizon_days"] = params.horizon_days
    row.update(status="ok", error=None, wall_s=time.perf_counter() - start, sim_s=sim_s)
    row.update({k: float(v) for k, v in result.summary.items()})
    if details:
        row["_details"] = detail_frames(result, exp.run_id, tuple(details))
    return row
