"""The model works with Mesa's own tools."""

from __future__ import annotations

import mesa

from sim.config import with_updates
from sim.model import NorthernRouteModel


def test_batch_run_runs_the_model(short_params):
    params = with_updates(short_params, {"horizon_days": 10})
    results = mesa.batch_run(NorthernRouteModel, parameters={"params": [params]}, max_steps=10,
                             display_progress=False, rng=[1, 2])
    assert len(results) == 2 * 11 or len(results) >= 2
    assert all("kg_seized" in row for row in results)
    assert results[-1]["kg_entered"] > 0
