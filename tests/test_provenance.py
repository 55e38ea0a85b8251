"""Every number in the configs says where it comes from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.config import compose_config, config_to_dict
from sim.provenance import load_registry, lookup, uncited

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REGIMES = ("two_sided", "single_inspection", "customs_union")


@pytest.mark.parametrize("regime", REGIMES)
def test_every_number_has_a_source_or_is_a_labelled_assumption(regime):
    config = config_to_dict(compose_config([f"regime={regime}"]))
    assert uncited(config) == []


def test_registry_entries_give_exactly_one_of_source_or_assumption():
    for entry in load_registry():
        assert bool(entry.source) != bool(entry.assumption), entry.key


def test_the_most_specific_entry_wins():
    assert "¶18" in lookup("world.conveyances.truck.courier_pay_usd_per_km").citation
    assert lookup("world.conveyances.car.courier_pay_usd_per_km").citation.startswith("ASSUMPTION")


def test_cited_seed_files_exist():
    if not SEEDS.is_dir():
        pytest.skip("shared/seeds is not beside this checkout")
    names = set()
    for entry in load_registry():
        names.update(re.findall(r"\d{3}_[0-9a-f]{16}\.txt", entry.source or ""))
    assert names and all((SEEDS / n).exists() for n in names)
