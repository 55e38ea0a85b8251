"""Benchmark: the cost of the fast engine's day heap as the day's arrivals grow (issue 13).

The kernel keeps the day's arrivals in a binary heap (:func:`sim.engine.kernel.heap_push`,
:func:`~sim.engine.kernel.heap_pop`; later days wait in buckets). At 100x the flow a day
holds a hundred times as many arrivals, so a push and a pop cost more (log n). This times
the kernel's own heap functions on the kernel's own handle (the World of a freshly set-up
baseline model, its couriers' rows grown to hold a day of 20,000), for 4 million arrivals
pushed and popped a day at a time, at 200, 2,000 and 20,000 arrivals a day (about 1x, 10x,
100x the baseline flow), and prints nanoseconds per arrival. Its last line is one JSON object.

    python benchmarks/bench_queue.py
"""

from __future__ import annotations

import json
import time
import numba
import numpy as np

from sim.config import load_params
from sim.engine.kernel import HEAP_SIZE, heap_pop, heap_push
from sim.model import NorthernRouteModel

TOTAL = 4_000_000


@numba.njit
def _days(q, times, per_day):
    """Push each day's arrivals, then pop them all, day after day; a checksum of the order."""
    checksum, k = 0, 0
    for _ in range(len(times) // per_day):
        for _ in range(per_day):
            heap_push(q, times[k], k, k)
            k += 1
        while q.progress[HEAP_SIZE] > 0:
            checksum = (checksum * 31 + heap_pop(q)) % 1_000_003
    return checksum


def main() -> None:
    times = np.random.default_rng(0).random(TOTAL)
    engine = NorthernRouteModel(load_params(), rng=0, keep_events=False).fast   # set up, no day run: the heap is empty
    while len(engine.transit.heap_time) < 20_000:
        engine._grow_rows()
    q = engine.handle()
    figures = {}
    for per_day in (200, 2_000, 20_000):
        _days(q, times[: 2 * per_day], per_day)                 # compile, warm
        start = time.perf_counter()
        _days(q, times, per_day)
        figures[per_day] = (time.perf_counter() - start) / TOTAL * 1e9
        print(f"{per_day:>6,} arrivals a day: {figures[per_day]:.1f} ns per arrival (push and pop)")
    print(json.dumps({"ns_per_arrival": {str(k): round(v, 1) for k, v in figures.items()},
                      "ratio_20000_vs_200": round(figures[20_000] / figures[200], 2)}))


if __name__ == "__main__":
    main()
