"""The optimisation report: ``report.md`` and ``report.html`` with figures, in the results folder.

Sections: the Pareto front (each allocation's objectives with 95% intervals over posterior
draws x seeds), the baselines in the same terms, the best allocation against each
baseline (paired, with intervals), the price of adaptation (the static optimum's gain as
the MILP predicts it on fixed flows, its gain in the agent model where traffickers adapt,
and the search's best), robustness across the posterior (the share of draws in which an
allocation beats the 2009 allocation) and the displacement each one causes (entry shares
by border, tonnes reaching Russia and the EU); the chosen allocations are drawn on the
route map (:func:`sim.maps.draw_route_map`, posts given officers or equipment ringed).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.exercise.report import _img, _md_table  # noqa: E402  (the exercise report's table and image helpers)
from sim.optimise.baselines import LABELS  # noqa: E402
from sim.optimise.evaluate import REFERENCE  # noqa: E402
from sim.optimise.problem import OBJECTIVES, Allocation  # noqa: E402
from sim.optimise.static import predicted_gain  # noqa: E402
from sim.posterior import nested_interval  # noqa: E402

NOTE = ("Model output, not observed data: differences from the 2009 scenario with nothing added, in the same "
        "posterior draws and seeds (common random numbers); intervals are 95% over draws x seeds.")
ENTRY = (("share_entry_kz_kg", "Kyrgyz border"), ("share_entry_kz_uz", "Uzbek border"), ("share_entry_kz_tm", "Turkmen border"))


def _fmt(value: float, unit: str) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    value = round(value, 2) + 0.0                      # no "-0"
    sign = "-" if value < 0 else ""
    if unit == "USD":
        return f"{sign}${abs(value):,.0f}"
    if unit == "t":
        return f"{value:,.2f} t"
    if unit == "pt":
        return f"{value:,.1f}"
    return f"{value:,.0f} {unit}"


def _interval(d: dict[str, float], unit: str) -> str:
    if math.isnan(d["low"]):
        return _fmt(d["mean"], unit)
    return f"{_fmt(d['mean'], unit)} [{_fmt(d['low'], unit)}, {_fmt(d['high'], unit)}]"


def named_allocations(study) -> dict[str, Allocation]:
    """The front (``best 1`` ...) then the baselines, by the names the report uses."""
    same = {alloc.key: LABELS[name] for name, alloc in study.baselines.items()}
    named = {f"front {i + 1}" + (f" (= {same[h['allocation'].key]})" if h["allocation"].key in same else ""):
             h["allocation"] for i, h in enumerate(study.front)}
    named.update({LABELS[name]: alloc for name, alloc in study.baselines.items()})
    return named


def objectives_table(study, named: dict[str, Allocation]) -> pd.DataFrame:
    ev, problem = study.evaluator, study.problem
    reference_2009 = study.baselines.get("allocation_2009")
    first = problem.objectives[0]
    rows = []
    for name, alloc in named.items():
        row = {"allocation": name, "buys": alloc.describe()}
        if "cost" not in problem.objectives:
            row["cost a year"] = _fmt(ev.cost(alloc), "USD")
        for obj in problem.objectives:
            unit = OBJECTIVES[obj][4]
            row[OBJECTIVES[obj][1]] = _interval(ev.interval(alloc, obj), unit) if OBJECTIVES[obj][0] else _fmt(ev.cost(alloc), unit)
        row[f"robust value ({problem.robustness.measure}) of {first}"] = f"{ev.robust_value(alloc, first, list(study.baselines.values())):,.3g}"
        if reference_2009 is not None:
            row["draws beating the 2009 allocation"] = ("-" if alloc == reference_2009 else
                                                        f"{100 * ev.share_beating(alloc, reference_2009, first):.0f}%")
        rows.append(row)
    return pd.DataFrame(rows)


def versus_baselines(study) -> pd.DataFrame:
    """The front's first allocation minus each baseline, paired in each draw and seed."""
    if not study.front:
        return pd.DataFrame()
    ev, best = study.evaluator, study.front[0]["allocation"]
    rows = []
    for name, alloc in {"2009 as it was": REFERENCE, **{LABELS[k]: v for k, v in study.baselines.items()}}.items():
        row = {"against": name}
        for obj in study.problem.objectives:
            unit = OBJECTIVES[obj][4]
            diff = ev.differences(best, obj) - ev.differences(alloc, obj)
            row[f"{OBJECTIVES[obj][1]}: front 1 minus it"] = (_interval(nested_interval(diff), unit) if OBJECTIVES[obj][0]
                                                               else _fmt(float(diff.mean()), unit))
        rows.append(row)
    return pd.DataFrame(rows)


def price_of_adaptation(study) -> pd.DataFrame:
    """Static optimum predicted (fixed flows) vs realised (adaptive) vs the search's best (adaptive)."""
    if "static" not in study.baselines or not study.front:
        return pd.DataFrame()
    ev, obj = study.evaluator, study.problem.objectives[0]
    if OBJECTIVES[obj][0] is None or obj == "bribes":
        return pd.DataFrame()
    unit = OBJECTIVES[obj][4]
    static, best = study.baselines["static"], study.front[0]["allocation"]
    best_is = " (it is the static optimum: the search found nothing better)" if best == static else ""
    return pd.DataFrame([
        {"what": "static optimum, as the MILP predicts it on the fixed flow map",
         OBJECTIVES[obj][1]: _fmt(predicted_gain(study.static_options, static, study.problem), unit)},
        {"what": "static optimum, in the agent model (traffickers adapt)",
         OBJECTIVES[obj][1]: _interval(ev.interval(static, obj), unit)},
        {"what": f"the search's best (front 1), in the agent model{best_is}",
         OBJECTIVES[obj][1]: _interval(ev.interval(best, obj), unit)},
        {"what": "the search's best, as the MILP would predict it",
         OBJECTIVES[obj][1]: _fmt(predicted_gain(study.static_options, best, study.problem), unit)},
    ])


def displacement_table(study, named: dict[str, Allocation]) -> pd.DataFrame:
    ev = study.evaluator
    rows = []
    for name, alloc in named.items():
        row = {"allocation": name}
        for key, label in ENTRY:
            diff = (ev.matrix(alloc, key) - ev.matrix(REFERENCE, key)) * 100
            row[f"entry via the {label}, change (points)"] = _interval(nested_interval(diff), "pt")
        for key, label in (("kg_reaching_russia", "reaching Russia"), ("kg_reaching_eu", "reaching the EU")):
            diff = (ev.matrix(alloc, key) - ev.matrix(REFERENCE, key)) / 1000
            row[f"{label}, change"] = _interval(nested_interval(diff), "t")
        rows.append(row)
    return pd.DataFrame(rows)


def front_figure(study, path: Path) -> Path:
    """The front on the first two objectives (or the first against cost), baselines beside it."""
    ev, problem = study.evaluator, study.problem
    x_obj = problem.objectives[1] if len(problem.objectives) > 1 else "cost"
    y_obj = problem.objectives[0]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for label, allocs, style in (("Pareto front", [h["allocation"] for h in study.front], dict(color="#1f77b4", marker="o")),
                                 ("baselines", list(study.baselines.values()), dict(color="#d62728", marker="s"))):
        for i, alloc in enumerate(allocs):
            y = ev.interval(alloc, y_obj)
            x = ev.interval(alloc, x_obj) if OBJECTIVES[x_obj][0] is not None else {"mean": ev.cost(alloc), "low": math.nan, "high": math.nan}
            yerr = None if math.isnan(y["low"]) else [[y["mean"] - y["low"]], [y["high"] - y["mean"]]]
            xerr = None if math.isnan(x["low"]) else [[x["mean"] - x["low"]], [x["high"] - x["mean"]]]
            ax.errorbar(x["mean"], y["mean"], yerr=yerr, xerr=xerr, linestyle="none", capsize=3,
                        label=label if i == 0 else None, **style)
    for name, alloc in study.baselines.items():
        ax.annotate(name, (ev.interval(alloc, x_obj)["mean"] if OBJECTIVES[x_obj][0] else ev.cost(alloc),
                           ev.interval(alloc, y_obj)["mean"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(f"{OBJECTIVES[x_obj][1]} (difference from 2009)" if OBJECTIVES[x_obj][0] else OBJECTIVES[x_obj][1])
    ax.set_ylabel(f"{OBJECTIVES[y_obj][1]} (difference from 2009)")
    ax.set_title("Pareto front and baselines: means and 95% intervals (draws x seeds)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def allocation_map(study, alloc: Allocation, name: str, path: Path) -> Path:
    """Mean flows and seizures of an allocation's runs on the route map, its posts ringed."""
    from sim.config import load_params
    from sim.maps import draw_route_map
    from sim.model.network import build_network
    from sim.optimise.problem import scenario_overrides
    from sim.model.policies import with_policy_network
    from sim.sweep import load_details

    runs = study.evaluator.runs[alloc.key]
    ids = set(runs["run_id"])
    flows, seized = [], []
    for stage in sorted((study.evaluator.out / "runs").iterdir()):
        try:
            f, s = load_details(stage, "edge_flows"), load_details(stage, "seized_by_node")
        except FileNotFoundError:
            continue
        flows.append(f[f["run_id"].isin(ids)])
        seized.append(s[s["run_id"].isin(ids)])
    flow, seiz = pd.concat(flows), pd.concat(seized)
    params = with_policy_network(load_params(list(scenario_overrides(study.problem, alloc))))
    nodes, edges = build_network(params.network, params.world.transport).frames()
    fig = draw_route_map(nodes, edges, (flow.groupby(["u", "v"])["kg"].sum() / len(ids)).to_dict(),
                         (seiz.groupby("node")["kg"].sum() / len(ids)).to_dict(), path,
                         title=f"{name}: mean flows and seizures over {len(ids)} runs")
    ax = fig.axes[0]
    others = [f"{n} patrol units in {a}" for a, n in alloc.patrols.items()] + [f"policy {p}" for p in alloc.policies] \
        + [f"{g}={c}" for g, c in alloc.groups.items()]
    fig.text(0.012, 0.035, "Posts given officers (+n) or equipment ringed in green" + ("; also: " + ", ".join(others) if others else ""),
             fontsize=8, color="#2ca02c")
    where = nodes.set_index("id")
    for post in {*alloc.officers, *alloc.equipment}:
        ax.scatter(where.loc[post, "lon"], where.loc[post, "lat"], s=220, facecolors="none", edgecolors="#2ca02c",
                   linewidths=2.0, zorder=9)
        ax.annotate(f"+{alloc.officers.get(post, 0)}" + ("+" + "/".join(alloc.equipment[post]) if post in alloc.equipment else ""),
                    (where.loc[post, "lon"], where.loc[post, "lat"]), fontsize=6.5, color="#2ca02c", zorder=10,
                    xytext=(6, -8), textcoords="offset points")
    fig.savefig(path, dpi=100, facecolor="white")
    plt.close(fig)
    return path


def write_report(study, out: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and their figures into ``out``."""
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    named = named_allocations(study)
    figures = {"front": front_figure(study, out / "figures" / "front.png")}
    for i, h in enumerate(study.front[:3]):
        figures[f"front {i + 1}"] = allocation_map(study, h["allocation"], f"front {i + 1}", out / "figures" / f"map_front{i + 1}.png")
    if "static" in study.baselines:
        figures["static"] = allocation_map(study, study.baselines["static"], LABELS["static"], out / "figures" / "map_static.png")
    sections = report_sections(study, named)
    title = f"Optimisation: {study.problem.name}"
    (out / "report.md").write_text(markdown(title, study, sections, figures))
    (out / "report.html").write_text(html_document(title, study, sections, figures))
    return {"markdown": out / "report.md", "html": out / "report.html", **figures}


def report_sections(study, named: dict[str, Allocation]) -> list[tuple[str, str, pd.DataFrame]]:
    front = {k: v for k, v in named.items() if k.startswith("front")}
    first = OBJECTIVES[study.problem.objectives[0]][1]
    return [
        ("Pareto front", "Allocations no other evaluated allocation beats on every objective, best first objective "
         "first; the robust value is what the search optimised.", objectives_table(study, front)),
        ("Baselines", "The same budget spent by rules of thumb, and the static optimum.",
         objectives_table(study, {k: v for k, v in named.items() if not k.startswith("front")})),
        ("Front 1 against each baseline", "Paired differences in the same draws and seeds.", versus_baselines(study)),
        ("The price of adaptation", f"{first}: what the static plan promises on fixed flows, what it delivers when "
         "traffickers reroute, and what the plan found with them rerouting delivers.", price_of_adaptation(study)),
        ("Displacement", "How each allocation moves entry into Kazakhstan between borders and what still reaches "
         "Russia and the EU.", displacement_table(study, named)),
    ]


def _header(study) -> list[str]:
    p, ev = study.problem, study.evaluator
    runs = sum(len(r) for r in ev.runs.values())
    return [f"Budget ${p.constraints.budget_usd_per_year:,.0f} a year"
            + (f", per agency {p.constraints.agency_budgets_usd_per_year}" if p.constraints.agency_budgets_usd_per_year else "")
            + f"; objectives {', '.join(p.objectives)}; robustness {p.robustness.measure}"
            + (f" (percentile {p.robustness.percentile:g})" if p.robustness.measure == "percentile" else ""),
            f"{len(ev.runs)} allocations evaluated in {runs} runs: {p.uncertainty.posterior_draws} posterior draw(s) x "
            f"{p.uncertainty.seeds} seed(s), {p.horizon_days} days each; search {p.search.population} x "
            f"{p.search.generations} generations, seed {p.search.seed}; scenario {' '.join(p.scenario) or '(baseline)'}."]


def markdown(title: str, study, sections, figures: dict[str, Path]) -> str:
    lines = [f"# {title}", "", *[f"{line}  " for line in _header(study)], "", f"> {NOTE}", "",
             f"![Pareto front](figures/{figures['front'].name})", ""]
    for heading, text, table in sections:
        lines += [f"## {heading}", "", text, "", _md_table(table), ""]
    lines += ["## The chosen allocations on the route map", ""]
    lines += [f"![{name}](figures/{path.name})" for name, path in figures.items() if name != "front"]
    return "\n".join(lines) + "\n"


def html_document(title: str, study, sections, figures: dict[str, Path]) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>", *[f"<p>{html.escape(line)}</p>" for line in _header(study)],
             f"<p class='note'>{html.escape(NOTE)}</p>", _img(figures["front"], "Pareto front")]
    for heading, text, table in sections:
        parts += [f"<h2>{html.escape(heading)}</h2>", f"<p>{html.escape(text)}</p>",
                  table.to_html(index=False, escape=True, border=0) if len(table) else "<p>(none)</p>"]
    parts.append("<h2>The chosen allocations on the route map</h2>")
    parts += [_img(path, name) for name, path in figures.items() if name != "front"]
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222} table{border-collapse:collapse}"
             " td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;font-size:0.9em}"
             " .note{color:#666;font-size:0.85em} img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
