"""Shared fixtures: configs composed with Hydra's compose API, as users compose them."""

from __future__ import annotations

import logging

import pytest

from sim.config import load_params, with_updates

logging.getLogger("MESA").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def baseline_params():
    """The baseline scenario as the CLI would compose it."""
    return load_params()


@pytest.fixture(scope="session")
def short_params(baseline_params):
    """The baseline for 60 days: enough traffic to see every mechanism, quick to run."""
    return with_updates(baseline_params, {"horizon_days": 60})


@pytest.fixture(scope="session")
def network_dict(baseline_params):
    """The baseline network as plain data, for building broken variants."""
    return baseline_params.network.model_dump(mode="json")
