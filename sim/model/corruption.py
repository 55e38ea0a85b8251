"""Corruption: what a caught courier offers, who takes it, and how found-out cases deter.

Endemic corruption "blunts any national response" (000_da6c5afbc132089c.txt ¶4); the 2009
cable reports three cases in one quarter: an MVD officer inside a trafficking group, a
police chief distributing drugs, customs officers recycling seized drugs to "false
couriers" (002_3aa904e3dc1761f0.txt ¶25-27). The model has three ways an officer serves
traffickers, all decided by the officer's corruptibility and the deterrence they feel:

- a **bribe** when a load is found: the courier offers months of the officer's pay,
  capped by a share of what the load is worth there (a courier does not offer more than
  the load risks); the officer is tempted on a scale of a few months' pay;
- **protection**: an officer who took an organisation's money may agree to wave its
  loads through the post for a price per load, with a risk per load of being found out
  (the insider of ¶25);
- **false couriers** at the posts that practise it (¶27; :class:`sim.model.agents.Officer`).

Each case found out removes the officer and raises every officer's deterrence for a while
(:class:`Integrity`). The rules are compiled functions (numba), which both engines call.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def bribe_offer_usd(kg, local_price_usd_per_kg, share_of_value, wage_usd_per_month, wage_months):
    """What a courier caught with a load offers: months of the officer's pay, at most a share of the load's value."""
    return min(wage_usd_per_month * wage_months, kg * local_price_usd_per_kg * share_of_value)


@numba.njit(cache=True, inline="always")
def bribe_acceptance_probability(corruptibility, deterrence, bribe_usd, bribe_scale_usd):
    """Chance an officer who found a load takes the courier's bribe.

    Grows with the bribe (saturating at the officer's corruptibility) and shrinks with
    deterrence, the officer's fear of being caught and punished.
    """
    if bribe_usd <= 0:
        return 0.0
    temptation = 1.0 - math.exp(-bribe_usd / bribe_scale_usd)
    return corruptibility * (1.0 - deterrence) * temptation


@numba.njit(cache=True, inline="always")
def staging_probability(corruptibility, deterrence):
    """Chance an officer at a false-courier post re-stages part of a seizure (002 ¶27)."""
    return corruptibility * (1.0 - deterrence)


# --- deterrence: the cases found out lately --------------------------------------------

#: slots of ``Integrity.ring``: where the oldest case remembered is, and how many there are
FIRST, HELD = 0, 1
#: slots of ``Integrity.rules``
BASE, PER_CASE, MEMORY_DAYS = 0, 1, 2


@numba.njit(cache=True, inline="always")
def deterrence_on(cases, ring, rules, day):
    """The officers' deterrence on ``day``: the base level, raised by each case of the last memory days.

    ``1 - (1 - base) * (1 - per_case) ** (cases in the last memory_days)``: with no recent
    case it is the base level; each recent case closes ``per_case`` of the remaining gap
    to full deterrence. Cases older than the memory are forgotten (dropped from the ring).
    """
    size = len(cases)
    while ring[HELD] > 0 and cases[ring[FIRST]] < day - rules[MEMORY_DAYS]:
        ring[FIRST] = (ring[FIRST] + 1) % size
        ring[HELD] -= 1
    return 1.0 - (1.0 - rules[BASE]) * (1.0 - rules[PER_CASE]) ** ring[HELD]


@numba.njit(cache=True, inline="always")
def note_case(cases, ring, day):
    """A case found out on ``day`` (the caller makes room: :meth:`Integrity.make_room`)."""
    cases[(ring[FIRST] + ring[HELD]) % len(cases)] = day
    ring[HELD] += 1


class Integrity:
    """The officers' deterrence, raised for a while by every corruption case found out.

    The cases remembered are a ring of days (``cases``, ``ring``); ``rules`` holds the base
    deterrence, the gain per case and the memory in days (:func:`deterrence_on`).
    """

    def __init__(self, base: float, per_case: float, memory_days: int):
        self.cases = np.zeros(64)
        self.ring = np.zeros(2, dtype=np.int64)
        self.rules = np.array([base, per_case, float(memory_days)])

    def retune(self, base: float, per_case: float, memory_days: int) -> None:
        """New rules (an anti-corruption unit set up mid-run): the cases remembered stay."""
        self.rules[:] = (base, per_case, float(memory_days))

    @property
    def base(self) -> float:
        return float(self.rules[BASE])

    def make_room(self, cases: int = 8) -> bool:
        """Room for that many more cases (the ring doubles, oldest first); True if it was replaced."""
        held, size = int(self.ring[HELD]), len(self.cases)
        if held + cases <= size:
            return False
        order = (int(self.ring[FIRST]) + np.arange(held)) % size
        grown = np.zeros(max(2 * size, held + cases))
        grown[:held] = self.cases[order]
        self.cases, self.ring[FIRST] = grown, 0
        return True

    def note_case(self, day: float) -> None:
        self.make_room(1)
        note_case(self.cases, self.ring, day)

    def deterrence(self, day: float) -> float:
        return deterrence_on(self.cases, self.ring, self.rules, day)
