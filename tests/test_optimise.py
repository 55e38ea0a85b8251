"""The optimiser (python -m sim optimise): costs, constraints, a known optimum, resume, determinism.

One small problem whose optimum is known: two blocks of 100 officers to share between two
posts, the busiest entry into Kazakhstan (Zhibek Zholy, on the Uzbek border) and the remote
Turkmen border post (Temirbaba, which sees almost nothing): both belong at Zhibek Zholy. Runs are
60 days in the serial engine, so the whole study takes seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim.sweep.runner as runner
from sim.sweep import SweepInterrupted
from sim.model import NorthernRouteModel
from sim.optimise.cli import main_optimise
from sim.optimise.costs import bill, officer_year_usd, total_cost, violations
from sim.optimise.problem import Allocation, load_problem, base_params
from sim.optimise.search import repair
from sim.optimise.study import run_study

BUSY, QUIET = "kz_zhibek_zholy", "kz_temirbaba"


def one_block_problem(**changes) -> dict:
    problem = {
        "name": "one_block",
        "scenario": ["transit=fast"],
        "horizon_days": 60,
        "decision": {"officers": {"posts": [QUIET, BUSY], "block": 100, "max_blocks": 2}},
        "constraints": {"budget_usd_per_year": 2 * 100 * 12_000 + 100_000},   # two blocks (an officer-year: $12,000)
        "objectives": ["kg_seized"],
        "uncertainty": {"posterior_draws": 1, "seeds": 1},
        "search": {"population": 6, "generations": 2, "seed": 5},
        "baselines": ["static"],
        "quick": {"horizon_days": 20, "population": 2, "generations": 1},
    }
    problem.update(changes)
    return problem


def write(tmp_path: Path, data: dict, name: str = "problem.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def one_block(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one_block")
    # 8 seeds: one seed's 60 days can leave the busy post's extra seizures within the noise
    # (the recalibrated baseline's seed 0: +0.2 kg; over 8 seeds about +230 kg, the quiet post's +20)
    problem = load_problem(write(folder, one_block_problem(uncertainty={"posterior_draws": 1, "seeds": 8})))
    study = run_study(problem, folder / "out", engine="serial", progress=False, say=lambda _t: None)
    return problem, study, folder


def test_officers_and_equipment_added_at_a_post_reach_its_crew(short_params):
    from sim.config import with_updates

    params = with_updates(short_params, {"world.deployment.officers_added": {BUSY: 15},
                                         "world.deployment.equipment_added": {BUSY: ["endoscope"]}})
    before = NorthernRouteModel(short_params, rng=1)
    after = NorthernRouteModel(params, rng=1)
    i = before.network.index[BUSY]
    old, new = before.posts[i].sides[0], after.posts[i].sides[0]
    assert new.staff == old.staff + 15
    assert new.capacity == pytest.approx(old.capacity * new.staff / old.staff)
    assert len(new.officers) == len(old.officers) + 15
    assert all(n >= o for n, o in zip(new.p_detect, old.p_detect)) and new.p_detect != old.p_detect


def test_costs_add_up_from_the_configs(tmp_path):
    data = one_block_problem(decision={
        "officers": {"posts": [BUSY], "block": 10, "max_blocks": 3},
        "equipment": {"posts": [BUSY], "methods": ["endoscope"]},
        "patrols": {"areas": {"south": {}}},
        "policies": {"inl_checkpoints": "MVD police"}})
    problem = load_problem(write(tmp_path, data))
    params = base_params(problem)
    world = params.world
    alloc = Allocation(officers={BUSY: 30}, equipment={BUSY: ("endoscope",)}, patrols={"south": 2},
                       policies=("inl_checkpoints",))
    expected = (30 * world.corruption.officer_wage_usd_per_month * 12 * world.deployment.officer_cost_factor
                + world.deployment.equipment_usd_per_post_year["endoscope"]
                + 2 * world.deployment.patrol_unit_usd_per_year
                + world.policies.inl_checkpoints.cost_usd_per_year)
    items = bill(problem, params, alloc)
    assert total_cost(items) == pytest.approx(expected)
    assert officer_year_usd(world) == 12_000          # $500 a month x 12 x 2.0 in the baseline config
    spent = {i.agency for i in items}
    assert "MVD police" in spent and "KNB border service" in spent


def test_repair_keeps_every_allocation_within_the_total_and_agency_budgets(tmp_path):
    posts = ["kz_korday", "kz_zhaisan", "kz_kyzyltu", BUSY]
    data = one_block_problem(
        decision={"officers": {"posts": posts, "block": 10, "max_blocks": 8},
                  "equipment": {"posts": posts, "methods": ["scanner", "canine", "endoscope"]},
                  "patrols": {"areas": {"south": {}}, "max_units": 10}},
        constraints={"budget_usd_per_year": 1_500_000, "agency_budgets_usd_per_year": {"KZ customs": 300_000},
                     "minimum_officers_added": {"kz_kyzyltu": 20}})
    problem = load_problem(write(tmp_path, data))
    params = base_params(problem)
    rng = np.random.default_rng(3)
    for _ in range(25):
        alloc = Allocation(officers={p: 10 * int(rng.integers(2 if p == "kz_kyzyltu" else 0, 9)) for p in posts},
                           equipment={p: tuple(m for m in ("scanner", "canine", "endoscope") if rng.random() < 0.5)
                                      for p in posts},
                           patrols={"south": int(rng.integers(0, 11))})
        fixed = repair(problem, params, alloc)
        items = bill(problem, params, fixed)
        assert not violations(problem, items)
        assert total_cost(items) <= 1_500_000
        assert sum(i.usd_per_year for i in items if i.agency == "KZ customs") <= 300_000
        assert fixed.officers.get("kz_kyzyltu", 0) >= 20


def test_milp_and_search_both_put_the_block_where_the_loads_pass(one_block):
    problem, study, _ = one_block
    assert study.baselines["static"].officers == {BUSY: 200}
    best = study.front[0]["allocation"]
    assert best.officers == {BUSY: 200}                        # ranked first of all the search tried
    assert study.front[0]["values"][0] > 0
    tried = {h["allocation"].key for h in study.history}
    assert len(tried) >= 3                                     # it did compare it with others
    others = [h for h in study.history if h["allocation"] != best]
    assert all(h["values"][0] < study.front[0]["values"][0] for h in others)


def test_no_returned_allocation_breaks_the_budget(one_block):
    problem, study, _ = one_block
    params = study.evaluator.params
    for h in [*study.history, *({"allocation": a} for a in study.baselines.values())]:
        assert not violations(problem, bill(problem, params, h["allocation"]))


def test_a_rerun_finds_every_run_stored_and_runs_nothing(one_block, monkeypatch):
    problem, study, folder = one_block
    calls = []
    original = runner.run_experiment
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: calls.append(a) or original(*a, **k))
    again = run_study(problem, folder / "out", engine="serial", progress=False, say=lambda _t: None)
    assert calls == []
    assert [h["allocation"].key for h in again.front] == [h["allocation"].key for h in study.front]


def test_an_interrupted_study_resumes_and_gives_the_same_front(one_block, tmp_path, monkeypatch):
    """Killed at its third run, then rerun: only the runs not stored run, and the same seed gives
    the same candidates and front as the uninterrupted study."""
    problem, study, _ = one_block
    total = sum(len(runs) for runs in study.evaluator.runs.values())
    original, calls = runner.run_experiment, []

    def stop_at_the_third(*args, **kwargs):
        calls.append(args[0].run_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(runner, "run_experiment", stop_at_the_third)
    with pytest.raises(SweepInterrupted):
        run_study(problem, tmp_path / "out", engine="serial", progress=False, say=lambda _t: None)
    kept = calls[:2]
    calls.clear()
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: calls.append(a[0].run_id) or original(*a, **k))
    resumed = run_study(problem, tmp_path / "out", engine="serial", progress=False, say=lambda _t: None)
    assert len(calls) == total - 2 and not set(calls) & set(kept)
    assert [h["allocation"].key for h in resumed.history] == [h["allocation"].key for h in study.history]
    assert [h["values"] for h in resumed.front] == [h["values"] for h in study.front]


@pytest.mark.parametrize("change, message", [
    ({"objectives": ["kept_from_moscow"]}, "objectives: unknown objective 'kept_from_moscow'"),
    ({"decision": {"officers": {"posts": ["kz_nowhere"]}}}, "decision.officers.posts: unknown node 'kz_nowhere'"),
    ({"decision": {"officers": {"posts": ["kz_almaty"]}}}, "'kz_almaty' is a market, not a post"),
    ({"decision": {"officers": {"posts": ["kz_inl_semey_north"]}}}, "not in service"),
    ({"decision": {"officers": {"posts": [BUSY], "blok": 5}}}, "unknown key (did you mean 'block'?)"),
    ({"decision": {"groups": {"regime": ["two_sided", "custom_union"]}}}, "unknown choice 'custom_union'"),
    ({"decision": {"policies": {"budget_restored": None}}}, "costs nothing over the scenario"),
    ({"constraints": {"budget_usd_per_year": -5}}, "constraints.budget_usd_per_year"),
    ({"robustness": {"measure": "median"}}, "robustness.measure"),
    ({"constraints": {"budget_usd_per_year": 1000, "minimum_officers_added": {BUSY: 100}}},
     "constraints.budget_usd_per_year: minimum staffing alone exceeds it"),
])
def test_bad_configs_exit_2_with_one_line(tmp_path, capsys, change, message):
    path = write(tmp_path, one_block_problem(**change))
    code = main_optimise([str(path), "--out", str(tmp_path / "out"), "--engine", "serial"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_a_missing_or_broken_file_exits_2(tmp_path, capsys):
    assert main_optimise([str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert main_optimise([str(broken)]) == 2
    assert "not valid YAML (line" in capsys.readouterr().err


def test_quick_command_line_writes_the_report_with_a_group_lever(tmp_path):
    data = one_block_problem(decision={"officers": {"posts": [QUIET, BUSY], "block": 100, "max_blocks": 1},
                                       "groups": {"adaptation": ["none", "recent_seizures"]}},
                             baselines=["uniform", "static"], objectives=["kept_from_russia", "cost"])
    path = write(tmp_path, data)
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "sim", "optimise", str(path), "--quick", "--engine", "serial",
                           "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = (out / "report.md").read_text()
    for heading in ("## Pareto front", "## Baselines", "## The price of adaptation", "## Displacement",
                    "## The chosen allocations on the route map"):
        assert heading in text
    assert "adaptation=" in text                               # the agencies' rule is part of every allocation
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (out / "figures" / "front.png").stat().st_size > 10_000
    assert {p.name for p in (out / "runs").iterdir()} >= {"reference", "baselines"}
