"""Bad input gets one clear line naming the problem, a non-zero exit, no complete-looking output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import load_params, with_updates
from sim.params import ConfigError

REPO = Path(__file__).resolve().parents[1]


def _run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("override, message", [
    ("world.corruption.deterrence=1.7", "world.corruption.deterrence: Input should be less than or equal to 1"),
    ("world.conveyances.car.size.median_kg=-3", "world.conveyances.car.size.median_kg: Input should be greater than 0"),
    ("world.patrols.south.area=[nowhere]", "world.patrols.south.area: unknown node 'nowhere'"),
    ("world.organisations.kyrgyz_networks.origins=[kz_almaty]", "is a market, not an origin"),
    ("world.organisations.kyrgyz_networks.flow_share=0.9", "shares sum to"),
])
def test_bad_values_fail_with_one_line_naming_the_key(tmp_path, override, message):
    result = _run_cli(override, "report.replications=0", f"hydra.run.dir={tmp_path}/run", cwd=REPO)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "run" / "summary.json").exists()


def test_an_unknown_key_is_refused_by_hydra(tmp_path):
    result = _run_cli("world.flow.heroin_tonnes=5", f"hydra.run.dir={tmp_path}/run", cwd=REPO)
    assert result.returncode != 0
    assert "heroin_tonnes" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_config_group_option_is_an_error():
    with pytest.raises(ConfigError, match="regime"):
        load_params(["regime=open_border"])


def test_a_misspelt_key_in_a_fast_update_is_an_error(baseline_params):
    with pytest.raises(ConfigError, match="unknown key 'detterence'"):
        with_updates(baseline_params, {"world.corruption.detterence": 0.3})


def test_a_malformed_yaml_file_is_an_error(tmp_path, monkeypatch):
    import shutil

    import sim.config as config

    scen = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", scen)
    (scen / "regime" / "two_sided.yaml").write_text("name: two_sided\nsides_inspecting: [1, \n")
    monkeypatch.setattr(config, "SCENARIOS_DIR", scen)
    with pytest.raises(ConfigError, match="config error"):
        load_params()
