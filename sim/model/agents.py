"""The agents of the Northern Route and their rules, in the order a load meets them.

- :class:`TraffickingOrganisation` receives heroin from northern Afghanistan, plans loads
  (market, route, conveyance, size), sends couriers and learns from what it sees.
- :class:`Courier` carries one load along its route and owns what happens to it at each
  node (:meth:`Courier.meet`): the mobile patrols there, the post's watchers and crew (or
  the officer its organisation pays), a find, the bribe offered, the officer's choice,
  the seizure or the controlled delivery, and the investigation that follows a seizure.
- :class:`Checkpoint` is a post (official checkpoint, green-border stretch, internal
  checkpoint, city police) with one or two :class:`PostSide` crews of :class:`Officer`,
  and the :class:`Watchers` of a green zone or UAV units.
- :class:`MobilePatrol` moves among the southern crossings and roads, drawn to where
  loads were recently found; each is run by one agency (border guards, customs or
  police: 002_3aa904e3dc1761f0.txt ¶6).

This module is the readable statement of the rules and the *reference engine*: each hop
of each courier is one Python call (:class:`sim.model.arrivals.Arrivals`). The fast
engine (:mod:`sim.engine`) runs the same rules compiled, over the same state, and draws
the same random numbers in the same order: the two give the same run to the gram
(``tests/test_engine.py``), so a change to a rule here is made there too.

The agents' changing state lives in the run's tables (:mod:`sim.model.state`): an
attribute declared ``Column(...)`` is a view of the agent's row. Probabilities come from
:mod:`sim.model.inspection`, bribes and deterrence from :mod:`sim.model.corruption`,
beliefs from :mod:`sim.model.beliefs`, random numbers from :mod:`sim.model.draws` (every
agent and post its own stream); what the policies in force set is
:class:`sim.model.policies.PolicySettings`; bookkeeping goes to the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numba
import numpy as np

from sim.model import inspection
from sim.model.beliefs import LossBeliefs
from sim.model.corruption import bribe_acceptance_probability, bribe_offer_usd, staging_probability
from sim.model.draws import beta_variate, first_to_fire, index_below, weighted_index
from sim.model.economics import load_grams, staged_grams
from sim.model.ledger import (CONTROLLED_LET_RUN, CONTROLLED_SEIZED, CONTROLLED_SEIZED_G, GROUPS_SHUT,
                              ORGANISATION_DAYS_DISRUPTED, ROUTES_SHUT, SEIZURE_OFFICER_DAYS,
                              STAGINGS_UNCOVERED)
from sim.model.routing import Route, RouteMenu, choose_route
from sim.model.state import Column
from sim.model.states import Outcome
from sim.params import CONVEYANCES

if TYPE_CHECKING:
    from sim.model.model import NorthernRouteModel

CONVEYANCE_INDEX = {c: i for i, c in enumerate(CONVEYANCES)}
PASSED, PROTECTED, CLEARED, BRIBED, SEIZED = (Outcome.PASSED, Outcome.PROTECTED, Outcome.CLEARED,
                                              Outcome.BRIBED, Outcome.SEIZED)
#: which outcome a passage is recorded with when several things happened at one node
SEVERITY = {PASSED: 0, CLEARED: 1, PROTECTED: 2, BRIBED: 3, SEIZED: 4}


def worse(a: Outcome, b: Outcome) -> Outcome:
    """The outcome a passage is recorded with when several things happened at one node."""
    return a if SEVERITY[a] >= SEVERITY[b] else b


class TraffickingOrganisation(mesa.Agent):
    """A trafficking network: plans loads, chooses routes by expected profit, learns.

    Its beliefs are Beta-Bernoulli posteriors of the chance of losing a load at each node
    with each conveyance (:class:`sim.model.beliefs.LossBeliefs`). Route displacement
    (traffickers moving from the Uzbek to the Kyrgyz border when the Uzbek border was
    strengthened, 002_3aa904e3dc1761f0.txt ¶14) follows from these beliefs; it is not
    scripted.
    """

    stock_g = Column("orgs")               # heroin held, waiting to be sent
    received_g = Column("orgs")            # heroin received: own supply, and rivals' when they were disrupted
    passed_on_g = Column("orgs")           # stock passed to rivals when it was disrupted
    revenue_usd = Column("orgs")
    losses_usd = Column("orgs")
    costs_usd = Column("orgs")
    disrupted_until = Column("orgs")       # its people arrested (KNB, controlled delivery) until this day
    daily_supply_g = Column("orgs")

    def __init__(self, model: NorthernRouteModel, row: int, org_type: str) -> None:
        super().__init__(model)
        self.row = row
        self.org_type = org_type
        self.beliefs = LossBeliefs(model.belief_arrays, row, len(CONVEYANCES))
        self.spec = None
        self.menus: dict[str, RouteMenu] = {}  # market -> the routes it weighs (set by the model's rules)

    @property
    def risk(self) -> np.ndarray:
        """Perceived chance of losing a load at each (node, conveyance)."""
        return self.beliefs.risk

    @property
    def shut_until(self) -> dict[int, int]:
        """Node -> the day until which the KNB keeps this organisation's channel there shut (those still shut)."""
        row = self.model.state.orgs.shut_until[self.row]
        return {int(n): int(row[n]) for n in np.flatnonzero(row > self.model.day)}

    def shut_channel(self, node: int, until: int) -> None:
        """The KNB shuts its channel through ``node`` until day ``until`` (a later day wins)."""
        shut = self.model.state.orgs.shut_until
        shut[self.row, node] = max(shut.item(self.row, node), until)

    def disrupted(self, day: float) -> bool:
        return day < self.disrupted_until

    def draw(self) -> float:
        """The organisation's next random number (its own stream: common random numbers)."""
        return self.model.streams.uniform(self.model.state.orgs.stream.item(self.row))

    # --- planning -----------------------------------------------------------------

    def receive(self, grams: int) -> None:
        self.stock_g += grams
        self.received_g += grams

    def plan_shipments(self) -> None:
        """Forget a day's worth of old evidence; send every load the stock now covers."""
        orgs = self.model.state.orgs
        self.beliefs.forget(1.0)
        if self.disrupted(self.model.day):
            return
        while True:
            if orgs.next_market.item(self.row) < 0:
                orgs.next_market[self.row], orgs.next_route[self.row], orgs.next_grams[self.row] = self.plan_load()
            grams = orgs.next_grams.item(self.row)
            if grams > self.stock_g:
                return
            self.stock_g -= grams
            market, route = orgs.next_market.item(self.row), orgs.next_route.item(self.row)
            orgs.next_market[self.row] = -1
            self.send_courier(market, route, grams)

    def plan_load(self) -> tuple[int, int, int]:
        """Pick a market (by the organisation's buyers), a route and conveyance, a size.

        Returns the market (its place in the organisation's list), the route (its row in
        the run's route book) and the grams. Past its loss tolerance on every route, the
        organisation sends a smaller load.
        """
        orgs, learning = self.model.state.orgs, self.model.world.learning
        market = weighted_index(orgs.market_cum[self.row], orgs.n_markets.item(self.row), self.draw())
        route, loss = self.choose_in(orgs.menu.item(self.row, market))
        conveyance = self.model.routes.arrays.route_conveyance[route]
        sizes = self.model.load_sizes
        z = self.model.streams.normal(orgs.stream.item(self.row))
        grams = load_grams(sizes[conveyance, 0], sizes[conveyance, 1], z, loss > learning.loss_tolerance,
                           learning.small_load_factor)
        return market, route, grams

    def choose_route(self, market: str) -> tuple[Route, float]:
        """The route it would choose now to ``market`` (drawing from its stream), and its perceived chance of loss."""
        row, loss = self.choose_in(self.model.routes.menu_row(self.menus[market]))
        return self.model.routes.routes[row], loss

    def choose_in(self, menu: int) -> tuple[int, float]:
        """Path-size logit choice in a menu (its row) by expected profit per kilo under the current
        beliefs (:func:`sim.model.routing.choose_route`): the route's row and its perceived chance of loss."""
        model, orgs, learning = self.model, self.model.state.orgs, self.model.world.learning
        return choose_route(model.routes.arrays, menu, len(CONVEYANCES), model.prior_losses, model.prior_passages,
                            orgs.belief_losses, orgs.belief_passages, orgs.belief_scale, orgs.shut_until, self.row,
                            model.day, learning.choice_temperature_usd_per_kg, learning.loss_tolerance, self.draw())

    def send_courier(self, market: int, route: int, grams: int) -> None:
        """A courier of one of the nationalities it recruits leaves at a random moment of the day."""
        model, orgs, book = self.model, self.model.state.orgs, self.model.routes.arrays
        nationality = orgs.nationality.item(self.row, weighted_index(orgs.nationality_cum[self.row],
                                                                     orgs.n_nationalities.item(self.row), self.draw()))
        departure = model.day + self.draw()
        self.costs_usd += book.route_trip_cost_usd.item(route)
        Courier(model, self, route, grams, nationality, departure).depart()

    # --- learning -----------------------------------------------------------------

    def learn_from_loss(self, passed, node: int, conveyance: int) -> None:
        """Its load passed ``passed`` (nodes) and was lost at ``node``."""
        self.beliefs.observe_passages(passed, conveyance)
        self.beliefs.observe_loss(node, conveyance)

    def hear_of_seizure(self, node: int, conveyance: int) -> None:
        """News of another organisation's seizure: a fraction of an own loss."""
        self.beliefs.observe_loss(node, conveyance, self.model.world.learning.news_weight)

    def learn_from_delivery(self, route: int | Route) -> None:
        """A load arrived: one more safe passage at every node it passed (the origin left out)."""
        if isinstance(route, Route):
            self.beliefs.observe_passages(route.nodes[1:], CONVEYANCE_INDEX[route.conveyance])
            return
        book = self.model.routes.arrays
        start = book.route_start.item(route)
        self.beliefs.observe_passages(book.route_nodes[start + 1:start + book.route_length.item(route)].tolist(),
                                      book.route_conveyance.item(route))

    # --- what the police do to it ---------------------------------------------------

    def be_disrupted(self, day: float, days: int) -> None:
        """Its people arrested: it sends nothing for ``days``; its stock passes to rivals."""
        model = self.model
        start = max(model.day, self.disrupted_until)
        until = max(self.disrupted_until, int(day) + 1 + days)
        model.ledger.add(ORGANISATION_DAYS_DISRUPTED, max(0, min(until, model.horizon_days) - start))
        self.disrupted_until = until
        stock, self.stock_g = self.stock_g, 0
        model.state.orgs.next_market[self.row] = -1
        if model.hand_to_rivals(self, stock):
            self.passed_on_g += stock
        else:
            self.stock_g = stock

    def be_investigated(self, node: int, day: float) -> None:
        """The KNB follows up a seizure in its countries: a route shut, maybe the group (002 ¶3)."""
        model = self.model
        if not model.state.posts.investigated.item(node):
            return
        rules = model.world.investigation
        draws = model.state.posts.rules_stream.item(node)
        if model.streams.uniform(draws) < rules.route_shut_prob:
            self.shut_channel(node, int(day) + 1 + rules.route_shut_days)
            model.ledger.add(ROUTES_SHUT)
        if model.streams.uniform(draws) < rules.group_shut_prob:
            model.ledger.add(GROUPS_SHUT)
            self.be_disrupted(day, rules.disruption_days)


class Courier(mesa.Agent):
    """Carries one load along a route, paid by distance; has a nationality.

    The courier owns what happens to its load: :meth:`arrive` at each node, :meth:`meet`
    whatever is there, :meth:`face` the officer who found it, :meth:`be_seized`. (Only the
    reference engine makes couriers agents; the fast engine keeps them as rows of arrays.)
    """

    def __init__(self, model: NorthernRouteModel, organisation: TraffickingOrganisation, route: int, grams: int,
                 nationality: int, departure: float) -> None:
        super().__init__(model)
        book = model.routes.arrays
        self.organisation = organisation
        self.route = route                     # its row in the run's route book
        self.start, self.n_nodes = book.route_start.item(route), book.route_length.item(route)
        self.conveyance = book.route_conveyance.item(route)
        self.grams = grams
        self.nationality = nationality
        self.departure = departure
        self.leg = 0
        self.controlled = False                # let run by the police as a controlled delivery
        self.shipment = -1

    @property
    def kg(self) -> float:
        return self.grams / 1000.0

    def node_at(self, leg: int) -> int:
        return self.model.routes.arrays.route_nodes.item(self.start + leg)

    @property
    def market(self) -> int:
        return self.node_at(self.n_nodes - 1)

    # --- the journey --------------------------------------------------------------

    def depart(self) -> None:
        """Leave the origin and head for the next node."""
        model = self.model
        self.shipment = model.ledger.record_dispatch(self.organisation.row, self.conveyance, self.node_at(0),
                                                     self.market, self.grams, self.nationality,
                                                     model.routes.arrays.route_crossings.item(self.route), self.departure)
        self.leg = 1
        model.arrivals.schedule(self, self.departure + model.routes.arrays.route_arrive.item(self.start + 1))

    def arrive(self, day: float) -> None:
        """Reach the next node: meet what is there, then deliver or travel on."""
        model = self.model
        node = self.node_at(self.leg)
        model.ledger.record_hop(self.shipment, self.grams, self.node_at(self.leg - 1), node)
        if self.meet(node, day) is SEIZED:
            return
        if self.leg == self.n_nodes - 1:
            self.reach_market(node, day)
            return
        self.leg += 1
        model.arrivals.schedule(self, self.departure + model.routes.arrays.route_arrive.item(self.start + self.leg))

    # --- what happens at a node, in the order a load meets it ---------------------

    def meet(self, node: int, day: float) -> Outcome:
        """The mobile patrols posted at the node, then its post (watchers, then crew).

        The encounters at a place are independent trials, tried in the order met; one
        random number of the node's stream says which fires first
        (:func:`sim.model.draws.first_to_fire`); after one that did not end the journey,
        the next random number says which of the rest fires next. Returns the worst that
        happened (SEIZED ends the journey); a load that goes on is recorded as passed,
        protected, cleared or bribed through.
        """
        model = self.model
        outcome = PASSED
        patrols = model.patrols_at[node]
        if patrols:
            chances = np.array([patrol.finds_chance(node, self.conveyance) for patrol in patrols])
            k = self.next_encounter(node, chances, 0)
            while k >= 0:
                outcome = worse(outcome, self.face(patrols[k].officer, node, day))
                if outcome is SEIZED:
                    return SEIZED
                k = self.next_encounter(node, chances, k + 1)
        post = model.posts[node]
        if post is not None:
            outcome = worse(outcome, self.pass_post(post, node, day))
            if outcome is SEIZED:
                return SEIZED
        model.ledger.record_passage(self.shipment, node, day, outcome)
        return outcome

    def next_encounter(self, node: int, chances: np.ndarray, start: int) -> int:
        """Which of the encounters ``start..`` fires next (-1: none), by one draw of the node's stream."""
        if start >= len(chances):
            return -1
        return first_to_fire(chances, start, len(chances), self.model.node_draw(node))

    def pass_post(self, post: Checkpoint, node: int, day: float) -> Outcome:
        """Watchers may spot the load; the crew on duty may inspect it, unless an officer is paid.

        At the Kazakh-Russian border the regime says whether both sides inspect or one
        (taking turns). An officer protecting the organisation waves the load through his
        side (:meth:`pass_protected`).
        """
        post.count_load(day)
        c, org = self.conveyance, self.organisation.row
        watchers, on_duty = post.surveillance, post.sides_on_duty()
        chances = np.array([w.spots(c) for w in watchers]
                           + [1.0 if side.protector_of(org) is not None else
                              side.inspection_chance(c, day, post.loads_today) for side in on_duty])
        outcome = PASSED
        k = self.next_encounter(node, chances, 0)
        while k >= 0:
            if k < len(watchers):
                officer = watchers[k].officers[index_below(self.model.node_draw(node), len(watchers[k].officers))]
                outcome = worse(outcome, self.face(officer, node, day, at_post=True))
            else:
                outcome = worse(outcome, self.meet_crew(on_duty[k - len(watchers)], post, node, day))
            if outcome is SEIZED:
                return SEIZED
            k = self.next_encounter(node, chances, k + 1)
        return outcome

    def meet_crew(self, side: PostSide, post: Checkpoint, node: int, day: float) -> Outcome:
        """The crew on duty took the load aside: protected, or inspected (cleared, or found)."""
        protector = side.protector_of(self.organisation.row)
        if protector is not None:
            return self.pass_protected(side, protector, day)
        post.inspections += 1
        if self.model.node_draw(node) >= side.finds(self.conveyance):
            return CLEARED
        officer = side.officers[index_below(self.model.node_draw(node), len(side.officers))]
        return self.face(officer, node, day, side, at_post=True)

    def pass_protected(self, side: PostSide, officer: Officer, day: float) -> Outcome:
        """The organisation's officer waves the load through, for a price and a risk (002 ¶25)."""
        model = self.model
        rules = model.world.corruption.protection
        self.organisation.costs_usd += rules.price_usd_per_load
        model.ledger.record_protection_paid(rules.price_usd_per_load)
        risk = min(1.0, rules.detection_prob_per_load * model.settings.protection_detection_factor)
        if officer.draw() < risk:
            side.end_protection_by(officer)
            officer.get_caught("protection", day)
        return PROTECTED

    def face(self, officer: Officer, node: int, day: float, side: PostSide | None = None,
             at_post: bool = False) -> Outcome:
        """The load was found: the courier offers a bribe; the officer takes it or seizes.

        A load already under a controlled delivery runs on; a found load may be let run
        as one. An officer of a post's crew (``side``) who takes an organisation's money may
        agree to protect its loads there from then on.
        """
        model = self.model
        if self.controlled:
            return CLEARED
        c = model.world.corruption
        bribe = bribe_offer_usd(self.kg, model.state.posts.price_usd_per_kg.item(node), c.bribe_share_of_value,
                                c.officer_wage_usd_per_month, c.bribe_wage_months)
        if officer.takes_bribe(bribe, day):
            model.ledger.record_bribe(self.shipment, node, day, officer.agency_code, bribe)
            self.organisation.costs_usd += bribe
            if side is not None and officer.draw() < c.protection.offer_prob:
                side.protect(self.organisation.row, officer)
            return BRIBED
        if self.let_run(node):
            return CLEARED
        self.be_seized(node, day, officer.agency_code, officer, side, at_post)
        return SEIZED

    def let_run(self, node: int) -> bool:
        """Let a found load run on to its market as a controlled delivery (002 ¶11-12)?"""
        model = self.model
        rule = model.settings.let_run
        if rule is None or self.leg >= self.n_nodes - 1 or not model.state.posts.let_run_country.item(node):
            return False
        if model.rules_draw(node) >= rule.let_run_prob:
            return False
        self.controlled = True
        model.ledger.add(CONTROLLED_LET_RUN)
        return True

    def be_seized(self, node: int, day: float, agency: int, officer: Officer | None = None,
                  side: PostSide | None = None, at_post: bool = False) -> None:
        """Seize the load, arrest the courier; what follows a seizure follows.

        The seizing crew spends officer-time on it (003 ¶1); at a false-courier post the
        officer may re-stage part of it (002 ¶27); the organisation learns, the news
        teaches the others, patrols move toward the find, and the KNB investigates.
        """
        model, org, grams = self.model, self.organisation, self.grams
        model.ledger.record_seizure(self.shipment, node, day, agency, grams, self.nationality)
        post = model.posts[node]
        if post is not None:
            post.seized_g += grams
        if side is not None:
            side.tie_up(day, model.world.inspection.seizure_officer_days)
        if at_post:
            model.ledger.books.sums[SEIZURE_OFFICER_DAYS] += model.world.inspection.seizure_officer_days
        if officer is not None and post is not None and post.stages_false_couriers:
            officer.maybe_stage_false_courier(node, grams, day)
        org.losses_usd += self.kg * model.state.posts.price_usd_per_kg.item(node)
        org.learn_from_loss([self.node_at(leg) for leg in range(1, self.leg)], node, self.conveyance)
        for other in model.organisations:
            if other is not org:
                other.hear_of_seizure(node, self.conveyance)
        for patrol in model.patrols:
            if patrol.covers(node):
                patrol.note_find(day, node)
        org.be_investigated(node, day)
        self.remove()

    def reach_market(self, node: int, day: float) -> None:
        """Sell the load at its market; a controlled delivery is seized there instead.

        A controlled delivery closed at its destination dismantles the organisation
        behind it for a while (its heroin passes to rivals); if the trail was lost, the
        load is sold.
        """
        model, org = self.model, self.organisation
        rule = model.settings.let_run
        if self.controlled and rule is not None and model.rules_draw(node) < rule.success_prob:
            model.ledger.add(CONTROLLED_SEIZED)
            model.ledger.add(CONTROLLED_SEIZED_G, self.grams)
            self.be_seized(node, day, model.let_run_agency)
            org.be_disrupted(day, rule.disruption_days)
            return
        model.ledger.record_delivery(self.shipment, node, day, self.grams)
        org.revenue_usd += self.kg * model.state.posts.price_usd_per_kg.item(node)
        org.learn_from_delivery(self.route)
        self.remove()


class Officer(mesa.Agent):
    """A border guard, customs officer or policeman; some are corruptible.

    Its decisions draw from its crew's stream (:attr:`stream`).
    """

    corruptibility = Column("officers")
    bribes_taken = Column("officers")
    mean_corruptibility = Column("officers")
    agency_code = Column("officers", "agency")   # its agency's code (``model.ledger.agencies``)
    stream = Column("officers")

    def __init__(self, model: NorthernRouteModel, row: int, post: str) -> None:
        super().__init__(model)
        self.row = row
        self.post = post

    @classmethod
    def hire(cls, model: NorthernRouteModel, n: int, post: str, agency: int, mean_corruptibility: float,
             stream: int) -> list[Officer]:
        """``n`` new officers of a crew (its agency's code, the post's level of corruption, the crew's
        stream), each with a corruptibility drawn around that level (:meth:`draw_corruptibility`)."""
        if n <= 0:
            return []
        state = model.state
        rows = state.add_officers(n)
        table = state.officers
        at = slice(rows.start, rows.stop)
        table.agency[at], table.stream[at], table.mean_corruptibility[at] = agency, stream, mean_corruptibility
        table.active[at], table.bribes_taken[at] = True, 0
        k = model.world.inspection.officer_corruptibility_concentration
        table.corruptibility[at] = draw_corruptibilities(mean_corruptibility, k, n, model.streams.seed,
                                                        model.streams.keys, model.streams.counters, stream)
        officers = [cls(model, row, post) for row in rows]
        model.officer_at.extend(officers)
        return officers

    @property
    def agency(self) -> str:
        return self.model.ledger.agencies.names[self.agency_code]

    def draw(self) -> float:
        return self.model.streams.uniform(self.stream)

    def draw_corruptibility(self) -> float:
        """Willingness to take bribes, drawn (Beta) around the post's level."""
        k = self.model.world.inspection.officer_corruptibility_concentration
        return corruptibility_draw(self.mean_corruptibility, k, self.model.streams.seed, self.model.streams.keys,
                                   self.model.streams.counters, self.stream)

    def takes_bribe(self, bribe_usd: float, day: float) -> bool:
        """Weigh the bribe against the fear of being caught; maybe get caught."""
        model = self.model
        p = bribe_acceptance_probability(self.corruptibility, model.integrity.deterrence(day), bribe_usd,
                                         model.world.corruption.bribe_scale_usd)
        if self.draw() >= p:
            return False
        self.bribes_taken += 1
        if self.draw() < model.settings.catch_prob_per_bribe:
            self.get_caught("bribe", day)
        return True

    def maybe_stage_false_courier(self, node: int, grams: int, day: float) -> None:
        """Re-stage part of a seizure with a "false courier" to pad the statistics (002 ¶27).

        The officer does it with the same willingness that makes them take bribes; the
        anti-corruption unit, where at work, uncovers a staging with its chance. The draws
        come from the node's reporting stream: reporting never shifts a true outcome.
        """
        model = self.model
        draws = model.state.posts.reporting_stream.item(node)
        if model.streams.uniform(draws) >= staging_probability(self.corruptibility, model.integrity.deterrence(day)):
            return
        if model.streams.uniform(draws) < model.settings.false_courier_detection:
            model.ledger.add(STAGINGS_UNCOVERED)
            self.get_caught("false couriers", day)
            return
        model.ledger.record_staging(node, self.agency_code,
                                    staged_grams(grams, model.world.corruption.false_couriers.recycle_share))

    def get_caught(self, kind: str, day: float) -> None:
        """Found out: dismissed, a newly hired officer takes the post; all officers take note."""
        self.model.ledger.record_corruption_case(kind)
        self.model.integrity.note_case(day)
        self.corruptibility = self.draw_corruptibility()
        self.bribes_taken = 0

    def leave(self) -> None:
        """Let go (a smaller crew, a post closed): the row stays, inactive."""
        self.model.state.officers.active[self.row] = False
        self.remove()


class PostSide:
    """One side's crew at a post (a view of its row): capacity against the traffic it sees, methods, officers.

    The crew's chance to inspect a load with the whole crew on duty is ``p_inspect`` (by
    conveyance); :meth:`inspection_chance` is today's, when seizures tie officers up
    (processing, handing over: 003 ¶1) and smuggled loads add to the traffic.
    """

    capacity = Column("sides")             # inspections a day with the whole crew
    staff = Column("sides")
    licit_traffic = Column("sides")        # licit vehicles or people a day over the post's crossings
    agency_code = Column("sides", "agency")   # its agency's code (``model.ledger.agencies``)

    def __init__(self, model: NorthernRouteModel, node: int, side: int) -> None:
        self.model, self.node, self.side = model, node, side
        self.row = (node, side)
        self.officers: list[Officer] = []

    @property
    def agency(self) -> str:
        return self.model.ledger.agencies.names[self.agency_code]

    @property
    def p_detect(self) -> list[float]:
        """Chance an inspection by this crew finds a load, by conveyance (its methods)."""
        return self.model.state.sides.p_detect[self.node, self.side].tolist()

    @property
    def p_inspect(self) -> list[float]:
        """Chance the whole crew inspects a load, by conveyance, against licit traffic alone."""
        return self.model.state.sides.p_inspect[self.node, self.side].tolist()

    @property
    def targeting(self) -> list[float]:
        return self.model.state.sides.targeting[self.node, self.side].tolist()

    def finds(self, conveyance: int) -> float:
        """Chance an inspection by this crew finds a load of that conveyance."""
        return self.model.state.sides.p_detect.item(self.node, self.side, conveyance)

    def inspection_chance(self, conveyance: int, day: float, loads_today: int) -> float:
        sides = self.model.state.sides
        tied = inspection.officers_tied_up(sides.busy_until, sides.n_busy, self.node, self.side, day)
        return inspection.crew_inspection_chance(self.capacity, self.staff, self.licit_traffic,
                                                 sides.targeting.item(self.node, self.side, conveyance),
                                                 sides.p_inspect.item(self.node, self.side, conveyance), tied,
                                                 loads_today)

    def tie_up(self, day: float, officer_days: float) -> None:
        """A seizure takes ``officer_days`` of one officer's time."""
        if officer_days > 0 and self.licit_traffic > 0:
            sides = self.model.state.sides
            inspection.tie_up(sides.busy_until, sides.n_busy, self.node, self.side, day + officer_days)

    @property
    def busy_until(self) -> list[float]:
        """When the officers tied up by seizures are free again."""
        sides = self.model.state.sides
        return sorted(sides.busy_until[self.node, self.side, :sides.n_busy.item(self.node, self.side)].tolist())

    # --- protection (002 ¶25) --------------------------------------------------------

    def protector_of(self, org: int) -> Officer | None:
        """The crew's officer an organisation (its row) pays to wave its loads through, if any."""
        k = self.model.state.sides.protector.item(self.node, self.side, org)
        return None if k < 0 else self.model.officer_at[k]

    def protect(self, org: int, officer: Officer) -> None:
        self.model.state.sides.protector[self.node, self.side, org] = officer.row

    def end_protection_by(self, officer: Officer) -> None:
        protector = self.model.state.sides.protector[self.node, self.side]
        protector[protector == officer.row] = -1

    @property
    def protectors(self) -> dict[int, Officer]:
        """Organisation row -> the officer it pays here."""
        protector = self.model.state.sides.protector[self.node, self.side]
        return {int(o): self.model.officer_at[int(k)] for o, k in enumerate(protector) if k >= 0}


class Watchers:
    """Watchers at a post (a green-zone strip, UAV units; a view of its row): they spot a passing load."""

    agency_code = Column("watchers", "agency")

    @property
    def agency(self) -> str:
        return self.model.ledger.agencies.names[self.agency_code]

    def __init__(self, model: NorthernRouteModel, node: int, watch: int) -> None:
        self.model, self.node, self.watch = model, node, watch
        self.row = (node, watch)
        self.officers: list[Officer] = []

    @property
    def p_spot(self) -> list[float]:
        """Chance they spot a passing load, by conveyance (spotted, it is found)."""
        return self.model.state.watchers.p_spot[self.node, self.watch].tolist()

    def spots(self, conveyance: int) -> float:
        return self.model.state.watchers.p_spot.item(self.node, self.watch, conveyance)


class Checkpoint(mesa.Agent):
    """A post where loads can be screened: watchers, then one or two sides' crews.

    At the Kazakh-Russian border a post has two sides (Kazakh exit and Russian entry);
    the regime says whether both inspect, or one (taking turns), and how often cargo is
    opened (:func:`sim.model.inspection.regime_factor`).
    """

    inspections = Column("posts")
    seized_g = Column("posts")
    loads_today = Column("posts")
    stages_false_couriers = Column("posts")
    both_sides_inspect = Column("posts")

    def __init__(self, model: NorthernRouteModel, node: int) -> None:
        super().__init__(model)
        self.node = self.row = node
        self.sides: list[PostSide] = []
        self.surveillance: list[Watchers] = []   # green zone, UAVs: watch every load (sim.model.policies)
        model.state.posts.has_post[node] = True

    def count_load(self, day: float) -> None:
        posts = self.model.state.posts
        if posts.loads_day.item(self.node) != int(day):
            posts.loads_day[self.node], posts.loads_today[self.node] = int(day), 0
        posts.loads_today[self.node] += 1

    def sides_on_duty(self) -> list[PostSide]:
        if len(self.sides) > 1 and not self.both_sides_inspect:
            return [self.sides[0] if self.model.node_draw(self.node) < 0.5 else self.sides[1]]   # they take turns
        return self.sides

    def close(self) -> None:
        """Taken out of service (a policy switched off)."""
        self.model.state.posts.has_post[self.node] = False
        self.remove()


class MobilePatrol(mesa.Agent):
    """A mobile patrol in the south, run by one agency; each day it goes where loads were recently found."""

    position = Column("patrols")
    intelligence_weight = Column("patrols")
    memory_days = Column("patrols")

    def __init__(self, model: NorthernRouteModel, group: str, officer: Officer, stream: int) -> None:
        super().__init__(model)
        self.row = model.state.add_patrol()
        self.group = group
        self.officer = officer
        patrols = model.state.patrols
        patrols.active[self.row], patrols.stream[self.row] = True, stream
        patrols.agency[self.row], patrols.officer[self.row] = officer.agency_code, officer.row

    @property
    def area(self) -> list[int]:
        patrols = self.model.state.patrols
        return patrols.area[self.row, :patrols.n_area.item(self.row)].tolist()

    @property
    def stop_prob(self) -> dict[int, float]:
        """Its chance to stop a passing load at each node of its area."""
        stop = self.model.state.patrols.stop_prob[self.row]
        return {node: float(stop[node]) for node in self.area}

    @property
    def p_detect(self) -> list[float]:
        """Its chance to find a load it stops, by conveyance."""
        return self.model.state.patrols.p_detect[self.row].tolist()

    def covers(self, node: int) -> bool:
        return self.model.state.patrols.in_area.item(self.row, node)

    def finds_chance(self, node: int, conveyance: int) -> float:
        """Chance it meets a passing load at one of the node's crossings and finds it."""
        patrols = self.model.state.patrols
        return patrols.stop_prob.item(self.row, node) * patrols.p_detect.item(self.row, conveyance)

    def choose_position(self) -> None:
        """Move to a node of the area, weighted toward recent finds (intelligence-led)."""
        p, model = self.model.state.patrols, self.model
        self.position = choose_patrol_position(p.find_day, p.find_node, p.first_find, p.n_finds, p.memory_days, p.n_area,
                                               p.area, p.intelligence_weight, self.row, model.day,
                                               model.streams.uniform(p.stream.item(self.row)))

    def note_find(self, day: float, node: int) -> None:
        patrols = self.model.state.patrols
        if patrols.n_finds.item(self.row) >= patrols.find_day.shape[1]:
            self.model.state.grow("F", 2 * patrols.find_day.shape[1])
        p = self.model.state.patrols
        note_find(p.find_day, p.find_node, p.first_find, p.n_finds, self.row, day, node)

    @property
    def recent_finds(self) -> list[tuple[float, int]]:
        patrols = self.model.state.patrols
        size, first = patrols.find_day.shape[1], patrols.first_find.item(self.row)
        ring = [(first + k) % size for k in range(patrols.n_finds.item(self.row))]
        return [(patrols.find_day.item(self.row, k), patrols.find_node.item(self.row, k)) for k in ring]

    def withdraw(self) -> None:
        self.model.state.patrols.active[self.row] = False
        self.officer.leave()
        self.remove()


# --- the patrols' memory of finds: compiled, both engines call them ----------------------


@numba.njit(cache=True, inline="always")
def note_find(find_day, find_node, first_find, n_finds, p, day, node):
    """Patrol ``p`` remembers a find at ``node`` (the caller makes room in the ring)."""
    size = find_day.shape[1]
    k = (first_find[p] + n_finds[p]) % size
    find_day[p, k], find_node[p, k] = day, node
    n_finds[p] += 1


@numba.njit(cache=True)
def choose_patrol_position(find_day, find_node, first_find, n_finds, memory_days, n_area, area, intelligence_weight,
                           p, day, u):
    """Where patrol ``p`` stands today: a node of its area, weighted 1 + intelligence weight x
    the finds there within its memory (older finds are forgotten), drawn with ``u``."""
    size = find_day.shape[1]
    horizon = day - memory_days[p]
    while n_finds[p] > 0 and find_day[p, first_find[p]] < horizon:
        first_find[p] = (first_find[p] + 1) % size
        n_finds[p] -= 1
    weights = np.zeros(n_area[p])               # finds at each node of the area, then the cumulative weights
    for j in range(n_finds[p]):
        node = find_node[p, (first_find[p] + j) % size]
        for a in range(n_area[p]):
            if area[p, a] == node:
                weights[a] += 1.0
    total = 0.0
    for a in range(n_area[p]):
        total += 1.0 + intelligence_weight[p] * weights[a]
        weights[a] = total
    return area[p, weighted_index(weights, n_area[p], u)]


# --- officers' corruptibility: compiled, both engines call it --------------------------

@numba.njit(cache=True)
def corruptibility_draw(mean, concentration, seed, keys, counters, stream):
    """An officer's willingness to take bribes: Beta with the post's mean and the concentration."""
    return beta_variate(max(mean * concentration, 1e-6), max((1 - mean) * concentration, 1e-6), seed, keys, counters,
                        stream)


@numba.njit(cache=True)
def draw_corruptibilities(mean, concentration, n, seed, keys, counters, stream):
    """``n`` officers' corruptibility, drawn one after the other from the crew's stream."""
    out = np.empty(n)
    for k in range(n):
        out[k] = corruptibility_draw(mean, concentration, seed, keys, counters, stream)
    return out
