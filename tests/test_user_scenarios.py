"""A user's own scenarios: a config folder outside the repository, network changes, new posts."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.brief import main_brief, main_presets
from sim.cli import main as sim_main
from sim.config import SCENARIOS_DIR, config_dir_overrides, load_params, params_from_config, with_updates
from sim.model import NorthernRouteModel
from sim.model.network import apply_network_changes
from sim.params import ConfigError
from sim.model.policies import enabled_policies, policy_cost_usd_per_year
from sim.sweep import run_experiments
from sim.sweep.design import build_experiments, load_sweep

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "my_scenarios"
GUIDE = REPO / "docs" / "own_scenarios.md"

SUPPLY_POLICY = """# @package _global_
world:
  flow:
    supply_multiplier: 1.5
"""


@pytest.fixture
def user_dir(tmp_path):
    """A user's folder outside the repository: the worked example plus one small policy."""
    folder = tmp_path / "my_scenarios"
    shutil.copytree(EXAMPLE, folder)
    (folder / "policy" / "more_supply.yaml").write_text(SUPPLY_POLICY)
    return folder


@pytest.fixture(scope="module")
def example_params():
    return load_params(["preset=ayagoz_highway_post"], config_dir=str(EXAMPLE))


# --- the config folder --------------------------------------------------------------


def test_load_params_composes_a_policy_from_the_users_folder(user_dir):
    assert load_params(["+policy=[more_supply]"], config_dir=user_dir).world.flow.supply_multiplier == 1.5


def test_a_user_file_named_like_a_repository_file_is_refused_naming_both(user_dir):
    (user_dir / "policy" / "inl_checkpoints.yaml").write_text(SUPPLY_POLICY)
    with pytest.raises(ConfigError) as err:
        load_params(["+policy=[inl_checkpoints]"], config_dir=user_dir)
    message = str(err.value)
    assert str(user_dir / "policy" / "inl_checkpoints.yaml") in message
    assert str(SCENARIOS_DIR / "policy" / "inl_checkpoints.yaml") in message
    assert "\n" not in message


def test_a_missing_config_folder_is_one_line_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"--config-dir .*nowhere: no such folder"):
        load_params([], config_dir=tmp_path / "nowhere")


def test_the_run_command_refuses_a_shadowing_file_with_exit_2(user_dir, capsys):
    (user_dir / "policy" / "green_zone_kyrgyz.yaml").write_text(SUPPLY_POLICY)
    assert sim_main(["--config-dir", str(user_dir), "horizon_days=5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "green_zone_kyrgyz.yaml" in err and "rename yours" in err


def test_the_run_command_uses_the_users_preset_in_its_replications_too(user_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "--config-dir", str(user_dir), "preset=ayagoz_highway_post", "horizon_days=20",
         "report.replications=1", "report.engine=serial", "output.plots=false", "output.events=false",
         f"hydra.run.dir={run_dir}"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = pd.read_json(run_dir / "summary.json", typ="series")
    in_force = policy_cost_usd_per_year(load_params().world)          # what the 2009 baseline already pays
    assert summary["outcomes"]["policy_cost_usd"] == pytest.approx((in_force + 1_500_000) * 20 / 365)
    assert "5-95% interval over 2 runs" in done.stdout   # the replication with the user's preset ran


def test_presets_and_brief_list_the_users_presets(user_dir, capsys):
    assert main_presets(["--names", "--config-dir", str(user_dir)]) == 0
    names = capsys.readouterr().out.split()
    assert "ayagoz_highway_post" in names and "baseline_2009" in names
    assert main_presets(["--policies", "--config-dir", str(user_dir)]) == 0
    assert {"ayagoz_highway_post", "more_supply", "inl_checkpoints"} <= set(capsys.readouterr().out.split())
    assert main_brief(["ayagoz_highway_post", "--config-dir", str(user_dir)]) == 0
    assert "# A new highway checkpoint at Ayagoz" in capsys.readouterr().out
    assert main_brief(["ayagoz_highway_post"]) == 2     # not a repository preset
    assert "unknown preset 'ayagoz_highway_post'" in capsys.readouterr().err


def test_provenance_lists_the_numbers_of_the_users_scenario(user_dir, capsys):
    from sim.cli import main_provenance

    assert main_provenance(["posts", "preset=ayagoz_highway_post", "--config-dir", str(user_dir)]) == 0
    out = capsys.readouterr().out
    assert "world.policies.posts.kz_ayagoz_post.cost_usd_per_year = 1.5e+06" in out and "ASSUMPTION" in out


def test_the_model_takes_the_users_folder_as_a_keyword(user_dir):
    model = NorthernRouteModel(preset="ayagoz_highway_post", config_dir=str(user_dir), horizon_days=1, rng=0)
    assert model.posts[model.network.index["kz_ayagoz_post"]] is not None
    assert model.world.policies.posts["kz_ayagoz_post"].agency == "MVD highway police"


def test_a_sweep_composes_every_lever_with_the_users_folder(user_dir, tmp_path):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text("name: mine\nlevers:\n  base: []\n  more: ['+policy=[more_supply]']\nhorizon_days: 30\n")
    sweep = load_sweep(sweep_file, config_dir=user_dir)
    assert all(levers[0] == config_dir_overrides(user_dir)[0] for levers in sweep.levers.values())
    table = run_experiments(build_experiments(sweep), engine="serial", progress=False)
    assert set(table["status"]) == {"ok"}
    entered = table.set_index("lever")["kg_entered"]
    assert 1.35 < entered["more"] / entered["base"] < 1.7      # 1.5x the supply (30 days: 1.51-1.56 over six seeds)
    with pytest.raises(ConfigError, match=r"levers.more: .*more_supply"):
        build_experiments(load_sweep(sweep_file))     # without the folder, the lever's policy is unknown


def test_the_sweep_command_takes_the_config_dir(user_dir, tmp_path, capsys):
    from sim.sweep.cli import main as sweep_main

    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text("name: mine\nlevers:\n  more: ['+policy=[more_supply]']\nhorizon_days: 5\n")
    assert sweep_main([str(sweep_file), "--dry-run", "--config-dir", str(user_dir)]) == 0
    assert f"file://{user_dir}" in capsys.readouterr().out


def test_the_scenarios_environment_variable_replaces_the_repository_folder(tmp_path):
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS_DIR, scenarios)
    config = scenarios / "config.yaml"
    config.write_text(config.read_text().replace("horizon_days: 365", "horizon_days: 17"))
    code = "from sim.config import SCENARIOS_DIR, load_params; print(SCENARIOS_DIR, load_params().horizon_days)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NORTHERN_ROUTE_SCENARIOS": str(scenarios)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(scenarios), "17"]


# --- network changes ------------------------------------------------------------------


NEW_NODE = {"id": "kz_new_post", "name": "New post", "country": "KZ", "lat": 47.96, "lon": 80.44,
            "kind": "internal_checkpoint", "price_zone": "kazakhstan", "source": "ASSUMPTION: test"}


def _with_changes(baseline_params, **change):
    data = baseline_params.model_dump(mode="json")
    data["network"]["changes"] = {"test": change}
    return params_from_config(data)


def _edges(params):
    return {frozenset((e.u, e.v)): e for e in params.network.edges}


def test_split_edges_puts_a_node_on_a_road_and_shares_its_length(baseline_params):
    params = _with_changes(baseline_params, add_nodes=[NEW_NODE],
                           split_edges=[{"u": "kz_almaty", "v": "kz_semey", "via": "kz_new_post"}])
    edges = _edges(params)
    assert frozenset(("kz_almaty", "kz_semey")) not in edges
    first, second = edges[frozenset(("kz_almaty", "kz_new_post"))], edges[frozenset(("kz_new_post", "kz_semey"))]
    assert first.modes == second.modes == ("road", "rail")
    assert first.km + second.km == pytest.approx(1050) and first.km > second.km   # Ayagoz is nearer Semey
    assert len(params.network.nodes) == len(baseline_params.network.nodes) + 1


def test_update_remove_and_add_edges_change_the_network(baseline_params):
    params = _with_changes(baseline_params, update_nodes={"kz_kyzyltu": {"profile": "kz_inl", "agency": "KNB"}},
                           remove_edges=[["kg_bishkek", "kz_karasu"]],
                           add_edges=[{"u": "kz_taraz", "v": "kz_balkhash", "modes": ["road"], "km": 700}])
    node = next(n for n in params.network.nodes if n.id == "kz_kyzyltu")
    assert (node.profile, node.agency, node.kind) == ("kz_inl", "KNB", "internal_checkpoint")
    edges = _edges(params)
    assert frozenset(("kg_bishkek", "kz_karasu")) not in edges
    assert edges[frozenset(("kz_taraz", "kz_balkhash"))].km == 700


def test_a_config_without_changes_gives_the_same_network(baseline_params):
    data = baseline_params.network.model_dump(mode="json")
    assert apply_network_changes(data) == data


@pytest.mark.parametrize("change, message", [
    ({"add_nodes": [{**NEW_NODE, "id": "kz_almaty"}]}, r"network.changes.test.add_nodes.0: duplicate node id 'kz_almaty'"),
    ({"add_nodes": [{**NEW_NODE, "lat": 123}]}, r"network.changes.test.add_nodes.0: lat: Input should be less than or equal to 90"),
    ({"update_nodes": {"kz_nowhere": {"active": True}}}, r"network.changes.test.update_nodes.kz_nowhere: unknown node 'kz_nowhere'"),
    ({"update_nodes": {"kz_kyzyltu": {"staff": 3}}}, r"network.changes.test.update_nodes.kz_kyzyltu: staff: unknown key"),
    ({"remove_edges": [["kz_almaty", "kz_oskemen"]]}, r"network.changes.test.remove_edges.0: no link kz_almaty-kz_oskemen"),
    ({"add_edges": [{"u": "kz_taraz", "v": "kz_atlantis", "modes": ["road"]}]},
     r"network.changes.test.add_edges.0.v: unknown node 'kz_atlantis'"),
    ({"add_edges": [{"u": "kz_korday", "v": "kz_almaty", "modes": ["road"]}]},
     r"network.changes.test.add_edges.0: link kz_korday-kz_almaty is already in the network"),
    ({"split_edges": [{"u": "kz_almaty", "v": "kz_semey", "via": "kz_new_post"}]},
     r"network.changes.test.split_edges.0.via: unknown node 'kz_new_post'"),
    ({"split_edges": [{"u": "kz_almaty", "v": "kz_semey"}]}, r"network.changes.test.split_edges.0: give \{u, v, via\}"),
    ({"add_node": [NEW_NODE]}, r"network.changes.test.add_node: unknown change \(known: add_nodes"),
])
def test_a_bad_network_change_is_one_line_naming_the_entry(baseline_params, change, message):
    with pytest.raises(ConfigError, match=message) as err:
        _with_changes(baseline_params, **change)
    assert "\n" not in str(err.value)


# --- a post of one's own ------------------------------------------------------------------


def test_the_example_post_is_switched_on_with_its_own_agency_and_cost(example_params):
    world = example_params.world
    baseline = load_params().world                              # the policies in force in 2009 stay as they are
    assert set(enabled_policies(world)) - set(enabled_policies(baseline)) == {"post:kz_ayagoz_post"}
    assert not world.policies.inl_checkpoints.enabled          # not booked as an INL checkpoint
    assert policy_cost_usd_per_year(world) - policy_cost_usd_per_year(baseline) == 1_500_000
    model = NorthernRouteModel(example_params, horizon_days=1, rng=0)
    post = model.network.node("kz_ayagoz_post")
    assert (post.active, post.profile, post.agency) == (True, "kz_highway_post", "MVD highway police")
    assert model.posts[model.network.index["kz_ayagoz_post"]] is not None


def test_the_example_post_inspects_the_loads_on_its_road(example_params):
    model = NorthernRouteModel(example_params, horizon_days=120, rng=0, keep_events=False)
    model.run()
    post = model.posts[model.network.index["kz_ayagoz_post"]]
    assert post.inspections >= 3 and post.seized_g > 0
    flows = model.ledger.edge_flows_kg()
    assert flows.get(("kz_almaty", "kz_ayagoz_post"), 0) > 1000    # loads use the split road


def test_a_post_switched_off_stays_an_inactive_node_and_costs_nothing(example_params):
    off = with_updates(example_params, {"world.policies.posts.kz_ayagoz_post.enabled": False})
    baseline = load_params().world
    assert policy_cost_usd_per_year(off.world) == policy_cost_usd_per_year(baseline)
    assert enabled_policies(off.world) == enabled_policies(baseline)
    model = NorthernRouteModel(off, horizon_days=1, rng=0)
    assert model.posts[model.network.index["kz_ayagoz_post"]] is None


@pytest.mark.parametrize("update, message", [
    ({"world.policies.posts": {"kz_almaty": {"enabled": True, "profile": "kz_inl", "agency": "x", "cost_usd_per_year": 1}}},
     r"world.policies.posts.kz_almaty: node 'kz_almaty' is a market, not a border_checkpoint or internal_checkpoint"),
    ({"world.policies.posts": {"kz_nowhere": {"enabled": True, "profile": "kz_inl", "agency": "x", "cost_usd_per_year": 1}}},
     r"world.policies.posts.kz_nowhere: unknown node 'kz_nowhere'"),
    ({"world.policies.posts.kz_ayagoz_post.profile": "kz_highway"},
     r"world.policies.posts.kz_ayagoz_post.profile: unknown inspection profile 'kz_highway'"),
])
def test_a_bad_post_is_refused_naming_it(example_params, update, message):
    with pytest.raises(ConfigError, match=message):
        with_updates(example_params, update)


# --- the worked example of docs/own_scenarios.md ------------------------------------------


def _guide_command(word: str) -> list[str]:
    lines = [line for line in GUIDE.read_text().splitlines() if line.startswith(f"python -m sim {word} ")]
    assert len(lines) == 1, f"docs/own_scenarios.md should show one 'python -m sim {word}' command"
    return shlex.split(lines[0])[4:]


def test_the_guides_compare_command_runs_and_the_new_post_seizes(user_dir, tmp_path, capsys):
    args = [str(user_dir) if a == "docs/examples/my_scenarios" else a for a in _guide_command("compare")]
    assert "--config-dir" in args and "--replications" in args
    assert sim_main(["compare", *args, "--out", str(tmp_path / "cmp"), "--engine", "serial", "--quiet", "--no-maps"]) == 0
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv").set_index("scenario")
    assert set(runs.index) == {"baseline_2009", "ayagoz_highway_post"} and len(runs) == 4
    assert (runs.loc["ayagoz_highway_post", "kg_seized_agency_mvd_highway_police"] > 0).all()
    assert runs.loc["baseline_2009", "kg_seized_agency_mvd_highway_police"].fillna(0).eq(0).all()
    assert (runs.loc["ayagoz_highway_post", "policy_cost_usd"] > 0).all()
    assert "A new highway checkpoint at Ayagoz" in (tmp_path / "cmp" / "brief.md").read_text()
    assert f"--config-dir {user_dir}" in (tmp_path / "cmp" / "comparison.json").read_text()


def test_the_guides_brief_command_prints_the_users_briefing(capsys):
    args = _guide_command("brief")
    assert sim_main(["brief", *[str(REPO / a) if a.startswith("docs/examples/") else a for a in args]]) == 0
    assert "this user's assumptions" in capsys.readouterr().out
