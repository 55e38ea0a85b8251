"""A run is a function of (parameters, seed) that returns its results.

:func:`simulate` builds the model, runs it to the horizon and returns a
:class:`RunResult`; it writes nothing unless told to stream the event log or the shipment
table to files. It is cheap to call many times and safe to call in worker processes
(sweeps, comparisons and calibration call it through :mod:`sim.sweep`). Writing a run
directory is :func:`sim.outputs.write_run`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from sim.model import NorthernRouteModel
from sim.model.network import RouteNetwork
from sim.model.outcomes import seized_kg_by_node, summarise
from sim.params import Params
from sim.parquet import ParquetLog, read_parquet
from sim.timeline import add_dates

#: the calendar dates the tables carry beside their day numbers
SHIPMENT_DATES = {"day_dispatched": "date_dispatched", "outcome_day": "outcome_date"}
EVENT_DATES = {"day": "date"}


@dataclass
class RunResult:
    """Everything one run produced."""

    params: Params
    seed: int
    summary: dict[str, float]
    daily: pd.DataFrame
    shipments: pd.DataFrame | None     # None: not kept (``keep_shipments=False``) or streamed to ``shipments_file``
    events: pd.DataFrame | None
    edge_flows_kg: dict[tuple[str, str], float]
    seized_kg_by_node: dict[str, float]
    network: RouteNetwork = field(repr=False)
    allocation: pd.DataFrame | None = None   # agencies' capacity by post, each month (sim.model.adaptation)
    events_file: Path | None = None     # where the event log was streamed (``simulate(events_to=...)``)
    shipments_file: Path | None = None  # where the shipment table was streamed (``simulate(shipments_to=...)``)

    def event_log(self) -> pd.DataFrame | None:
        """The event log: kept in memory, or read back from the Parquet file it was streamed to."""
        if self.events is None and self.events_file is not None:
            return read_parquet(self.events_file)
        return self.events

    def shipment_table(self) -> pd.DataFrame | None:
        """The shipment table: kept in memory, or read back from the Parquet file it was streamed to."""
        if self.shipments is None and self.shipments_file is not None:
            return read_parquet(self.shipments_file)
        return self.shipments


def simulate(params: Params, seed: int | None = None, *, keep_events: bool = True, keep_shipments: bool = True,
             on_day: Callable[[int], None] | None = None, events_to: str | Path | None = None,
             shipments_to: str | Path | None = None) -> RunResult:
    """Run the model once to its horizon and return what it measured.

    Args:
        params: validated parameters.
        seed: random seed; defaults to ``params.seed``.
        keep_events: keep the per-hop event log (memory; off in large sweeps).
        keep_shipments: keep a row per shipment (the summary does not need them: off in sweeps).
        on_day: called after each simulated day with the day number (progress bars).
        events_to: with ``keep_events``, stream the event log to this Parquet file in
            batches (:class:`sim.parquet.ParquetLog`) instead of keeping it in memory;
            ``RunResult.events`` is then None and ``RunResult.event_log()`` reads the file.
        shipments_to: with ``keep_shipments``, stream the shipment table to this Parquet
            file (a row once its load's journey is over, in shipment order); memory then
            holds only the shipments still on the road.
    """
    seed = params.seed if seed is None else seed
    model = NorthernRouteModel(params, rng=seed, keep_events=keep_events, keep_shipments=keep_shipments)
    writers = _stream(model, params, events_to if keep_events else None, shipments_to if keep_shipments else None)
    try:
        while model.running:
            model.step()
            if on_day is not None:
                on_day(model.day)
        model.ledger.flush_events()
        model.ledger.flush_shipments(final=True)
    finally:
        for writer in writers.values():
            writer.close()
    shipments = model.ledger.shipments_frame() if keep_shipments and "shipments" not in writers else None
    events = model.ledger.events_frame() if keep_events and "events" not in writers else None
    return RunResult(
        params=params,
        seed=seed,
        summary=summarise(model),
        daily=add_dates(_daily_frame(model), params.start_date, {"day": "date"}, one_based=True),
        shipments=None if shipments is None else add_dates(shipments, params.start_date, SHIPMENT_DATES),
        events=None if events is None else add_dates(events, params.start_date, EVENT_DATES),
        edge_flows_kg=model.ledger.edge_flows_kg(),
        seized_kg_by_node=seized_kg_by_node(model),
        network=model.network,
        allocation=add_dates(model.allocation.frame(model.node_ids), params.start_date, {"day": "date"}),
        events_file=writers["events"].path if "events" in writers else None,
        shipments_file=writers["shipments"].path if "shipments" in writers else None,
    )


def _stream(model: NorthernRouteModel, params: Params, events_to, shipments_to) -> dict:
    """Writers that take the ledger's full batches to Parquet files."""
    writers = {}
    if events_to is not None:
        writers["events"] = model.ledger.event_sink = ParquetLog(
            events_to, params.start_date, EVENT_DATES, empty=lambda: model.ledger.events_frame())
    if shipments_to is not None:
        writers["shipments"] = model.ledger.shipment_sink = ParquetLog(
            shipments_to, params.start_date, SHIPMENT_DATES, empty=lambda: model.ledger.shipments_frame())
    return writers


def _daily_frame(model: NorthernRouteModel) -> pd.DataFrame:
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "day", range(1, len(frame) + 1))
    return frame
