"""A run is a function of (parameters, seed) that returns its results.

:func:`simulate` builds the model, runs it to the horizon and returns a
:class:`RunResult`; it writes nothing. It is cheap to call many times and safe to call
in worker processes (sweeps, comparisons and calibration call it through
:mod:`sim.sweep`). Writing a run directory is :func:`sim.outputs.write_run`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from sim.model import NorthernRouteModel
from sim.model.network import RouteNetwork
from sim.model.outcomes import summarise
from sim.params import Params
from sim.timeline import add_dates


@dataclass
class RunResult:
    """Everything one run produced."""

    params: Params
    seed: int
    summary: dict[str, float]
    daily: pd.DataFrame
    shipments: pd.DataFrame
    events: pd.DataFrame | None
    edge_flows_kg: dict[tuple[str, str], float]
    seized_kg_by_node: dict[str, float]
    network: RouteNetwork = field(repr=False)
    allocation: pd.DataFrame | None = None   # agencies' capacity by post, each month (sim.model.adaptation)
    events_file: Path | None = None     # where the event log was streamed (``simulate(events_to=...)``)

    def event_log(self) -> pd.DataFrame | None:
        """The event log: kept in memory, or read back from the Parquet file it was streamed to."""
        if self.events is None and self.events_file is not None:
            return pd.read_parquet(self.events_file)
        return self.events


def simulate(params: Params, seed: int | None = None, *, keep_events: bool = True,
             on_day: Callable[[int], None] | None = None, events_to: str | Path | None = None) -> RunResult:
    """Run the model once to its horizon and return what it measured.

    Args:
        params: validated parameters.
        seed: random seed; defaults to ``params.seed``.
        keep_events: keep the per-hop event log (memory; off in large sweeps).
        on_day: called after each simulated day with the day number (progress bars).
        events_to: with ``keep_events``, stream the event log to this Parquet file in
            batches (:class:`sim.outputs.EventLogWriter`) instead of keeping it in memory;
            ``RunResult.events`` is then None and ``RunResult.event_log()`` reads the file.
    """
    seed = params.seed if seed is None else seed
    model = NorthernRouteModel(params, rng=seed, keep_events=keep_events)
    writer = None
    if keep_events and events_to is not None:
        from sim.outputs import EventLogWriter   # sim.outputs imports this module
        writer = model.ledger.event_sink = EventLogWriter(events_to, model.node_ids, params.start_date)
    try:
        while model.running:
            model.step()
            if on_day is not None:
                on_day(model.day)
        model.ledger.flush_events()
    finally:
        if writer is not None:
            writer.close()
    shipments = model.ledger.shipments_frame()
    seized = shipments[shipments["outcome"] == "seized"]
    events = model.ledger.events_frame() if keep_events and writer is None else None
    return RunResult(
        params=params,
        seed=seed,
        summary=summarise(model, shipments),
        daily=add_dates(_daily_frame(model), params.start_date, {"day": "date"}, one_based=True),
        shipments=add_dates(shipments, params.start_date, {"day_dispatched": "date_dispatched",
                                                           "outcome_day": "outcome_date"}),
        events=None if events is None else add_dates(events, params.start_date, {"day": "date"}),
        edge_flows_kg=model.ledger.edge_flows_kg(),
        seized_kg_by_node={str(k): float(v) for k, v in seized.groupby(seized["outcome_node"].astype(str))["kg"].sum().items()},
        network=model.network,
        allocation=add_dates(model.allocation.frame(model.node_ids), params.start_date, {"day": "date"}),
        events_file=None if writer is None else writer.path,
    )


def _daily_frame(model: NorthernRouteModel) -> pd.DataFrame:
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "day", range(1, len(frame) + 1))
    return frame
