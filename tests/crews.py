"""Test helpers: a post whose crew inspects and finds with given chances, a courier on its way.

The agents are views of the run's state (sim/model/state.py): a crew is set up by writing
its row, as the model's rules do when they derive a post's crew.
"""

from __future__ import annotations

from sim.model.agents import Checkpoint, Courier, Officer


def post_with_one_crew(model, p_inspect: float, p_detect: float, corruptibility: float = 0.0) -> tuple[Checkpoint, Officer]:
    """The first post, left with one crew of one officer: fixed chances to inspect and to find a load,
    no watchers; the officer's corruptibility as given."""
    post = next(p for p in model.posts if p is not None)
    for side in post.sides[1:]:
        model._let_go(side, 0)
    post.sides = post.sides[:1]
    for watchers in post.surveillance:
        model._let_go(watchers, 0)
    post.surveillance = []
    posts, sides = model.state.posts, model.state.sides
    posts.n_sides[post.node], posts.n_watchers[post.node] = 1, 0
    side = post.sides[0]
    model._let_go(side, 1)
    side.licit_traffic = 0.0                       # no licit traffic to screen: the fixed chances apply
    sides.p_inspect[post.node, 0] = p_inspect
    sides.p_detect[post.node, 0] = p_detect
    officer = side.officers[0]
    officer.corruptibility = corruptibility
    return post, officer


def courier_at_leg_one(model, org, grams: int = 5000, market: str | None = None) -> Courier:
    """A courier of ``org`` that left for the first route of its menu to ``market`` and is at its first node."""
    market = market or next(iter(org.menus))
    route = model.routes.menu_row(org.menus[market])
    route = model.routes.arrays.entry_route[model.routes.arrays.menu_start[route]]
    courier = Courier(model, org, int(route), grams, model.ledger.nationalities.code("KZ"), departure=float(model.day))
    courier.shipment = model.ledger.record_dispatch(org.row, courier.conveyance, courier.node_at(0), courier.market,
                                                    grams, courier.nationality, 0, courier.departure)
    courier.leg = 1                               # not in the queue: the test moves it itself
    return courier
