"""The exercise in the browser (Solara): pick an exercise, decide, run the turn, debrief.

One screen for the facilitator. Each turn: every team ticks the interventions in force
that turn (its budget shown beside them), the facilitator may add injects, the
traffickers' team may set a posture; "Run the turn" checks the budgets (over budget: one
message, nothing runs) and plays the turn in a background thread through the sweep
engine's worker processes (:func:`sim.exercise.turns.play_turn`), with a progress bar:
the page stays live. The turn's figures against the counterfactual, its map and the
agencies' view of seizures follow; the ground truth is revealed at the debrief. The
state is saved after every turn to its file; undo drops the last turn; the after-action
report is written beside the state file.

Settings come from :mod:`sim.exercise.cli` through environment variables (the server
imports this module): the state file, the sweep engine and its workers.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import threading
from pathlib import Path

import solara
import solara.lab

from sim.exercise.cli import ENV_CONFIG_DIR, ENV_ENGINE, ENV_STATE, ENV_WORKERS
from sim.exercise.preset import exercise_names, load_exercise, yearly_cost
from sim.exercise.results import PROVENANCE_NOTE, draw_turn_map, entry_table, fmt, interval_text, turn_table
from sim.exercise.state import ExerciseState, new_exercise, open_exercise, turn_cost
from sim.params import ConfigError


exercise: solara.Reactive[ExerciseState | None] = solara.reactive(None)
revision = solara.reactive(0)               # bumped when the state changes in place
purchases: solara.Reactive[dict[str, list[str]]] = solara.reactive({})
injects: solara.Reactive[list[str]] = solara.reactive([])
posture: solara.Reactive[str | None] = solara.reactive(None)
message = solara.reactive("")               # the last error (over budget, bad file ...)
notice = solara.reactive("")                # the last confirmation (saved, undone ...)


def settings() -> dict:
    """The server's settings (set by ``python -m sim exercise``)."""
    workers = os.environ.get(ENV_WORKERS)
    return {"state": os.environ.get(ENV_STATE), "engine": os.environ.get(ENV_ENGINE, "processes"),
            "workers": int(workers) if workers else None, "config_dir": os.environ.get(ENV_CONFIG_DIR) or None}


def default_state_path(preset_name: str) -> Path:
    return Path("exercises") / f"{preset_name}-{dt.datetime.now():%Y%m%d-%H%M%S}.json"


def workdir(state: ExerciseState) -> Path:
    """Where the turn runs and the report of an exercise are kept: beside its state file."""
    return state.path.with_name(state.path.stem + ".runs")


_warm_up: list[threading.Thread] = []


def warm_up_workers() -> None:
    """Start the sweep engine's worker processes while the teams decide the first turn
    (starting them costs seconds, which would otherwise fall on the first turn)."""
    conf = settings()
    if conf["engine"] != "processes" or _warm_up:
        return

    def start_cluster() -> None:
        from sim.sweep.runner import local_client

        local_client(conf["workers"] or os.cpu_count() or 1)

    _warm_up.append(threading.Thread(target=start_cluster, name="exercise-workers", daemon=True))
    _warm_up[0].start()


def touch() -> None:
    revision.value += 1


def start(state: ExerciseState) -> None:
    """Show an exercise; the next turn's choices start from the last turn's."""
    exercise.value = state
    last = state.played()[-1] if state.played() else None
    purchases.value = {team: list(last.purchases.get(team, [])) if last else [] for team in state.preset.teams}
    injects.value = []
    posture.value = (last.posture if last else None) or (state.preset.traffickers.default if state.preset.traffickers else None)
    message.value, notice.value = "", ""
    warm_up_workers()
    touch()


# --- the background work ------------------------------------------------------------------


@solara.lab.task
def run_turn() -> str:
    """Play the decided turn off the UI thread, then draw its map."""
    from sim.exercise.turns import play_turn

    state, conf = exercise.value, settings()
    run_turn.progress = 1
    for thread in _warm_up:
        thread.join()
    before = len(state.played())

    def progress(done: int, total: int) -> None:
        run_turn.progress = max(1, int(100 * done / total))

    try:
        play_turn(state, workdir(state), engine=conf["engine"], workers=conf["workers"], on_progress=progress,
                  on_shown=lambda _turn: touch())
        k = len(state.played())
        path = map_path(state, k)
        draw_turn_map(state, k, path)
        state.turns[-1].results["map_file"] = path.name
        state.save()
    except Exception:
        state.turns = state.turns[:before]      # the failed turn is not kept, on the page or in the file
        state.save()
        raise
    finally:
        touch()
    start(state)
    notice.value = f"Turn {k} played; saved to {state.path}"
    return notice.value


@solara.lab.task
def write_report_task() -> dict:
    from sim.exercise.report import write_report

    state, conf = exercise.value, settings()
    return write_report(state, workdir(state) / "report", workdir(state), engine=conf["engine"], workers=conf["workers"])


def map_path(state: ExerciseState, k: int) -> Path:
    """Where turn k's map goes: named by the turn's runs, so that an undone turn's map is never shown."""
    from sim.exercise.turns import fingerprint, turn_experiments

    runs = turn_experiments(state.preset, state.played()[:k], config_dir=state.config_dir)
    path = workdir(state) / "maps" / f"turn{k}-{fingerprint(runs)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- actions --------------------------------------------------------------------------------


def on_run() -> None:
    state = exercise.value
    message.value, notice.value = "", ""
    try:
        state.decide(purchases.value, injects.value, posture.value)
    except ConfigError as err:
        message.value = str(err)
        return
    run_turn()


def on_undo() -> None:
    state = exercise.value
    try:
        undone = state.undo()
    except ConfigError as err:
        message.value = str(err)
        return
    state.save()
    start(state)
    purchases.value, injects.value, posture.value = undone.purchases, undone.injects, undone.posture
    notice.value = f"Turn {len(state.played()) + 1} undone; its decisions are back on the form. Saved to {state.path}"


def on_save() -> None:
    state = exercise.value
    state.save()
    notice.value = f"Saved to {state.path}"


def on_reveal(value: bool) -> None:
    state = exercise.value
    state.revealed = value
    state.save()
    touch()


# --- components -------------------------------------------------------------------------------


TABLE_CSS = (".turn-figures table {border-collapse: collapse; margin-bottom: 8px}"
             " .turn-figures td, .turn-figures th {padding: 3px 12px; border-bottom: 1px solid #ddd; text-align: right}"
             " .turn-figures td:first-child, .turn-figures th:first-child {text-align: left}")


@solara.component
def Page():
    solara.Title("Northern Route policy exercise")
    solara.Style(TABLE_CSS)
    _ = revision.value
    if exercise.value is None:
        Chooser()
        return
    state = exercise.value
    preset = state.preset
    with solara.Column(style={"max-width": "1200px", "margin": "0 auto", "padding": "12px"}):
        Prose(f"# {preset.title}")
        with solara.Details("Briefing", expand=not state.played()):
            Prose(preset.briefing)
        solara.Text(f"Exercise file: {state.path}", classes=["state-path"])
        if message.value:
            solara.Error(message.value, classes=["exercise-error"])
        if notice.value:
            solara.Success(notice.value)
        if run_turn.error:
            solara.Error(f"The turn failed: {run_turn.exception}")
        if run_turn.pending:
            solara.Text("Running the turn (the run shown first, then the replications)...")
            solara.ProgressLinear(run_turn.progress or True)
        elif not state.finished:
            Decisions(state)
        else:
            solara.Info(f"All {preset.turns} turns are played: reveal the ground truth and write the report.")
        with solara.Row():
            solara.Button("Undo last turn", on_click=on_undo, disabled=run_turn.pending or not state.played())
            solara.Button("Save", on_click=on_save, disabled=run_turn.pending)
            solara.Switch(label="Reveal the ground truth (debrief)", value=state.revealed, on_value=on_reveal)
        for k in range(len(state.played()), 0, -1):
            TurnResults(state, k)
        Debrief(state)


@solara.component
def Prose(text: str):
    """Markdown as HTML (solara.Markdown would load KaTeX, which solara-assets does not ship)."""
    from markdown_it import MarkdownIt

    solara.HTML(tag="div", unsafe_innerHTML=MarkdownIt().render(text))


@solara.component
def Chooser():
    names = exercise_names(settings()["config_dir"])
    chosen = solara.use_reactive(names[0] if names else None)
    saved = solara.use_reactive(settings()["state"] or "")

    def begin():
        try:
            conf = settings()
            target = conf["state"] if conf["state"] and not Path(conf["state"]).exists() else None
            start(new_exercise(chosen.value, target or default_state_path(chosen.value), conf["config_dir"]))
        except ConfigError as err:
            message.value = str(err)

    def reopen():
        try:
            start(open_exercise(saved.value))
        except ConfigError as err:
            message.value = str(err)

    with solara.Column(style={"max-width": "900px", "margin": "0 auto", "padding": "12px"}):
        Prose("# Northern Route policy exercise")
        if message.value:
            solara.Error(message.value, classes=["exercise-error"])
        solara.Select(label="Exercise", values=names, value=chosen)
        if chosen.value:
            preset = load_exercise(chosen.value, settings()["config_dir"])
            Prose(f"**{preset.title}**: {preset.turns} turns of {preset.months_per_turn} months from "
                            f"{preset.start_date:%d %B %Y}; teams: {', '.join(t.label for t in preset.teams.values())}.")
        solara.Button("Start the exercise", on_click=begin, color="primary")
        solara.InputText("Saved exercise (file)", value=saved)
        solara.Button("Open the saved exercise", on_click=reopen)


@solara.component
def Decisions(state: ExerciseState):
    preset = state.preset
    k = len(state.played()) + 1
    Prose(f"## {preset.turn_label(k)} — decisions")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for team, spec in preset.teams.items():
            TeamCard(state, team)
        with solara.Card("Facilitator: injects"):
            for name, inject in preset.injects.items():
                solara.Checkbox(label=inject.label, value=name in injects.value,
                                on_value=lambda on, n=name: _toggle(injects, n, on))
        if preset.traffickers is not None:
            with solara.Card(preset.traffickers.label):
                solara.Select(label="Posture", values=list(preset.traffickers.postures), value=posture)
                if posture.value:
                    solara.Text(preset.traffickers.postures[posture.value].label)
    solara.Button("Run the turn", on_click=on_run, color="primary")


@solara.component
def TeamCard(state: ExerciseState, team: str):
    preset = state.preset
    spec = preset.teams[team]
    chosen = purchases.value.get(team, [])
    cost = turn_cost(preset, chosen, state.config_dir)
    with solara.Card(spec.label):
        for item in spec.catalogue:
            per_turn = yearly_cost(preset, item.policy, state.config_dir) * preset.months_per_turn / 12
            solara.Checkbox(label=f"{item.policy} ({fmt(per_turn, 'USD')} a turn)", value=item.policy in chosen,
                            on_value=lambda on, p=item.policy: _buy(team, p, on))
        colour = "red" if cost > spec.budget_usd_per_turn else "inherit"
        solara.Text(f"{fmt(cost, 'USD')} of {fmt(spec.budget_usd_per_turn, 'USD')} this turn", style={"color": colour})


def _buy(team: str, policy: str, on: bool) -> None:
    current = dict(purchases.value)
    chosen = [p for p in current.get(team, []) if p != policy]
    current[team] = chosen + [policy] if on else chosen
    purchases.value = current


def _toggle(var: solara.Reactive[list[str]], name: str, on: bool) -> None:
    var.value = [n for n in var.value if n != name] + ([name] if on else [])


@solara.component
def TurnResults(state: ExerciseState, k: int):
    preset = state.preset
    with solara.Card(f"{preset.turn_label(k)} — results"):
        solara.HTML(tag="div", unsafe_innerHTML=figures_html(state, k), attributes={"class": "turn-figures"})
        name = state.played()[k - 1].results.get("map_file")
        if name and (workdir(state) / "maps" / name).exists():
            solara.Image(str(workdir(state) / "maps" / name), width="100%")


def figures_html(state: ExerciseState, k: int) -> str:
    """The turn's figures as an HTML table (cells carry data- attributes for the browser tests)."""
    table = turn_table(state, k)
    rows = []
    for _, r in table.iterrows():
        cells = [html.escape(r["label"])]
        for column in ("with", "without", "difference"):
            cells.append(f"<span data-outcome='{r['outcome']}' data-column='{column}'>{fmt(r[column], r['unit'])}</span>")
        cells.append(f"{interval_text(r)} ({r['runs']} paired runs)")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    entry = entry_table(state, k)
    entry_rows = "".join(f"<tr><td>{html.escape(r['border'])}</td><td>{fmt(r['with'], 'kg')}</td><td>"
                         f"{fmt(r['without'], 'kg')}</td><td>{fmt(r['difference'], 'kg')}</td><td>{interval_text({**r, 'unit': 'kg'})}"
                         f"</td></tr>" for _, r in entry.iterrows())
    hidden = "" if state.revealed else "<p><i>Ground-truth seizures are hidden until the debrief.</i></p>"
    head = "<tr><th>figure (this turn)</th><th>with your decisions</th><th>without</th><th>difference</th><th>over all seeds: mean difference, 95% interval</th></tr>"
    return (f"<table>{head}{''.join(rows)}</table>{hidden}"
            f"<p><b>Entering Kazakhstan by border</b></p><table><tr><th>border</th><th>with</th><th>without</th>"
            f"<th>difference</th><th>over all seeds: mean difference, 95% interval</th></tr>{entry_rows}</table>"
            f"<p style='color:#666;font-size:0.85em'>{html.escape(PROVENANCE_NOTE)}</p>")


@solara.component
def Debrief(state: ExerciseState):
    if not state.played():
        return
    with solara.Card("Debrief: after-action report"):
        solara.Button("Write the after-action report", on_click=write_report_task,
                      disabled=write_report_task.pending or run_turn.pending)
        if write_report_task.pending:
            solara.Text("Writing the report (paired runs with and without each decision)...")
            solara.ProgressLinear(True)
        if write_report_task.error:
            solara.Error(f"The report failed: {write_report_task.exception}")
        if write_report_task.finished and write_report_task.value:
            paths = write_report_task.value
            solara.Text(f"Report written: {paths['html']} and {paths['markdown']}", classes=["report-path"])
            solara.FileDownload(lambda: Path(paths["html"]).read_bytes(), filename="after_action_report.html",
                                label="Download the report (HTML)", mime_type="text/html")
