"""Mass balance: every gram that enters is seized, delivered or still on the road, and
every gram organisations received was sent, is held in stock, or was lost when their
people were arrested.

The ledger's ``in_transit`` is entered - seized - delivered by definition, so checking it
against itself proves nothing. These tests count what is really on the road (the
couriers still travelling) and what organisations really received, with every policy
mechanism that moves or re-reports heroin switched on.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from sim.config import load_params, with_updates
from sim.model import NorthernRouteModel
from sim.run import simulate

ALL_POLICIES = "+policy=[controlled_deliveries,green_zone_kyrgyz,green_zone_uzbek,uav_surveillance,dedicated_checkpoints]"


def _on_the_road(model) -> dict[int, int]:
    """Shipment id -> grams, for every courier still travelling (from the engine's queue, not the ledger)."""
    return model.loads_on_road()


def _assert_balanced(model, summary=None) -> None:
    ledger = model.ledger
    ships = ledger.shipments_frame()
    by_outcome = {o: int(ships.loc[ships["outcome"] == o, "grams"].sum()) for o in ("seized", "delivered", "in_transit")}
    on_road = _on_the_road(model)
    in_transit_ids = set(ships.loc[ships["outcome"] == "in_transit", "shipment_id"].tolist())
    stock = sum(o.stock_g for o in model.organisations)

    assert ledger.entered_g == int(ships["grams"].sum())
    assert ledger.seized_g == by_outcome["seized"]
    assert ledger.delivered_g == by_outcome["delivered"]
    assert set(on_road) == in_transit_ids                   # the loads the ledger thinks travel, travel
    assert sum(on_road.values()) == by_outcome["in_transit"] == ledger.in_transit_g
    assert ledger.supplied_g == ledger.entered_g + stock        # disruption moves heroin to rivals, never loses it
    assert ledger.supplied_g == sum(o.received_g - o.passed_on_g for o in model.organisations)   # handed on, not lost
    if summary is not None:
        assert summary["kg_in_transit"] * 1000 == sum(on_road.values())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31 - 1),
    horizon=st.integers(5, 45),
    supply=st.floats(0.2, 2.0),
    staff_rate=st.floats(0.0, 20.0),
    deterrence=st.floats(0.0, 1.0),
    bribe_share=st.floats(0.0, 0.6),
    patrols=st.integers(0, 15),
    sides=st.integers(1, 2),
    cargo_factor=st.floats(0.0, 1.0),
    let_run=st.floats(0.0, 1.0),
    success=st.floats(0.0, 1.0),
    disruption_days=st.integers(0, 30),
    recycle=st.floats(0.0, 1.0),
    policies=st.booleans(),
)
def test_every_gram_is_accounted_for(seed, horizon, supply, staff_rate, deterrence, bribe_share, patrols, sides,
                                     cargo_factor, let_run, success, disruption_days, recycle, policies):
    base = load_params([ALL_POLICIES] if policies else [])
    kz_posts = [n.id for n in base.network.nodes if n.country == "KZ" and n.kind == "border_checkpoint"]
    params = with_updates(base, {
        "horizon_days": horizon, "world.flow.supply_multiplier": supply,
        "world.inspection.inspections_per_officer_day": staff_rate, "world.corruption.deterrence": deterrence,
        "world.corruption.bribe_share_of_value": bribe_share, "world.patrols.south.count": patrols,
        "regime.sides_inspecting": sides, "regime.cargo_inspection_factor": cargo_factor,
        "world.policies.controlled_deliveries.let_run_prob": let_run,
        "world.policies.controlled_deliveries.success_prob": success,
        "world.policies.controlled_deliveries.disruption_days": disruption_days,
        "world.corruption.false_couriers.posts": kz_posts,
        "world.corruption.false_couriers.recycle_share": recycle,
    })
    model = NorthernRouteModel(params, rng=seed)
    model.run()
    _assert_balanced(model)


def test_the_balance_holds_on_every_day_with_controlled_deliveries_and_disruption(baseline_params):
    """Checked after each day, not only at the end, with heavy disruption (heroin reassigned)."""
    params = with_updates(load_params([ALL_POLICIES]), {
        "horizon_days": 40, "world.policies.controlled_deliveries.let_run_prob": 1.0,
        "world.policies.controlled_deliveries.success_prob": 1.0,
        "world.policies.controlled_deliveries.countries": ["TJ", "KG", "UZ", "TM", "KZ", "RU"],
    })
    model = NorthernRouteModel(params, rng=7)
    while model.running:
        model.step()
        _assert_balanced(model)
    assert model.ledger.reassigned_g > 0 and model.ledger.controlled_seized > 0
    daily = model.datacollector.get_model_vars_dataframe()
    assert daily["couriers_on_road"].iloc[-1] == len(_on_the_road(model))


def test_summary_and_daily_series_agree_with_the_shipment_table(short_params):
    result = simulate(with_updates(short_params, {"horizon_days": 30}), seed=3)
    ships, s, last = result.shipments, result.summary, result.daily.iloc[-1]
    grams = lambda outcome: ships.loc[ships["outcome"] == outcome, "grams"].sum()  # noqa: E731
    assert round(s["kg_seized"] * 1000) == grams("seized") and round(s["kg_delivered"] * 1000) == grams("delivered")
    assert round(s["kg_in_transit"] * 1000) == grams("in_transit")
    for key in ("kg_entered", "kg_seized", "kg_delivered", "kg_in_transit", "seizures", "bribes"):
        assert last[key] == s[key], key
    daily = result.daily
    assert (daily["kg_entered"] - daily["kg_seized"] - daily["kg_delivered"] - daily["kg_in_transit"]).abs().max() < 1e-6
    assert daily["kg_entered"].is_monotonic_increasing and daily["kg_seized"].is_monotonic_increasing
