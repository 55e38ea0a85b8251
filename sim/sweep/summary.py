"""Summaries of a results table: mean, spread and intervals of each outcome by group."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from sim.sweep.runner import FRONT, MIDDLE


def outcome_columns(table: pd.DataFrame) -> list[str]:
    """The outcome columns of a results table (those after ``sim_s``)."""
    if table.attrs.get("outcomes"):
        return [c for c in table.attrs["outcomes"] if c in table.columns]
    columns = list(table.columns)
    if "sim_s" in columns:
        return columns[columns.index("sim_s") + 1:]
    return [c for c in table.select_dtypes("number").columns if c not in FRONT + MIDDLE]


def summarise_results(table: pd.DataFrame, by: Sequence[str] | str | None = None,
                      outcomes: Sequence[str] | None = None,
                      quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """One row per group and outcome: n, mean, std, the 95% interval of the mean, quantiles.

    Only runs with ``status == "ok"`` count. ``by`` names the grouping columns (e.g.
    ``["lever"]``; none: the whole table). The quantile columns (``p5``, ``p50``, ``p95``)
    describe the spread of runs (what replications and uncertainties do); ``mean_lo`` and
    ``mean_hi`` (mean +- 1.96 standard errors) say how well the mean itself is known.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    missing = [c for c in by if c not in table.columns]
    if missing:
        raise KeyError(f"summarise_results: no column(s) {missing} in the results table")
    outcomes = list(outcomes) if outcomes is not None else outcome_columns(table)
    ok = table[table["status"] == "ok"] if "status" in table else table
    long = ok[by + outcomes].melt(id_vars=by, value_vars=outcomes, var_name="outcome", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    groups = long.groupby(by + ["outcome"], sort=False, dropna=False)["value"]
    out = groups.agg(n="count", mean="mean", std="std").reset_index()
    sem = out["std"] / np.sqrt(out["n"].where(out["n"] > 0))
    out["mean_lo"] = out["mean"] - 1.96 * sem
    out["mean_hi"] = out["mean"] + 1.96 * sem
    for q in quantiles:
        name = f"p{100 * q:g}"
        out[name] = groups.quantile(q).to_numpy()
    return out
