"""Measure the model against what the documents say (issue 9): flows, seizers, corruption.

Runs the baseline (or any overrides) for several seeds and prints, as mean [min, max]
over seeds: the heroin entering Kazakhstan by southern border, the kilos leaving for
Russia by exit segment, the kilos by conveyance, the share of Kazakh seizures made on the
Kazakh-Russian border, Kazakh seizures by agency, and the corruption outcomes.
``--displacement`` runs the Uzbek-border reinforcement at several magnitudes instead and
prints the Kyrgyz and Uzbek entry shares against the baseline, paired by seed.

    python scripts/measure_fidelity.py --seeds 6
    python scripts/measure_fidelity.py --seeds 6 --displacement 1.5 2 3 5
    python scripts/measure_fidelity.py --seeds 6 -o ~calibrated     # any Hydra override
"""

from __future__ import annotations

import argparse
import statistics

from sim.config import load_params
from sim.run import simulate

GROUPS = {
    "entry into Kazakhstan (share of kg)": "share_entry_",
    "exit to Russia (share of kg)": "share_exit_",
    "conveyance (share of kg)": "share_kg_",
    "Kazakh seizures by place (share of count)": "share_seizures_kz_",
    "Kazakh seizures by agency (kg)": "kg_seized_kz_agency_",
    "Kazakh seizures by agency (count)": "seizures_kz_agency_",
}
SINGLE = ("kg_entered", "kg_seized_kz_national", "seizures_kz_national", "interdiction_rate", "bribes",
          "bribes_usd", "officers_caught", "corruption_cases_detected", "protected_passages",
          "routes_shut_knb", "groups_shut_knb", "controlled_deliveries", "kg_reassigned_disruption")


def _runs(overrides: list[str], seeds: int, horizon: int) -> list[dict[str, float]]:
    params = load_params([*overrides, f"horizon_days={horizon}"])
    return [simulate(params, seed=s, keep_events=False).summary for s in range(seeds)]


def _fmt(values: list[float]) -> str:
    return f"{statistics.fmean(values):10.3f} [{min(values):.3f}, {max(values):.3f}]"


def report(summaries: list[dict[str, float]]) -> None:
    keys = sorted(set().union(*summaries))
    for title, prefix in GROUPS.items():
        print(f"\n{title}")
        for key in (k for k in keys if k.startswith(prefix)):
            print(f"  {key.removeprefix(prefix):40s} {_fmt([s.get(key, 0.0) for s in summaries])}")
    print("\nother")
    for key in SINGLE:
        if key in keys:
            print(f"  {key:40s} {_fmt([s.get(key, 0.0) for s in summaries])}")


def displacement(overrides: list[str], seeds: int, horizon: int, magnitudes: list[float]) -> None:
    """Entry shares with the Uzbek border reinforced at each magnitude, paired by seed."""
    base = _runs([*overrides, "world.policies.border_reinforcement.staff_factor=1.0"], seeds, horizon)
    print(f"{'staff factor':>12s} {'d share kz_kg':>24s} {'d share kz_uz':>24s} {'seeds kz_kg up':>15s}")
    for m in magnitudes:
        runs = _runs([*overrides, f"world.policies.border_reinforcement.staff_factor={m}"], seeds, horizon)
        d_kg = [r["share_entry_kz_kg"] - b["share_entry_kz_kg"] for r, b in zip(runs, base)]
        d_uz = [r["share_entry_kz_uz"] - b["share_entry_kz_uz"] for r, b in zip(runs, base)]
        up = sum(d > 0 for d in d_kg)
        print(f"{m:12.2f} {_fmt(d_kg):>24s} {_fmt(d_uz):>24s} {up:>8d}/{seeds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--horizon", type=int, default=365)
    parser.add_argument("-o", "--override", action="append", default=[], help="a Hydra override (repeatable)")
    parser.add_argument("--displacement", type=float, nargs="*", help="Uzbek-border staff factors to compare")
    args = parser.parse_args()
    if args.displacement:
        displacement(args.override, args.seeds, args.horizon, args.displacement)
    else:
        report(_runs(args.override, args.seeds, args.horizon))


if __name__ == "__main__":
    main()
