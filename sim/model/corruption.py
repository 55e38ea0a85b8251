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
- **false couriers** at the posts that practise it (¶27; :class:`sim.model.agents.Courier`).

Each case found out removes the officer and raises every officer's deterrence for a while
(:class:`Integrity`).
"""

from __future__ import annotations

import math
from collections import deque


def bribe_offer_usd(kg: float, local_price_usd_per_kg: float, share_of_value: float,
                    wage_usd_per_month: float, wage_months: float) -> float:
    """What a courier caught with a load offers: months of the officer's pay, at most a share of the load's value."""
    return min(wage_usd_per_month * wage_months, kg * local_price_usd_per_kg * share_of_value)


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


class Integrity:
    """The officers' deterrence, raised for a while by every corruption case found out.

    ``deterrence = 1 - (1 - base) * (1 - per_case) ** (cases in the last memory_days)``:
    with no recent case it is the base level; each recent case closes ``per_case`` of the
    remaining gap to full deterrence.
    """

    def __init__(self, base: float, per_case: float, memory_days: int):
        self.base = base
        self.per_case = per_case
        self.memory_days = memory_days
        self._cases: deque[float] = deque()

    def retune(self, base: float, per_case: float, memory_days: int) -> None:
        """New rules (an anti-corruption unit set up mid-run): the cases remembered stay."""
        self.base, self.per_case, self.memory_days = base, per_case, memory_days

    def note_case(self, day: float) -> None:
        self._cases.append(day)

    def deterrence(self, day: float) -> float:
        while self._cases and self._cases[0] < day - self.memory_days:
            self._cases.popleft()
        return 1.0 - (1.0 - self.base) * (1.0 - self.per_case) ** len(self._cases)
