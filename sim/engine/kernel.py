"""The fast engine's day, compiled: the rules of :mod:`sim.model.agents`, over the run's arrays.

Each function here is the compiled twin of an agent's method of the same name (the
readable statement of the rule is there, with its sources): the same steps in the same
order, the same compiled primitives (:mod:`sim.model.draws`, :mod:`sim.model.inspection`,
:mod:`sim.model.corruption`, :mod:`sim.model.beliefs`, :mod:`sim.model.routing`, the
ledger's ``book_*``), the same random numbers from the same streams, so that a run on
this engine equals a run on the reference engine to the gram (``tests/test_engine.py``
checks it for every mechanism). A change to a rule is made in both places.

The day (:func:`run_day`): supply, planning, patrols, the couriers on the road in order
of arrival time, ties first scheduled first, as :class:`sim.model.arrivals.Arrivals`
orders them (:data:`Transit`: the arrivals of the slices of time opened in a heap, later
ones in buckets by slice of a day), the day's figures. It stops when a buffer would overflow (:data:`NEED_ROOM`: the
Python side grows it and calls again; the day goes on where it stopped).
"""

from __future__ import annotations

from collections import namedtuple

import numba
import numpy as np

from sim.model import beliefs, inspection
from sim.model.agents import choose_patrol_position, corruptibility_draw, note_find
from sim.model.corruption import (HELD, bribe_acceptance_probability, bribe_offer_usd, deterrence_on,
                                  note_case, staging_probability)
from sim.model.daily import day_figures
from sim.model.draws import draw, first_to_fire, index_below, standard_normal, weighted_index
from sim.model.economics import load_grams, staged_grams
from sim.model.ledger import (BRIBED, CASE_BRIBE, CASE_FALSE_COURIERS, CASE_PROTECTION, CONTROLLED_LET_RUN, CONTROLLED_SEIZED,
                              CONTROLLED_SEIZED_G, GROUPS_SHUT, ORGANISATION_DAYS_DISRUPTED, REASSIGNED_G, ROUTES_SHUT,
                              SEIZURE_OFFICER_DAYS, STAGINGS_UNCOVERED, SUPPLIED_G, book_bribe, book_corruption_case,
                              book_delivery, book_dispatch, book_hop, book_passage, book_protection_paid, book_seizure,
                              book_staging, room_for)
from sim.model.ledger import CLEARED, PASSED, PROTECTED, SEIZED     # outcomes at a node (the ledger's codes)
from sim.model.routing import choose_route

#: :func:`run_day`'s answers
DONE, NEED_ROOM = 0, 1

#: slots of ``Transit.progress``: today's heap, the sequence of scheduling, free and made rows,
#: the day's phase and the organisation planning, the couriers on the road, the last slice of time opened
HEAP_SIZE, SEQ, N_FREE, N_SLOTS, PHASE, PLAN_ORG, PLAN_STARTED, ON_ROAD, OPEN_SLICE = range(9)
#: the queue's buckets: slices of a day (a power of two, so that a time's slice is exact). The heap holds
#: only the arrivals of the slices opened, so that it stays small at any flow (``benchmarks/bench_queue.py``)
SLICES_PER_DAY = 8
#: the day's phases
SUPPLY, PLANNING, MOVING = 0, 1, 2

#: slots of the rules in force (``World.rules``), written by :meth:`sim.engine.engine.FastEngine.rule_values`
RULES = ("bribe_share_of_value", "officer_wage_usd_per_month", "bribe_wage_months", "bribe_scale_usd",
         "protection_offer_prob", "protection_price_usd", "protection_risk", "catch_prob_per_bribe",
         "false_courier_detection", "recycle_share", "corruptibility_concentration", "seizure_officer_days",
         "let_run", "let_run_prob", "controlled_success_prob", "controlled_disruption_days", "controlled_agency",
         "route_shut_prob", "group_shut_prob", "route_shut_days", "disruption_days", "news_weight",
         "loss_tolerance", "small_load_factor", "choice_temperature", "horizon_days", "n_conveyances")
(BRIBE_SHARE, WAGE, WAGE_MONTHS, BRIBE_SCALE, OFFER_PROB, PROTECTION_PRICE, PROTECTION_RISK, CATCH_PROB,
 FC_DETECTION, RECYCLE_SHARE, CONCENTRATION, OFFICER_DAYS, LET_RUN, LET_RUN_PROB, SUCCESS_PROB,
 CD_DISRUPTION_DAYS, CD_AGENCY, ROUTE_SHUT_PROB, GROUP_SHUT_PROB, ROUTE_SHUT_DAYS, DISRUPTION_DAYS, NEWS_WEIGHT,
 LOSS_TOLERANCE, SMALL_LOAD_FACTOR, TEMPERATURE, HORIZON, N_CONV) = range(len(RULES))

#: The couriers on the road: one row (slot) each, with its next arrival (time, sequence of
#: scheduling). Arrivals due today are in a binary heap of (time, sequence, slot); later ones
#: wait in the bucket of their day (a list through ``slot_next``, in a ring of days), and a
#: day's bucket goes into the heap when the day opens. So the heap holds a day's arrivals,
#: not everyone on the road, and a hop costs the same at 100 times the flow.
Transit = namedtuple("Transit", [
    "heap_time", "heap_seq", "heap_slot",
    "slot_route", "slot_leg", "slot_departure", "slot_grams", "slot_org", "slot_conveyance", "slot_nationality",
    "slot_shipment", "slot_controlled", "slot_when", "slot_seq", "slot_next", "slot_used", "free",
    "bucket_head", "progress",
])

#: event rows and corruption cases a hop may book at most, and the hops checked for at once
ROOM_EVENTS_PER_HOP, ROOM_CASES_PER_HOP, ROOM_BATCH = 32, 8, 64


@numba.njit(cache=True, inline="always")
def worse(a, b):
    """The outcome a passage is recorded with when several things happened at one node (codes;
    ``sim.model.agents.SEVERITY``)."""
    return a if _severity(a) >= _severity(b) else b


@numba.njit(cache=True, inline="always")
def _severity(outcome):
    if outcome == SEIZED:
        return 4
    if outcome == BRIBED:
        return 3
    if outcome == PROTECTED:
        return 2
    if outcome == CLEARED:
        return 1
    return 0


# --- the day ------------------------------------------------------------------------

@numba.njit(cache=True)
def run_day(w, day):
    """One day of :meth:`sim.model.model.NorthernRouteModel.step` after its events: supply,
    planning, patrols, couriers moving, the day's figures. DONE, or NEED_ROOM (call again)."""
    progress = w.progress
    if progress[PHASE] == SUPPLY:
        supply_organisations(w, day)
        progress[PHASE], progress[PLAN_ORG], progress[PLAN_STARTED] = PLANNING, 0, 0
    if progress[PHASE] == PLANNING:
        while progress[PLAN_ORG] < len(w.org_stock_g):
            o = progress[PLAN_ORG]
            if plan_shipments(w, o, day, progress[PLAN_STARTED] == 1) == NEED_ROOM:
                progress[PLAN_STARTED] = 1
                return NEED_ROOM
            progress[PLAN_ORG], progress[PLAN_STARTED] = o + 1, 0
        deploy_patrols(w, day)
        progress[PHASE] = MOVING
    if move_couriers(w, day + 1.0, day) == NEED_ROOM:
        return NEED_ROOM
    day_figures(w, progress[ON_ROAD], w, w.today)
    progress[PHASE] = SUPPLY
    return DONE


@numba.njit(cache=True, inline="always")
def disrupted(w, o, day):
    return day < w.org_disrupted_until[o]


@numba.njit(cache=True, inline="always")
def receive(w, o, grams):
    w.org_stock_g[o] += grams
    w.org_received_g[o] += grams


@numba.njit(cache=True)
def supply_organisations(w, day):
    """Each organisation receives its day's heroin; a disrupted one's goes to its rivals."""
    for o in range(len(w.org_stock_g)):
        grams = w.org_daily_supply_g[o]
        w.counts[SUPPLIED_G] += grams
        if not disrupted(w, o, day) or not hand_to_rivals(w, o, grams, day):
            receive(w, o, grams)


@numba.njit(cache=True)
def hand_to_rivals(w, o, grams, day):
    """Heroin a disrupted organisation cannot move passes to the others working, in proportion
    (its own type's if any works); False when none works."""
    if grams <= 0:
        return True
    n = len(w.org_stock_g)
    same_type = False
    for r in range(n):
        if r != o and not disrupted(w, r, day) and w.org_org_type[r] == w.org_org_type[o]:
            same_type = True
    total, first = 0, -1
    for r in range(n):
        if r != o and not disrupted(w, r, day) and (not same_type or w.org_org_type[r] == w.org_org_type[o]):
            total += w.org_daily_supply_g[r]
            if first < 0:
                first = r
    if first < 0:
        return False
    given = 0
    for r in range(n):
        if r != o and not disrupted(w, r, day) and (not same_type or w.org_org_type[r] == w.org_org_type[o]):
            share = grams * w.org_daily_supply_g[r] // total
            receive(w, r, share)
            given += share
    receive(w, first, grams - given)
    w.counts[REASSIGNED_G] += grams
    return True


# --- planning -----------------------------------------------------------------------

@numba.njit(cache=True, inline="always")
def org_draw(w, o):
    return draw(w.seed, w.keys, w.counters, w.org_stream[o])


@numba.njit(cache=True)
def plan_shipments(w, o, day, started):
    """Forget a day's worth of old evidence; send every load the stock now covers (``started``: forgot already)."""
    if not started:
        beliefs.forget(w.org_belief_scale, w.org_keep_per_day, w.org_belief_losses, w.org_belief_passages, o, 1.0)
    if disrupted(w, o, day):
        return DONE
    while True:
        if w.org_next_market[o] < 0:
            w.org_next_market[o], w.org_next_route[o], w.org_next_grams[o] = plan_load(w, o, day)
        grams = w.org_next_grams[o]
        if grams > w.org_stock_g[o]:
            return DONE
        if not _room_for_a_load(w):
            return NEED_ROOM
        w.org_stock_g[o] -= grams
        market, route = w.org_next_market[o], w.org_next_route[o]
        w.org_next_market[o] = -1
        send_courier(w, o, market, route, grams, day)


@numba.njit(cache=True)
def plan_load(w, o, day):
    """Pick a market, a route and conveyance, a size (``TraffickingOrganisation.plan_load``)."""
    rules = w.rules
    market = weighted_index(w.org_market_cum[o], w.org_n_markets[o], org_draw(w, o))
    route, loss = choose_route(w, w.org_menu[o, market], np.int64(rules[N_CONV]), w.prior_losses,
                               w.prior_passages, w.org_belief_losses, w.org_belief_passages, w.org_belief_scale,
                               w.org_shut_until, o, day, rules[TEMPERATURE], rules[LOSS_TOLERANCE], org_draw(w, o))
    conveyance = w.route_conveyance[route]
    z = standard_normal(w.seed, w.keys, w.counters, w.org_stream[o])
    grams = load_grams(w.load_sizes[conveyance, 0], w.load_sizes[conveyance, 1], z, loss > rules[LOSS_TOLERANCE],
                       rules[SMALL_LOAD_FACTOR])
    return market, route, grams


@numba.njit(cache=True)
def send_courier(w, o, market, route, grams, day):
    """A courier of one of its nationalities leaves at a random moment of the day (``TraffickingOrganisation.send_courier``)."""
    nationality = w.org_nationality[o, weighted_index(w.org_nationality_cum[o], w.org_n_nationalities[o], org_draw(w, o))]
    departure = day + org_draw(w, o)
    w.org_costs_usd[o] += w.route_trip_cost_usd[route]
    start = w.route_start[route]
    conveyance = w.route_conveyance[route]
    shipment = book_dispatch(w, o, conveyance, w.route_nodes[start], w.route_nodes[start + w.route_length[route] - 1],
                             grams, nationality, w.route_crossings[route], departure)
    slot = _take_slot(w)
    w.slot_route[slot], w.slot_leg[slot], w.slot_departure[slot], w.slot_grams[slot] = route, 1, departure, grams
    w.slot_org[slot], w.slot_conveyance[slot], w.slot_nationality[slot] = o, conveyance, nationality
    w.slot_shipment[slot], w.slot_controlled[slot] = shipment, False
    schedule(w, departure + w.route_arrive[start + 1], slot)


@numba.njit(cache=True)
def deploy_patrols(w, day):
    """Each active patrol takes up its position, in the order they were sent out."""
    w.n_patrols_at[:] = 0
    for p in range(len(w.patrol_active)):
        if not w.patrol_active[p]:
            continue
        position = choose_patrol_position(w.patrol_find_day, w.patrol_find_node, w.patrol_first_find, w.patrol_n_finds,
                                          w.patrol_memory_days, w.patrol_n_area, w.patrol_area,
                                          w.patrol_intelligence_weight, p, day,
                                          draw(w.seed, w.keys, w.counters, w.patrol_stream[p]))
        w.patrol_position[p] = position
        w.patrols_at[position, w.n_patrols_at[position]] = p
        w.n_patrols_at[position] += 1


# --- the queue of couriers on the road -------------------------------------------------

@numba.njit(cache=True, inline="always")
def _before(w, i, j):
    return w.heap_time[i] < w.heap_time[j] or (w.heap_time[i] == w.heap_time[j] and w.heap_seq[i] < w.heap_seq[j])


@numba.njit(cache=True, inline="always")
def _swap(w, i, j):
    w.heap_time[i], w.heap_time[j] = w.heap_time[j], w.heap_time[i]
    w.heap_seq[i], w.heap_seq[j] = w.heap_seq[j], w.heap_seq[i]
    w.heap_slot[i], w.heap_slot[j] = w.heap_slot[j], w.heap_slot[i]


@numba.njit(cache=True, inline="always")
def heap_push(w, when, seq, slot):
    """Put ``slot``, due at ``when`` (scheduled ``seq``-th), in today's heap (ties: first scheduled, first out)."""
    progress = w.progress
    i = progress[HEAP_SIZE]
    progress[HEAP_SIZE] = i + 1
    w.heap_time[i], w.heap_seq[i], w.heap_slot[i] = when, seq, slot
    while i > 0:
        parent = (i - 1) // 2
        if not _before(w, i, parent):
            break
        _swap(w, i, parent)
        i = parent


@numba.njit(cache=True, inline="always")
def schedule(w, when, slot):
    """A courier's next arrival: into the heap if due in a slice already opened, else into its slice's bucket."""
    progress = w.progress
    progress[SEQ] += 1
    w.slot_when[slot], w.slot_seq[slot] = when, progress[SEQ]
    piece = np.int64(np.floor(when * SLICES_PER_DAY))
    if piece <= progress[OPEN_SLICE]:
        heap_push(w, when, progress[SEQ], slot)
    else:
        bucket = piece % len(w.bucket_head)
        w.slot_next[slot] = w.bucket_head[bucket]
        w.bucket_head[bucket] = slot


@numba.njit(cache=True)
def open_slice(w, piece):
    """The next slice of time: the arrivals waiting in its bucket go into the heap."""
    progress = w.progress
    if progress[OPEN_SLICE] >= piece:
        return
    progress[OPEN_SLICE] = piece
    bucket = piece % len(w.bucket_head)
    slot = w.bucket_head[bucket]
    while slot >= 0:
        heap_push(w, w.slot_when[slot], w.slot_seq[slot], slot)
        slot = w.slot_next[slot]
    w.bucket_head[bucket] = -1


@numba.njit(cache=True, inline="always")
def heap_pop(w):
    """Remove the earliest entry and return its slot (its time was ``heap_time[0]``)."""
    progress = w.progress
    n = progress[HEAP_SIZE] - 1
    slot = w.heap_slot[0]
    progress[HEAP_SIZE] = n
    if n > 0:
        w.heap_time[0], w.heap_seq[0], w.heap_slot[0] = w.heap_time[n], w.heap_seq[n], w.heap_slot[n]
        i = 0
        while True:
            left, smallest = 2 * i + 1, i
            if left < n and _before(w, left, smallest):
                smallest = left
            if left + 1 < n and _before(w, left + 1, smallest):
                smallest = left + 1
            if smallest == i:
                break
            _swap(w, i, smallest)
            i = smallest
    return slot


@numba.njit(cache=True, inline="always")
def _take_slot(w):
    progress = w.progress
    progress[ON_ROAD] += 1
    if progress[N_FREE] > 0:
        progress[N_FREE] -= 1
        slot = w.free[progress[N_FREE]]
    else:
        slot = progress[N_SLOTS]
        progress[N_SLOTS] = slot + 1
    w.slot_used[slot] = True
    return slot


@numba.njit(cache=True, inline="always")
def _release(w, slot):
    w.free[w.progress[N_FREE]] = slot
    w.progress[N_FREE] += 1
    w.progress[ON_ROAD] -= 1
    w.slot_used[slot] = False


@numba.njit(cache=True, inline="always")
def _room_for_a_load(w):
    return room_for(w, 1, 0, 1) and (w.progress[N_FREE] > 0 or w.progress[N_SLOTS] < len(w.slot_route))


@numba.njit(cache=True, inline="always")
def _room_for_hops(w, hops):
    """Whether every buffer a hop may write to has room for ``hops`` more hops."""
    for p in range(len(w.patrol_active)):
        if w.patrol_active[p] and w.patrol_n_finds[p] + hops > w.patrol_find_day.shape[1]:
            return False
    return room_for(w, 0, hops, hops * ROOM_EVENTS_PER_HOP) and w.ring[HELD] + hops * ROOM_CASES_PER_HOP <= len(w.cases)


@numba.njit(cache=True)
def move_couriers(w, until, model_day):
    """Every courier due before ``until`` arrives, in time order (``Arrivals.run_until``).

    Room is checked for a batch of hops at a time (one hop's worth when the buffers are
    nearly full), so that the check costs little per hop.
    """
    room, progress = 0, w.progress
    last = np.int64(until * SLICES_PER_DAY) - 1          # the last slice that starts before ``until``
    while True:
        following = progress[OPEN_SLICE] + 1
        if following <= last and (progress[HEAP_SIZE] == 0 or w.heap_time[0] >= following / SLICES_PER_DAY):
            open_slice(w, following)                     # its arrivals may come before the heap's first
            continue
        if progress[HEAP_SIZE] == 0 or w.heap_time[0] >= until:
            return DONE
        if room == 0:
            room = ROOM_BATCH if _room_for_hops(w, ROOM_BATCH) else 1 if _room_for_hops(w, 1) else 0
            if room == 0:
                return NEED_ROOM
        room -= 1
        day = w.heap_time[0]
        slot = heap_pop(w)
        arrive(w, slot, day, model_day)


@numba.njit(cache=True, inline="always")
def node_at(w, slot, leg):
    return w.route_nodes[w.route_start[w.slot_route[slot]] + leg]


@numba.njit(cache=True, inline="always")
def arrive(w, slot, day, model_day):
    """Reach the next node: meet what is there, then deliver or travel on (``Courier.arrive``)."""
    leg, route = w.slot_leg[slot], w.slot_route[slot]
    node = node_at(w, slot, leg)
    book_hop(w, w.slot_shipment[slot], w.slot_grams[slot], node_at(w, slot, leg - 1), node)
    if meet(w, slot, node, day, model_day) == SEIZED:
        _release(w, slot)
        return
    if leg == w.route_length[route] - 1:
        _release(w, slot)
        reach_market(w, slot, node, day, model_day)
        return
    w.slot_leg[slot] = leg + 1
    schedule(w, w.slot_departure[slot] + w.route_arrive[w.route_start[route] + leg + 1], slot)


# --- what happens at a node, in the order a load meets it -------------------------------

@numba.njit(cache=True, inline="always")
def node_draw(w, node):
    return draw(w.seed, w.keys, w.counters, w.post_stream[node])


@numba.njit(cache=True, inline="always")
def rules_draw(w, node):
    return draw(w.seed, w.keys, w.counters, w.post_rules_stream[node])


@numba.njit(cache=True, inline="always")
def next_encounter(w, node, chances, start, n):
    """Which of the encounters ``start..n-1`` fires next (-1: none), by one draw of the node's stream."""
    if start >= n:
        return -1
    return first_to_fire(chances, start, n, node_draw(w, node))


@numba.njit(cache=True, inline="always")
def meet(w, slot, node, day, model_day):
    """The mobile patrols posted at the node, then its post (``Courier.meet``)."""
    outcome = PASSED
    n = w.n_patrols_at[node]
    if n > 0:
        c = w.slot_conveyance[slot]
        chances = w.chances
        for k in range(n):
            p = w.patrols_at[node, k]
            chances[k] = w.patrol_stop_prob[p, node] * w.patrol_p_detect[p, c]
        k = next_encounter(w, node, chances, 0, n)
        while k >= 0:
            officer = w.patrol_officer[w.patrols_at[node, k]]
            outcome = worse(outcome, face(w, slot, officer, node, day, -1, False, model_day))
            if outcome == SEIZED:
                return SEIZED
            k = next_encounter(w, node, chances, k + 1, n)
    if w.post_has_post[node]:
        outcome = worse(outcome, pass_post(w, slot, node, day, model_day))
        if outcome == SEIZED:
            return SEIZED
    book_passage(w, w.slot_shipment[slot], day, node, outcome)
    return outcome


@numba.njit(cache=True, inline="always")
def count_load(w, node, day):
    if w.post_loads_day[node] != np.int64(day):
        w.post_loads_day[node], w.post_loads_today[node] = np.int64(day), 0
    w.post_loads_today[node] += 1


@numba.njit(cache=True, inline="always")
def pass_post(w, slot, node, day, model_day):
    """Watchers may spot the load; the crew on duty may inspect it, unless an officer is paid (``Courier.pass_post``)."""
    count_load(w, node, day)
    c, o = w.slot_conveyance[slot], w.slot_org[slot]
    n_watch = w.post_n_watchers[node]
    first_side, n_on_duty = 0, w.post_n_sides[node]
    if w.post_n_sides[node] > 1 and not w.post_both_sides_inspect[node]:   # the sides take turns
        first_side = 0 if node_draw(w, node) < 0.5 else 1
        n_on_duty = 1
    n = n_watch + n_on_duty
    chances = w.post_chances
    for k in range(n_watch):
        chances[k] = w.watcher_p_spot[node, k, c]
    for j in range(n_on_duty):
        s = first_side + j
        if w.side_protector[node, s, o] >= 0:
            chances[n_watch + j] = 1.0
        else:
            chances[n_watch + j] = inspection_chance(w, node, s, c, day, w.post_loads_today[node])
    outcome = PASSED
    k = next_encounter(w, node, chances, 0, n)
    while k >= 0:
        if k < n_watch:
            roster = w.watcher_n_officers[node, k]
            officer = w.watcher_roster[node, k, index_below(node_draw(w, node), roster)]
            outcome = worse(outcome, face(w, slot, officer, node, day, -1, True, model_day))
        else:
            outcome = worse(outcome, meet_crew(w, slot, node, first_side + k - n_watch, day, model_day))
        if outcome == SEIZED:
            return SEIZED
        k = next_encounter(w, node, chances, k + 1, n)
    return outcome


@numba.njit(cache=True, inline="always")
def inspection_chance(w, node, s, c, day, loads_today):
    tied = inspection.officers_tied_up(w.side_busy_until, w.side_n_busy, node, s, day)
    return inspection.crew_inspection_chance(w.side_capacity[node, s], w.side_staff[node, s], w.side_licit_traffic[node, s],
                                             w.side_targeting[node, s, c], w.side_p_inspect[node, s, c], tied, loads_today)


@numba.njit(cache=True)
def meet_crew(w, slot, node, s, day, model_day):
    """The crew on duty took the load aside: protected, or inspected (``Courier.meet_crew``)."""
    protector = w.side_protector[node, s, w.slot_org[slot]]
    if protector >= 0:
        return pass_protected(w, slot, node, s, protector, day)
    w.post_inspections[node] += 1
    if node_draw(w, node) >= w.side_p_detect[node, s, w.slot_conveyance[slot]]:
        return CLEARED
    officer = w.side_roster[node, s, index_below(node_draw(w, node), w.side_n_officers[node, s])]
    return face(w, slot, officer, node, day, s, True, model_day)


@numba.njit(cache=True, inline="always")
def officer_draw(w, k):
    return draw(w.seed, w.keys, w.counters, w.officer_stream[k])


@numba.njit(cache=True)
def pass_protected(w, slot, node, s, officer, day):
    """The organisation's officer waves the load through, for a price and a risk (``Courier.pass_protected``)."""
    w.org_costs_usd[w.slot_org[slot]] += w.rules[PROTECTION_PRICE]
    book_protection_paid(w, w.rules[PROTECTION_PRICE])
    if officer_draw(w, officer) < w.rules[PROTECTION_RISK]:
        end_protection_by(w, node, s, officer)
        get_caught(w, officer, CASE_PROTECTION, day)
    return PROTECTED


@numba.njit(cache=True)
def end_protection_by(w, node, s, officer):
    protector = w.side_protector
    for o in range(protector.shape[2]):
        if protector[node, s, o] == officer:
            protector[node, s, o] = -1


@numba.njit(cache=True)
def face(w, slot, officer, node, day, side, at_post, model_day):
    """The load was found: the courier offers a bribe; the officer takes it or seizes (``Courier.face``).

    ``side``: the post's crew the officer is in (-1: a patrol's or a watcher's officer).
    """
    rules = w.rules
    if w.slot_controlled[slot]:
        return CLEARED
    o = w.slot_org[slot]
    kg = w.slot_grams[slot] / 1000.0
    bribe = bribe_offer_usd(kg, w.post_price_usd_per_kg[node], rules[BRIBE_SHARE], rules[WAGE], rules[WAGE_MONTHS])
    if takes_bribe(w, officer, bribe, day):
        book_bribe(w, w.slot_shipment[slot], day, node, w.officer_agency[officer], bribe)
        w.org_costs_usd[o] += bribe
        if side >= 0 and officer_draw(w, officer) < rules[OFFER_PROB]:
            w.side_protector[node, side, o] = officer
        return BRIBED
    if let_run(w, slot, node):
        return CLEARED
    be_seized(w, slot, node, day, w.officer_agency[officer], officer, side, at_post, model_day)
    return SEIZED


@numba.njit(cache=True)
def takes_bribe(w, officer, bribe_usd, day):
    """Weigh the bribe against the fear of being caught; maybe get caught (``Officer.takes_bribe``)."""
    p = bribe_acceptance_probability(w.officer_corruptibility[officer], deterrence_on(w.cases, w.ring, w.integrity, day),
                                     bribe_usd, w.rules[BRIBE_SCALE])
    if officer_draw(w, officer) >= p:
        return False
    w.officer_bribes_taken[officer] += 1
    if officer_draw(w, officer) < w.rules[CATCH_PROB]:
        get_caught(w, officer, CASE_BRIBE, day)
    return True


@numba.njit(cache=True)
def get_caught(w, officer, kind, day):
    """Found out: dismissed, a newly hired officer takes the post; all officers take note (``Officer.get_caught``)."""
    book_corruption_case(w, kind)
    note_case(w.cases, w.ring, day)
    w.officer_corruptibility[officer] = draw_corruptibility(w, officer)
    w.officer_bribes_taken[officer] = 0


@numba.njit(cache=True)
def draw_corruptibility(w, officer):
    return corruptibility_draw(w.officer_mean_corruptibility[officer], w.rules[CONCENTRATION], w.seed, w.keys,
                               w.counters, w.officer_stream[officer])


@numba.njit(cache=True)
def let_run(w, slot, node):
    """Let a found load run on to its market as a controlled delivery? (``Courier.let_run``)."""
    rules = w.rules
    if rules[LET_RUN] == 0.0 or w.slot_leg[slot] >= w.route_length[w.slot_route[slot]] - 1 \
            or not w.post_let_run_country[node]:
        return False
    if rules_draw(w, node) >= rules[LET_RUN_PROB]:
        return False
    w.slot_controlled[slot] = True
    w.counts[CONTROLLED_LET_RUN] += 1
    return True


@numba.njit(cache=True)
def be_seized(w, slot, node, day, agency, officer, side, at_post, model_day):
    """Seize the load, arrest the courier; what follows a seizure follows (``Courier.be_seized``)."""
    rules = w.rules
    o, grams, c = w.slot_org[slot], w.slot_grams[slot], w.slot_conveyance[slot]
    book_seizure(w, w.slot_shipment[slot], day, node, agency, grams, w.slot_nationality[slot])
    if w.post_has_post[node]:
        w.post_seized_g[node] += grams
    if side >= 0 and rules[OFFICER_DAYS] > 0 and w.side_licit_traffic[node, side] > 0:
        inspection.tie_up(w.side_busy_until, w.side_n_busy, node, side, day + rules[OFFICER_DAYS])
    if at_post:
        w.sums[SEIZURE_OFFICER_DAYS] += rules[OFFICER_DAYS]
    if officer >= 0 and w.post_has_post[node] and w.post_stages_false_couriers[node]:
        maybe_stage_false_courier(w, officer, node, grams, day)
    w.org_losses_usd[o] += grams / 1000.0 * w.post_price_usd_per_kg[node]
    learn_from_loss(w, slot, node, c)
    n_conv = np.int64(rules[N_CONV])
    for other in range(len(w.org_stock_g)):
        if other != o:
            beliefs.observe(w.org_belief_losses, w.org_belief_scale, other, node * n_conv + c, rules[NEWS_WEIGHT])
    for p in range(len(w.patrol_active)):
        if w.patrol_active[p] and w.patrol_in_area[p, node]:
            note_find(w.patrol_find_day, w.patrol_find_node, w.patrol_first_find, w.patrol_n_finds, p, day, node)
    be_investigated(w, o, node, day, model_day)


@numba.njit(cache=True)
def maybe_stage_false_courier(w, officer, node, grams, day):
    """Re-stage part of a seizure with a "false courier" (``Officer.maybe_stage_false_courier``)."""
    stream = w.post_reporting_stream[node]
    deterrence = deterrence_on(w.cases, w.ring, w.integrity, day)
    if draw(w.seed, w.keys, w.counters, stream) >= staging_probability(w.officer_corruptibility[officer], deterrence):
        return
    if draw(w.seed, w.keys, w.counters, stream) < w.rules[FC_DETECTION]:
        w.counts[STAGINGS_UNCOVERED] += 1
        get_caught(w, officer, CASE_FALSE_COURIERS, day)
        return
    book_staging(w, node, w.officer_agency[officer], staged_grams(grams, w.rules[RECYCLE_SHARE]))


@numba.njit(cache=True)
def learn_from_loss(w, slot, node, c):
    """Its load passed the route's nodes before this one and was lost here (``TraffickingOrganisation.learn_from_loss``)."""
    o, n_conv = w.slot_org[slot], np.int64(w.rules[N_CONV])
    for leg in range(1, w.slot_leg[slot]):
        beliefs.observe(w.org_belief_passages, w.org_belief_scale, o, node_at(w, slot, leg) * n_conv + c, 1.0)
    beliefs.observe(w.org_belief_losses, w.org_belief_scale, o, node * n_conv + c, 1.0)


@numba.njit(cache=True)
def be_investigated(w, o, node, day, model_day):
    """The KNB follows up a seizure in its countries (``TraffickingOrganisation.be_investigated``)."""
    if not w.post_investigated[node]:
        return
    rules = w.rules
    if rules_draw(w, node) < rules[ROUTE_SHUT_PROB]:
        w.org_shut_until[o, node] = max(w.org_shut_until[o, node], np.int64(day) + 1 + np.int64(rules[ROUTE_SHUT_DAYS]))
        w.counts[ROUTES_SHUT] += 1
    if rules_draw(w, node) < rules[GROUP_SHUT_PROB]:
        w.counts[GROUPS_SHUT] += 1
        be_disrupted(w, o, day, np.int64(rules[DISRUPTION_DAYS]), model_day)


@numba.njit(cache=True)
def be_disrupted(w, o, day, days, model_day):
    """Its people arrested: it sends nothing for ``days``; its stock passes to rivals (``TraffickingOrganisation.be_disrupted``)."""
    start = max(model_day, w.org_disrupted_until[o])
    until = max(w.org_disrupted_until[o], np.int64(day) + 1 + days)
    w.counts[ORGANISATION_DAYS_DISRUPTED] += max(0, min(until, np.int64(w.rules[HORIZON])) - start)
    w.org_disrupted_until[o] = until
    stock = w.org_stock_g[o]
    w.org_stock_g[o] = 0
    w.org_next_market[o] = -1
    if hand_to_rivals(w, o, stock, model_day):
        w.org_passed_on_g[o] += stock
    else:
        w.org_stock_g[o] = stock


@numba.njit(cache=True)
def reach_market(w, slot, node, day, model_day):
    """Sell the load at its market; a controlled delivery is seized there instead (``Courier.reach_market``)."""
    rules = w.rules
    o, grams = w.slot_org[slot], w.slot_grams[slot]
    if w.slot_controlled[slot] and rules[LET_RUN] != 0.0 and rules_draw(w, node) < rules[SUCCESS_PROB]:
        w.counts[CONTROLLED_SEIZED] += 1
        w.counts[CONTROLLED_SEIZED_G] += grams
        be_seized(w, slot, node, day, np.int64(rules[CD_AGENCY]), -1, -1, False, model_day)
        be_disrupted(w, o, day, np.int64(rules[CD_DISRUPTION_DAYS]), model_day)
        return
    book_delivery(w, w.slot_shipment[slot], day, node, grams)
    w.org_revenue_usd[o] += grams / 1000.0 * w.post_price_usd_per_kg[node]
    learn_from_delivery(w, o, w.slot_route[slot])


@numba.njit(cache=True)
def learn_from_delivery(w, o, route):
    """A load arrived: one more safe passage at every node it passed, the origin left out."""
    n_conv = np.int64(w.rules[N_CONV])
    c, start = w.route_conveyance[route], w.route_start[route]
    for k in range(start + 1, start + w.route_length[route]):
        beliefs.observe(w.org_belief_passages, w.org_belief_scale, o, w.route_nodes[k] * n_conv + c, 1.0)
