"""Pairing a scenario's runs with the baseline's: common random numbers made explicit.

Comparisons (:mod:`sim.compare`) and posterior comparisons (:mod:`sim.posterior`) pair run
``k`` of a scenario with run ``k`` of the baseline: the same seed and, with posterior draws,
the same parameters, so that a difference is the policy's and not the dice's.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd


def paired_with_baseline(runs: pd.DataFrame, baseline: str, index: Sequence[str], scenario_col: str = "scenario"):
    """Each scenario's successful runs beside the baseline's, indexed by ``index``, and the pairs they share.

    Yields ``(scenario, runs, baseline_runs, common_index)``: run ``k`` of a scenario pairs with
    run ``k`` of the baseline (same seed, and same parameters where ``index`` has a draw).
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    index = list(index)
    base = ok[ok[scenario_col] == baseline].set_index(index if len(index) > 1 else index[0])
    for scenario, group in ok.groupby(scenario_col, sort=False):
        group = group.set_index(index if len(index) > 1 else index[0])
        yield scenario, group, base, group.index.intersection(base.index)
