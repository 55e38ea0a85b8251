"""The fast engine's queue of couriers on the road: arrays for the kernel, the rules for what happens.

:class:`FastArrivals` is a drop-in for :class:`sim.model.arrivals.Arrivals` (``schedule``,
``run_until``, ``peek``, ``len``): couriers still depart as agents
(:meth:`sim.model.agents.Courier.depart`), but their journeys are held as arrays and moved by
the compiled kernel (:func:`sim.engine.kernel.advance`) through every quiet node. When
an encounter fires, the hop goes to :meth:`sim.model.agents.Courier.meet` (told which
encounter fired first), and from there everything follows the readable rules: the find,
the bribe, protection, the seizure, controlled deliveries, learning. A load reaching
its market goes to :meth:`sim.model.agents.Courier.reach_market`.

What the kernel needs to know about the rules in force (the posts' crews and capacity,
watchers, patrols' chances, who is protected where) is derived from the model's agents
by :meth:`FastArrivals.follow_rules`, which :meth:`sim.model.NorthernRouteModel.refresh_rules`
calls at setup and after every change of rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine import kernel
from sim.engine.kernel import C_BUFFERED, C_HEAP_SIZE, C_HOPS, ENGAGED, QUIET_ARRIVAL
from sim.params import CONVEYANCES
from sim.model.states import Outcome

if TYPE_CHECKING:
    from sim.model.agents import Courier
    from sim.model import NorthernRouteModel

BUFFER = 4096


class FastArrivals:
    """Couriers on the road, moved by the compiled kernel; same ordering as :class:`sim.model.arrivals.Arrivals`.

    Ties in time are broken by the order of scheduling. ``run_until(until)`` moves every
    courier due strictly before ``until``, legs scheduled on the way included.
    """

    def __init__(self, seed: int, keep_passes: bool) -> None:
        self.seed = np.uint64(int(seed) & (2**64 - 1))
        self.keep_passes = keep_passes
        self.model: NorthernRouteModel | None = None
        self.counters = np.zeros(4, dtype=np.int64)
        self._grow_heap(256)
        self._grow_slots(256)
        self._couriers: dict[int, Courier] = {}          # slot -> courier on the road
        self._free: list[int] = []
        self._route_ids: dict[int, int] = {}             # id(route) -> row of the route table
        self._routes: list = []                          # the routes themselves (keeps ids valid)
        self.route_start, self.route_len = np.zeros(64, dtype=np.int64), np.zeros(64, dtype=np.int64)
        self.route_nodes, self.route_arrive = np.zeros(1024, dtype=np.int64), np.zeros(1024)
        self._route_steps = 0
        self.buf_slot = np.zeros(BUFFER, dtype=np.int64)
        self.buf_node = np.zeros(BUFFER, dtype=np.int64)
        self.buf_day = np.zeros(BUFFER)
        self.buf_kind = np.zeros(BUFFER, dtype=np.int64)
        self.engaged = np.zeros(5)
        self.n_nodes = 0

    # --- the Arrivals interface ------------------------------------------------------

    def __len__(self) -> int:
        return int(self.counters[C_HEAP_SIZE])

    def peek(self) -> float | None:
        """When the next arrival is due (None when nobody is on the road)."""
        return float(self.ht[0]) if self.counters[C_HEAP_SIZE] else None

    def schedule(self, courier: Courier, when: float) -> None:
        """A courier leaves (``Courier.depart``): its journey becomes a row of the arrays."""
        slot = self._free.pop() if self._free else self._new_slot()
        self._couriers[slot] = courier
        self.slot_route[slot] = self._route_id(courier.route)
        self.slot_leg[slot] = courier.leg
        self.slot_dep[slot] = courier.departure
        self.slot_grams[slot] = courier.shipment.grams
        self.slot_org[slot] = self.org_index[courier.organisation.unique_id]
        self.slot_conv[slot] = courier.conveyance
        self.slot_hops[slot] = courier.shipment.hops
        self._push(when, slot)

    def run_until(self, until: float) -> None:
        """Move every courier due strictly before ``until``; hand each hop where something happens to the rules."""
        self._sync_patrols()
        while True:
            code = kernel.advance(
                float(until), self.seed, self.keep_passes,
                self.ht, self.hs, self.hslot, self.counters,
                self.slot_route, self.slot_leg, self.slot_dep, self.slot_grams, self.slot_org, self.slot_conv,
                self.slot_hops,
                self.route_start, self.route_len, self.route_nodes, self.route_arrive,
                self.draw_count, self.loads_today, self.loads_day,
                self.n_patrols_at, self.patrols_at, self.patrol_stop, self.patrol_detect,
                self.has_post, self.n_watch, self.watch_p,
                self.n_sides, self.both_sides, self.cap, self.staff, self.licit, self.target, self.p_fixed,
                self.busy, self.n_busy, self.protected,
                self.model.ledger.edge_flow, self.buf_slot, self.buf_node, self.buf_day, self.buf_kind, self.engaged)
            self._flush_quiet()
            if code == ENGAGED:
                self._engage()
            elif code == kernel.DONE:
                break
        self._book_the_day()

    # --- the rules in force, as arrays --------------------------------------------------

    def follow_rules(self, model: NorthernRouteModel) -> None:
        """Derive the kernel's arrays from the model's posts, crews, watchers, patrols and organisations."""
        self.model = model
        if self.write_hops not in model.ledger.before_tables:
            model.ledger.before_tables.append(self.write_hops)
        n, n_conv = len(model.node_ids), len(CONVEYANCES)
        if n != self.n_nodes:
            self.n_nodes = n
            self.draw_count = np.zeros(n, dtype=np.int64)
            self.loads_today = np.zeros(n, dtype=np.int64)
            self.loads_day = np.full(n, -1, dtype=np.int64)
        self.org_index = {org.unique_id: i for i, org in enumerate(model.organisations)}
        n_orgs = max(1, len(self.org_index))
        n_watch_max = max([len(p.surveillance) for p in model.posts if p is not None] + [1])
        self.has_post = np.array([p is not None for p in model.posts])
        self.n_watch = np.zeros(n, dtype=np.int64)
        self.watch_p = np.zeros((n, n_watch_max, n_conv))
        self.n_sides = np.zeros(n, dtype=np.int64)
        self.both_sides = np.zeros(n, dtype=np.bool_)
        self.cap, self.staff, self.licit = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
        self.target, self.p_fixed = np.zeros((n, 2, n_conv)), np.zeros((n, 2, n_conv))
        self.busy = np.zeros((n, 2, 8))
        self.n_busy = np.zeros((n, 2), dtype=np.int64)
        self.protected = np.zeros((n, 2, n_orgs), dtype=np.bool_)
        for node, post in enumerate(model.posts):
            if post is None:
                continue
            self.n_watch[node] = len(post.surveillance)
            for w, watcher in enumerate(post.surveillance):
                self.watch_p[node, w] = watcher.p_inspect
            self.n_sides[node] = len(post.sides)
            self.both_sides[node] = post.both_sides_inspect
            for s, side in enumerate(post.sides):
                self.cap[node, s], self.staff[node, s], self.licit[node, s] = side.capacity, side.staff, side.licit_traffic
                self.target[node, s, :len(side.targeting)] = side.targeting
                self.p_fixed[node, s] = side.p_inspect
            self._sync_post(node)
        self.patrol_stop = np.zeros((max(1, len(model.patrols)), n))
        self.patrol_detect = np.zeros((max(1, len(model.patrols)), n_conv))
        self.patrol_index = {patrol.unique_id: i for i, patrol in enumerate(model.patrols)}
        for i, patrol in enumerate(model.patrols):
            for node, p in patrol.stop_prob.items():
                self.patrol_stop[i, node] = p
            self.patrol_detect[i] = patrol.p_detect
        self.n_patrols_at = np.zeros(n, dtype=np.int64)
        self.patrols_at = np.zeros((n, max(1, len(model.patrols))), dtype=np.int64)

    def _sync_post(self, node: int) -> None:
        """Copy a post's changing state (officers tied up by seizures, who is protected) to the arrays."""
        post = self.model.posts[node]
        for s, side in enumerate(post.sides):
            busy = side.busy_until
            if len(busy) > self.busy.shape[2]:
                grown = np.zeros(self.busy.shape[:2] + (2 * len(busy),))
                grown[:, :, :self.busy.shape[2]] = self.busy
                self.busy = grown
            self.n_busy[node, s] = len(busy)
            self.busy[node, s, :len(busy)] = list(busy)
            self.protected[node, s] = False
            for org_id in side.protectors:
                self.protected[node, s, self.org_index[org_id]] = True

    def _sync_patrols(self) -> None:
        """Where each patrol stands today (``NorthernRouteModel.deploy_patrols``)."""
        self.n_patrols_at[:] = 0
        for node, patrols in enumerate(self.model.patrols_at):
            for k, patrol in enumerate(patrols):
                self.patrols_at[node, k] = self.patrol_index[patrol.unique_id]
            self.n_patrols_at[node] = len(patrols)

    # --- handing hops to the rules ------------------------------------------------------

    def _engage(self) -> None:
        """An encounter fired: the rules take the hop from the first encounter that fired."""
        slot, node, day, first, side = self.engaged
        slot, node, first, side = int(slot), int(node), int(first), int(side)
        day = float(day)
        courier = self._couriers[slot]
        courier.leg = int(self.slot_leg[slot])
        courier.shipment.hops = int(self.slot_hops[slot])
        post = self.model.posts[node]
        on_duty = None
        if post is not None:
            post._today, post.loads_today = int(self.loads_day[node]), int(self.loads_today[node])
            on_duty = post.sides if side < 0 else [post.sides[side]]
        outcome = courier.meet(node, day, first=first, on_duty=on_duty)
        if post is not None:
            self._sync_post(node)
        if outcome is Outcome.SEIZED:
            self._release(slot)
        elif courier.leg == len(courier.route.nodes) - 1:
            self._release(slot)
            courier.reach_market(node, day)
        else:
            courier.leg += 1
            self.slot_leg[slot] = courier.leg
            self._push(courier.departure + courier.route.arrival_days[courier.leg], slot)

    def _flush_quiet(self) -> None:
        """Quiet hops the kernel buffered: the event log's passages, and loads reaching their market."""
        ledger = self.model.ledger
        for slot, node, day, kind in zip(self.buf_slot[: self.counters[C_BUFFERED]].tolist(),
                                         self.buf_node[: self.counters[C_BUFFERED]].tolist(),
                                         self.buf_day[: self.counters[C_BUFFERED]].tolist(),
                                         self.buf_kind[: self.counters[C_BUFFERED]].tolist()):
            courier = self._couriers[slot]
            ledger.record_passage(courier.shipment, node, day, Outcome.PASSED)
            if kind == QUIET_ARRIVAL:
                courier.leg = int(self.slot_leg[slot])
                self._release(slot)
                courier.reach_market(node, day)
        self.counters[C_BUFFERED] = 0

    def _book_the_day(self) -> None:
        """The day's hops into the ledger (the kernel adds the flow over each link to
        ``ledger.edge_flow`` itself)."""
        self.model.ledger.hop_events += int(self.counters[C_HOPS])
        self.counters[C_HOPS] = 0

    def write_hops(self) -> None:
        """The hops of the loads on the road into their shipments (before the ledger makes its table)."""
        hops = self.slot_hops
        for slot, courier in self._couriers.items():
            courier.shipment.hops = int(hops[slot])

    # --- storage ---------------------------------------------------------------------

    def _release(self, slot: int) -> None:
        courier = self._couriers.pop(slot)
        courier.shipment.hops = int(self.slot_hops[slot])
        self._free.append(slot)

    def _push(self, when: float, slot: int) -> None:
        if self.counters[C_HEAP_SIZE] >= len(self.ht):
            self._grow_heap(2 * len(self.ht))
        kernel.heap_push(self.ht, self.hs, self.hslot, self.counters, float(when), slot)

    def _grow_heap(self, size: int) -> None:
        old = getattr(self, "ht", None)
        ht, hs, hslot = np.zeros(size), np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        if old is not None:
            ht[: len(old)], hs[: len(old)], hslot[: len(old)] = self.ht, self.hs, self.hslot
        self.ht, self.hs, self.hslot = ht, hs, hslot

    def _new_slot(self) -> int:
        slot = self._n_slots
        if slot >= len(self.slot_route):
            self._grow_slots(2 * len(self.slot_route))
        self._n_slots += 1
        return slot

    def _grow_slots(self, size: int) -> None:
        names = {"slot_route": np.int64, "slot_leg": np.int64, "slot_dep": np.float64, "slot_grams": np.int64,
                 "slot_org": np.int64, "slot_conv": np.int64, "slot_hops": np.int64}
        for name, dtype in names.items():
            grown = np.zeros(size, dtype=dtype)
            old = getattr(self, name, None)
            if old is not None:
                grown[: len(old)] = old
            setattr(self, name, grown)
        if not hasattr(self, "_n_slots"):
            self._n_slots = 0

    def _route_id(self, route) -> int:
        """The route's row in the route table (its nodes and arrival offsets, end to end), added on first use."""
        rid = self._route_ids.get(id(route))
        if rid is None:
            rid, steps = len(self._routes), len(route.nodes)
            self._route_ids[id(route)] = rid
            self._routes.append(route)
            if rid >= len(self.route_start):
                self.route_start = np.resize(self.route_start, 2 * rid)
                self.route_len = np.resize(self.route_len, 2 * rid)
            if self._route_steps + steps > len(self.route_nodes):
                size = 2 * (self._route_steps + steps)
                self.route_nodes, self.route_arrive = np.resize(self.route_nodes, size), np.resize(self.route_arrive, size)
            start = self._route_steps
            self.route_start[rid], self.route_len[rid] = start, steps
            self.route_nodes[start:start + steps] = route.nodes
            self.route_arrive[start:start + steps] = route.arrival_days
            self._route_steps += steps
        return rid
