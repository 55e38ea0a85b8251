"""Writing a run directory, and the summary table shown in the terminal.

A run directory holds:

- ``shipments.parquet``: one row per shipment (who, how, how much, where it ended);
- ``events.parquet``: the tidy per-shipment event log (dispatched, passed, inspected,
  bribed, seized, delivered, with day, node and agency);
- ``daily.parquet`` and ``daily.csv``: the per-day time series (day number and calendar date);
- ``monthly.csv``: the headline outcomes per calendar month;
- ``phases.csv``: the headline outcomes per phase between the timeline's events
  (one phase without a timeline);
- ``allocation.csv``: each adapting agency's inspection capacity by post on day 0 and on
  the first day of each month, with the share of its capacity moved that month
  (:mod:`sim.model.adaptation`; constant under the default rule ``none``);
- ``config.yaml``: the resolved configuration that produced the run;
- ``route_map.png`` and ``timeseries.png``: the pictures (events marked on the time
  series); with a timeline, ``route_map_phase<k>.png``: the map of each phase;
- ``summary.json``: the outcomes, the seed, and where the numbers come from. It is
  written last, atomically: a directory without ``summary.json`` is an incomplete run.

A directory's files always come from one run: :func:`claim_run_dir` refuses a directory
another live run holds, and a run first deletes what a previous run left there
(``summary.json`` first), so a run that fails never sits beside an old summary.
"""

from __future__ import annotations

import json
import os
import platform
from contextlib import contextmanager
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd
import yaml

from sim.model.outcomes import monthly_table, phase_table
from sim.params import ConfigError
from sim.parquet import write_parquet, write_table
from sim.run import RunResult
from sim.timeline import event_marks

#: Every file a run writes, ``summary.json`` first: the order in which an old run's are deleted.
RUN_FILES = ("summary.json", "summary.json.tmp", "shipments.parquet", "events.parquet", "daily.parquet", "daily.csv",
             "monthly.csv", "phases.csv", "allocation.csv", "config.yaml", "route_map.png", "timeseries.png", "briefing.md")
LOCK_FILE = ".run.lock"
EVENTS_FILE = "events.parquet"
SHIPMENTS_FILE = "shipments.parquet"
PHASE_MAPS = "route_map_phase*.png"   # one map per phase of a timeline (with the event log)

HEADLINE = (
    ("kg_entered", "Heroin entering the route", "kg"),
    ("kg_entering_kz", "Entering Kazakhstan", "kg"),
    ("kg_seized", "Seized, all agencies and countries", "kg"),
    ("kg_seized_kz", "Seized in Kazakhstan", "kg"),
    ("kg_seized_border_kz_ru", "Seized on the Kazakh-Russian border", "kg"),
    ("kg_reaching_russia", "Crossing into Russia", "kg"),
    ("kg_delivered_russia", "Delivered to Russian markets", "kg"),
    ("kg_delivered_eu", "Delivered to the EU", "kg"),
    ("interdiction_rate", "Interdiction rate (seized / entered)", "share"),
    ("share_entry_kz_kg", "Share entering KZ via the Kyrgyz border", "share"),
    ("share_entry_kz_uz", "Share entering KZ via the Uzbek border", "share"),
    ("bribes_usd", "Bribes paid", "USD"),
    ("revenue_usd", "Traffickers' revenue", "USD"),
    ("shipments", "Shipments sent", "count"),
)


def write_run(result: RunResult, out_dir: str | Path, config: Mapping[str, Any], *, plots: bool = True,
              events: bool = True, extra_files: Mapping[str, str] | None = None) -> Path:
    """Write everything a run produced into ``out_dir``; ``summary.json`` last."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streamed = tuple(name for name, path in ((EVENTS_FILE, result.events_file), (SHIPMENTS_FILE, result.shipments_file))
                     if path is not None and Path(path).resolve() == (out / name).resolve())
    clear_run_files(out, keep=streamed)   # the tables streamed here during the run
    if result.shipments is not None:
        write_table(result.shipments, out / SHIPMENTS_FILE)
    if events and result.events is not None:
        write_table(result.events, out / EVENTS_FILE)
    write_parquet(result.daily, out / "daily.parquet")
    result.daily.to_csv(out / "daily.csv", index=False)
    monthly_table(result.daily, result.params.start_date).to_csv(out / "monthly.csv", index=False)
    phase_table(result.daily, result.params).to_csv(out / "phases.csv", index=False)
    if result.allocation is not None:
        result.allocation.to_csv(out / "allocation.csv", index=False)
    (out / "config.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True))
    for name, text in (extra_files or {}).items():
        (out / name).write_text(text)
    if plots:
        _write_plots(result, out)
    _write_json_atomically(out / "summary.json", _summary_document(result))
    return out


def clear_run_files(out: Path, keep: tuple[str, ...] = ()) -> None:
    """Delete what an earlier run wrote into ``out`` (``summary.json`` first), except ``keep``."""
    for name in RUN_FILES:
        if name not in keep:
            (out / name).unlink(missing_ok=True)
    for path in out.glob(PHASE_MAPS):
        path.unlink(missing_ok=True)


@contextmanager
def claim_run_dir(out_dir: str | Path) -> Iterator[Path]:
    """Hold ``out_dir`` for one run: refuse it while another live run holds it, clear an
    earlier run's files, release it at the end (the lock file is created atomically)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = out / LOCK_FILE
        _take_lock(lock)
    except OSError as err:
        raise ConfigError(f"config error: hydra.run.dir: cannot write into {out} ({err.strerror})") from None
    try:
        clear_run_files(out)
        yield out
    finally:
        lock.unlink(missing_ok=True)


def check_writable_dir(path: str | Path, key: str = "hydra.run.dir") -> None:
    """ConfigError unless ``path`` is, or can be created as, a directory this user may write."""
    where = Path(path).absolute()
    existing = next(p for p in (where, *where.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"config error: {key}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"config error: {key}: cannot write into {existing} (permission denied)")


def _take_lock(lock: Path) -> None:
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None and _alive(holder):
                raise ConfigError(f"config error: hydra.run.dir: {lock.parent} is in use by another run (pid {holder}); "
                                  "give another directory or wait for it to finish") from None
            lock.unlink(missing_ok=True)          # left behind by a run that was killed
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return
    raise ConfigError(f"config error: hydra.run.dir: {lock.parent} is being claimed by another run")


def _lock_holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_plots(result: RunResult, out: Path) -> None:
    from sim.maps import draw_period_map, draw_route_map
    from sim.plots import draw_timeseries
    from sim.timeline import phase_bounds

    nodes, edges = result.network.frames()
    title = f"Simulated heroin flows and seizures, {result.params.horizon_days} days (seed {result.seed})"
    draw_route_map(nodes, edges, result.edge_flows_kg, result.seized_kg_by_node, out / "route_map.png", title=title)
    if result.params.timeline and (result.events is not None or result.events_file is not None):
        result = replace(result, events=result.event_log(), shipments=result.shipment_table())   # a map per phase
        for k, (first, end, label) in enumerate(phase_bounds(result.params), start=1):
            draw_period_map(result, out / PHASE_MAPS.replace("*", str(k)), first, end, title=f"Phase {k} ({label})")
    draw_timeseries(result.daily, out / "timeseries.png", seed=result.seed, events=event_marks(result.params))


def _summary_document(result: RunResult) -> dict[str, Any]:
    return {
        "complete": True,
        "seed": result.seed,
        "horizon_days": result.params.horizon_days,
        "start_date": result.params.start_date.isoformat(),
        "end_date": result.params.end_date.isoformat(),
        "regime": result.params.regime.name,
        "outcomes": result.summary,
        "phases": phase_table(result.daily, result.params).to_dict(orient="records"),
        "provenance": {
            "what": "simulated outcomes of one run of the Northern Route model",
            "uncertainty": "one stochastic run: run replications (python -m sim.sweep or python -m sim compare) for intervals",
            "parameters": "config.yaml in this directory; the source or assumption behind each number: scenarios/provenance.yaml",
        },
        "software": {"python": platform.python_version(), "sim": _version("northern-route-sim"), "mesa": _version("mesa")},
    }


def _write_json_atomically(path: Path, document: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, default=float))
    os.replace(tmp, path)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def summary_table(summary: Mapping[str, float], seed: int,
                  spread: Mapping[str, tuple[float, float, float]] | None = None, n_runs: int = 1) -> str:
    """The headline outcomes as a text table that says where each number comes from.

    ``spread`` maps an outcome to (median, 5%, 95%) over ``n_runs`` runs of the scenario
    (this one included); this run's own value is shown apart, in its own column.
    """
    header = f"{'Outcome':44s} {f'This run (seed {seed})':>20s}  {'Median':>14s}  {'5-95% interval':>26s}  Unit"
    lines = [header, "-" * len(header)]
    for key, label, unit in HEADLINE:
        if key not in summary:
            continue
        stats = spread.get(key) if spread else None
        median = _fmt(stats[0], unit) if stats else "n/a"
        interval = f"[{_fmt(stats[1], unit)}, {_fmt(stats[2], unit)}]" if stats else "n/a (1 run)"
        lines.append(f"{label:44s} {_fmt(summary[key], unit):>20s}  {median:>14s}  {interval:>26s}  {unit}")
    lines.append("-" * len(header))
    source = (f"Simulated. Median and 5-95% interval over {n_runs} runs of this scenario (seed {seed} and "
              f"{n_runs - 1} other seeds)" if spread else "Simulated: one run; run replications for an interval")
    lines.append(source + ". Parameter sources: scenarios/provenance.yaml (python -m sim provenance).")
    return "\n".join(lines)


def phase_summary_table(result: RunResult) -> str:
    """The headline outcomes per phase between the timeline's events, as text (empty without events)."""
    if not result.params.timeline:
        return ""
    table = phase_table(result.daily, result.params)
    lines = [f"{'Phase':44s} {'From':>10s} {'To':>10s} {'Entering KZ':>12s} {'Seized':>9s} {'To Russia':>10s} "
             f"{'KG/UZ/TM border shares':>24s}"]
    lines.append("-" * len(lines[0]))
    for row in table.itertuples():
        shares = "/".join("n/a" if pd.isna(x) else f"{x:.0%}"
                          for x in (row.share_entry_kz_kg, row.share_entry_kz_uz, row.share_entry_kz_tm))
        lines.append(f"{row.phase}. {row.label[:40]:41s} {row.start_date:>10s} {row.end_date:>10s} "
                     f"{row.kg_entering_kz:>12,.0f} {row.kg_seized:>9,.0f} {row.kg_reaching_russia:>10,.0f} {shares:>24s}")
    lines.append("kg in each phase of this run (one seed); phases.csv and monthly.csv in the run directory.")
    return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.1%}"
    if unit == "USD":
        return f"${value / 1e6:,.1f}M"
    return f"{value:,.0f}"
