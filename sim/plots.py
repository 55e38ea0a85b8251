"""Time-series charts of a run (the route map is :mod:`sim.maps`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CAPTION = "Simulated model output (one run, seed {seed}); not observed data. Sources of parameters: scenarios/provenance.yaml"


def draw_timeseries(daily: pd.DataFrame, path: str | Path, seed: int, title: str = "",
                    events: Sequence[tuple[int, str]] = ()) -> Figure:
    """Three panels: cumulative tonnes (entered, delivered, seized, in transit), daily
    seizures, cumulative bribes. Saved as PNG at ``path``.

    ``events``: (day, label) of the timeline's events (:func:`sim.timeline.event_marks`),
    each marked by a vertical line and its label. With a ``date`` column the x axis is
    the calendar.
    """
    fig = Figure(figsize=(11, 8.5), dpi=110)
    FigureCanvasAgg(fig)
    ax_mass, ax_seiz, ax_bribe = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1, 1]})
    day = daily["date"] if "date" in daily else daily["day"]
    for col, label, colour in (("kg_entered", "entered the route", "#444444"),
                               ("kg_delivered", "delivered to markets", "#1f77b4"),
                               ("kg_in_transit", "on the road now (not cumulative)", "#ff7f0e"),
                               ("kg_seized", "seized", "#d62728")):
        ax_mass.plot(day, daily[col] / 1000, label=label, color=colour, lw=1.8)
    ax_mass.set_ylabel("tonnes")
    ax_mass.legend(loc="center left" if events else "upper left", frameon=False)   # event labels hang from the top
    seizures_per_day = daily["seizures"].diff().fillna(daily["seizures"])
    kg_per_day = daily["kg_seized"].diff().fillna(daily["kg_seized"])
    ax_seiz.bar(day, kg_per_day, color="#d62728", width=1.0, alpha=0.7)
    ax_seiz.set_ylabel("kg seized / day")
    ax_seiz2 = ax_seiz.twinx()
    ax_seiz2.plot(day, seizures_per_day.rolling(7, min_periods=1).mean(), color="black", lw=1)
    ax_seiz2.set_ylabel("seizures / day (7-day mean)")
    ax_bribe.plot(day, daily["bribes_usd"] / 1e6, color="#9467bd", lw=1.8)
    ax_bribe.set_ylabel("bribes paid, $M (cum.)")
    ax_bribe.set_xlabel("date" if "date" in daily else "day of the simulated year")
    for ax in (ax_mass, ax_seiz, ax_bribe):
        ax.grid(alpha=0.3)
        ax.spines[["top"]].set_visible(False)
    mark_events(ax_mass, [ax_seiz, ax_bribe], daily, events)
    fig.suptitle(title or "Heroin on the Northern Route, day by day", fontsize=13)
    fig.text(0.01, 0.005, CAPTION.format(seed=seed), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    return fig


def mark_events(ax, others: Sequence, daily: pd.DataFrame, events: Sequence[tuple[int, str]]) -> None:
    """A vertical line at each event's day (the start of that day) on ``ax`` and ``others``,
    labelled on ``ax``. On a date axis the line stands at the event's date."""
    for day, label in events:
        row = daily.index[daily["day"] == day + 1]      # daily row d+1 is the event's day d
        x = daily.loc[row[0], "date"] if "date" in daily and len(row) else day + 0.5
        for a in (ax, *others):
            a.axvline(x, color="#2ca02c", lw=1.2, ls="--", alpha=0.9)
        ax.annotate(label, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                    rotation=90, va="top", ha="left", fontsize=8, color="#2ca02c")
