"""The queue of couriers on the road: who reaches their next node, and when.

Couriers move event by event: each is scheduled to arrive at its next node at a
fractional day. The model runs the queue up to the end of each day, so the cost of a run
grows with shipments and hops, not with days x agents.
"""

from __future__ import annotations

import heapq
from typing import Protocol


class Arriving(Protocol):
    def arrive(self, day: float) -> None: ...


class Arrivals:
    """Couriers due at their next node, earliest first.

    Ties in time are broken by the order of scheduling (first scheduled, first to arrive),
    so a run is reproducible whatever the couriers are.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Arriving]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, courier: Arriving, when: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, courier))

    def couriers(self) -> list[Arriving]:
        """Everyone on the road (in no particular order)."""
        return [courier for _, _, courier in self._heap]

    def peek(self) -> float | None:
        """When the next arrival is due (None when nobody is on the road)."""
        return self._heap[0][0] if self._heap else None

    def run_until(self, until: float) -> None:
        """Let every courier due strictly before ``until`` arrive, in time order.

        Arrivals scheduled while running (the next leg of a journey) are run too if they
        are due before ``until``.
        """
        heap = self._heap
        while heap and heap[0][0] < until:
            when, _, courier = heapq.heappop(heap)
            courier.arrive(when)
