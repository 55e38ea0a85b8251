"""Mass balance: every gram that enters is seized, delivered or still on the road."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from sim.config import with_updates
from sim.model import NorthernRouteModel


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
)
def test_every_gram_is_accounted_for(baseline_params, seed, horizon, supply, staff_rate, deterrence, bribe_share,
                                     patrols, sides, cargo_factor):
    params = with_updates(baseline_params, {
        "horizon_days": horizon, "world.flow.supply_multiplier": supply,
        "world.inspection.inspections_per_officer_day": staff_rate, "world.corruption.deterrence": deterrence,
        "world.corruption.bribe_share_of_value": bribe_share, "world.patrols.south.count": patrols,
        "regime.sides_inspecting": sides, "regime.cargo_inspection_factor": cargo_factor,
    })
    model = NorthernRouteModel(params, rng=seed)
    model.run()
    ledger = model.ledger
    ships = ledger.shipments
    by_outcome = {o: sum(s.grams for s in ships if s.outcome == o) for o in ("seized", "delivered", "in_transit")}
    on_road = sum(c.shipment.grams for c in model.agents if hasattr(c, "shipment"))
    stock = sum(o.stock_g for o in model.organisations)
    received = sum(o.daily_supply_g for o in model.organisations) * horizon

    assert ledger.entered_g == sum(s.grams for s in ships)
    assert ledger.entered_g == ledger.seized_g + ledger.delivered_g + ledger.in_transit_g
    assert ledger.seized_g == by_outcome["seized"]
    assert ledger.delivered_g == by_outcome["delivered"]
    assert ledger.in_transit_g == by_outcome["in_transit"] == on_road
    assert received == ledger.entered_g + stock
