"""Writing a run directory, and the summary table shown in the terminal.

A run directory holds:

- ``shipments.parquet``: one row per shipment (who, how, how much, where it ended);
- ``events.parquet``: the tidy per-shipment event log (dispatched, passed, inspected,
  bribed, seized, delivered, with day, node and agency);
- ``daily.parquet`` and ``daily.csv``: the per-day time series;
- ``config.yaml``: the resolved configuration that produced the run;
- ``route_map.png`` and ``timeseries.png``: the pictures;
- ``summary.json``: the outcomes, the seed, and where the numbers come from. It is
  written last, atomically: a directory without ``summary.json`` is an incomplete run.
"""

from __future__ import annotations

import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Mapping

import yaml

from sim.run import RunResult

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
    (out / "summary.json").unlink(missing_ok=True)
    result.shipments.to_parquet(out / "shipments.parquet", index=False)
    if events and result.events is not None:
        result.events.to_parquet(out / "events.parquet", index=False)
    result.daily.to_parquet(out / "daily.parquet", index=False)
    result.daily.to_csv(out / "daily.csv", index=False)
    (out / "config.yaml").write_text(yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True))
    for name, text in (extra_files or {}).items():
        (out / name).write_text(text)
    if plots:
        _write_plots(result, out)
    _write_json_atomically(out / "summary.json", _summary_document(result))
    return out


def _write_plots(result: RunResult, out: Path) -> None:
    from sim.maps import draw_route_map
    from sim.plots import draw_timeseries

    nodes, edges = result.network.frames()
    title = f"Simulated heroin flows and seizures, {result.params.horizon_days} days (seed {result.seed})"
    draw_route_map(nodes, edges, result.edge_flows_kg, result.seized_kg_by_node, out / "route_map.png", title=title)
    draw_timeseries(result.daily, out / "timeseries.png", seed=result.seed)


def _summary_document(result: RunResult) -> dict[str, Any]:
    return {
        "complete": True,
        "seed": result.seed,
        "horizon_days": result.params.horizon_days,
        "regime": result.params.regime.name,
        "outcomes": result.summary,
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


def summary_table(summary: Mapping[str, float], seed: int, intervals: Mapping[str, tuple[float, float]] | None = None,
                  n_replications: int = 1) -> str:
    """The headline outcomes as a text table that says where each number comes from."""
    lines = [f"{'Outcome':44s} {'Value':>16s}  {'Interval (90%)':>26s}  Unit", "-" * 98]
    for key, label, unit in HEADLINE:
        if key not in summary:
            continue
        value = _fmt(summary[key], unit)
        low_high = intervals.get(key) if intervals else None
        interval = f"[{_fmt(low_high[0], unit)}, {_fmt(low_high[1], unit)}]" if low_high else "n/a (1 run)"
        lines.append(f"{label:44s} {value:>16s}  {interval:>26s}  {unit}")
    lines.append("-" * 98)
    source = f"Simulated: seed {seed}" + (f"; intervals: 5-95% over {n_replications} runs (this seed and others)"
                                           if intervals else "; run replications for intervals")
    lines.append(source + ". Parameter sources: scenarios/provenance.yaml (python -m sim provenance).")
    return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.1%}"
    if unit == "USD":
        return f"${value / 1e6:,.1f}M"
    return f"{value:,.0f}"
