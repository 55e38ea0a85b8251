"""Bookkeeping: where every gram went, kept apart from the model's rules.

The ledger records each shipment (who sent it, how, where it ended), each event on its
way (arrived, inspected, bribed, seized, delivered), each bribe, and running totals for
the daily time series. Masses are integer grams so that the balances
``entered = seized + delivered + in transit`` and ``supplied = entered + stock held +
stock lost`` (organisations' side) can be checked exactly.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from sim.model.states import EVENT_CODES, Outcome

SHIPMENT_COLUMNS = (
    "shipment_id", "organisation", "org_type", "conveyance", "origin", "market", "grams",
    "nationality", "crossings", "day_dispatched", "outcome", "outcome_node", "outcome_day",
    "agency", "bribes_usd", "hops",
)
_SHIPMENT_ROW = operator.attrgetter(*SHIPMENT_COLUMNS)   # one shipment's row, in C (sweeps make a table per run)
_CATEGORY_COLUMNS = ("organisation", "org_type", "conveyance", "origin", "market", "nationality", "outcome",
                     "outcome_node", "agency")
EVENT_COLUMNS = ("shipment_id", "day", "node", "event", "agency", "bribe_usd")
EVENT_BATCH_ROWS = 100_000   # rows of the event log handed to its sink at a time (about 10 MB in memory)


@dataclass(slots=True)
class Shipment:
    """One load on its way: the row of the shipment table while it travels (slots: a year
    at 100x the flow keeps half a million of them)."""

    shipment_id: int
    organisation: int
    org_type: str
    conveyance: str
    origin: str
    market: str
    grams: int
    nationality: str
    crossings: str
    day_dispatched: float
    outcome: str = Outcome.IN_TRANSIT.value
    outcome_node: str | None = None
    outcome_day: float | None = None
    agency: str | None = None
    bribes_usd: float = 0.0
    hops: int = 0

    def row(self) -> tuple:
        return _SHIPMENT_ROW(self)


@dataclass
class Ledger:
    """Running totals plus the tables a run returns."""

    node_ids: tuple[str, ...]
    keep_events: bool = True
    shipments: list[Shipment] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    entered_g: int = 0
    seized_g: int = 0
    delivered_g: int = 0
    bribes_usd: float = 0.0
    bribes_count: int = 0
    seizures_count: int = 0
    hop_events: int = 0
    officers_caught: int = 0
    supplied_g: int = 0          # heroin the organisations received (their daily supply)
    corruption_cases: dict[str, int] = field(default_factory=lambda: defaultdict(int))   # kind -> detected cases
    protected_passages: int = 0
    protection_usd: float = 0.0
    staged_g: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))   # (node, agency) -> grams
    stagings: int = 0
    stagings_uncovered: int = 0
    controlled_let_run: int = 0
    controlled_seized: int = 0
    controlled_seized_g: int = 0
    organisation_days_disrupted: int = 0
    reassigned_g: int = 0             # heroin a disrupted organisation's rivals received instead
    routes_shut: int = 0
    groups_shut: int = 0
    seizure_officer_days: float = 0.0
    seized_g_at: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))   # (node, agency) -> grams
    # called before the shipment table is made: the fast engine writes the hops of loads on the road
    before_tables: list = field(default_factory=list)
    # where full batches of the event log go instead of memory (sim.outputs.EventLogWriter); None: kept
    event_sink: Callable[[list[tuple]], None] | None = None
    # grams carried over each link (from-node, to-node): an array, so that the fast engine adds
    # to it in compiled code and the daily flow reporters read it without a loop in Python
    edge_flow: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.edge_flow = np.zeros((len(self.node_ids), len(self.node_ids)), dtype=np.int64)

    @property
    def edge_flow_g(self) -> dict[tuple[int, int], int]:
        """Grams carried over each link that carried any, (from-node, to-node) -> grams."""
        us, vs = np.nonzero(self.edge_flow)
        return dict(zip(zip(us.tolist(), vs.tolist()), self.edge_flow[us, vs].tolist()))

    def grams_over(self, links: tuple[np.ndarray, np.ndarray]) -> int:
        """Grams carried so far over ``links`` (arrays of from-nodes and to-nodes)."""
        return int(self.edge_flow[links].sum())

    @property
    def in_transit_g(self) -> int:
        return self.entered_g - self.seized_g - self.delivered_g

    def record_supply(self, grams: int) -> None:
        """An organisation received its day's heroin (before any of it is sent)."""
        self.supplied_g += grams

    def record_dispatch(self, shipment: Shipment, node: int) -> None:
        self.shipments.append(shipment)
        self.entered_g += shipment.grams
        self._event(shipment, node, Outcome.DISPATCHED.value)

    def record_hop(self, shipment: Shipment, prev_node: int, node: int) -> None:
        """The load moved over a link: count the flow (for maps and crossing shares)."""
        self.hop_events += 1
        shipment.hops += 1
        self.edge_flow[prev_node, node] += shipment.grams

    def record_passage(self, shipment: Shipment, node: int, day: float, outcome: Outcome) -> None:
        """The load went on from a node: unseen, protected, cleared or bribed through."""
        if outcome is Outcome.PROTECTED:
            self.protected_passages += 1
        if self.keep_events and outcome is not Outcome.BRIBED:   # a bribe is logged when paid
            self._log((shipment.shipment_id, day, node, outcome.value, None, 0.0))

    def record_protection_paid(self, usd: float) -> None:
        self.protection_usd += usd

    def record_corruption_case(self, kind: str) -> None:
        """An officer found out: taking bribes, protecting a group, staging false couriers."""
        self.officers_caught += 1
        self.corruption_cases[kind] += 1

    def record_staging(self, node: int, agency: str, grams: int) -> None:
        """A seizure re-staged with a 'false courier': reported, never true (002 ¶27)."""
        self.staged_g[(node, agency)] += grams
        self.stagings += 1

    def record_bribe(self, shipment: Shipment, node: int, day: float, agency: str, usd: float) -> None:
        self.bribes_usd += usd
        self.bribes_count += 1
        shipment.bribes_usd += usd
        if self.keep_events:
            self._log((shipment.shipment_id, day, node, Outcome.BRIBED.value, agency, usd))

    def record_seizure(self, shipment: Shipment, node: int, day: float, agency: str) -> None:
        self.seized_g += shipment.grams
        self.seizures_count += 1
        self.seized_g_at[(node, agency)] += shipment.grams
        self._close(shipment, Outcome.SEIZED, node, day, agency)

    def record_delivery(self, shipment: Shipment, node: int, day: float) -> None:
        self.delivered_g += shipment.grams
        self._close(shipment, Outcome.DELIVERED, node, day, None)

    def _close(self, shipment: Shipment, outcome: Outcome, node: int, day: float, agency: str | None) -> None:
        shipment.outcome, shipment.outcome_node = outcome.value, self.node_ids[node]
        shipment.outcome_day, shipment.agency = day, agency
        if self.keep_events:
            self._log((shipment.shipment_id, day, node, outcome.value, agency, 0.0))

    def _event(self, shipment: Shipment, node: int, code: str) -> None:
        if self.keep_events:
            self._log((shipment.shipment_id, shipment.day_dispatched, node, code, None, 0.0))

    def _log(self, row: tuple) -> None:
        """One row of the event log; with an ``event_sink``, full batches go to it (a Parquet file)."""
        self.events.append(row)
        if self.event_sink is not None and len(self.events) >= EVENT_BATCH_ROWS:
            self.flush_events()

    def flush_events(self) -> None:
        """Hand the rows logged so far to the ``event_sink`` (they leave memory)."""
        if self.event_sink is not None and self.events:
            self.event_sink(self.events)
            self.events = []

    # --- tables --------------------------------------------------------------------

    def shipments_frame(self) -> pd.DataFrame:
        for update in self.before_tables:
            update()
        frame = pd.DataFrame({col: self._shipment_column(col) for col in SHIPMENT_COLUMNS}, columns=list(SHIPMENT_COLUMNS))
        frame["kg"] = frame["grams"] / 1000.0
        return frame

    def _shipment_column(self, col: str) -> pd.Series | pd.Categorical:
        """One column of the shipment table, made column by column: a year at 100x the flow
        never holds a row tuple per shipment (half a million of them) beside its records."""
        values = pd.Series(list(map(operator.attrgetter(col), self.shipments)), dtype=None if self.shipments else object)
        return values.astype("category") if col in _CATEGORY_COLUMNS else values

    def events_frame(self) -> pd.DataFrame:
        return events_table(self.events, self.node_ids)

    def edge_flows_kg(self) -> dict[tuple[str, str], float]:
        ids = self.node_ids
        return {(ids[u], ids[v]): g / 1000.0 for (u, v), g in self.edge_flow_g.items()}


def events_table(rows: list[tuple], node_ids: tuple[str, ...]) -> pd.DataFrame:
    """The event log (rows of :data:`EVENT_COLUMNS`) as a table: nodes and events as categories."""
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    frame["node"] = pd.Categorical.from_codes(frame["node"].to_numpy(dtype=int), categories=list(node_ids))
    frame["event"] = pd.Categorical(frame["event"], categories=list(EVENT_CODES))
    frame["agency"] = frame["agency"].astype("category")
    return frame
