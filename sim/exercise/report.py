"""The after-action report: what was decided, what happened, what the model attributes to each decision.

Written as Markdown (``report.md`` beside its figures) and as one self-contained HTML file
(``report.html``, figures embedded) for the debrief:

1. the timeline of decisions and injects, turn by turn;
2. each turn's outcomes against the counterfactual (same world and seeds, no team
   choices), with 95% intervals of the paired differences;
3. the costs, per team and turn, against the budgets;
4. the displacement: entry into Kazakhstan by border and the crossings that changed most;
5. what the model attributes to each decision: paired runs of the whole exercise with
   and without that one decision (same seeds), through the sweep engine.

Every table says that its numbers are model output and where the parameters come from.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.compare import t_interval  # noqa: E402
from sim.exercise.results import (PROVENANCE_NOTE, crossing_shifts, draw_turn_map, entry_table, fmt,  # noqa: E402
                                  interval_text, spending, turn_table)
from sim.exercise.state import ExerciseState  # noqa: E402
from sim.exercise.turns import TURN_OUTCOMES, run_seeds, timeline, timeline_scenario  # noqa: E402
from sim.sweep import Experiment, run_experiments  # noqa: E402

#: Outcomes over the whole exercise that attribution reports (keys of TURN_OUTCOMES).
ATTRIBUTED = ("kg_entering_kz", "kg_seized_true", "kg_reaching_russia", "kg_reaching_eu", "bribes_usd")


def decisions(state: ExerciseState) -> list[tuple[int, str, str]]:
    """(turn, team label, policy) of every intervention switched on by a team, in order."""
    preset, seen, out = state.preset, set(), []
    for k, turn in enumerate(state.played(), start=1):
        for team, policies in turn.purchases.items():
            for policy in policies:
                if policy not in seen:
                    out.append((k, preset.teams[team].label, policy))
        seen = set(turn.policies())
    return out


def attribution(state: ExerciseState, workdir: str | Path, *, engine: str = "processes", workers: int | None = None,
                seeds: int = 3) -> pd.DataFrame:
    """Per decision and outcome: the whole exercise with it minus without it (paired, same seeds).

    Uses the first ``seeds`` of the exercise's seeds (the run shown first); the runs with
    every decision are those of the last turn, already played.
    """
    preset, played = state.preset, state.played()
    k_last = len(played)
    chosen = run_seeds(preset)[: max(1, seeds)]
    full = {r["seed"]: r["outcomes"] for r in played[-1].results["runs"].values() if r["with_choices"]}
    experiments = [Experiment(run_id=f"t{k}-{policy}-s{i}", seed=seed,
                              scenario=timeline_scenario(preset, timeline(preset, played, without=(k, policy),
                                                                          config_dir=state.config_dir), state.config_dir),
                              updates={"horizon_days": preset.turn_end_day(k_last)}, inputs={"turn": k, "policy": policy})
                   for k, _team, policy in decisions(state) for i, seed in enumerate(chosen) if seed in full]
    if not experiments:
        return pd.DataFrame(columns=["turn", "team", "policy", "outcome", "label", "unit", "effect",
                                     "interval_low", "interval_high", "runs"])
    table = run_experiments(experiments, engine=engine, workers=workers, progress=False,
                            results_dir=Path(workdir) / "attribution")
    table = table[table["status"] == "ok"]
    teams = {(k, policy): team for k, team, policy in decisions(state)}
    rows = []
    for (k, policy), group in table.groupby(["turn", "policy"], sort=False):
        for key, label, unit in TURN_OUTCOMES:
            if key not in ATTRIBUTED:
                continue
            effects = [full[seed][key] - without for seed, without in zip(group["seed"], group[key])]
            mean, low, high = t_interval(pd.Series(effects).to_numpy(float))
            rows.append({"turn": int(k), "team": teams[(int(k), policy)], "policy": policy, "outcome": key,
                         "label": label, "unit": unit, "effect": mean, "interval_low": low, "interval_high": high,
                         "runs": len(effects)})
    return pd.DataFrame(rows)


# --- figures ---------------------------------------------------------------------------------


def outcome_chart(state: ExerciseState, path: Path) -> Path:
    """Per turn, the headline flows with and without the teams' choices (bars) and their intervals."""
    keys = ("kg_entering_kz", "kg_seized_reported", "kg_reaching_russia")
    played = range(1, len(state.played()) + 1)
    fig, axes = plt.subplots(1, len(keys), figsize=(12, 3.6))
    for ax, key in zip(axes, keys):
        rows = [turn_table(state, k, reveal=True).set_index("outcome").loc[key] for k in played]
        x = list(played)
        ax.bar([i - 0.2 for i in x], [r["without"] for r in rows], 0.4, label="without the teams' choices",
               color="#bbbbbb")
        ax.bar([i + 0.2 for i in x], [r["with"] for r in rows], 0.4, label="with", color="#1f77b4")
        ax.set_title(rows[0]["label"] if rows else key, fontsize=10)
        ax.set_xticks(x, [f"turn {i}" for i in x])
        ax.set_ylabel("kg in the turn")
    axes[0].legend(fontsize=8)
    fig.suptitle("Model output, seed shown; intervals of the differences are in the tables", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- the documents --------------------------------------------------------------------------


def write_report(state: ExerciseState, out: str | Path, workdir: str | Path | None = None, *,
                 engine: str = "processes", workers: int | None = None, seeds: int = 3,
                 on_step: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and the figures into ``out``; return their paths."""
    if not state.played():
        from sim.params import ConfigError

        raise ConfigError("exercise error: no turn has been played: nothing to report")
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    say = on_step or (lambda _text: None)
    say("drawing the figures")
    figures = {"outcomes": outcome_chart(state, out / "figures" / "outcomes.png")}
    for k in range(1, len(state.played()) + 1):
        figures[f"map{k}"] = out / "figures" / f"map_turn{k}.png"
        plt.close(draw_turn_map(state, k, figures[f"map{k}"]))
    say("paired runs with and without each decision")
    attributed = attribution(state, workdir or out / "runs", engine=engine, workers=workers, seeds=seeds)
    sections = report_sections(state, attributed)
    md = markdown(state, sections, figures)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(html_document(state, sections, figures))
    return {"markdown": out / "report.md", "html": out / "report.html", **figures}


def report_sections(state: ExerciseState, attributed: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(title, text, table) of each section, shared by the Markdown and the HTML."""
    preset, played = state.preset, state.played()
    sections = [("Timeline of decisions and injects", "Interventions in force in each turn, injects played at "
                 "its start, the traffickers' posture.", decisions_table(state))]
    for k in range(1, len(played) + 1):
        table = turn_table(state, k, reveal=True)
        table = pd.DataFrame({"figure": table["label"], "with the teams' choices": [fmt(v, u) for v, u in zip(table["with"], table["unit"])],
                              "without": [fmt(v, u) for v, u in zip(table["without"], table["unit"])],
                              "difference": [fmt(v, u) for v, u in zip(table["difference"], table["unit"])],
                              "all seeds: mean difference, 95% interval": [interval_text(r) for _, r in table.iterrows()],
                              "paired runs": table["runs"]})
        sections.append((f"{preset.turn_label(k)}: outcomes against the counterfactual",
                         "The turn's own figures (the run shown), the counterfactual with the same world and seed "
                         "but no team choices, and over all seeds the mean paired difference with its 95% interval.", table))
        entry = entry_table(state, k)
        entry = pd.DataFrame({"entering Kazakhstan via": entry["border"],
                              "with": [fmt(v, "kg") for v in entry["with"]],
                              "without": [fmt(v, "kg") for v in entry["without"]],
                              "difference": [fmt(v, "kg") for v in entry["difference"]],
                              "all seeds: mean difference, 95% interval":
                                  [interval_text({**r, "unit": "kg"}) for _, r in entry.iterrows()]})
        sections.append((f"Turn {k}: displacement", "Where heroin entered Kazakhstan in the turn, with and "
                         "without the teams' choices.", entry))
    costs = spending(state)
    costs["cost_usd"] = [fmt(v, "USD") for v in costs["cost_usd"]]
    costs["budget_usd"] = [fmt(v, "USD") for v in costs["budget_usd"]]
    sections.append(("Costs", "What each team's interventions cost per turn (yearly cost x months per turn / 12; "
                     "sources in the catalogue below).", costs))
    sections.append(("Catalogue: costs and their sources", "", catalogue_table(state)))
    last = played[-1].results["runs"]
    shifts = crossing_shifts(last["shown"]["outcomes"], last["shown-without"]["outcomes"])
    shifts = pd.DataFrame({"crossing": shifts["crossing"], "with (kg, whole exercise)": [fmt(v, "kg") for v in shifts["with"]],
                           "without": [fmt(v, "kg") for v in shifts["without"]],
                           "difference": [fmt(v, "kg") for v in shifts["difference"]]})
    sections.append(("Displacement over the whole exercise", "The crossings whose traffic changed most (the run "
                     "shown with and without the teams' choices).", shifts))
    if len(attributed):
        table = pd.DataFrame({"turn": attributed["turn"], "team": attributed["team"], "decision": attributed["policy"],
                              "figure": attributed["label"],
                              "effect": [fmt(v, u) for v, u in zip(attributed["effect"], attributed["unit"])],
                              "95% interval": [interval_text(r) for _, r in attributed.iterrows()],
                              "paired runs": attributed["runs"]})
        text = ("What the model attributes to each decision: the whole exercise with every decision minus the same "
                "exercise without that one decision (same seeds, paired).")
    else:
        table, text = pd.DataFrame(), "No team bought an intervention: there is no decision to attribute."
    sections.append(("What the model attributes to each decision", text, table))
    return sections


def decisions_table(state: ExerciseState) -> pd.DataFrame:
    preset = state.preset
    rows = []
    for k, turn in enumerate(state.played(), start=1):
        rows.append({"turn": preset.turn_label(k),
                     **{spec.label: ", ".join(turn.purchases.get(team, [])) or "-" for team, spec in preset.teams.items()},
                     "injects": ", ".join(preset.injects[i].label for i in turn.injects) or "-",
                     **({"traffickers": preset.traffickers.postures[turn.posture].label} if turn.posture else {})})
    return pd.DataFrame(rows)


def catalogue_table(state: ExerciseState) -> pd.DataFrame:
    from sim.exercise.preset import cost_source, yearly_cost

    preset = state.preset
    return pd.DataFrame([{"team": spec.label, "intervention": item.policy,
                          "yearly cost": fmt(yearly_cost(preset, item.policy, state.config_dir), "USD"),
                          "source of the cost": cost_source(preset, item.policy)}
                         for spec in preset.teams.values() for item in spec.catalogue])


def markdown(state: ExerciseState, sections, figures: dict[str, Path]) -> str:
    preset = state.preset
    lines = [f"# After-action report: {preset.title}", "", f"> {PROVENANCE_NOTE}", "",
             f"Exercise preset `{preset.name}`, {len(state.played())} of {preset.turns} turns played, seed "
             f"{preset.seed}, {preset.replications} paired replications per turn.", "",
             f"![Outcomes per turn](figures/{figures['outcomes'].name})", ""]
    for title, text, table in sections:
        lines += [f"## {title}", "", *([text, ""] if text else []), _md_table(table), "",
                  f"*{PROVENANCE_NOTE}*", ""]
    for k in range(1, len(state.played()) + 1):
        lines += [f"![Turn {k}: map](figures/{figures[f'map{k}'].name})", ""]
    return "\n".join(lines)


def _md_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "(none)"
    head = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(str(v).replace("|", "/") for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def html_document(state: ExerciseState, sections, figures: dict[str, Path]) -> str:
    preset = state.preset
    parts = [f"<h1>After-action report: {html.escape(preset.title)}</h1>",
             f"<p class='note'>{html.escape(PROVENANCE_NOTE)}</p>", _img(figures["outcomes"], "Outcomes per turn")]
    for title, text, table in sections:
        parts += [f"<h2>{html.escape(title)}</h2>", f"<p>{html.escape(text)}</p>" if text else "",
                  table.to_html(index=False, escape=True, border=0) if len(table) else "<p>(none)</p>",
                  f"<p class='note'>{html.escape(PROVENANCE_NOTE)}</p>"]
    for k in range(1, len(state.played()) + 1):
        parts.append(_img(figures[f"map{k}"], f"Turn {k}: map"))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222} table{border-collapse:collapse}"
             " td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left} .note{color:#666;font-size:0.85em}"
             " img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(preset.title)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"<p><img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'></p>"
