"""The agents of the Northern Route and their rules, in the order a load meets them.

- :class:`TraffickingOrganisation` receives heroin from northern Afghanistan, plans loads
  (market, route, conveyance, size), sends couriers and learns from what it sees.
- :class:`Courier` carries one load along its route and owns what happens to it at each
  node (:meth:`Courier.meet`): the mobile patrols there, the post's watchers and crew (or
  the officer its organisation pays), a find, the bribe offered, the officer's choice,
  the seizure or the controlled delivery, and the investigation that follows a seizure.
- :class:`Checkpoint` is a post (official checkpoint, green-border stretch, internal
  checkpoint, city police) with one or two :class:`PostSide` crews of :class:`Officer`.
- :class:`MobilePatrol` moves among the southern crossings and roads, drawn to where
  loads were recently found; each is run by one agency (border guards, customs or
  police: 002_3aa904e3dc1761f0.txt ¶6).

The probabilities come from :mod:`sim.model.inspection`, bribes and deterrence from
:mod:`sim.model.corruption`, beliefs from :mod:`sim.model.beliefs`, what the policies in force set
from :class:`sim.model.policies.PolicySettings`; bookkeeping goes to the ledger.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import inspection
from sim.model.beliefs import LossBeliefs
from sim.model.corruption import bribe_acceptance_probability, bribe_offer_usd
from sim.model.economics import price_at
from sim.model.ledger import Shipment
from sim.params import CONVEYANCES, OrganisationType
from sim.model.routing import Route, RouteMenu
from sim.model.states import Outcome

if TYPE_CHECKING:
    from sim.model import NorthernRouteModel

CONVEYANCE_INDEX = {c: i for i, c in enumerate(CONVEYANCES)}
PASSED, PROTECTED, CLEARED, BRIBED, SEIZED = (Outcome.PASSED, Outcome.PROTECTED, Outcome.CLEARED,
                                              Outcome.BRIBED, Outcome.SEIZED)
_SEVERITY = {PASSED: 0, CLEARED: 1, PROTECTED: 2, BRIBED: 3, SEIZED: 4}
BLOCKED_LOG_SAFE = math.log(1e-6)    # a node on a route the KNB shut: the load would surely be lost


def _already_drawn(k: int, first: int | None) -> bool | None:
    """Whether encounter ``k`` fired, when the fast engine drew it (``first`` fired first); None: draw it now."""
    if first is None or k > first:
        return None
    return k == first


def _worse(a: Outcome, b: Outcome) -> Outcome:
    """The outcome a passage is recorded with when several things happened at one node."""
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


class TraffickingOrganisation(mesa.Agent):
    """A trafficking network: plans loads, chooses routes by expected profit, learns.

    Its beliefs are Beta-Bernoulli posteriors of the chance of losing a load at each node
    with each conveyance (:class:`sim.model.beliefs.LossBeliefs`). Route displacement (traffickers
    moving from the Uzbek to the Kyrgyz border when the Uzbek border was strengthened,
    002_3aa904e3dc1761f0.txt ¶14) follows from these beliefs; it is not scripted.
    """

    def __init__(self, model: NorthernRouteModel, org_type: str, spec: OrganisationType,
                 menus: dict[str, RouteMenu], prior_risk: np.ndarray, daily_supply_g: int):
        super().__init__(model)
        learning = model.world.learning
        self.org_type = org_type
        self.spec = spec
        self.menus = menus
        self.beliefs = LossBeliefs(prior_risk, learning.prior_strength, learning.forgetting_per_day)
        self.daily_supply_g = daily_supply_g
        self.received_g = 0                    # heroin received: own supply, and rivals' when they were disrupted
        self.passed_on_g = 0                   # stock passed to rivals when it was disrupted
        self.stock_g = 0
        self.next_load: tuple[str, Route, int] | None = None
        self.revenue_usd = 0.0
        self.losses_usd = 0.0
        self.costs_usd = 0.0
        self.disrupted_until = 0               # its people arrested (KNB, controlled delivery) until this day
        self.shut_until: dict[int, int] = {}   # node -> day until which the KNB keeps its channel there shut
        self.decisions = model.stream("organisation", len(model.organisations))  # its own dice (common random numbers)
        self._markets = list(spec.markets)
        self._market_cum = np.cumsum(list(spec.markets.values())).tolist()
        self._nationalities = list(spec.courier_nationalities)
        self._nationality_cum = np.cumsum(list(spec.courier_nationalities.values())).tolist()

    def follow_rules(self, spec: OrganisationType, daily_supply_g: int, menus: dict[str, RouteMenu] | None,
                     prior_risk: np.ndarray, learning) -> None:
        """New rules in force (an event): its type's spec and supply; new route menus (its
        planned load is then planned again); its beliefs keep their evidence."""
        self.spec, self.daily_supply_g = spec, daily_supply_g
        self._markets = list(spec.markets)
        self._market_cum = np.cumsum(list(spec.markets.values())).tolist()
        self._nationalities = list(spec.courier_nationalities)
        self._nationality_cum = np.cumsum(list(spec.courier_nationalities.values())).tolist()
        if menus is not None:
            self.menus, self.next_load = menus, None
        self.beliefs.retune(prior_risk, learning.prior_strength, learning.forgetting_per_day)

    @property
    def risk(self) -> np.ndarray:
        """Perceived chance of losing a load at each (node, conveyance)."""
        return self.beliefs.risk

    def disrupted(self, day: float) -> bool:
        return day < self.disrupted_until

    # --- planning -----------------------------------------------------------------

    def receive(self, grams: int) -> None:
        self.stock_g += grams
        self.received_g += grams

    def plan_shipments(self) -> None:
        """Forget a day's worth of old evidence; send every load the stock now covers."""
        self.beliefs.forget()
        if self.disrupted(self.model.day):
            return
        while True:
            if self.next_load is None:
                self.next_load = self.plan_load()
            market, route, grams = self.next_load
            if grams > self.stock_g:
                return
            self.stock_g -= grams
            self.next_load = None
            self.send_courier(market, route, grams)

    def plan_load(self) -> tuple[str, Route, int]:
        """Pick a market (by the organisation's buyers), a route and conveyance, a size.

        Past its loss tolerance on every route, the organisation sends a smaller load.
        """
        market = self._markets[_weighted_index(self._market_cum, self.decisions.random())]
        route, loss = self.choose_route(market)
        learning = self.model.world.learning
        size = self.model.world.conveyances[route.conveyance].size
        kg = self.decisions.lognormvariate(math.log(size.median_kg), size.sigma)
        if loss > learning.loss_tolerance:
            kg *= learning.small_load_factor
        return market, route, max(1, round(kg * 1000))

    def choose_route(self, market: str) -> tuple[Route, float]:
        """Path-size logit choice by expected profit per kilo under the current beliefs.

        Routes through a node where the KNB shut the organisation's channel count as sure
        losses until the channel reopens. Returns the route and its perceived chance of loss.
        """
        log_safe = self.beliefs.log_safe()
        if self.shut_until:
            day = self.model.day
            for node in [n for n, until in self.shut_until.items() if until <= day]:
                del self.shut_until[node]
            if self.shut_until:
                log_safe = log_safe.copy().reshape(-1, len(CONVEYANCES))
                log_safe[list(self.shut_until)] = BLOCKED_LOG_SAFE
                log_safe = log_safe.ravel()
        learning = self.model.world.learning
        return self.menus[market].choose(log_safe, learning.choice_temperature_usd_per_kg, self.decisions.random(),
                                         learning.loss_tolerance)

    def send_courier(self, market: str, route: Route, grams: int) -> None:
        nationality = self._nationalities[_weighted_index(self._nationality_cum, self.decisions.random())]
        courier = Courier(self.model, self, market, route, grams, nationality)
        self.costs_usd += self.model.trip_cost_usd(route)
        courier.depart()

    # --- learning -----------------------------------------------------------------

    def learn_from_loss(self, passed: tuple[int, ...], node: int, conveyance: int) -> None:
        """Its load passed ``passed`` and was lost at ``node``."""
        self.beliefs.observe_passages(list(passed), conveyance)
        self.beliefs.observe_loss(node, conveyance)

    def hear_of_seizure(self, node: int, conveyance: int) -> None:
        """News of another organisation's seizure: a fraction of an own loss."""
        self.beliefs.observe_loss(node, conveyance, self.model.world.learning.news_weight)

    def learn_from_delivery(self, route: Route) -> None:
        """A load arrived: one more safe passage at every node it passed."""
        self.beliefs.observe_steps(route.steps)

    # --- what the police do to it ---------------------------------------------------

    def be_disrupted(self, day: float, days: int) -> None:
        """Its people arrested: it sends nothing for ``days``; its stock passes to rivals."""
        model = self.model
        start = max(model.day, self.disrupted_until)
        until = max(self.disrupted_until, int(day) + 1 + days)
        model.ledger.organisation_days_disrupted += max(0, min(until, model.horizon_days) - start)
        self.disrupted_until = until
        stock, self.stock_g, self.next_load = self.stock_g, 0, None
        if model.hand_to_rivals(self, stock):
            self.passed_on_g += stock
        else:
            self.stock_g = stock

    def be_investigated(self, node: int, day: float) -> None:
        """The KNB follows up a seizure in its countries: a route shut, maybe the group (002 ¶3)."""
        rules = self.model.world.investigation
        if self.model.network.nodes[node].country not in rules.countries:
            return
        rng = self.model.rng
        if rng.random() < rules.route_shut_prob:
            self.shut_until[node] = max(self.shut_until.get(node, 0), int(day) + 1 + rules.route_shut_days)
            self.model.ledger.routes_shut += 1
        if rng.random() < rules.group_shut_prob:
            self.model.ledger.groups_shut += 1
            self.be_disrupted(day, rules.disruption_days)


class Courier(mesa.Agent):
    """Carries one load along a route, paid by distance; has a nationality.

    The courier owns what happens to its load: :meth:`arrive` at each node, :meth:`meet`
    whatever is there, :meth:`face` the officer who found it, :meth:`be_seized`.
    """

    def __init__(self, model: NorthernRouteModel, organisation: TraffickingOrganisation, market: str,
                 route: Route, grams: int, nationality: str):
        super().__init__(model)
        self.organisation = organisation
        self.route = route
        self.leg = 0
        self.conveyance = CONVEYANCE_INDEX[route.conveyance]
        self.spec = model.world.conveyances[route.conveyance]
        self.controlled = False                # let run by the police as a controlled delivery
        self.shipment = Shipment(
            shipment_id=self.unique_id, organisation=organisation.unique_id, org_type=organisation.org_type,
            conveyance=route.conveyance, origin=model.node_ids[route.nodes[0]], market=market, grams=grams,
            nationality=nationality, crossings=route.crossings, day_dispatched=0.0,
        )

    @property
    def kg(self) -> float:
        return self.shipment.grams / 1000.0

    # --- the journey --------------------------------------------------------------

    def depart(self) -> None:
        """Leave the origin at a random moment of the day and head for the next node."""
        model = self.model
        self.departure = model.day + self.organisation.decisions.random()
        self.shipment.day_dispatched = self.departure
        model.ledger.record_dispatch(self.shipment, self.route.nodes[0])
        self.leg = 1
        model.arrivals.schedule(self, self.departure + self.route.arrival_days[1])

    def arrive(self, day: float) -> None:
        """Reach the next node: meet what is there, then deliver or travel on."""
        model, route = self.model, self.route
        node = route.nodes[self.leg]
        model.ledger.record_hop(self.shipment, route.nodes[self.leg - 1], node)
        if self.meet(node, day) is SEIZED:
            return
        if self.leg == len(route.nodes) - 1:
            self.reach_market(node, day)
            return
        self.leg += 1
        model.arrivals.schedule(self, self.departure + route.arrival_days[self.leg])

    # --- what happens at a node, in the order a load meets it ---------------------

    def meet(self, node: int, day: float, first: int | None = None,
             on_duty: list[PostSide] | None = None) -> Outcome:
        """The mobile patrols posted at the node, then its post (watchers, then crew).

        Returns the worst that happened (SEIZED ends the journey); a load that goes on is
        recorded as passed, protected, cleared or bribed through.

        The fast engine (:mod:`sim.engine`) has already drawn, in one go, that encounter
        number ``first`` is the first to find or inspect the load (numbered in the order
        met: patrols, watchers, the sides on duty), so the encounters before it are not
        drawn again; it also counted the load at the post and drew the sides ``on_duty``.
        """
        model = self.model
        outcome = PASSED
        patrols = model.patrols_at[node]
        for k, patrol in enumerate(patrols):
            fired = _already_drawn(k, first)
            if fired if fired is not None else patrol.stops(self, node):
                outcome = _worse(outcome, self.face(patrol.officer, node, day))
                if outcome is SEIZED:
                    return SEIZED
        post = model.posts[node]
        if post is not None:
            first_at_post = None if first is None else first - len(patrols)
            outcome = _worse(outcome, self.pass_post(post, node, day, first_at_post, on_duty))
            if outcome is SEIZED:
                return SEIZED
        model.ledger.record_passage(self.shipment, node, day, outcome)
        return outcome

    def pass_post(self, post: Checkpoint, node: int, day: float, first: int | None = None,
                  on_duty: list[PostSide] | None = None) -> Outcome:
        """Watchers may spot the load; the crew on duty may inspect it, unless an officer is paid.

        At the Kazakh-Russian border the regime says whether both sides inspect or one
        (taking turns). An officer protecting the organisation waves the load through his
        side (:meth:`pass_protected`). ``first`` and ``on_duty``: see :meth:`meet`.
        """
        if first is None:
            post.count_load(day)
        c, draws = self.conveyance, post.draws
        outcome = PASSED
        for k, side in enumerate(post.surveillance):
            fired = _already_drawn(k, first)
            if fired if fired is not None else draws.random() < side.p_inspect[c]:
                outcome = _worse(outcome, self.face(draws.choice(side.officers), node, day, side))
                if outcome is SEIZED:
                    return SEIZED
        if on_duty is None:
            on_duty = post.sides_on_duty()
        for k, side in enumerate(on_duty, start=len(post.surveillance)):
            protector = side.protectors.get(self.organisation.unique_id)
            if protector is not None:
                outcome = _worse(outcome, self.pass_protected(side, protector, day))
                continue
            fired = _already_drawn(k, first)
            if not (fired if fired is not None else draws.random() < side.inspection_chance(c, day, post.loads_today)):
                continue
            post.inspections += 1
            if draws.random() >= side.p_detect[c]:
                outcome = _worse(outcome, CLEARED)
                continue
            outcome = _worse(outcome, self.face(draws.choice(side.officers), node, day, side))
            if outcome is SEIZED:
                return SEIZED
        return outcome

    def pass_protected(self, side: PostSide, officer: Officer, day: float) -> Outcome:
        """The organisation's officer waves the load through, for a price and a risk (002 ¶25)."""
        model = self.model
        rules = model.world.corruption.protection
        self.organisation.costs_usd += rules.price_usd_per_load
        model.ledger.record_protection_paid(rules.price_usd_per_load)
        risk = min(1.0, rules.detection_prob_per_load * model.settings.protection_detection_factor)
        if officer.draws.random() < risk:
            side.end_protection_by(officer)
            officer.get_caught("protection", day)
        return PROTECTED

    def face(self, officer: Officer, node: int, day: float, side: PostSide | None = None) -> Outcome:
        """The load was found: the courier offers a bribe; the officer takes it or seizes.

        A load already under a controlled delivery runs on; a found load may be let run
        as one. An officer at a post who takes an organisation's money may agree to
        protect its loads there from then on.
        """
        model = self.model
        if self.controlled:
            return CLEARED
        c = model.world.corruption
        local_price = price_at(model.network.nodes[node], model.world)
        bribe = bribe_offer_usd(self.kg, local_price, c.bribe_share_of_value, c.officer_wage_usd_per_month,
                                c.bribe_wage_months)
        if officer.takes_bribe(bribe, day):
            model.ledger.record_bribe(self.shipment, node, day, officer.agency, bribe)
            self.organisation.costs_usd += bribe
            if side is not None and officer.draws.random() < c.protection.offer_prob:
                side.protectors[self.organisation.unique_id] = officer
            return BRIBED
        if self.let_run(node):
            return CLEARED
        self.be_seized(node, day, officer.agency, officer, side)
        return SEIZED

    def let_run(self, node: int) -> bool:
        """Let a found load run on to its market as a controlled delivery (002 ¶11-12)?"""
        model = self.model
        rule = model.settings.let_run
        if rule is None or self.leg >= len(self.route.nodes) - 1:
            return False
        if model.network.nodes[node].country not in rule.countries or model.rng.random() >= rule.let_run_prob:
            return False
        self.controlled = True
        model.ledger.controlled_let_run += 1
        return True

    def be_seized(self, node: int, day: float, agency: str, officer: Officer | None = None,
                  side: PostSide | None = None) -> None:
        """Seize the load, arrest the courier; what follows a seizure follows.

        The seizing crew spends officer-time on it (003 ¶1); at a false-courier post the
        officer may re-stage part of it (002 ¶27); the organisation learns, the news
        teaches the others, patrols move toward the find, and the KNB investigates.
        """
        model, org, grams = self.model, self.organisation, self.shipment.grams
        model.ledger.record_seizure(self.shipment, node, day, agency)
        post = model.posts[node]
        if post is not None:
            post.seized_g += grams
        if side is not None:
            side.tie_up(day, model.world.inspection.seizure_officer_days)
            model.ledger.seizure_officer_days += model.world.inspection.seizure_officer_days
        if officer is not None and post is not None and post.stages_false_couriers:
            officer.maybe_stage_false_courier(node, grams, day)
        org.losses_usd += self.kg * price_at(model.network.nodes[node], model.world)
        org.learn_from_loss(self.route.nodes[1:self.leg], node, self.conveyance)
        for other in model.organisations:
            if other is not org:
                other.hear_of_seizure(node, self.conveyance)
        for patrol in model.patrols:
            if node in patrol.area:
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
        if self.controlled and rule is not None and model.rng.random() < rule.success_prob:
            model.ledger.controlled_seized += 1
            model.ledger.controlled_seized_g += self.shipment.grams
            self.be_seized(node, day, rule.agency)
            org.be_disrupted(day, rule.disruption_days)
            return
        model.ledger.record_delivery(self.shipment, node, day)
        org.revenue_usd += self.kg * price_at(model.network.nodes[node], model.world)
        org.learn_from_delivery(self.route)
        self.remove()


class Officer(mesa.Agent):
    """A border guard, customs officer or policeman; some are corruptible."""

    def __init__(self, model: NorthernRouteModel, post: str, agency: str, mean_corruptibility: float,
                 draws: random.Random | None = None):
        super().__init__(model)
        self.post = post
        self.agency = agency
        self.draws = model.random if draws is None else draws
        self.mean_corruptibility = mean_corruptibility
        self.corruptibility = self.draw_corruptibility()
        self.bribes_taken = 0

    def draw_corruptibility(self) -> float:
        """Willingness to take bribes, drawn (Beta) around the post's level."""
        k = self.model.world.inspection.officer_corruptibility_concentration
        mean = self.mean_corruptibility
        return self.draws.betavariate(max(mean * k, 1e-6), max((1 - mean) * k, 1e-6))

    def takes_bribe(self, bribe_usd: float, day: float) -> bool:
        """Weigh the bribe against the fear of being caught; maybe get caught."""
        model = self.model
        deterrence = model.integrity.deterrence(day)
        p = bribe_acceptance_probability(self.corruptibility, deterrence, bribe_usd,
                                         model.world.corruption.bribe_scale_usd)
        if self.draws.random() >= p:
            return False
        self.bribes_taken += 1
        if self.draws.random() < model.settings.catch_prob_per_bribe:
            self.get_caught("bribe", day)
        return True

    def maybe_stage_false_courier(self, node: int, grams: int, day: float) -> None:
        """Re-stage part of a seizure with a "false courier" to pad the statistics (002 ¶27).

        The officer does it with the same willingness that makes them take bribes; the
        anti-corruption unit, where at work, uncovers a staging with its chance.
        """
        model = self.model
        rng = model.reporting_draws    # a stream of its own: reporting never shifts a true outcome
        if rng.random() >= self.corruptibility * (1.0 - model.integrity.deterrence(day)):
            return
        if rng.random() < model.settings.false_courier_detection:
            model.ledger.stagings_uncovered += 1
            self.get_caught("false couriers", day)
            return
        model.ledger.record_staging(node, self.agency, round(grams * model.world.corruption.false_couriers.recycle_share))

    def get_caught(self, kind: str, day: float) -> None:
        """Found out: dismissed, a newly hired officer takes the post; all officers take note."""
        self.model.ledger.record_corruption_case(kind)
        self.model.integrity.note_case(day)
        self.corruptibility = self.draw_corruptibility()
        self.bribes_taken = 0


@dataclass
class PostSide:
    """One side's crew at a post: its capacity against the traffic it sees, its methods, its officers.

    ``p_inspect`` is the chance of inspection by conveyance with the whole crew on duty
    and only licit traffic; :meth:`inspection_chance` is today's, when seizures tie
    officers up (processing, handing over: 003 ¶1) and smuggled loads add to the traffic.
    Watchers (green zone, UAVs) have fixed chances (``licit_traffic`` 0).
    """

    agency: str
    p_inspect: list[float]            # by conveyance index
    p_detect: list[float]             # by conveyance index
    officers: list[Officer]
    staff: float = 0.0
    capacity: float = 0.0             # inspections a day with the whole crew
    licit_traffic: float = 0.0        # licit vehicles or people a day over the post's crossings
    targeting: list[float] = field(default_factory=list)   # by conveyance, with the border rules
    busy_until: deque = field(default_factory=deque)       # when officers tied up by seizures are free
    protectors: dict[int, Officer] = field(default_factory=dict)   # organisation id -> the officer it pays

    def inspection_chance(self, conveyance: int, day: float, loads_today: int) -> float:
        if self.licit_traffic <= 0:
            return self.p_inspect[conveyance]
        while self.busy_until and self.busy_until[0] <= day:
            self.busy_until.popleft()
        on_duty = max(0.0, self.staff - len(self.busy_until)) / self.staff if self.staff else 0.0
        return inspection.share_inspected(self.capacity * on_duty, self.licit_traffic + loads_today,
                                          self.targeting[conveyance])

    def tie_up(self, day: float, officer_days: float) -> None:
        """A seizure takes ``officer_days`` of one officer's time (kept in order of release)."""
        if officer_days > 0 and self.licit_traffic > 0:
            free_at = day + officer_days
            self.busy_until.append(free_at)
            if len(self.busy_until) > 1 and self.busy_until[-2] > free_at:
                self.busy_until = deque(sorted(self.busy_until))

    def end_protection_by(self, officer: Officer) -> None:
        for org_id in [o for o, who in self.protectors.items() if who is officer]:
            del self.protectors[org_id]


class Checkpoint(mesa.Agent):
    """A post where loads can be screened: watchers, then one or two sides' crews.

    At the Kazakh-Russian border a post has two sides (Kazakh exit and Russian entry);
    the regime says whether both inspect, or one (taking turns), and how often cargo is
    opened (:func:`sim.model.inspection.regime_factor`).
    """

    def __init__(self, model: NorthernRouteModel, node: int, sides: list[PostSide], both_sides_inspect: bool,
                 surveillance: list[PostSide] | None = None, stages_false_couriers: bool = False):
        super().__init__(model)
        self.node = node
        self.sides = sides
        self.surveillance = surveillance or []   # green zone, UAVs: watch every load (sim.model.policies)
        self.draws = model.stream("post", node)  # its own dice (common random numbers)
        self.both_sides_inspect = both_sides_inspect
        self.stages_false_couriers = stages_false_couriers
        self.inspections = 0
        self.seized_g = 0
        self.loads_today = 0
        self._today = -1

    def count_load(self, day: float) -> None:
        if int(day) != self._today:
            self._today, self.loads_today = int(day), 0
        self.loads_today += 1

    def sides_on_duty(self) -> list[PostSide]:
        if len(self.sides) > 1 and not self.both_sides_inspect:
            return [self.sides[0] if self.draws.random() < 0.5 else self.sides[1]]   # the sides take turns
        return self.sides


class MobilePatrol(mesa.Agent):
    """A mobile patrol in the south, run by one agency; each day it goes where loads were recently found."""

    def __init__(self, model: NorthernRouteModel, group: str, area: list[int], stop_prob: dict[int, float],
                 p_detect: list[float], officer: Officer, intelligence_weight: float, memory_days: int):
        super().__init__(model)
        self.group = group
        self.area = area
        self.stop_prob = stop_prob             # node -> chance to stop a passing load there
        self.p_detect = p_detect
        self.officer = officer
        self.intelligence_weight = intelligence_weight
        self.memory_days = memory_days
        self.position = area[0]
        self.draws = model.stream("patrol", len(model.patrols))  # its own dice (common random numbers)
        self.recent_finds: deque[tuple[float, int]] = deque()

    def choose_position(self) -> None:
        """Move to a node of the area, weighted toward recent finds (intelligence-led)."""
        horizon = self.model.day - self.memory_days
        while self.recent_finds and self.recent_finds[0][0] < horizon:
            self.recent_finds.popleft()
        counts = {n: 0 for n in self.area}
        for _, node in self.recent_finds:
            if node in counts:
                counts[node] += 1
        weights = [1.0 + self.intelligence_weight * counts[n] for n in self.area]
        self.position = self.draws.choices(self.area, weights=weights)[0]

    def stops(self, courier: Courier, node: int) -> bool:
        """Meet the load at one of the node's crossings and find it."""
        if self.draws.random() >= self.stop_prob[node]:
            return False
        return self.draws.random() < self.p_detect[courier.conveyance]

    def note_find(self, day: float, node: int) -> None:
        self.recent_finds.append((day, node))


def _weighted_index(cumulative: list[float], u: float) -> int:
    """Index drawn from cumulative weights with one uniform number ``u``."""
    target = u * cumulative[-1]
    for i, c in enumerate(cumulative):
        if target < c:
            return i
    return len(cumulative) - 1
