"""Every mistake a user can type on ``python -m sim`` ends in one line naming it, exit
code 2, and no run directory: checked in-process through :func:`sim.cli.main`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.cli import main

REPO = Path(__file__).resolve().parents[1]

#: (arguments, text the one line must contain): each was silently accepted, crashed,
#: hung or printed a multi-line Hydra error before.
BAD_RUNS = [
    # keys the schema does not know, added with '+' (Hydra itself suggests the '+' form)
    (["+horizon_day=30"], "+horizon_day=30: unknown key 'horizon_day' (did you mean 'horizon_days'?)"),
    (["+seeed=3"], "+seeed=3: unknown key 'seeed' (did you mean 'seed'?)"),
    (["+foo=1"], "+foo=1: unknown key 'foo'"),
    (["+world.flow.heroin_tonnes=5"], "world.flow.heroin_tonnes: unknown key"),
    (["+report.foo=1"], "report.foo: unknown key (known: engine, replications)"),
    (["+output.foo=1"], "output.foo: unknown key (known: events, plots)"),
    # contradictory choices
    (["+policy=[us_assistance_fy05,us_assistance_fy08]"],
     "us_assistance_fy05 and us_assistance_fy08 both set world.policies.budget.us_assistance_usd"),
    (["preset=us_assistance_fy05", "+policy=[us_assistance_fy08]"],
     "both set world.policies.budget.us_assistance_usd"),
    (["+shock=[supply_shock_2016,supply_surge_2021]"], "both set world.flow.supply_multiplier"),
    (["+policy=[green_zone_kyrgyz]", "world.policies.green_zone.enabled=false"],
     "world.policies.green_zone.enabled=false switches off the policy 'green_zone_kyrgyz'"),
    (["preset=green_zone_kyrgyz", "world.policies.green_zone.enabled=false"],
     "world.policies.green_zone.enabled=false switches off the policy 'green_zone_kyrgyz'"),
    (["horizon_days=365", "horizon_days=30"], "horizon_days: given twice"),
    (["regime.name=customs_union"], "choose the regime with regime=customs_union"),
    # run settings
    (["report.engine=bogus"], "report.engine: Input should be 'serial' or 'processes'"),
    (["report.engine=dask"], "report.engine"),
    (["report.replications=-1"], "report.replications: Input should be greater than or equal to 0"),
    (["report.replications=1.5"], "report.replications"),
    (["output.plots=maybe"], "output.plots: Input should be a valid boolean"),
    # an organisation type with no organisations would drop its share of the heroin
    (["world.organisations.tajik_networks.count=0"],
     "world.organisations.tajik_networks.count: 0 organisations cannot carry flow_share 0.35"),
    # numbers that are not finite, or absurd
    (["world.flow.supply_multiplier=inf"], "world.flow.supply_multiplier: Input should be a finite number"),
    (["world.flow.supply_multiplier=nan"], "world.flow.supply_multiplier: Input should be a finite number"),
    (["world.inspection.officer_corruptibility_concentration=inf"],
     "world.inspection.officer_corruptibility_concentration: Input should be a finite number"),
    (["world.economics.price_usd_per_kg.russia=1e300"], "world.economics.price_usd_per_kg.russia"),
    (["horizon_days=1e9"], "horizon_days=1000000000"),
    (["world.flow.heroin_kg_per_year=1e12"], "world.flow.heroin_kg_per_year=1000000000000"),
    (["horizon_days=0"], "horizon_days: Input should be greater than or equal to 1"),
    (["horizon_days=2.5"], "horizon_days"),
    (["seed=-1"], "seed: Input should be greater than or equal to 0"),
    (["seed=abc"], "seed: Input should be a valid integer"),
    # Hydra-level mistakes, with the nearest valid name
    (["world.corruption.deterence=0.5"], "unknown key 'deterence' at world.corruption (did you mean 'deterrence'?)"),
    (["world.flow.heroin_tonnes=5"], "unknown key 'heroin_tonnes' at world.flow"),
    (["regime=custom_union"], "regime=custom_union: no regime named 'custom_union' (did you mean 'customs_union'?)"),
    (["+policy=[green_zone_kyrgz]"], "no policy named 'green_zone_kyrgz' (did you mean 'green_zone_kyrgyz'?)"),
    (["preset=nonexistent"], "preset=nonexistent: no preset named 'nonexistent' (known: anti_corruption_unit"),
    (["+shock=supply_surge"], "no shock named 'supply_surge' (did you mean 'supply_surge_2021'?)"),
    (["policy=green_zone_kyrgyz"], "add it with +policy=green_zone_kyrgyz"),
    (["seed=[1"], "seed=[1: cannot parse"),
    (["=3"], "=3: an override needs a key"),
    (["world.flow=3"], "world.flow: Input should be a valid dictionary"),
    (["~network"], "network: Field required"),
    # a boolean where a number goes, an empty mapping that Hydra would merge into nothing
    (["horizon_days=true"], "horizon_days: a number is required, not a boolean"),
    (["world.organisations.tajik_networks.markets.ru_moscow=true"], "ru_moscow: a number is required"),
    (["world.organisations={}"], "world.organisations={}: an empty mapping changes nothing"),
    (["world.policies.green_zone.segments.kz_kg_chui=true"], "add a new entry with +world.policies.green_zone.segments"),
    (["+briefing.title=x"], "briefing lacks represents"),
    # every job of a multirun is checked before the first one starts
    (["-m", "seed=1,2", "+foo=1"], "+foo=1: unknown key 'foo'"),
    (["-m", "regime=two_sided,custom_union"], "no regime named 'custom_union'"),
    (["-m", "seed=-1,2"], "seed: Input should be greater than or equal to 0"),
]


def _one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("args, message", BAD_RUNS, ids=[" ".join(a) for a, _ in BAD_RUNS])
def test_a_bad_run_argument_is_one_line_exit_2_and_no_run_directory(tmp_path, capsys, args, message):
    run_dir = tmp_path / "run"
    code = main([*args, f"hydra.run.dir={run_dir}", f"hydra.sweep.dir={tmp_path / 'multi'}"])
    line = _one_line(capsys)
    assert code == 2
    assert message in line
    assert "Traceback" not in line
    assert not run_dir.exists() and not (tmp_path / "multi").exists()


def test_an_absurd_size_is_refused_with_what_it_would_cost(tmp_path, capsys):
    assert main(["horizon_days=1000000000", f"hydra.run.dir={tmp_path}/run"]) == 2
    line = _one_line(capsys)
    from sim.config import load_params
    from sim.params import estimate_run_cost

    shipments = estimate_run_cost(10**9, load_params().world.flow.heroin_kg_per_year)[0]
    assert f"{shipments / 1e9:.1f} billion shipments" in line and "days of computing" in line and "TB of memory" in line


@pytest.fixture()
def user_config_dir(tmp_path):
    """A user's own config directory: a policy with its package line, one without, a regime."""
    root = tmp_path / "my_scenarios"
    (root / "policy").mkdir(parents=True)
    body = "world:\n  policies:\n    green_zone:\n      enabled: true\n      segments:\n        kz_kg_chui: true\n"
    (root / "policy" / "my_zone.yaml").write_text("# @package _global_\n" + body)
    (root / "policy" / "my_zone_no_package.yaml").write_text(body)
    (root / "policy" / "broken.yaml").write_text("# @package _global_\nworld: {policies: [1,\n")
    return root


def test_a_policy_file_without_the_global_package_line_is_refused(user_config_dir, tmp_path, capsys):
    code = main(["--config-dir", str(user_config_dir), "+policy=[my_zone_no_package]", f"hydra.run.dir={tmp_path}/run"])
    assert code == 2
    assert "'# @package _global_'" in _one_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_misspelt_option_of_a_users_config_dir_gets_the_nearest_name(user_config_dir, tmp_path, capsys):
    code = main(["--config-dir", str(user_config_dir), "+policy=[my_zon]", f"hydra.run.dir={tmp_path}/run"])
    assert code == 2
    assert "no policy named 'my_zon' (did you mean 'my_zone'?)" in _one_line(capsys)


def test_a_yaml_syntax_error_in_a_policy_file_is_one_line(user_config_dir, tmp_path, capsys):
    code = main(["--config-dir", str(user_config_dir), "+policy=[broken]", f"hydra.run.dir={tmp_path}/run"])
    assert code == 2
    line = _one_line(capsys)
    assert "malformed YAML" in line and "broken.yaml" in line


def test_a_yaml_syntax_error_in_the_world_file_is_one_line(tmp_path, capsys, monkeypatch):
    import sim.config as config

    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", scenarios)
    world = scenarios / "world" / "baseline_2009.yaml"
    world.write_text(world.read_text().replace("flow:", "flow: [", 1))
    monkeypatch.setattr(config, "SCENARIOS_DIR", scenarios)
    assert main([f"hydra.run.dir={tmp_path}/run"]) == 2
    line = _one_line(capsys)
    assert "malformed YAML" in line and "baseline_2009.yaml" in line


@pytest.mark.parametrize("args, message", [
    (["regime=custom_union"], "did you mean 'customs_union'?"),
    (["+foo=1"], "+foo=1: unknown key 'foo'"),
    (["world.flow.supply_multiplier=inf"], "finite number"),
])
def test_provenance_refuses_what_a_run_refuses(capsys, args, message):
    assert main(["provenance", *args]) == 2
    assert message in _one_line(capsys)


def test_provenance_shows_the_admissible_range_of_each_number(capsys):
    assert main(["provenance", "supply_multiplier"]) == 0
    out = capsys.readouterr().out
    assert "world.flow.supply_multiplier = 1  plausible [" in out
    assert "admissible [0, 10]" in out


def test_a_sweep_horizon_too_large_to_finish_is_refused_before_any_run(tmp_path, capsys):
    code = main(["sweep", str(REPO / "scenarios" / "sweep" / "example.yaml"), "--horizon-days", "1000000000",
                 "--engine", "serial", "--out", str(tmp_path / "sweep")])
    assert code == 2
    line = _one_line(capsys)
    assert "horizon_days=1000000000" in line and "shipments" in line
    assert not (tmp_path / "sweep").exists()


def test_a_bad_compare_override_is_one_line_before_any_run(tmp_path, capsys):
    code = main(["compare", "green_zone_kyrgyz", "--override", "world.flow.supply_multiplier=inf", "--replications", "1",
                 "--horizon-days", "2", "--engine", "serial", "--no-maps", "--out", str(tmp_path / "cmp")])
    assert code == 2
    assert "world.flow.supply_multiplier: Input should be a finite number" in _one_line(capsys)
    assert not (tmp_path / "cmp").exists()
