"""The rules of inspection: who gets inspected, what inspection finds, who takes a bribe.

Pure functions of the parameters, so that each rule can be read, tested and replaced on
its own. The agents in :mod:`sim.agents` apply them; policies change their inputs.
"""

from __future__ import annotations

import math
from typing import Iterable

from sim.params import ConveyanceSpec, Regime


def inspection_probability(staff: float, inspections_per_officer_day: float, funding_factor: float,
                           traffic_per_day: float, n_crossings: int, targeting: float) -> float:
    """Chance a passing load is inspected: capacity against traffic, times targeting.

    Capacity is staff x inspections each officer can do a day x the funding that keeps
    them working; traffic is the vehicles (or people) passing each day over all the
    crossings the post covers. Targeting (risk profiling) makes some conveyances more
    or less likely to be picked than the average vehicle.
    """
    capacity = staff * inspections_per_officer_day * funding_factor
    share = min(1.0, capacity / (traffic_per_day * n_crossings))
    return min(1.0, share * targeting)


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


def bribe_acceptance_probability(corruptibility: float, deterrence: float, bribe_usd: float,
                                 bribe_scale_usd: float) -> float:
    """Chance an officer who found a load takes the courier's bribe.

    Grows with the bribe (saturating at the officer's corruptibility) and shrinks with
    deterrence, the officer's fear of being caught and punished.
    """
    if bribe_usd <= 0:
        return 0.0
    temptation = 1.0 - math.exp(-bribe_usd / bribe_scale_usd)
    return corruptibility * (1.0 - deterrence) * temptation


def patrol_encounter_probability(patrols_present: int, intercept_prob: float, n_crossings: int) -> float:
    """Chance a load meets one of the mobile patrols at a node.

    Each patrol watches one of the node's ``n_crossings`` crossings (or the one road)
    and stops a passing load there with ``intercept_prob``.
    """
    if patrols_present <= 0:
        return 0.0
    miss_one = 1.0 - intercept_prob / n_crossings
    return 1.0 - miss_one ** patrols_present
