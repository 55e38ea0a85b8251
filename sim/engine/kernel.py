"""The compiled part of the fast engine: couriers moving through quiet nodes.

Almost every hop a load makes is quiet: no patrol finds it, no watcher spots it, no crew
inspects it (in the 2009 baseline about 99 hops in 100). This kernel runs the queue of
couriers on the road over arrays (numba), does the bookkeeping of each hop, and draws
with ONE uniform number per hop whether anything happens there and, if so, which
encounter fires first (:func:`first_encounter`). It stops and hands the hop to the
readable rules in :mod:`sim.model.agents` (``Courier.meet`` with ``first``) whenever an
encounter fires; the rules (detection, bribery, protection, seizure, learning) are
never re-implemented here. The chance of each encounter comes from the same functions
the reference engine uses (:func:`sim.model.inspection.share_inspected`, compiled as is).

Why one draw is exact: the encounters at a node are independent trials with chances
p_1..p_k, tried in order. "Encounter i fires first" has chance p_i x prod_{j<i}(1-p_j);
"nothing fires" has prod(1-p_j). One uniform U placed on these intervals draws the same
distribution as k separate draws; what follows the first firing encounter is drawn by
the rules, as in the reference engine.

Random numbers are counter-based (splitmix64 of seed, node and the node's own counter),
so each node has its own stream: two scenarios run with the same seed differ only where
their rules or traffic differ (common random numbers), as the reference engine's
per-post streams do.
"""

from __future__ import annotations

import numba
import numpy as np

from sim.model import inspection

#: ``advance`` return codes
DONE, ENGAGED, BUFFER_FULL = 0, 1, 2
#: kinds of buffered quiet outcomes
QUIET_PASS, QUIET_ARRIVAL = 0, 1
#: layout of the int64 counters array
C_HEAP_SIZE, C_SEQ, C_BUFFERED, C_HOPS = 0, 1, 2, 3
MAX_ENCOUNTERS = 32

share_inspected = numba.njit(cache=True)(inspection.share_inspected)


@numba.njit(cache=True)
def uniform(seed, stream, counter):
    """A uniform number in [0, 1) from (seed, stream, counter): splitmix64's finaliser."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    z ^= np.uint64(stream) * np.uint64(0xBF58476D1CE4E5B9)
    z += np.uint64(counter) * np.uint64(0x94D049BB133111EB) + np.uint64(0x632BE59BD9B4E019)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# --- the queue of arrivals: a binary heap over three arrays, ordered by (time, sequence) ---

@numba.njit(cache=True)
def _before(ht, hs, i, j):
    return ht[i] < ht[j] or (ht[i] == ht[j] and hs[i] < hs[j])


@numba.njit(cache=True)
def _swap(ht, hs, hslot, i, j):
    ht[i], ht[j] = ht[j], ht[i]
    hs[i], hs[j] = hs[j], hs[i]
    hslot[i], hslot[j] = hslot[j], hslot[i]


@numba.njit(cache=True)
def heap_push(ht, hs, hslot, counters, when, slot):
    """Schedule ``slot`` at ``when`` (ties: first scheduled, first out). Capacity is the caller's."""
    i = counters[C_HEAP_SIZE]
    counters[C_HEAP_SIZE] = i + 1
    counters[C_SEQ] += 1
    ht[i], hs[i], hslot[i] = when, counters[C_SEQ], slot
    while i > 0:
        parent = (i - 1) // 2
        if not _before(ht, hs, i, parent):
            break
        _swap(ht, hs, hslot, i, parent)
        i = parent


@numba.njit(cache=True)
def heap_pop(ht, hs, hslot, counters):
    """Remove the earliest entry; returns its slot (its time was ``ht[0]`` before the call)."""
    n = counters[C_HEAP_SIZE] - 1
    slot = hslot[0]
    counters[C_HEAP_SIZE] = n
    if n > 0:
        ht[0], hs[0], hslot[0] = ht[n], hs[n], hslot[n]
        i = 0
        while True:
            left, smallest = 2 * i + 1, i
            if left < n and _before(ht, hs, left, smallest):
                smallest = left
            if left + 1 < n and _before(ht, hs, left + 1, smallest):
                smallest = left + 1
            if smallest == i:
                break
            _swap(ht, hs, hslot, i, smallest)
            i = smallest
    return slot


# --- the encounters at a node ------------------------------------------------------

@numba.njit(cache=True)
def first_encounter(chances, n, u):
    """Which of ``n`` independent trials (in order) fires first under one uniform ``u``; -1: none."""
    none_yet = 1.0
    low = 0.0
    for i in range(n):
        fire = none_yet * chances[i]
        if u < low + fire:
            return i
        low += fire
        none_yet *= 1.0 - chances[i]
    return -1


@numba.njit(cache=True)
def crew_chance(node, s, c, day, loads_today, cap, staff, licit, target, p_fixed, busy, n_busy):
    """Today's chance that side ``s`` of the post at ``node`` inspects a load (``PostSide.inspection_chance``)."""
    if licit[node, s] <= 0:
        return p_fixed[node, s, c]
    tied = 0
    for k in range(n_busy[node, s]):
        if busy[node, s, k] > day:
            tied += 1
    on_duty = max(0.0, staff[node, s] - tied) / staff[node, s] if staff[node, s] else 0.0
    return share_inspected(cap[node, s] * on_duty, licit[node, s] + loads_today, target[node, s, c])


@numba.njit(cache=True)
def advance(until, seed, keep_passes,
            ht, hs, hslot, counters,
            slot_route, slot_leg, slot_dep, slot_grams, slot_org, slot_conv, slot_hops,
            route_start, route_len, route_nodes, route_arrive,
            draw_count, loads_today, loads_day,
            n_patrols_at, patrols_at, patrol_stop, patrol_detect,
            has_post, n_watch, watch_p,
            n_sides, both_sides, cap, staff, licit, target, p_fixed, busy, n_busy, protected,
            edge_flow, buf_slot, buf_node, buf_day, buf_kind, engaged):
    """Run the queue up to ``until`` or to the first hop where an encounter fires.

    Quiet hops are booked here (hop count, the flow over each link, the post's
    loads of the day) and, when ``keep_passes``, buffered for the event log; a quiet
    arrival at the market is buffered for the rules (``Courier.reach_market``). Returns
    DONE, ENGAGED (``engaged`` = slot, node, day, first encounter, side on duty) or
    BUFFER_FULL.
    """
    chances = np.empty(MAX_ENCOUNTERS)
    while counters[C_HEAP_SIZE] > 0 and ht[0] < until:
        if counters[C_BUFFERED] >= buf_slot.shape[0]:
            return BUFFER_FULL
        day = ht[0]
        slot = heap_pop(ht, hs, hslot, counters)
        r, leg, c = slot_route[slot], slot_leg[slot], slot_conv[slot]
        first_step = route_start[r]
        node = route_nodes[first_step + leg]
        counters[C_HOPS] += 1
        slot_hops[slot] += 1
        edge_flow[route_nodes[first_step + leg - 1], node] += slot_grams[slot]

        n = 0
        for k in range(n_patrols_at[node]):
            p = patrols_at[node, k]
            chances[n] = patrol_stop[p, node] * patrol_detect[p, c]
            n += 1
        side = -1
        if has_post[node]:
            today = np.int64(day)
            if loads_day[node] != today:
                loads_day[node], loads_today[node] = today, 0
            loads_today[node] += 1
            for w in range(n_watch[node]):
                chances[n] = watch_p[node, w, c]
                n += 1
            first_side, last_side = 0, n_sides[node]
            if n_sides[node] > 1 and not both_sides[node]:     # the sides take turns
                draw_count[node] += 1
                side = 0 if uniform(seed, node, draw_count[node]) < 0.5 else 1
                first_side, last_side = side, side + 1
            for s in range(first_side, last_side):
                if protected[node, s, slot_org[slot]]:
                    chances[n] = 1.0
                else:
                    chances[n] = crew_chance(node, s, c, day, loads_today[node], cap, staff, licit, target,
                                             p_fixed, busy, n_busy)
                n += 1
        fired = -1
        if n > 0:
            draw_count[node] += 1
            fired = first_encounter(chances, n, uniform(seed, node, draw_count[node]))
        if fired >= 0:
            engaged[0], engaged[1], engaged[2], engaged[3], engaged[4] = slot, node, day, fired, side
            return ENGAGED
        last = leg == route_len[r] - 1
        if keep_passes or last:
            b = counters[C_BUFFERED]
            buf_slot[b], buf_node[b], buf_day[b] = slot, node, day
            buf_kind[b] = QUIET_ARRIVAL if last else QUIET_PASS
            counters[C_BUFFERED] = b + 1
        if not last:
            slot_leg[slot] = leg + 1
            heap_push(ht, hs, hslot, counters, slot_dep[slot] + route_arrive[first_step + leg + 1], slot)
    return DONE
