"""The fast engine's Python side: the couriers on the road as arrays, the handle, the day's call.

:class:`FastEngine` is what :meth:`sim.model.model.NorthernRouteModel.step` calls for a
day (``transit: fast``): it hands the compiled kernel (:func:`sim.engine.kernel.run_day`)
one :class:`sim.engine.world.World` over the model's own arrays, and when the kernel
stops for room (a buffer full), grows what is full and calls again. The rules in force
reach the kernel as numbers (:meth:`FastEngine.rule_values`), read from the same settings
the reference engine's agents read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine import kernel
from sim.engine.kernel import N_FREE, N_SLOTS, NEED_ROOM, ON_ROAD, OPEN_SLICE, RULES, SLICES_PER_DAY, Transit
from sim.engine.world import fields_of, new_world
from sim.params import CONVEYANCES

if TYPE_CHECKING:
    from sim.model.model import NorthernRouteModel

#: couriers' rows the engine starts with (they double when full)
FIRST_SLOTS = 4096
#: the couriers' rows and today's heap (one place in it per courier at most): grown together
_ROW_DTYPES = {"heap_time": np.float64, "heap_seq": np.int64, "heap_slot": np.int64,
               "slot_route": np.int64, "slot_leg": np.int64, "slot_departure": np.float64, "slot_grams": np.int64,
               "slot_org": np.int64, "slot_conveyance": np.int64, "slot_nationality": np.int64,
               "slot_shipment": np.int64, "slot_controlled": np.bool_, "slot_when": np.float64, "slot_seq": np.int64,
               "slot_next": np.int64, "slot_used": np.bool_, "free": np.int64}


class FastEngine:
    """Moves a model's couriers (and plans, supplies and deploys) in compiled code, a day at a time."""

    def __init__(self, model: NorthernRouteModel) -> None:
        self.model = model
        progress = np.zeros(9, dtype=np.int64)
        progress[OPEN_SLICE] = -1
        self.transit = Transit(**{name: np.zeros(FIRST_SLOTS, dtype=t) for name, t in _ROW_DTYPES.items()},
                               bucket_head=np.full(self._ring_slices(), -1, dtype=np.int64),
                               progress=progress)
        self.patrols_at = np.zeros((len(model.node_ids), 1), dtype=np.int64)
        self.n_patrols_at = np.zeros(len(model.node_ids), dtype=np.int64)
        self.world = None
        self._packed = None
        self._routes_version = model.routes.version

    def __len__(self) -> int:
        """Couriers on the road."""
        return int(self.transit.progress[ON_ROAD])

    def loads_on_road(self) -> dict[int, int]:
        """The couriers on the road (the rows in use): shipment -> grams."""
        t = self.transit
        slots = np.flatnonzero(t.slot_used)
        return dict(zip(t.slot_shipment[slots].tolist(), t.slot_grams[slots].tolist()))

    def _ring_slices(self) -> int:
        """Buckets of the ring: its days times :data:`SLICES_PER_DAY`. The days are more than any arrival
        can be ahead of the day (the longest leg of any route, plus the day a load leaves on), a power of two."""
        arrive = self.model.routes.arrays.route_arrive
        longest = float(np.diff(arrive).max()) if len(arrive) > 1 else 1.0
        return (1 << int(np.ceil(np.log2(max(4.0, longest + 3.0))))) * SLICES_PER_DAY

    def run_day(self) -> None:
        """The model's day after its events: supply, planning, patrols, couriers, the day's figures."""
        day = self.model.day
        while kernel.run_day(self.handle(), day) == NEED_ROOM:
            self.make_room()

    # --- the handle ------------------------------------------------------------------

    def handle(self):
        """The kernel's World, made anew when the model replaced any of its arrays or changed its rules."""
        model = self.model
        if model.routes.version != getattr(self, "_routes_version", None):
            self._routes_version = model.routes.version
            if self._ring_slices() > len(self.transit.bucket_head):
                self._rebucket(self._ring_slices())
        key = (model.state.version, model.ledger.version, model.routes.version, len(model.streams),
               id(model.streams.keys), id(model.integrity.cases), id(model.settings), id(model.world),
               model.state.n_patrols, id(model.prior_losses), id(model.load_sizes))
        if key != self._packed:
            self.world = new_world(self.values())
            self._packed = key
        return self.world

    def values(self) -> dict:
        model, state = self.model, self.model.state
        n_patrols = max(1, state.n_patrols)
        if self.patrols_at.shape[1] < n_patrols:
            self.patrols_at = np.zeros((len(model.node_ids), n_patrols), dtype=np.int64)
        links = model.flow_links
        others = {
            "seed": model.streams.seed, "keys": model.streams.keys, "counters": model.streams.counters,
            "cases": model.integrity.cases, "ring": model.integrity.ring, "integrity": model.integrity.rules,
            "rules": self.rule_values(), "prior_losses": model.prior_losses, "prior_passages": model.prior_passages,
            "load_sizes": model.load_sizes, "link_from": links.link_from, "link_to": links.link_to,
            "link_series": links.link_series, "today": model.today, "patrols_at": self.patrols_at,
            "n_patrols_at": self.n_patrols_at,
            # scratch for the chances of the encounters at a node (patrols; a post's watchers and crews)
            "chances": np.zeros(n_patrols), "post_chances": np.zeros(state.dims["W"] + 2),
        }
        return fields_of(state, model.ledger.books, model.routes.arrays, self.transit, others)

    def rule_values(self) -> np.ndarray:
        """The rules in force as the numbers the kernel reads (:data:`sim.engine.kernel.RULES`),
        computed as the reference engine's agents compute them."""
        model = self.model
        world, settings = model.world, model.settings
        c, learning, rules = world.corruption, world.learning, world.investigation
        let_run = settings.let_run
        values = {
            "bribe_share_of_value": c.bribe_share_of_value, "officer_wage_usd_per_month": c.officer_wage_usd_per_month,
            "bribe_wage_months": c.bribe_wage_months, "bribe_scale_usd": c.bribe_scale_usd,
            "protection_offer_prob": c.protection.offer_prob, "protection_price_usd": c.protection.price_usd_per_load,
            "protection_risk": min(1.0, c.protection.detection_prob_per_load * settings.protection_detection_factor),
            "catch_prob_per_bribe": settings.catch_prob_per_bribe,
            "false_courier_detection": settings.false_courier_detection,
            "recycle_share": c.false_couriers.recycle_share,
            "corruptibility_concentration": world.inspection.officer_corruptibility_concentration,
            "seizure_officer_days": world.inspection.seizure_officer_days,
            "let_run": float(let_run is not None),
            "let_run_prob": let_run.let_run_prob if let_run else 0.0,
            "controlled_success_prob": let_run.success_prob if let_run else 0.0,
            "controlled_disruption_days": let_run.disruption_days if let_run else 0,
            "controlled_agency": model.let_run_agency,
            "route_shut_prob": rules.route_shut_prob, "group_shut_prob": rules.group_shut_prob,
            "route_shut_days": rules.route_shut_days, "disruption_days": rules.disruption_days,
            "news_weight": learning.news_weight, "loss_tolerance": learning.loss_tolerance,
            "small_load_factor": learning.small_load_factor, "choice_temperature": learning.choice_temperature_usd_per_kg,
            "horizon_days": model.horizon_days, "n_conveyances": len(CONVEYANCES),
        }
        return np.array([float(values[name]) for name in RULES])

    # --- room --------------------------------------------------------------------------

    def make_room(self) -> None:
        """Grow (or hand on) whatever the kernel found full, then it goes on."""
        model, t = self.model, self.transit
        model.ledger.make_room(shipments=1, seizures=1, events=kernel.ROOM_EVENTS_PER_HOP)
        model.integrity.make_room(kernel.ROOM_CASES_PER_HOP)
        patrols = model.state.patrols
        if np.any(patrols.active & (patrols.n_finds >= patrols.find_day.shape[1] - kernel.ROOM_BATCH)):
            model.state.grow("F", 2 * patrols.find_day.shape[1])
        progress = t.progress
        if progress[N_FREE] == 0 and progress[N_SLOTS] >= len(t.slot_route):
            self._grow_rows()

    def _grow_rows(self) -> None:
        t = self.transit
        size = 2 * len(t.slot_route)
        grown = {name: np.concatenate([getattr(t, name), np.zeros(size - len(getattr(t, name)), dtype=dtype)])
                 for name, dtype in _ROW_DTYPES.items()}
        self.transit = t._replace(**grown)
        self._packed = None

    def _rebucket(self, size: int) -> None:
        """A longer ring of ``size`` buckets (a route with a longer leg came into the book): the waiting
        arrivals re-bucketed."""
        t = self.transit
        head = np.full(size, -1, dtype=np.int64)
        opened = t.progress[OPEN_SLICE]
        for slot in np.flatnonzero(t.slot_used).tolist():
            piece = int(np.floor(t.slot_when[slot] * SLICES_PER_DAY))
            if piece > opened:                         # not in the heap: in its slice's bucket
                t.slot_next[slot] = head[piece % size]
                head[piece % size] = slot
        self.transit = t._replace(bucket_head=head)
        self._packed = None

    # --- what the agents see ------------------------------------------------------------

    def patrols_by_node(self) -> list[list]:
        """Where each patrol stood today: the patrols at each node, in the order met."""
        by_row = {patrol.row: patrol for patrol in self.model.patrols}
        return [[by_row[p] for p in self.patrols_at[node, :self.n_patrols_at[node]].tolist()]
                for node in range(len(self.model.node_ids))]
