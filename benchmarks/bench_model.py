"""Benchmark of one simulated year of the baseline, and how cost grows with the flow.

Prints wall time for one simulated year, shipments and hop-events simulated, hop-events
per second, peak memory, and the time at 1x, 10x and 100x the baseline flow (each
measured in a fresh process so that peak memory belongs to that run). The last line is
one JSON object (keys: baseline_year_s, shipments, hop_events, hop_events_per_s,
peak_mem_mb, year_10k_shipments_s, scaling, timeline_*) for other tools. Because the calibrated
baseline may send fewer than 10,000 loads a year, a year scaled to at least 10,000
shipments is timed too (the target of issue 2). The four-year timeline preset
``timeline_2008_2011`` (events on their dates, issue 10) is timed too: its cost per
simulated year (and per 1,000 shipments, since its yearly supply varies) against the
one-year baseline's, without the event log in both.

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


TIMELINE_PRESET = "timeline_2008_2011"


def measure_timeline(preset: str) -> dict:
    """Time one run of a multi-year timeline preset (this process), without the event log."""
    import logging

    from sim.config import load_params, with_updates
    from sim.run import simulate

    logging.getLogger("MESA").setLevel(logging.WARNING)
    params = load_params([f"preset={preset}"])
    simulate(with_updates(params, {"horizon_days": 5, "timeline": []}), keep_events=False)   # warm caches
    t0 = time.perf_counter()
    result = simulate(params, seed=0, keep_events=False)
    wall = time.perf_counter() - t0
    years = params.horizon_days / 365
    return {"preset": preset, "wall_s": wall, "years": years, "shipments": int(result.summary["shipments"]),
            "s_per_year": wall / years, "s_per_1000_shipments": wall / result.summary["shipments"] * 1000,
            "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_fresh_process(multiplier: float, keep_events: bool, repeats: int, timeline: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--one", str(multiplier), "--repeats", str(repeats)]
    if timeline is not None:
        cmd = [sys.executable, __file__, "--one-timeline", timeline]
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
    parser.add_argument("--one-timeline", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_timeline is not None:
        print(json.dumps(measure_timeline(args.one_timeline)))
        return
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
    timeline = in_fresh_process(1.0, keep_events=False, repeats=1, timeline=TIMELINE_PRESET)
    year_ratio = timeline["s_per_year"] / scaling[0]["wall_s"]
    shipment_ratio = timeline["s_per_1000_shipments"] / scaling[0]["s_per_1000_shipments"]
    print(f"{TIMELINE_PRESET} ({timeline['years']:.1f} years, no event log): {timeline['wall_s']:.2f} s, "
          f"{timeline['s_per_year']:.2f} s per simulated year ({year_ratio:.2f} x the one-year baseline's), "
          f"{timeline['s_per_1000_shipments']:.3f} s per 1000 shipments ({shipment_ratio:.2f} x)")
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
        "timeline_preset": TIMELINE_PRESET,
        "timeline_wall_s": round(timeline["wall_s"], 3),
        "timeline_shipments": timeline["shipments"],
        "timeline_s_per_year": round(timeline["s_per_year"], 4),
        "timeline_year_ratio": round(year_ratio, 3),
        "timeline_s_per_1000_shipments": round(timeline["s_per_1000_shipments"], 4),
        "timeline_per_1000_shipments_ratio": round(shipment_ratio, 3),
        "timeline_peak_mem_mb": round(timeline["peak_mem_mb"], 1),
    }))


if __name__ == "__main__":
    main()
