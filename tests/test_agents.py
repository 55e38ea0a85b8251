"""The agents' rules: organisations learn and choose, posts screen, officers weigh bribes."""

from __future__ import annotations

import numpy as np
import pytest

from crews import courier_at_leg_one, post_with_one_crew
from sim.config import with_updates
from sim.model import NorthernRouteModel
from sim.model.agents import BRIBED, CLEARED, CONVEYANCE_INDEX, PASSED, SEIZED


@pytest.fixture
def model(short_params):
    params = with_updates(short_params, {"world.policies.controlled_deliveries.enabled": False, "transit": "reference"})
    return NorthernRouteModel(params, rng=1)


def _an_organisation(model, org_type="kyrgyz_networks"):
    return next(o for o in model.organisations if o.org_type == org_type)


def test_a_loss_makes_that_node_look_riskier_for_that_conveyance(model):
    org = _an_organisation(model)
    node, car = model.network.index["kz_korday"], CONVEYANCE_INDEX["car"]
    before = org.risk[node].copy()
    org.learn_from_loss((), node, car)
    assert org.risk[node, car] > before[car]
    others = [i for i in range(len(before)) if i != car]
    assert np.array_equal(org.risk[node, others], before[others])


def test_a_delivery_makes_the_route_look_safer(model):
    org = _an_organisation(model)
    route = org.menus[next(iter(org.menus))].routes[0]
    c = CONVEYANCE_INDEX[route.conveyance]
    passed = list(route.nodes[1:])
    before = org.risk[passed, c].copy()
    org.learn_from_delivery(route)
    after = org.risk[passed, c]
    assert np.all(after <= before) and np.any(after < before)


def test_route_choice_moves_away_from_a_node_where_loads_were_lost(model):
    org = _an_organisation(model)
    market = "kz_almaty"
    menu = org.menus[market]
    korday = model.network.index["kz_korday"]
    uses_korday = np.array([korday in r.nodes for r in menu.routes])
    assert uses_korday.any() and not uses_korday.all()

    def share_via_korday():
        picks = [org.choose_route(market)[0] for _ in range(1000)]
        return np.mean([korday in r.nodes for r in picks])

    before = share_via_korday()
    for _ in range(20):                          # a belief of about 9% loss there (from 1%)
        for c in range(org.risk.shape[1]):
            org.learn_from_loss((), korday, c)
    after = share_via_korday()
    assert after < before - 0.1                  # 1,000 picks each: a standard error of about 0.02


def test_a_post_that_inspects_and_finds_seizes_from_an_honest_officer(model):
    post, _ = post_with_one_crew(model, p_inspect=1.0, p_detect=1.0, corruptibility=0.0)
    courier = courier_at_leg_one(model, _an_organisation(model))
    assert courier.pass_post(post, post.node, 0.5) is SEIZED
    assert model.ledger.seized_g == 5000


def test_a_post_that_never_inspects_lets_loads_pass(model):
    post, _ = post_with_one_crew(model, p_inspect=0.0, p_detect=1.0)
    assert courier_at_leg_one(model, _an_organisation(model)).pass_post(post, post.node, 0.5) is PASSED


def test_an_inspection_that_finds_nothing_clears_the_load(model):
    post, _ = post_with_one_crew(model, p_inspect=1.0, p_detect=0.0)
    assert courier_at_leg_one(model, _an_organisation(model)).pass_post(post, post.node, 0.5) is CLEARED
    assert post.inspections == 1


def test_a_corrupt_undeterred_officer_takes_a_large_bribe(short_params):
    params = with_updates(short_params, {"world.corruption.deterrence": 0.0, "world.corruption.bribe_scale_usd": 1.0,
                                         "transit": "reference"})
    model = NorthernRouteModel(params, rng=2)
    post, _ = post_with_one_crew(model, p_inspect=1.0, p_detect=1.0, corruptibility=1.0)
    courier = courier_at_leg_one(model, next(iter(model.organisations)))
    assert courier.pass_post(post, post.node, 0.5) is BRIBED
    assert model.ledger.bribes_count == 1
    assert model.ledger.shipments_frame()["bribes_usd"].iloc[courier.shipment] > 0


def test_patrols_go_where_loads_were_found(model):
    patrol = model.patrols.to_list()[0]
    hot = patrol.area[-1]
    for day in range(20):
        patrol.note_find(day * 0.1, hot)
    visits = 0
    for _ in range(300):
        patrol.choose_position()
        visits += patrol.position == hot
    assert visits / 300 > 0.6


@pytest.mark.parametrize("transit", ["reference", "fast"])
def test_organisations_send_what_they_receive(short_params, transit):
    model = NorthernRouteModel(with_updates(short_params, {"transit": transit}), rng=3)
    model.run()
    supplied = sum(org.daily_supply_g for org in model.organisations) * short_params.horizon_days
    passed_on = sum(org.passed_on_g for org in model.organisations)
    assert sum(org.received_g for org in model.organisations) == supplied + passed_on   # disruption moves heroin, never loses it
    ships = model.ledger.shipments_frame()
    for org in model.organisations:
        sent = ships.loc[ships["organisation"] == org.unique_id, "grams"].sum()
        assert sent + org.stock_g + org.passed_on_g == org.received_g


def test_couriers_come_from_the_nationalities_organisations_recruit(short_params):
    model = NorthernRouteModel(short_params, rng=4)
    model.run()
    ships = model.ledger.shipments_frame()
    for org_type, spec in short_params.world.organisations.items():
        seen = set(ships.loc[ships["org_type"] == org_type, "nationality"].astype(str))
        assert seen and seen <= set(spec.courier_nationalities)


class _Traveller:
    def __init__(self, name, log, queue=None, again=None):
        self.name, self.log, self.queue, self.again = name, log, queue, again

    def arrive(self, day):
        self.log.append((self.name, day))
        if self.again is not None:
            self.queue.schedule(self, self.again)
            self.again = None


def test_arrivals_run_in_time_order_ties_first_scheduled_first_and_stop_before_until():
    from sim.model.arrivals import Arrivals

    queue, log = Arrivals(), []
    queue.schedule(_Traveller("late", log), 0.9)
    queue.schedule(_Traveller("a", log), 0.5)
    queue.schedule(_Traveller("b", log), 0.5)
    queue.schedule(_Traveller("next day", log), 1.0)
    queue.schedule(_Traveller("again", log, queue, again=0.95), 0.2)   # its next leg is due today too
    queue.run_until(1.0)
    assert log == [("again", 0.2), ("a", 0.5), ("b", 0.5), ("late", 0.9), ("again", 0.95)]
    assert len(queue) == 1 and queue.peek() == 1.0
