"""Benchmark: the cost of the fast engine's queue of arrivals as the day's arrivals grow (issue 13).

At 100x the flow a day holds a hundred times as many arrivals. A binary heap of the whole
day (:func:`sim.engine.kernel.heap_push`, :func:`~sim.engine.kernel.heap_pop`) costs more
per arrival as it grows (log n); the kernel's queue keeps later arrivals in buckets by
slice of a day (:data:`~sim.engine.kernel.SLICES_PER_DAY`) and puts a slice into the heap
only when the day reaches it (:func:`~sim.engine.kernel.schedule`,
:func:`~sim.engine.kernel.open_slice`), so the heap holds a slice's arrivals, not the day's.
This times both on the kernel's own handle (the World of a freshly set-up baseline model,
its couriers' rows grown to hold a day of 20,000), for 4 million arrivals a day at a time,
at 200, 2,000 and 20,000 arrivals a day (about 1x, 10x, 100x the baseline flow):

- ``heap``: the day's arrivals pushed into the heap, then popped;
- ``queue``: the next day's arrivals scheduled (into their slices' buckets), then the day's
  slices opened in turn, each popped up to the next slice, as ``move_couriers`` does.

It prints nanoseconds per arrival; its last line is one JSON object.

    python benchmarks/bench_queue.py
"""

from __future__ import annotations

import json
import time
import numba
import numpy as np

from sim.config import load_params
from sim.engine.kernel import HEAP_SIZE, OPEN_SLICE, SLICES_PER_DAY, heap_pop, heap_push, open_slice, schedule
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


@numba.njit
def _queue_days(q, times, per_day):
    """Schedule each next day's arrivals, then open that day's slices in turn, popping each up to
    the next; a checksum of the order."""
    checksum, k = 0, 0
    day = (q.progress[OPEN_SLICE] + 1) // SLICES_PER_DAY
    for _ in range(len(times) // per_day):
        day += 1
        for slot in range(per_day):
            schedule(q, day + times[k], slot)
            k += 1
        for piece in range(day * SLICES_PER_DAY, (day + 1) * SLICES_PER_DAY):
            open_slice(q, piece)
            until = (piece + 1) / SLICES_PER_DAY
            while q.progress[HEAP_SIZE] > 0 and q.heap_time[0] < until:
                checksum = (checksum * 31 + heap_pop(q)) % 1_000_003
    return checksum


def main() -> None:
    times = np.random.default_rng(0).random(TOTAL)
    engine = NorthernRouteModel(load_params(), rng=0, keep_events=False).fast   # set up, no day run: the heap is empty
    while len(engine.transit.heap_time) < 20_000:
        engine._grow_rows()
    q = engine.handle()
    figures = {"heap": {}, "queue": {}}
    for name, run in (("heap", _days), ("queue", _queue_days)):
        for per_day in (200, 2_000, 20_000):
            run(q, times[: 2 * per_day], per_day)                 # compile, warm
            start = time.perf_counter()
            run(q, times, per_day)
            figures[name][per_day] = (time.perf_counter() - start) / TOTAL * 1e9
            print(f"{name:5s} {per_day:>6,} arrivals a day: {figures[name][per_day]:.1f} ns per arrival")
    print(json.dumps({
        "ns_per_arrival": {str(k): round(v, 1) for k, v in figures["heap"].items()},   # the day's heap (the key of before)
        "ratio_20000_vs_200": round(figures["heap"][20_000] / figures["heap"][200], 2),
        "queue_ns_per_arrival": {str(k): round(v, 1) for k, v in figures["queue"].items()},
        "queue_ratio_20000_vs_200": round(figures["queue"][20_000] / figures["queue"][200], 2)}))


if __name__ == "__main__":
    main()
