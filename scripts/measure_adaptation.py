"""Measure each adaptation rule against 2009 practice on the baseline, with paired seeds.

    python scripts/measure_adaptation.py --seeds 6            # docs/model.md "Agencies that adapt"
    python scripts/measure_adaptation.py --seeds 3 --horizon-days 180 --rules intelligence

Each rule runs the calibrated baseline with the same seeds as ``adaptation=none`` (common
random numbers); the table gives the mean paired difference and its range over seeds, and
how much capacity the rule moved. Seconds per run are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.config import load_params
from sim.run import simulate

RULES = {
    "recent_seizures": ["adaptation=recent_seizures"],
    "intelligence (CARICC)": ["adaptation=intelligence"],
    "intelligence (no sharing)": ["adaptation=intelligence", "adaptation.caricc_sharing=false"],
    "seizure_target": ["adaptation=seizure_target"],
}
OUTCOMES = (("kg_seized_kz", "kg seized in KZ", "{:+,.0f}"), ("kg_reaching_russia", "kg into Russia", "{:+,.0f}"),
            ("kz_interdiction_rate", "KZ interdiction rate", "{:+.4f}"),
            ("share_entry_kz_kg", "Kyrgyz entry share", "{:+.4f}"),
            ("share_exit_kz_ru_urals", "Urals exit share", "{:+.4f}"), ("bribes_usd", "bribes USD", "{:+,.0f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--horizon-days", type=int, default=365)
    parser.add_argument("--rules", nargs="*", default=list(RULES), help=f"among: {', '.join(RULES)}")
    args = parser.parse_args()
    common = [f"horizon_days={args.horizon_days}"]
    seeds = range(args.seeds)
    none, seconds = {}, []
    for seed in seeds:
        start = time.perf_counter()
        none[seed] = simulate(load_params(common), seed, keep_events=False).summary
        seconds.append(time.perf_counter() - start)
    print(f"none: {np.mean([none[s]['kg_seized_kz'] for s in seeds]):,.0f} kg seized in KZ a run; "
          f"{np.mean(seconds):.1f} s a run")
    for name in args.rules:
        params, diffs, moved, seconds = load_params([*common, *RULES[name]]), {k: [] for k, _, _ in OUTCOMES}, [], []
        for seed in seeds:
            start = time.perf_counter()
            result = simulate(params, seed, keep_events=False)
            seconds.append(time.perf_counter() - start)
            for key, _, _ in OUTCOMES:
                diffs[key].append(result.summary[key] - none[seed][key])
            moved.append(_capacity_moved(result.allocation))
        cells = [f"{label} {fmt.format(np.mean(diffs[key]))} [{fmt.format(min(diffs[key]))}, "
                 f"{fmt.format(max(diffs[key]))}] ({sum(d > 0 for d in diffs[key])}/{len(seeds)} up)"
                 for key, label, fmt in OUTCOMES]
        what = "mean |effort - 1|" if name == "seizure_target" else "capacity moved a month (mean)"
        print(f"{name}: " + "; ".join(cells) + f"; {np.mean(moved):.1%} {what}; {np.mean(seconds):.1f} s a run")


def _capacity_moved(table) -> float:
    """Mean monthly share of capacity that changed post (posts), or mean |effort - 1| (seizure_target)."""
    posts = table[(table["kind"] == "post") & (table["day"] > 0)]
    if posts["share_moved"].max() > 0:
        return float(posts.groupby(["day", "agency"])["share_moved"].first().mean())
    return float((posts["effort"] - 1.0).abs().mean())


if __name__ == "__main__":
    main()
