"""Is today's model the model the project measured before its engine was rebuilt? (issue 13)

The two engines of today give the same run to the gram (``tests/test_engine.py``); their
random numbers are not those of the engine before the rebuild (git revision ``--against``,
default c6b82cc, whose reference engine made docs/policies.md's table, the calibration and
the exercises' figures). So the check is statistical, against that revision's own code,
run from a temporary git worktree of it:

1. **Distributions.** The baseline year with ``--seeds`` seeds (default 30) on each; for
   every headline outcome a two-sided Mann-Whitney U test and a two-sample
   Kolmogorov-Smirnov test, Holm-corrected over the outcomes. Power: with n seeds each,
   the Mann-Whitney test at 5% detects a shift of ``d`` standard deviations with 80%
   power where d = (z_0.975 + z_0.8) x sqrt(2 / n) / sqrt(3 / pi) (0.74 SD at n = 30; 3/pi
   is its efficiency against the t-test under normality); printed in each outcome's units.
2. **Policy effects.** Every preset of the old revision's docs/policies.md table against
   the baseline, 10 replications with the comparison's seeds, run today: whether today's
   paired difference agrees with the documented one (|today - documented| within 1.96 x
   the combined standard error, each read from its 95% interval) and whether it lies
   inside the documented interval (two noisy estimates of one quantity: even the same
   model puts about 16% of means outside the other's interval).

    python scripts/engine_equivalence.py                      # both checks (about 10 min on 2 cores)
    python scripts/engine_equivalence.py --seeds 10 --skip-presets
    python scripts/engine_equivalence.py --against c6b82cc --old-tree /tmp/old   # an existing checkout
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: the last revision of the engine before the rebuild (its reference engine measured the docs)
BEFORE = "c6b82cc"
#: docs/policies.md's measured table: column -> (outcome key, factor from the outcome's unit to the column's,
#: half a unit of the last decimal the table prints)
DOC_COLUMNS = (
    ("kg_entering_kz", 1e-3, 0.05), ("kg_seized_true", 1e-3, 0.005), ("kg_seized_reported", 1e-3, 0.005),
    ("kg_reaching_russia", 1e-3, 0.05), ("kg_reaching_eu", 1e-3, 0.05), ("interdiction_rate", 100.0, 0.005),
    ("bribes_usd", 1e-6, 0.005), ("share_entry_kz_kg", 100.0, 0.05),
)
CELL = re.compile(r"\*{0,2}([+-]?[\d.]+) \[([+-]?[\d.]+), ([+-]?[\d.]+)\]\*{0,2}")
#: run in the old tree (its own sim package): the baseline year for each seed, the summaries to Parquet
OLD_RUNS = """
import sys
import pandas as pd
from sim.sweep import Experiment, run_experiments
seeds, out = [int(s) for s in sys.argv[1].split(",")], sys.argv[2]
experiments = [Experiment(run_id=f"before/{s}", updates={"transit": "reference"}, seed=s) for s in seeds]
run_experiments(experiments, engine="processes", workers=int(sys.argv[3]), progress=False).to_parquet(out)
"""


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


def old_tree(revision: str, where: str | None) -> Path:
    """A checkout of ``revision`` (a new detached worktree in a temporary folder unless given)."""
    if where is not None:
        return Path(where)
    path = Path(tempfile.mkdtemp(prefix="northern-route-before-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), revision], check=True,
                   capture_output=True)
    return path


def runs_before(tree: Path, seeds: list[int], workers: int, out: Path) -> pd.DataFrame:
    """The old revision's reference engine, the baseline year for each seed (in its own processes)."""
    from sim.parquet import read_parquet

    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}      # its own sim package first
    subprocess.run([sys.executable, "-c", OLD_RUNS, ",".join(map(str, seeds)), str(out), str(workers)], cwd=tree,
                   env=env, check=True)
    return read_parquet(out)


def runs_now(seeds: list[int], workers: int) -> pd.DataFrame:
    from sim.sweep import Experiment, run_experiments

    experiments = [Experiment(run_id=f"now/{s}", seed=s) for s in seeds]
    return run_experiments(experiments, engine="processes", workers=workers, progress=True)


def distribution_check(before: pd.DataFrame, now: pd.DataFrame, keys: list[str]) -> list[dict]:
    """Per outcome: both means, MW and KS p-values (Holm-adjusted), the detectable shift."""
    n = min(len(before), len(now))
    d = detectable_shift_sd(n)
    rows = []
    for key in keys:
        a, b = before[key].to_numpy(float), now[key].to_numpy(float)
        if np.all(a == a[0]) and np.all(b == a[0]):
            mw, ks = 1.0, 1.0
        else:
            mw = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
            ks = stats.ks_2samp(a, b).pvalue
        sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        rows.append({"outcome": key, "before_mean": a.mean(), "now_mean": b.mean(), "pooled_sd": sd,
                     "detectable_shift": d * sd, "mw_p": mw, "ks_p": ks})
    for name in ("mw_p", "ks_p"):
        for row, p in zip(rows, holm([r[name] for r in rows])):
            row[name + "_holm"] = p
    return rows


def documented_effects(path: Path) -> dict[str, dict[str, tuple[float, float, float]]]:
    """A docs/policies.md measured table: preset -> outcome -> (mean difference, low, high)."""
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


def preset_effects(presets: list[str], workers: int, out_dir: Path, seed: int = 0) -> pd.DataFrame:
    """Every preset against the baseline today: 10 replications, the seeds of the comparison's ``seed``."""
    from sim.compare import compare

    return compare(presets, replications=10, out_dir=out_dir, workers=workers, seed=seed, maps=False,
                   progress=True).outcomes


def _effect(table: pd.DataFrame, preset: str, key: str, factor: float) -> tuple[float, float, float] | None:
    match = table[(table["scenario"] == preset) & (table["outcome"] == key)]
    if match.empty:
        return None
    row = match.iloc[0]
    return tuple(float(row[c]) * factor for c in ("diff", "diff_ci_low", "diff_ci_high"))


def _agree(a: tuple[float, float, float], b: tuple[float, float, float], rounding: float) -> bool:
    """Two estimates (mean, 95% interval) agree: their difference within 1.96 x the combined standard error."""
    combined_se = math.hypot((a[2] - a[1]) / 2 / 1.96, (b[2] - b[1]) / 2 / 1.96)
    return abs(a[0] - b[0]) <= 1.96 * combined_se + rounding


def preset_check(documented, now: pd.DataFrame) -> list[dict]:
    """Each preset's paired effect today beside the documented one."""
    rows = []
    for preset, effects in documented.items():
        for key, factor, rounding in DOC_COLUMNS:
            today = _effect(now, preset, key, factor)
            if today is None:
                continue
            doc = effects[key]
            rows.append({"preset": preset, "outcome": key, "now": today, "documented": doc,
                         "agrees_with_documented": _agree(today, doc, rounding),
                         "inside_documented_interval": doc[1] - rounding <= today[0] <= doc[2] + rounding})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default=BEFORE, help=f"the revision measured before (default {BEFORE})")
    parser.add_argument("--old-tree", default=None, help="a checkout of that revision (default: a new git worktree)")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0,
                        help="the preset check's comparison seed (0: the seeds of docs/policies.md's table)")
    parser.add_argument("--skip-presets", action="store_true")
    parser.add_argument("--skip-distributions", action="store_true")
    parser.add_argument("--out", default="results/engine_equivalence")
    args = parser.parse_args()
    from sim.compare import HEADLINE

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tree = old_tree(args.against, args.old_tree)
    report: dict = {"against": args.against, "seeds": args.seeds}
    if not args.skip_distributions:
        seeds = list(range(args.seeds))
        before = runs_before(tree, seeds, args.workers, out / "before.parquet")
        now = runs_now(seeds, args.workers)
        keys = [k for k, _, _ in HEADLINE if k != "policy_cost_usd" and k in before and k in now]
        rows = distribution_check(before, now, keys)
        print(f"\n1. Baseline year, {args.seeds} seeds each, {args.against} (reference engine) against today "
              f"(Holm-adjusted p-values; detectable shift at 80% power = {detectable_shift_sd(args.seeds):.2f} SD)")
        print(f"{'outcome':28s} {'before':>14s} {'now':>14s} {'detectable':>12s} {'MW p':>7s} {'KS p':>7s} (raw)")
        for r in rows:
            print(f"{r['outcome']:28s} {r['before_mean']:14.4g} {r['now_mean']:14.4g} {r['detectable_shift']:12.3g} "
                  f"{r['mw_p_holm']:7.3f} {r['ks_p_holm']:7.3f} ({r['mw_p']:.3f}, {r['ks_p']:.3f})")
        failing = [r["outcome"] for r in rows if min(r["mw_p_holm"], r["ks_p_holm"]) < 0.05]
        print(f"outcomes whose distributions differ at 5% (Holm): {failing or 'none'}")
        report.update(distributions=rows, differing=failing)
    if not args.skip_presets:
        documented = documented_effects(tree / "docs" / "policies.md")
        now = preset_effects(sorted(documented), args.workers, out / "presets_now", args.seed)
        effects = preset_check(documented, now)
        counts = {name: sum(r[name] for r in effects) for name in ("agrees_with_documented", "inside_documented_interval")}
        print(f"\n2. Preset effects, 10 replications, the comparison's seeds, {len(effects)} cells (preset x outcome):")
        for name, count in counts.items():
            print(f"   {name.replace('_', ' ')}: {count}/{len(effects)}")
        for r in effects:
            if not r["agrees_with_documented"]:
                f, d = r["now"], r["documented"]
                print(f"   disagree: {r['preset']} {r['outcome']}: now {f[0]:+.3g} [{f[1]:+.3g}, {f[2]:+.3g}] "
                      f"documented {d[0]:+.3g} [{d[1]:+.3g}, {d[2]:+.3g}]")
        report.update(presets=effects, cells=len(effects), comparison_seed=args.seed, **counts)
    (out / "equivalence.json").write_text(json.dumps(report, indent=2, default=float))
    print(json.dumps({k: v for k, v in report.items() if k not in ("distributions", "presets")}))


if __name__ == "__main__":
    main()
