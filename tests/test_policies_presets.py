"""Preset scenarios: each composes, is cited, changes what it says, and has a briefing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.brief import briefing_markdown, list_policies, list_presets, load_briefing
from sim.config import compose_config, config_to_dict, load_params, params_from_config
from sim.params import ConfigError
from sim.model.policies import enabled_policies
from sim.provenance import uncited

REPO = Path(__file__).resolve().parents[1]
PRESETS = list_presets()


@pytest.fixture(scope="module")
def baseline():
    return load_params()


def test_the_issue_asks_for_these_presets():
    wanted = {"baseline_2009", "green_zone_kyrgyz", "dedicated_checkpoints", "anti_corruption_unit",
              "regime_single_inspection", "regime_customs_union", "mobile_patrols_south", "inl_checkpoints",
              "uav_surveillance", "controlled_deliveries", "budget_restored", "us_assistance_fy05",
              "supply_shock_2016", "supply_surge_2021", "supply_surge_2021_with_package"}
    assert wanted <= set(PRESETS)
    assert sum(name.startswith("package_") for name in PRESETS) >= 2


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_composes_is_cited_and_has_a_briefing(name, baseline):
    config = compose_config([f"preset={name}"])
    params = params_from_config(config)            # the briefing block does not upset validation
    assert uncited(config_to_dict(config)) == []
    brief = load_briefing(name)
    assert brief.title and brief.represents and brief.sources and brief.look_at
    assert any(".txt" in s for s in brief.sources)  # cites a seed document
    text = briefing_markdown(config)
    assert brief.title in text and "policies in force" in text
    if name not in ("baseline_2009", "us_assistance_fy08"):   # FY08 is the baseline's own level
        assert params != baseline, f"preset {name} changes nothing"


def test_package_presets_combine_policies():
    params = load_params(["preset=supply_surge_2021_with_package"])
    assert params.world.flow.supply_multiplier == 1.5
    assert set(enabled_policies(params.world)) >= {"green_zone", "dedicated_checkpoints", "anti_corruption_unit",
                                                   "inl_checkpoints", "controlled_deliveries"}
    assert set(params.world.policies.green_zone.segments) == {"kz_kg_chui", "kz_kg_talas", "kz_uz_steppe"}
    safeguards = load_params(["preset=package_customs_union_safeguards"])
    assert safeguards.regime.name == "customs_union" and safeguards.world.policies.uav_surveillance.enabled


def test_a_preset_takes_further_overrides_and_policies():
    params = load_params(["preset=regime_customs_union", "+policy=[anti_corruption_unit]", "horizon_days=30"])
    assert params.regime.name == "customs_union" and params.horizon_days == 30
    assert enabled_policies(params.world) == ["anti_corruption_unit", "border_reinforcement", "uav_surveillance",
                                              "controlled_deliveries", "budget"]   # with what was in force in 2009


def test_every_policy_config_composes_alone(baseline):
    for name in list_policies():
        params = load_params([f"+policy=[{name}]"])
        assert params != baseline or name == "us_assistance_fy08", name


def test_briefing_of_a_name_and_of_a_non_preset_config():
    assert "# Twice the controlled deliveries" in briefing_markdown("controlled_deliveries")
    assert briefing_markdown(compose_config([])) is None
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        briefing_markdown("nope")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_cli_lists_presets_and_prints_a_briefing():
    listed = _cli("presets")
    assert listed.returncode == 0
    assert all(name in listed.stdout for name in PRESETS)
    brief = _cli("brief", "green_zone_kyrgyz")
    assert brief.returncode == 0 and "002_3aa904e3dc1761f0.txt ¶9" in brief.stdout
    bad = _cli("brief", "atlantis")
    assert bad.returncode == 2 and "unknown preset 'atlantis'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_preset_run_directory_holds_its_briefing(tmp_path):
    result = _cli("preset=anti_corruption_unit", "horizon_days=10", "report.replications=0", "output.plots=false",
                  "output.events=false", f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "run" / "briefing.md").read_text()
    assert "# Interagency anti-corruption unit" in text and "Preset `anti_corruption_unit`" in text
