"""Benchmark of one simulated year of the baseline, and how cost grows with the flow.

Prints wall time for one simulated year, shipments and hop-events simulated, hop-events
per second, peak memory, and the time at 1x, 10x and 100x the baseline flow (each
measured in a fresh process so that peak memory belongs to that run). The last line is
one JSON object (keys: baseline_year_s, shipments, hop_events, hop_events_per_s,
peak_mem_mb, year_10k_shipments_s, scaling) for other tools. Because the calibrated
baseline may send fewer than 10,000 loads a year, a year scaled to at least 10,000
shipments is timed too (the target of issue 2).

    python benchmarks/bench_model.py            # 1x, 10x, 100x (the 100x run takes a few minutes)
    python benchmarks/bench_model.py --quick    # 1x and 10x only
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(multiplier: float, keep_events: bool, repeats: int) -> dict:
    """Time ``repeats`` runs of the baseline year at ``multiplier`` x the flow (this process)."""
    import logging

    from sim.config import load_params, with_updates
    from sim.run import simulate

    logging.getLogger("MESA").setLevel(logging.WARNING)
    params = with_updates(load_params(), {"world.flow.supply_multiplier": multiplier})
    simulate(with_updates(params, {"horizon_days": 5}), keep_events=False)   # warm caches (route menus)
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        result = simulate(params, seed=r, keep_events=keep_events)
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {
        "multiplier": multiplier,
        "keep_events": keep_events,
        "wall_s": best,
        "wall_s_all": times,
        "shipments": int(result.summary["shipments"]),
        "hop_events": int(result.summary["hop_events"]),
        "hop_events_per_s": result.summary["hop_events"] / best,
        "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_fresh_process(multiplier: float, keep_events: bool, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--one", str(multiplier), "--repeats", str(repeats)]
    if keep_events:
        cmd.append("--events")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only 1x and 10x the flow")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--events", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.events, args.repeats)))
        return

    baseline = in_fresh_process(1.0, keep_events=True, repeats=5)
    print(f"baseline year (with event log): {baseline['wall_s']:.3f} s best of 5 "
          f"({', '.join(f'{t:.3f}' for t in baseline['wall_s_all'])}); {baseline['shipments']:,} shipments, "
          f"{baseline['hop_events']:,} hop-events, {baseline['hop_events_per_s']:,.0f} hop-events/s, "
          f"peak RSS {baseline['peak_mem_mb']:.0f} MB")
    # The performance target is stated for a year of at least 10,000 shipments; the calibrated
    # baseline may send fewer (larger loads), so also time a year scaled up to that size.
    target_mult = max(1.0, round(10_500 / baseline["shipments"], 2))
    target = in_fresh_process(target_mult, keep_events=True, repeats=3)
    print(f"year scaled to >= 10,000 shipments (flow x{target_mult}, with event log): {target['wall_s']:.3f} s best of 3; "
          f"{target['shipments']:,} shipments, {target['hop_events_per_s']:,.0f} hop-events/s")
    scaling = []
    for mult in (1, 10) if args.quick else (1, 10, 100):
        row = in_fresh_process(float(mult), keep_events=False, repeats=1 if mult > 1 else 3)
        row["s_per_1000_shipments"] = row["wall_s"] / row["shipments"] * 1000
        scaling.append(row)
        print(f"flow x{mult:<4d} (no event log): {row['wall_s']:8.2f} s  {row['shipments']:>9,} shipments  "
              f"{row['hop_events']:>10,} hop-events  {row['s_per_1000_shipments']:.3f} s per 1000 shipments  "
              f"peak RSS {row['peak_mem_mb']:.0f} MB")
    per_k = [r["s_per_1000_shipments"] for r in scaling]
    print(f"cost per 1000 shipments from x1 to x{int(scaling[-1]['multiplier'])}: "
          f"{per_k[0]:.3f} -> {per_k[-1]:.3f} s (ratio {per_k[-1] / per_k[0]:.2f}; 1.0 = linear)")
    print(json.dumps({
        "baseline_year_s": round(baseline["wall_s"], 4),
        "shipments": baseline["shipments"],
        "hop_events": baseline["hop_events"],
        "hop_events_per_s": round(baseline["hop_events_per_s"]),
        "peak_mem_mb": round(baseline["peak_mem_mb"], 1),
        "year_10k_shipments_s": round(target["wall_s"], 4),
        "year_10k_shipments": target["shipments"],
        "year_10k_flow_multiplier": target_mult,
        "scaling": [{"flow_multiplier": r["multiplier"], "wall_s": round(r["wall_s"], 3), "shipments": r["shipments"],
                     "s_per_1000_shipments": round(r["s_per_1000_shipments"], 4),
                     "peak_mem_mb": round(r["peak_mem_mb"], 1)} for r in scaling],
        "linearity_ratio": round(per_k[-1] / per_k[0], 3),
    }))


if __name__ == "__main__":
    main()
