"""The rules of inspection: who gets inspected, what inspection finds, who meets a patrol.

Pure functions of the parameters, so that each rule can be read, tested and replaced on
its own. The agents in :mod:`sim.model.agents` apply them; policies change their inputs.
Those applied at every hop are compiled (numba), and both engines call them.
"""

from __future__ import annotations

from typing import Iterable

import numba

from sim.params import ConveyanceSpec, Regime


def inspection_probability(staff: float, inspections_per_officer_day: float, funding_factor: float,
                           traffic_per_day: float, n_crossings: int, targeting: float) -> float:
    """Chance a passing load is inspected when only licit traffic passes: capacity against traffic.

    Capacity is staff x inspections each officer can do a day x the funding that keeps
    them working; traffic is the vehicles (or people) passing each day over all the
    crossings the post covers.
    """
    capacity = staff * inspections_per_officer_day * funding_factor
    return share_inspected(capacity, traffic_per_day * n_crossings, targeting)


@numba.njit(cache=True, inline="always")
def share_inspected(capacity_per_day, traffic_per_day, targeting):
    """Chance a load is inspected: the share of today's traffic the crew can inspect, times targeting.

    Targeting (risk profiling) makes some conveyances more or less likely to be picked
    than the average vehicle. Traffic is licit traffic plus the loads the post sees.
    """
    if traffic_per_day <= 0:
        return 0.0
    return min(1.0, min(1.0, capacity_per_day / traffic_per_day) * targeting)


def detection_probability(efficacies: Iterable[float]) -> float:
    """Chance that at least one method finds the load (methods act independently)."""
    miss = 1.0
    for e in efficacies:
        miss *= 1.0 - e
    return 1.0 - miss


def regime_factor(regime: Regime, spec: ConveyanceSpec) -> float:
    """How the Kazakh-Russian border regime scales inspection of a conveyance.

    Under a customs union goods move freely, so cargo is rarely opened; people still pass
    passport control. TIR-sealed loads are opened less wherever the regime says so.
    """
    factor = regime.cargo_inspection_factor if spec.cargo else regime.person_inspection_factor
    if spec.tir:
        factor *= regime.tir_inspection_factor
    return factor


def patrol_stop_probability(intercept_prob: float, n_crossings: int, traffic_per_crossing: float,
                            quiet_traffic_per_day: float) -> float:
    """Chance one patrol at a node stops and searches a given passing load.

    The patrol watches one of the node's ``n_crossings`` crossings (or the one road). Where
    traffic is as thin as ``quiet_traffic_per_day`` it stops a passing load with
    ``intercept_prob``; in busier traffic it can pick out only that many vehicles, so the
    chance falls in proportion (a patrol's capacity meets the traffic, as a post's does).
    """
    busy = min(1.0, quiet_traffic_per_day / traffic_per_crossing) if traffic_per_crossing > 0 else 1.0
    return intercept_prob * busy / n_crossings


def patrol_encounter_probability(patrols_present: int, intercept_prob: float, n_crossings: int) -> float:
    """Chance a load meets one of the mobile patrols at a node.

    Each patrol watches one of the node's ``n_crossings`` crossings (or the one road)
    and stops a passing load there with ``intercept_prob``.
    """
    if patrols_present <= 0:
        return 0.0
    miss_one = 1.0 - intercept_prob / n_crossings
    return 1.0 - miss_one ** patrols_present


@numba.njit(cache=True, inline="always")
def crew_inspection_chance(capacity, staff, licit_traffic, targeting, p_fixed, tied_up, loads_today):
    """Today's chance that a crew inspects a passing load.

    Its capacity with the officers not tied up by seizures (processing, handing over:
    003 ¶1) against the licit traffic plus the loads the post sees today; a crew without
    licit traffic to screen has its fixed chance ``p_fixed``.
    """
    if licit_traffic <= 0:
        return p_fixed
    on_duty = max(0.0, staff - tied_up) / staff if staff else 0.0
    return share_inspected(capacity * on_duty, licit_traffic + loads_today, targeting)


# --- officers tied up by seizures (a crew's ring of the days they are free again) ------------

@numba.njit(cache=True, inline="always")
def officers_tied_up(busy_until, n_busy, node, side, day):
    """How many of a crew's officers are still tied up by seizures on ``day`` (the free ones leave the ring)."""
    kept = 0
    for k in range(n_busy[node, side]):
        if busy_until[node, side, k] > day:
            busy_until[node, side, kept] = busy_until[node, side, k]
            kept += 1
    n_busy[node, side] = kept
    return kept


@numba.njit(cache=True, inline="always")
def tie_up(busy_until, n_busy, node, side, free_at):
    """One officer of the crew is tied up until ``free_at`` by a seizure.

    The ring holds more places than the crew has officers (:meth:`NorthernRouteModel._refresh_posts`
    sees to it); when it is full every officer is tied up anyway, and the officer freed
    soonest gives up the place.
    """
    n = n_busy[node, side]
    if n < busy_until.shape[2]:
        busy_until[node, side, n] = free_at
        n_busy[node, side] = n + 1
        return
    soonest = 0
    for k in range(1, n):
        if busy_until[node, side, k] < busy_until[node, side, soonest]:
            soonest = k
    if free_at > busy_until[node, side, soonest]:
        busy_until[node, side, soonest] = free_at
