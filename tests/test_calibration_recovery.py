"""The calibration recovers parameters it is given: synthetic targets made by the model itself.

Two parameters (the flow volume and the inspection rate) are set to known values; the
model's own outcomes at those values become the targets; ABC-SMC, starting from the
provenance priors and running every simulation through the sweep engine (serial here),
must put its posterior median near the truth. Tolerances: flow within 10% (kilos
entering pin it down), inspection rate within 35% of the truth and its 90% credible
interval must contain the truth. Short horizon and small populations keep it ~20 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.abc_smc import weighted_quantile
from calibration.calibrate import fit_abc
from calibration.runner import run_points
from calibration.settings import Parameter, Settings
from calibration.targets import Target, TargetSet

TRUTH = {"world.flow.heroin_kg_per_year": 80000.0, "world.inspection.inspections_per_officer_day": 3.0}
HORIZON = 60


def settings_for(population: int, batch: int, generations: int) -> Settings:
    parameters = (
        Parameter("world.flow.heroin_kg_per_year", 60000.0, 120000.0, "scenarios/provenance.yaml"),
        Parameter("world.inspection.inspections_per_officer_day", 0.5, 6.0, "scenarios/provenance.yaml"),
    )
    abc = {"population": population, "batch": batch, "generations": generations, "horizon_days": HORIZON,
           "predictive_runs": 4, "seed": 11}
    return Settings(mode="quick", parameters=parameters, base_overrides=(), abc=abc, kernel_scale=2.0,
                    min_acceptance=0.0, sensitivity={}, sensitivity_outputs=())


@pytest.mark.slow
def test_abc_smc_recovers_known_flow_and_inspection_rate_from_the_models_own_outputs(baseline_params):
    settings = settings_for(population=30, batch=60, generations=2)
    truth = np.array([TRUTH[p.key] for p in settings.parameters])
    # the "observed" facts: the model's own outcomes at the true parameters (mean of 4 seeds)
    runs = run_points(settings, np.tile(truth, (4, 1)), [101, 102, 103, 104], tag="truth",
                      horizon_days=HORIZON, engine="serial", progress=False)
    # (since issue 9 patrols, UAVs and controlled deliveries seize too, so seizures alone pin the
    # inspection rate down less: the inspections made at all border posts are a target as well)
    inspections = tuple(k for k in runs.columns if k.startswith("inspections_border_"))
    fitted = ((("kg_entered",), 0.03), (("kg_seized",), 0.15), (("seizures",), 0.15), (inspections, 0.15))
    targets = TargetSet(tuple(
        Target(name=keys[0] if len(keys) == 1 else "inspections", description=" + ".join(keys), role="fit",
               value=float(runs[list(keys)].sum(axis=1).mean()), sd=float(runs[list(keys)].sum(axis=1).mean()) * rel,
               unit="kg", period="synthetic", source="synthetic (the model itself) ¶0", outputs=keys)
        for keys, rel in fitted))

    result = fit_abc(settings, targets, baseline_params, np.random.default_rng(5), engine="serial", log=lambda _: None)

    final = result.final
    values = settings.from_unit(final.points)
    flow = weighted_quantile(values[:, 0], final.weights, [0.05, 0.5, 0.95])
    rate = weighted_quantile(values[:, 1], final.weights, [0.05, 0.5, 0.95])
    assert abs(flow[1] / TRUTH["world.flow.heroin_kg_per_year"] - 1) < 0.10, flow
    assert abs(rate[1] / TRUTH["world.inspection.inspections_per_officer_day"] - 1) < 0.35, rate
    assert rate[0] <= TRUTH["world.inspection.inspections_per_officer_day"] <= rate[2], rate
    # the search narrowed: the tolerance fell and the inspection rate's interval is well inside its prior
    epsilons = result.history()["epsilon"].to_numpy()
    assert epsilons[-1] < epsilons[0]
    assert rate[2] - rate[0] < 0.6 * (6.0 - 0.5)


def test_abc_smc_finds_the_mean_of_a_gaussian_toy_problem():
    """The algorithm alone (no model): posterior of a normal mean, known in closed form."""
    from calibration.abc_smc import abc_smc

    rng = np.random.default_rng(3)
    true = np.array([0.3, 0.7])

    def simulate(points, generation):
        noisy = points + rng.normal(0, 0.05, points.shape)
        return np.sqrt(((noisy - true) ** 2).sum(axis=1)) / 0.05, pd.DataFrame({"g": [generation] * len(points)})

    result = abc_smc(simulate, 2, population=200, batch=400, generations=4, rng=rng, log=lambda _: None)
    final = result.final
    for k in range(2):
        lo, med, hi = weighted_quantile(final.points[:, k], final.weights, [0.05, 0.5, 0.95])
        assert abs(med - true[k]) < 0.04 and lo < true[k] < hi and hi - lo < 0.3
    assert np.isclose(final.weights.sum(), 1.0) and final.ess > 30
