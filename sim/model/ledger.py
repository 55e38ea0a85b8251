"""Bookkeeping: where every gram went, kept apart from the model's rules.

The ledger records each shipment (who sent it, how, where it ended), each event on its
way (dispatched, passed, inspected, protected, bribed, seized, delivered), each seizure
and bribe, and the running totals behind the daily series and the summary. Masses are
integer grams, so that ``entered = seized + delivered + in transit`` and ``supplied =
entered + stock held + stock passed on`` hold exactly.

The books are arrays (:class:`Books`, a named tuple) and every entry is made by one of
the compiled ``book_*`` functions below, which both engines call: the reference engine
through :class:`Ledger`'s methods, the fast engine (:mod:`sim.engine`) from its kernel.
So there is one definition of what is booked, and the two engines' books agree to the
gram. Tables (the shipment table, the event log) are made from the arrays at the end
(:meth:`Ledger.shipments_frame`, :meth:`Ledger.events_frame`), or streamed to Parquet
in batches while the run goes (``shipment_sink``, ``event_sink``: :mod:`sim.outputs`).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Callable, Sequence

import numba
import numpy as np
import pandas as pd

from sim.model.states import EVENT_CODES, OUTCOME_CODE, OUTCOMES, Outcome
from sim.params import CONVEYANCES

I8, F8 = np.int64, np.float64

# --- the running totals: slots of Books.counts (integers) and Books.sums (floats) -------
SUPPLIED_G, ENTERED_G, SEIZED_G, DELIVERED_G, SHIPMENTS, SEIZURES, BRIBES, HOP_EVENTS = range(8)
OFFICERS_CAUGHT, CASES_BRIBE, CASES_PROTECTION, CASES_FALSE_COURIERS, PROTECTED_PASSAGES = range(8, 13)
STAGINGS, STAGINGS_UNCOVERED, CONTROLLED_LET_RUN, CONTROLLED_SEIZED, CONTROLLED_SEIZED_G = range(13, 18)
ORGANISATION_DAYS_DISRUPTED, REASSIGNED_G, ROUTES_SHUT, GROUPS_SHUT = range(18, 22)
EVENTS_BUFFERED, SHIPMENTS_FLUSHED, KEEP_EVENTS, KEEP_SHIPMENTS = range(22, 26)
N_COUNTS = 26
BRIBES_USD, PROTECTION_USD, SEIZURE_OFFICER_DAYS = range(3)
N_SUMS = 3
#: corruption found out, by kind (slots of ``counts``), in the order of the summary's keys
CASE_KINDS = {"bribe": CASES_BRIBE, "protection": CASES_PROTECTION, "false couriers": CASES_FALSE_COURIERS}
CASE_BRIBE, CASE_PROTECTION, CASE_FALSE_COURIERS = CASES_BRIBE, CASES_PROTECTION, CASES_FALSE_COURIERS

DISPATCHED, PASSED, PROTECTED, CLEARED, BRIBED, SEIZED, DELIVERED, IN_TRANSIT = (OUTCOME_CODE[o] for o in OUTCOMES)
NO_AGENCY = -1
#: The running totals by name, as the ledger's attributes read them: name -> ("count" | "sum", slot).
TOTALS = {
    "supplied_g": ("count", SUPPLIED_G), "entered_g": ("count", ENTERED_G), "seized_g": ("count", SEIZED_G),
    "delivered_g": ("count", DELIVERED_G), "seizures_count": ("count", SEIZURES), "bribes_count": ("count", BRIBES),
    "hop_events": ("count", HOP_EVENTS), "officers_caught": ("count", OFFICERS_CAUGHT),
    "protected_passages": ("count", PROTECTED_PASSAGES), "stagings": ("count", STAGINGS),
    "stagings_uncovered": ("count", STAGINGS_UNCOVERED), "controlled_let_run": ("count", CONTROLLED_LET_RUN),
    "controlled_seized": ("count", CONTROLLED_SEIZED), "controlled_seized_g": ("count", CONTROLLED_SEIZED_G),
    "organisation_days_disrupted": ("count", ORGANISATION_DAYS_DISRUPTED), "reassigned_g": ("count", REASSIGNED_G),
    "routes_shut": ("count", ROUTES_SHUT), "groups_shut": ("count", GROUPS_SHUT),
    "bribes_usd": ("sum", BRIBES_USD), "protection_usd": ("sum", PROTECTION_USD),
    "seizure_officer_days": ("sum", SEIZURE_OFFICER_DAYS),
}

#: Columns of the shipment table (``RunResult.shipments``; dates are added by sim.run).
SHIPMENT_COLUMNS = (
    "shipment_id", "organisation", "org_type", "conveyance", "origin", "market", "grams",
    "nationality", "crossings", "day_dispatched", "outcome", "outcome_node", "outcome_day",
    "agency", "bribes_usd", "hops",
)
#: Columns of the event log.
EVENT_COLUMNS = ("shipment_id", "day", "node", "event", "agency", "bribe_usd")
EVENT_BATCH_ROWS = 100_000     # rows of the event log held before they are handed on (about 5 MB)
#: rows of the shipment table handed on at a time when it is streamed (a row group of the file). Smaller
#: than the event log's: a batch becomes a DataFrame, its dates, then Arrow columns, all at once, and at
#: 100x the flow batches of 100,000 rows raised the run's peak by 25 MB (389 -> 364 MB at 16,384)
SHIPMENT_BATCH_ROWS = 16_384
#: rows the shipment and seizure tables start with (they double when full): a baseline year's
#: loads (about 7,200) and seizures fit without growing
FIRST_SHIPMENT_ROWS, FIRST_SEIZURE_ROWS = 8192, 1024

Books = namedtuple("Books", [
    "counts", "sums", "edge_flow", "seized_g_at", "seizures_at", "staged_g_at", "delivered_g_at", "dispatched_g",
    # one row per seizure
    "sz_shipment", "sz_node", "sz_agency", "sz_grams", "sz_nationality", "sz_day",
    # one row per shipment (row = shipment id - counts[SHIPMENTS_FLUSHED])
    "sh_org", "sh_conveyance", "sh_origin", "sh_market", "sh_grams", "sh_nationality", "sh_crossings",
    "sh_day_dispatched", "sh_outcome", "sh_outcome_node", "sh_outcome_day", "sh_agency", "sh_bribes_usd", "sh_hops",
    # the event log's rows not yet handed on
    "ev_shipment", "ev_day", "ev_node", "ev_event", "ev_agency", "ev_bribe_usd",
])
_SEIZURE_COLUMNS = {"sz_shipment": I8, "sz_node": I8, "sz_agency": I8, "sz_grams": I8, "sz_nationality": I8,
                    "sz_day": F8}
_SHIPMENT_ARRAYS = {"sh_org": I8, "sh_conveyance": I8, "sh_origin": I8, "sh_market": I8, "sh_grams": I8,
                    "sh_nationality": I8, "sh_crossings": I8, "sh_day_dispatched": F8, "sh_outcome": I8,
                    "sh_outcome_node": I8, "sh_outcome_day": F8, "sh_agency": I8, "sh_bribes_usd": F8, "sh_hops": I8}
_EVENT_ARRAYS = {"ev_shipment": I8, "ev_day": F8, "ev_node": I8, "ev_event": I8, "ev_agency": I8, "ev_bribe_usd": F8}


# --- what is booked, one function per entry (both engines call these) --------------------

@numba.njit(cache=True, inline="always")
def book_event(b, shipment, day, node, event, agency, bribe_usd):
    """One row of the event log (when it is kept); the caller makes room first."""
    if b.counts[KEEP_EVENTS]:
        e = b.counts[EVENTS_BUFFERED]
        b.ev_shipment[e], b.ev_day[e], b.ev_node[e] = shipment, day, node
        b.ev_event[e], b.ev_agency[e], b.ev_bribe_usd[e] = event, agency, bribe_usd
        b.counts[EVENTS_BUFFERED] = e + 1


@numba.njit(cache=True, inline="always")
def book_dispatch(b, org, conveyance, origin, market, grams, nationality, crossings, day):
    """A load leaves its origin: a new shipment (its id returned), counted as entering the route."""
    shipment = b.counts[SHIPMENTS]
    b.counts[SHIPMENTS] = shipment + 1
    b.counts[ENTERED_G] += grams
    b.dispatched_g[conveyance] += grams
    if b.counts[KEEP_SHIPMENTS]:
        r = shipment - b.counts[SHIPMENTS_FLUSHED]
        b.sh_org[r], b.sh_conveyance[r], b.sh_origin[r], b.sh_market[r] = org, conveyance, origin, market
        b.sh_grams[r], b.sh_nationality[r], b.sh_crossings[r], b.sh_day_dispatched[r] = grams, nationality, crossings, day
        b.sh_outcome[r], b.sh_outcome_node[r], b.sh_outcome_day[r] = IN_TRANSIT, -1, np.nan
        b.sh_agency[r], b.sh_bribes_usd[r], b.sh_hops[r] = NO_AGENCY, 0.0, 0
    book_event(b, shipment, day, origin, DISPATCHED, NO_AGENCY, 0.0)
    return shipment


@numba.njit(cache=True, inline="always")
def book_hop(b, shipment, grams, from_node, to_node):
    """The load moved over a link: the flow over it (maps, crossings, the daily border series)."""
    b.counts[HOP_EVENTS] += 1
    b.edge_flow[from_node, to_node] += grams
    if b.counts[KEEP_SHIPMENTS]:
        b.sh_hops[shipment - b.counts[SHIPMENTS_FLUSHED]] += 1


@numba.njit(cache=True, inline="always")
def book_passage(b, shipment, day, node, outcome):
    """The load went on from a node: unseen, protected, cleared or bribed through (a bribe is logged when paid)."""
    if outcome == PROTECTED:
        b.counts[PROTECTED_PASSAGES] += 1
    if outcome != BRIBED:
        book_event(b, shipment, day, node, outcome, NO_AGENCY, 0.0)


@numba.njit(cache=True, inline="always")
def book_bribe(b, shipment, day, node, agency, usd):
    b.sums[BRIBES_USD] += usd
    b.counts[BRIBES] += 1
    if b.counts[KEEP_SHIPMENTS]:
        b.sh_bribes_usd[shipment - b.counts[SHIPMENTS_FLUSHED]] += usd
    book_event(b, shipment, day, node, BRIBED, agency, usd)


@numba.njit(cache=True, inline="always")
def book_protection_paid(b, usd):
    b.sums[PROTECTION_USD] += usd


@numba.njit(cache=True, inline="always")
def book_corruption_case(b, kind):
    """An officer found out (``kind``: a slot of :data:`CASE_KINDS`)."""
    b.counts[OFFICERS_CAUGHT] += 1
    b.counts[kind] += 1


@numba.njit(cache=True, inline="always")
def book_staging(b, node, agency, grams):
    """A seizure re-staged with a 'false courier': reported, never true (002 ¶27)."""
    b.staged_g_at[node, agency] += grams
    b.counts[STAGINGS] += 1


@numba.njit(cache=True, inline="always")
def _close(b, shipment, outcome, node, day, agency):
    if b.counts[KEEP_SHIPMENTS]:
        r = shipment - b.counts[SHIPMENTS_FLUSHED]
        b.sh_outcome[r], b.sh_outcome_node[r], b.sh_outcome_day[r], b.sh_agency[r] = outcome, node, day, agency
    book_event(b, shipment, day, node, outcome, agency, 0.0)


@numba.njit(cache=True, inline="always")
def book_seizure(b, shipment, day, node, agency, grams, nationality):
    """A load seized (one row of the seizure log; the caller makes room first)."""
    b.counts[SEIZED_G] += grams
    s = b.counts[SEIZURES]
    b.counts[SEIZURES] = s + 1
    b.seized_g_at[node, agency] += grams
    b.seizures_at[node, agency] += 1
    b.sz_shipment[s], b.sz_node[s], b.sz_agency[s] = shipment, node, agency
    b.sz_grams[s], b.sz_nationality[s], b.sz_day[s] = grams, nationality, day
    _close(b, shipment, SEIZED, node, day, agency)


@numba.njit(cache=True, inline="always")
def book_delivery(b, shipment, day, node, grams):
    b.counts[DELIVERED_G] += grams
    b.delivered_g_at[node] += grams
    _close(b, shipment, DELIVERED, node, day, NO_AGENCY)


@numba.njit(cache=True, inline="always")
def room_for(b, shipments, seizures, events):
    """Whether the books have room for that many more shipments, seizures and event rows."""
    if b.counts[KEEP_SHIPMENTS] and b.counts[SHIPMENTS] - b.counts[SHIPMENTS_FLUSHED] + shipments > len(b.sh_org):
        return False
    if b.counts[SEIZURES] + seizures > len(b.sz_node):
        return False
    return not (b.counts[KEEP_EVENTS] and b.counts[EVENTS_BUFFERED] + events > len(b.ev_node))


class Vocabulary:
    """Names and their codes, for a categorical column (agencies, nationalities, crossings)."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names: list[str] = []
        self._codes: dict[str, int] = {}
        for name in names:
            self.code(name)

    def code(self, name: str) -> int:
        found = self._codes.get(name)
        if found is None:
            found = self._codes[name] = len(self.names)
            self.names.append(name)
        return found

    def __len__(self) -> int:
        return len(self.names)


class Ledger:
    """The books of one run, the names behind their codes, and the tables made from them.

    ``keep_events``: keep the per-hop event log (off in large sweeps); ``keep_shipments``:
    keep a row per shipment (the shipment table; sweeps only need the summary, which is
    made from the totals and the seizure log). ``event_sink`` and ``shipment_sink``: where
    full batches go instead of memory (:class:`sim.outputs.EventLogWriter`, ...).
    """

    def __init__(self, node_ids: tuple[str, ...], n_conveyances: int, keep_events: bool = True,
                 keep_shipments: bool = True) -> None:
        self.node_ids = node_ids
        self.agencies = Vocabulary()
        self.nationalities = Vocabulary()
        self.crossings = Vocabulary()
        self.org_ids: list[int] = []           # an organisation's row -> its Mesa unique_id
        self.org_types: list[str] = []         # ... -> its type
        self.event_sink: Callable[[pd.DataFrame], None] | None = None
        self.shipment_sink: Callable[[pd.DataFrame], None] | None = None
        self._event_chunks: list[pd.DataFrame] = []
        self.version = 0                       # changes when the books are replaced (grown)
        n = len(node_ids)
        counts = np.zeros(N_COUNTS, dtype=I8)
        counts[KEEP_EVENTS], counts[KEEP_SHIPMENTS] = keep_events, keep_shipments
        self.books = Books(
            counts=counts, sums=np.zeros(N_SUMS), edge_flow=np.zeros((n, n), dtype=I8),
            seized_g_at=np.zeros((n, 4), dtype=I8), seizures_at=np.zeros((n, 4), dtype=I8),
            staged_g_at=np.zeros((n, 4), dtype=I8), delivered_g_at=np.zeros(n, dtype=I8),
            dispatched_g=np.zeros(n_conveyances, dtype=I8),
            **{name: np.zeros(FIRST_SEIZURE_ROWS, dtype=t) for name, t in _SEIZURE_COLUMNS.items()},
            **{name: np.zeros(FIRST_SHIPMENT_ROWS if keep_shipments else 0, dtype=t)
               for name, t in _SHIPMENT_ARRAYS.items()},
            # the event log is handed on a batch at a time (to its sink, or to the rows kept)
            **{name: np.zeros(EVENT_BATCH_ROWS if keep_events else 0, dtype=t) for name, t in _EVENT_ARRAYS.items()},
        )

    # --- names and room -------------------------------------------------------------

    def agency(self, name: str) -> int:
        """The code of an agency (new agencies widen the by-agency books)."""
        code = self.agencies.code(name)
        width = self.books.seized_g_at.shape[1]
        if code >= width:
            grow = {k: np.pad(getattr(self.books, k), ((0, 0), (0, max(code + 1, 2 * width) - width))) for k in
                    ("seized_g_at", "seizures_at", "staged_g_at")}
            self._replace(**grow)
        return code

    def make_room(self, shipments: int = 1, seizures: int = 1, events: int = 16) -> None:
        """Room for that many more entries: full event batches go to the sink, tables grow."""
        b = self.books
        if b.counts[KEEP_EVENTS] and b.counts[EVENTS_BUFFERED] + events > len(b.ev_node):
            self.flush_events()
            if b.counts[EVENTS_BUFFERED] + events > len(b.ev_node):
                self._replace(**_doubled(b, _EVENT_ARRAYS, b.counts[EVENTS_BUFFERED] + events))
        b = self.books
        if b.counts[SEIZURES] + seizures > len(b.sz_node):
            self._replace(**_doubled(b, _SEIZURE_COLUMNS, b.counts[SEIZURES] + seizures))
        b = self.books
        held = b.counts[SHIPMENTS] - b.counts[SHIPMENTS_FLUSHED]
        if b.counts[KEEP_SHIPMENTS] and held + shipments > len(b.sh_org):
            self.flush_shipments(final=False)
            held = b.counts[SHIPMENTS] - b.counts[SHIPMENTS_FLUSHED]
            if held + shipments > len(b.sh_org):
                self._replace(**_doubled(b, _SHIPMENT_ARRAYS, held + shipments))

    def _replace(self, **arrays) -> None:
        self.books = self.books._replace(**arrays)
        self.version += 1

    # --- the entries the reference engine makes (the fast engine books in its kernel) ----

    def record_supply(self, grams: int) -> None:
        """An organisation received its day's heroin (before any of it is sent)."""
        self.books.counts[SUPPLIED_G] += grams

    def record_dispatch(self, org: int, conveyance: int, origin: int, market: int, grams: int, nationality: int,
                        crossings: int, day: float) -> int:
        self.make_room()
        return book_dispatch(self.books, org, conveyance, origin, market, grams, nationality, crossings, day)

    def record_hop(self, shipment: int, grams: int, from_node: int, to_node: int) -> None:
        book_hop(self.books, shipment, grams, from_node, to_node)

    def record_passage(self, shipment: int, node: int, day: float, outcome: Outcome) -> None:
        self.make_room()
        book_passage(self.books, shipment, day, node, OUTCOME_CODE[outcome])

    def record_bribe(self, shipment: int, node: int, day: float, agency: int, usd: float) -> None:
        self.make_room()
        book_bribe(self.books, shipment, day, node, agency, usd)

    def record_protection_paid(self, usd: float) -> None:
        book_protection_paid(self.books, usd)

    def record_corruption_case(self, kind: str) -> None:
        book_corruption_case(self.books, CASE_KINDS[kind])

    def record_staging(self, node: int, agency: int, grams: int) -> None:
        book_staging(self.books, node, agency, grams)

    def record_seizure(self, shipment: int, node: int, day: float, agency: int, grams: int, nationality: int) -> None:
        self.make_room()
        book_seizure(self.books, shipment, day, node, agency, grams, nationality)

    def record_delivery(self, shipment: int, node: int, day: float, grams: int) -> None:
        self.make_room()
        book_delivery(self.books, shipment, day, node, grams)

    def add(self, slot: int, amount: int = 1) -> None:
        """Add to one of the counts (``routes_shut``, ``controlled_let_run``, ...)."""
        self.books.counts[slot] += amount

    # --- the totals, by name ---------------------------------------------------------

    def __getattr__(self, name: str):
        """A running total by its name (``ledger.bribes_usd``, ``ledger.routes_shut``: :data:`TOTALS`)."""
        if name in TOTALS:
            kind, slot = TOTALS[name]
            return self.count(slot) if kind == "count" else self.total(slot)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def count(self, slot: int) -> int:
        return int(self.books.counts[slot])

    def total(self, slot: int) -> float:
        return float(self.books.sums[slot])

    @property
    def in_transit_g(self) -> int:
        return self.entered_g - self.seized_g - self.delivered_g

    @property
    def n_shipments(self) -> int:
        return self.count(SHIPMENTS)

    @property
    def edge_flow(self) -> np.ndarray:
        """Grams carried over each link so far (from-node, to-node)."""
        return self.books.edge_flow

    @property
    def edge_flow_g(self) -> dict[tuple[int, int], int]:
        """Grams carried over each link that carried any, (from-node, to-node) -> grams."""
        us, vs = np.nonzero(self.books.edge_flow)
        return dict(zip(zip(us.tolist(), vs.tolist()), self.books.edge_flow[us, vs].tolist()))

    def grams_over(self, links: tuple[np.ndarray, np.ndarray]) -> int:
        """Grams carried so far over ``links`` (arrays of from-nodes and to-nodes)."""
        return int(self.books.edge_flow[links].sum())

    def by_agency(self, books: np.ndarray) -> dict[tuple[int, str], int]:
        """A (node, agency) book as a dict of its non-zero cells, (node, agency name) -> value."""
        nodes, agencies = np.nonzero(books)
        names = self.agencies.names
        return {(int(n), names[a]): int(books[n, a]) for n, a in zip(nodes, agencies)}

    @property
    def seized_g_at(self) -> dict[tuple[int, str], int]:
        """Grams seized by (node, agency)."""
        return self.by_agency(self.books.seized_g_at)

    @property
    def staged_g(self) -> dict[tuple[int, str], int]:
        """Grams re-staged with false couriers by (node, agency)."""
        return self.by_agency(self.books.staged_g_at)

    @property
    def corruption_cases(self) -> dict[str, int]:
        return {kind: self.count(slot) for kind, slot in CASE_KINDS.items()}

    def seizure_log(self) -> pd.DataFrame:
        """One row per seizure: shipment, node and agency (codes), grams, nationality (code), day."""
        n = self.count(SEIZURES)
        b = self.books
        return pd.DataFrame({"shipment_id": b.sz_shipment[:n], "node": b.sz_node[:n], "agency": b.sz_agency[:n],
                             "grams": b.sz_grams[:n], "nationality": b.sz_nationality[:n], "day": b.sz_day[:n]})

    def edge_flows_kg(self) -> dict[tuple[str, str], float]:
        ids = self.node_ids
        return {(ids[u], ids[v]): g / 1000.0 for (u, v), g in self.edge_flow_g.items()}

    # --- tables ----------------------------------------------------------------------

    def flush_events(self) -> None:
        """Hand the event rows buffered so far on: to the ``event_sink``, or to the kept log."""
        b = self.books
        n = int(b.counts[EVENTS_BUFFERED])
        if n == 0:
            return
        chunk = self._event_frame(n)
        b.counts[EVENTS_BUFFERED] = 0
        if self.event_sink is not None:
            self.event_sink(chunk)
        else:
            self._event_chunks.append(chunk)

    def events_frame(self) -> pd.DataFrame:
        """The event log kept in memory (rows of :data:`EVENT_COLUMNS`)."""
        self.flush_events()
        if not self._event_chunks:
            return self._event_frame(0)
        frame = pd.concat(self._event_chunks, ignore_index=True)
        frame["agency"] = frame["agency"].astype("category")   # the batches' agencies, as one category set
        self._event_chunks = [frame]
        return frame

    def _event_frame(self, n: int) -> pd.DataFrame:
        b = self.books
        return pd.DataFrame({
            "shipment_id": b.ev_shipment[:n].copy(),
            "day": b.ev_day[:n].copy(),
            "node": _codes(b.ev_node[:n], self._node_dtype()),
            "event": _codes(b.ev_event[:n], _EVENT_DTYPE),
            "agency": _categories(b.ev_agency[:n], self.agencies.names),
            "bribe_usd": b.ev_bribe_usd[:n].copy(),
        })

    def flush_shipments(self, final: bool = False) -> None:
        """With a ``shipment_sink``: hand on the shipments held whose journey is over (all, when ``final``).

        Rows go in shipment order, so a row waits for every earlier load to finish; they go
        a batch (:data:`SHIPMENT_BATCH_ROWS`) at a time, so that what is handed on never
        doubles what is held.
        """
        if self.shipment_sink is None:
            return
        b = self.books
        held = int(b.counts[SHIPMENTS] - b.counts[SHIPMENTS_FLUSHED])
        done = held if final else _finished_prefix(b.sh_outcome[:held])
        start = 0
        while start < done:
            stop = min(done, start + SHIPMENT_BATCH_ROWS)
            self.shipment_sink(self._shipment_frame(start, stop))
            start = stop
        if done:
            for name in _SHIPMENT_ARRAYS:
                column = getattr(b, name)
                column[: held - done] = column[done:held]
            b.counts[SHIPMENTS_FLUSHED] += done

    def shipments_frame(self) -> pd.DataFrame:
        """The shipments held (all of them, unless they were streamed), one row each."""
        b = self.books
        return self._shipment_frame(0, int(b.counts[SHIPMENTS] - b.counts[SHIPMENTS_FLUSHED]))

    def _shipment_frame(self, start: int, stop: int) -> pd.DataFrame:
        b = self.books
        rows = slice(start, stop)
        first_id = int(b.counts[SHIPMENTS_FLUSHED]) + start
        org = b.sh_org[rows]
        org_types = sorted(set(self.org_types))
        type_code = np.array([org_types.index(t) for t in self.org_types], dtype=I8)
        node, codes = self._node_dtype(), _codes
        frame = pd.DataFrame({
            "shipment_id": np.arange(first_id, first_id + stop - start, dtype=I8),
            # organisations' Mesa ids, in row order (they were made in that order: ascending)
            "organisation": codes(org, pd.CategoricalDtype(self.org_ids)),
            "org_type": codes(type_code[org], pd.CategoricalDtype(org_types)),
            "conveyance": codes(b.sh_conveyance[rows], _CONVEYANCE_DTYPE),
            "origin": codes(b.sh_origin[rows], node),
            "market": codes(b.sh_market[rows], node),
            "grams": b.sh_grams[rows].copy(),
            "nationality": codes(b.sh_nationality[rows], pd.CategoricalDtype(self.nationalities.names)),
            "crossings": codes(b.sh_crossings[rows], pd.CategoricalDtype(self.crossings.names)),
            "day_dispatched": b.sh_day_dispatched[rows].copy(),
            "outcome": codes(b.sh_outcome[rows], _OUTCOME_DTYPE),
            "outcome_node": codes(b.sh_outcome_node[rows], node),
            "outcome_day": b.sh_outcome_day[rows].copy(),
            "agency": _categories(b.sh_agency[rows], self.agencies.names),
            "bribes_usd": b.sh_bribes_usd[rows].copy(),
            "hops": b.sh_hops[rows].copy(),
        }, columns=list(SHIPMENT_COLUMNS))
        frame["kg"] = frame["grams"] / 1000.0
        return frame

    def _node_dtype(self) -> pd.CategoricalDtype:
        if getattr(self, "_nodes", None) is None:
            self._nodes = pd.CategoricalDtype(list(self.node_ids))
        return self._nodes


_CONVEYANCE_DTYPE = pd.CategoricalDtype(list(CONVEYANCES))
_OUTCOME_DTYPE = pd.CategoricalDtype([o.value for o in OUTCOMES])
_EVENT_DTYPE = pd.CategoricalDtype(list(EVENT_CODES))


def _codes(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """A categorical from codes the books wrote (valid by construction: -1 for none)."""
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _categories(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """Codes (-1: none) as a categorical of the names that occur."""
    used = sorted({names[c] for c in np.unique(codes) if c >= 0})
    remap = np.full(max(len(names), 1), -1, dtype=I8)
    for i, name in enumerate(used):
        remap[names.index(name)] = i
    return pd.Categorical.from_codes(np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), categories=used)


def _finished_prefix(outcomes: np.ndarray) -> int:
    """How many leading rows have a final outcome (are not in transit)."""
    open_rows = np.flatnonzero(outcomes == IN_TRANSIT)
    return int(open_rows[0]) if len(open_rows) else len(outcomes)


def _doubled(books: Books, columns: dict, at_least: int) -> dict[str, np.ndarray]:
    size = max(at_least, 2 * len(getattr(books, next(iter(columns)))), 64)
    return {name: np.concatenate([getattr(books, name), np.zeros(size - len(getattr(books, name)), dtype=t)])
            for name, t in columns.items()}
