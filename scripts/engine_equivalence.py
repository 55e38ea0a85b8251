"""Is the fast engine the same model as the reference engine? (issue 13)

Two checks, through the sweep engine:

1. **Distributions.** The baseline year with ``--seeds`` seeds (default 30) on each
   engine; for every headline outcome a two-sided Mann-Whitney U test and a two-sample
   Kolmogorov-Smirnov test, Holm-corrected over the outcomes. Power: with n seeds per
   engine, the Mann-Whitney test at 5% detects a shift of ``d`` standard deviations with
   80% power where d = (z_0.975 + z_0.8) x sqrt(2 / n) / sqrt(0.955) (0.74 SD at n = 30;
   the 0.955 is its efficiency against the t-test under normality); the script prints d
   in each outcome's own units.
2. **Policy effects.** Every preset of docs/policies.md's measured table against the
   baseline, 10 replications with the comparison's seeds, on each engine: whether the
   fast engine's paired difference agrees with the reference engine's (|fast - reference|
   within 1.96 x the combined standard error: both are noisy, so even the same model puts
   about 16% of means outside the other's interval) and whether each lies inside the
   interval docs/policies.md reports.

    python scripts/engine_equivalence.py                 # both checks (about 20 min on 2 cores)
    python scripts/engine_equivalence.py --seeds 10 --skip-presets
    python scripts/engine_equivalence.py --skip-distributions --seed 1   # the presets on other seeds
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: docs/policies.md's measured table: column -> (outcome key, factor from the outcome's unit to the column's,
#: half a unit of the last decimal the table prints)
DOC_COLUMNS = (
    ("kg_entering_kz", 1e-3, 0.05), ("kg_seized_true", 1e-3, 0.005), ("kg_seized_reported", 1e-3, 0.005),
    ("kg_reaching_russia", 1e-3, 0.05), ("kg_reaching_eu", 1e-3, 0.05), ("interdiction_rate", 100.0, 0.005),
    ("bribes_usd", 1e-6, 0.005), ("share_entry_kz_kg", 100.0, 0.05),
)
CELL = re.compile(r"\*{0,2}([+-]?[\d.]+) \[([+-]?[\d.]+), ([+-]?[\d.]+)\]\*{0,2}")


def detectable_shift_sd(n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Shift (in SDs) a two-sided Mann-Whitney test with n per group detects with ``power``."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return z * math.sqrt(2.0 / n) / math.sqrt(3.0 / math.pi)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values."""
    order = np.argsort(pvalues)
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def engine_runs(seeds: list[int], workers: int | None):
    from sim.sweep import Experiment, run_experiments

    experiments = [Experiment(run_id=f"{engine}/{seed}", updates={"transit": engine}, seed=seed,
                              inputs={"engine_used": engine})
                   for engine in ("reference", "fast") for seed in seeds]
    return run_experiments(experiments, engine="processes", workers=workers, progress=True)


def distribution_check(runs, keys: list[str]) -> list[dict]:
    """Per outcome: both engines' means, MW and KS p-values (Holm-adjusted), detectable shift."""
    ref, fast = runs[runs["engine_used"] == "reference"], runs[runs["engine_used"] == "fast"]
    n = min(len(ref), len(fast))
    d = detectable_shift_sd(n)
    rows = []
    for key in keys:
        a, b = ref[key].to_numpy(float), fast[key].to_numpy(float)
        if np.all(a == a[0]) and np.all(b == a[0]):
            mw, ks = 1.0, 1.0
        else:
            mw = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
            ks = stats.ks_2samp(a, b).pvalue
        sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        rows.append({"outcome": key, "reference_mean": a.mean(), "fast_mean": b.mean(), "pooled_sd": sd,
                     "detectable_shift": d * sd, "mw_p": mw, "ks_p": ks})
    for name in ("mw_p", "ks_p"):
        for row, p in zip(rows, holm([r[name] for r in rows])):
            row[name + "_holm"] = p
    return rows


def documented_effects(path: Path) -> dict[str, dict[str, tuple[float, float, float]]]:
    """docs/policies.md's measured table: preset -> outcome -> (mean difference, low, high)."""
    table: dict[str, dict[str, tuple[float, float, float]]] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"\| `([a-z0-9_]+)` \|(.*)\|\s*$", line)
        if not match or match.group(1) == "baseline_2009":
            continue
        cells = [CELL.search(c) for c in match.group(2).split("|")]
        if len(cells) == len(DOC_COLUMNS) and all(cells):
            table[match.group(1)] = {key: tuple(float(x) for x in cell.groups())
                                     for (key, _, _), cell in zip(DOC_COLUMNS, cells)}
    return table


def preset_effects(presets: list[str], transit: str, workers: int | None, out_dir: Path, seed: int = 0):
    """Every preset against the baseline with one engine: 10 replications, the seeds of the comparison's ``seed``."""
    from sim.compare import compare

    result = compare(presets, replications=10, out_dir=out_dir, workers=workers, overrides=[f"transit={transit}"],
                     seed=seed, maps=False, progress=True)
    return result.outcomes


def _effect(table, preset: str, key: str, factor: float) -> tuple[float, float, float] | None:
    match = table[(table["scenario"] == preset) & (table["outcome"] == key)]
    if match.empty:
        return None
    row = match.iloc[0]
    return tuple(float(row[c]) * factor for c in ("diff", "diff_ci_low", "diff_ci_high"))


def _agree(a: tuple[float, float, float], b: tuple[float, float, float], rounding: float) -> bool:
    """Two estimates (mean, 95% interval) agree: their difference within 1.96 x the combined standard error."""
    combined_se = math.hypot((a[2] - a[1]) / 2 / 1.96, (b[2] - b[1]) / 2 / 1.96)
    return abs(a[0] - b[0]) <= 1.96 * combined_se + rounding


def preset_check(documented, fast, reference) -> list[dict]:
    """Each preset's paired effect with the fast engine beside the reference engine's (same seeds) and the docs'."""
    rows = []
    for preset, effects in documented.items():
        for key, factor, rounding in DOC_COLUMNS:
            f, r = _effect(fast, preset, key, factor), _effect(reference, preset, key, factor)
            if f is None or r is None:
                continue
            doc = effects[key]
            rows.append({"preset": preset, "outcome": key, "fast": f, "reference": r, "documented": doc,
                         "fast_inside_reference_interval": r[1] <= f[0] <= r[2],
                         "fast_agrees_with_reference": _agree(f, r, 0.0),
                         "fast_inside_documented_interval": doc[1] - rounding <= f[0] <= doc[2] + rounding,
                         "reference_inside_documented_interval": doc[1] - rounding <= r[0] <= doc[2] + rounding})
    return rows


def print_distributions(seeds: int, workers: int | None, headline: list[str]) -> dict:
    runs = engine_runs(list(range(seeds)), workers)
    rows = distribution_check(runs, [k for k in headline if k in runs])
    print(f"\n1. Baseline year, {seeds} seeds per engine (Holm-adjusted p-values; "
          f"detectable shift at 80% power = {detectable_shift_sd(seeds):.2f} SD)")
    print(f"{'outcome':28s} {'reference':>14s} {'fast':>14s} {'detectable':>12s} {'MW p':>7s} {'KS p':>7s} (raw)")
    for r in rows:
        print(f"{r['outcome']:28s} {r['reference_mean']:14.4g} {r['fast_mean']:14.4g} {r['detectable_shift']:12.3g} "
              f"{r['mw_p_holm']:7.3f} {r['ks_p_holm']:7.3f} ({r['mw_p']:.3f}, {r['ks_p']:.3f})")
    failing = [r["outcome"] for r in rows if min(r["mw_p_holm"], r["ks_p_holm"]) < 0.05]
    print(f"outcomes whose distributions differ at 5% (Holm): {failing or 'none'}")
    return {"distributions": rows, "differing": failing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0,
                        help="the preset check's comparison seed (0: the seeds of docs/policies.md's table)")
    parser.add_argument("--skip-presets", action="store_true")
    parser.add_argument("--skip-distributions", action="store_true")
    parser.add_argument("--out", default="results/engine_equivalence")
    args = parser.parse_args()
    from sim.compare import HEADLINE

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"seeds": args.seeds}
    if not args.skip_distributions:
        report.update(print_distributions(args.seeds, args.workers, [k for k, _, _ in HEADLINE if k != "policy_cost_usd"]))
    if not args.skip_presets:
        documented = documented_effects(ROOT / "docs" / "policies.md")
        fast = preset_effects(sorted(documented), "fast", args.workers, out / "presets_fast", args.seed)
        reference = preset_effects(sorted(documented), "reference", args.workers, out / "presets_reference", args.seed)
        effects = preset_check(documented, fast, reference)
        counts = {name: sum(r[name] for r in effects) for name in (
            "fast_agrees_with_reference", "fast_inside_reference_interval", "fast_inside_documented_interval",
            "reference_inside_documented_interval")}
        print(f"\n2. Preset effects, 10 replications, same seeds, {len(effects)} cells (preset x outcome):")
        for name, count in counts.items():
            print(f"   {name.replace('_', ' ')}: {count}/{len(effects)}")
        for r in effects:
            if not r["fast_agrees_with_reference"]:
                f, ref = r["fast"], r["reference"]
                print(f"   disagree: {r['preset']} {r['outcome']}: fast {f[0]:+.3g} [{f[1]:+.3g}, {f[2]:+.3g}] "
                      f"vs reference {ref[0]:+.3g} [{ref[1]:+.3g}, {ref[2]:+.3g}]")
        report.update(presets=effects, cells=len(effects), comparison_seed=args.seed, **counts)
    (out / "equivalence.json").write_text(json.dumps(report, indent=2, default=float))
    print(json.dumps({k: v for k, v in report.items() if k not in ("distributions", "presets")}))


if __name__ == "__main__":
    main()
