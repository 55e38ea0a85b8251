"""The agents of the Northern Route and their rules.

- :class:`TraffickingOrganisation` receives heroin from northern Afghanistan, plans loads
  (market, route, conveyance, size), sends couriers and learns from what happens to them.
- :class:`Courier` carries one load along its route, node by node.
- :class:`Checkpoint` is a post (official checkpoint, green-border stretch, internal
  checkpoint, city police) with its crew of :class:`Officer`; it screens passing loads.
- :class:`MobilePatrol` moves among the southern crossings and roads, drawn to where
  loads were recently found (border guards, customs and police use mobile patrols in the
  south: 002_3aa904e3dc1761f0.txt ¶6).

Each rule is a short method named for what happens; the probabilities come from
:mod:`sim.inspection`, money from :mod:`sim.economics`, bookkeeping goes to the ledger.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import inspection
from sim.economics import bribe_offer_usd
from sim.ledger import Shipment
from sim.params import CONVEYANCES, InspectionProfile, OrganisationType
from sim.routing import Route, RouteMenu

if TYPE_CHECKING:
    from sim.model import NorthernRouteModel

CONVEYANCE_INDEX = {c: i for i, c in enumerate(CONVEYANCES)}
PASSED, CLEARED, BRIBED, SEIZED = "passed", "cleared", "bribed", "seized"


class TraffickingOrganisation(mesa.Agent):
    """A trafficking network: plans loads, chooses routes by expected profit, learns.

    Beliefs are the perceived chance of losing a load at each node for each conveyance.
    A seizure moves the belief at that node toward 1; a safe delivery moves the beliefs
    along the route toward 0. Route displacement (traffickers moving from the Uzbek to
    the Kyrgyz border when the Uzbek border was strengthened, 002_3aa904e3dc1761f0.txt
    ¶14) follows from these beliefs; it is not scripted.
    """

    def __init__(self, model: NorthernRouteModel, org_type: str, spec: OrganisationType,
                 menus: dict[str, RouteMenu], prior_risk: np.ndarray, daily_supply_g: int):
        super().__init__(model)
        self.org_type = org_type
        self.spec = spec
        self.menus = menus
        self.risk = prior_risk.copy()          # (nodes x conveyances) perceived loss chance
        self.daily_supply_g = daily_supply_g
        self.stock_g = 0
        self.next_load: tuple[str, Route, int] | None = None
        self.revenue_usd = 0.0
        self.losses_usd = 0.0
        self.costs_usd = 0.0
        self.disrupted_until = 0               # a controlled delivery disrupted it until this day
        self.decisions = model.stream("organisation", len(model.organisations))  # its own dice (common random numbers)
        self._markets = list(spec.markets)
        self._market_cum = np.cumsum(list(spec.markets.values())).tolist()
        self._nationalities = list(spec.courier_nationalities)
        self._nationality_cum = np.cumsum(list(spec.courier_nationalities.values())).tolist()
        self._log_safe: np.ndarray | None = None

    # --- planning -----------------------------------------------------------------

    def plan_shipments(self) -> None:
        """Receive today's supply and send every load the stock now covers."""
        if self.model.day < self.disrupted_until:
            return                             # its people arrested: no supply, no shipments
        self.stock_g += self.daily_supply_g
        self.model.ledger.record_supply(self.daily_supply_g)
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
        """Pick a market (by the organisation's buyers), a route and conveyance, a size."""
        market = self._markets[_weighted_index(self._market_cum, self.decisions.random())]
        route = self.choose_route(market)
        size = self.model.world.conveyances[route.conveyance].size
        kg = self.decisions.lognormvariate(math.log(size.median_kg), size.sigma)
        return market, route, max(1, round(kg * 1000))

    def choose_route(self, market: str) -> Route:
        """Logit choice by expected profit per kilo under the current beliefs."""
        if self._log_safe is None:
            self._log_safe = np.log1p(-np.minimum(self.risk, 0.999999)).ravel()
        temperature = self.model.world.learning.choice_temperature_usd_per_kg
        return self.menus[market].choose(self._log_safe, temperature, self.decisions.random())

    def send_courier(self, market: str, route: Route, grams: int) -> None:
        nationality = self._nationalities[_weighted_index(self._nationality_cum, self.decisions.random())]
        courier = Courier(self.model, self, market, route, grams, nationality)
        self.costs_usd += self.model.trip_cost_usd(route)
        courier.depart()

    # --- learning -----------------------------------------------------------------

    def learn_from_seizure(self, node: int, conveyance: int, weight: float = 1.0) -> None:
        """A load was lost at ``node``: that node looks riskier for that conveyance."""
        rate = self.model.world.learning.rate_on_seizure * weight
        self.risk[node, conveyance] += rate * (1.0 - self.risk[node, conveyance])
        self._log_safe = None

    def learn_from_delivery(self, route: Route) -> None:
        """A load arrived: every node it passed looks a little safer for that conveyance."""
        rate = self.model.world.learning.rate_on_passage
        self.risk[route.nodes, CONVEYANCE_INDEX[route.conveyance]] *= 1.0 - rate
        self._log_safe = None


class Courier(mesa.Agent):
    """Carries one load along a route, paid by distance; has a nationality."""

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

    def depart(self) -> None:
        """Leave the origin at a random moment of the day and head for the next node."""
        model = self.model
        self.departure = model.day + self.organisation.decisions.random()
        self.shipment.day_dispatched = self.departure
        model.ledger.record_dispatch(self.shipment, self.route.nodes[0])
        self.leg = 1
        model.schedule_arrival(self, self.departure + self.route.arrival_days[1])

    def arrive(self, day: float) -> None:
        """Reach the next node: be screened there, then deliver or travel on."""
        model, route = self.model, self.route
        node = route.nodes[self.leg]
        model.ledger.record_hop(self.shipment, route.nodes[self.leg - 1], node)
        if model.screen(self, node, day) == SEIZED:
            return
        if self.leg == len(route.nodes) - 1:
            model.deliver(self, node, day)
            return
        self.leg += 1
        model.schedule_arrival(self, self.departure + route.arrival_days[self.leg])

    def offer_bribe(self, local_price: float) -> float:
        return bribe_offer_usd(self.kg, local_price, self.model.world.corruption.bribe_share_of_value)


class Officer(mesa.Agent):
    """A border guard, customs officer or policeman; some are corruptible."""

    def __init__(self, model: NorthernRouteModel, post: str, agency: str, mean_corruptibility: float,
                 draws: random.Random | None = None):
        super().__init__(model)
        self.post = post
        self.agency = agency
        self.draws = model.random if draws is None else draws
        self.mean_corruptibility = mean_corruptibility
        self.corruptibility = model.draw_corruptibility(mean_corruptibility, self.draws)
        self.bribes_taken = 0

    def takes_bribe(self, bribe_usd: float) -> bool:
        """Weigh the bribe against the fear of being caught; maybe get caught."""
        c = self.model.world.corruption
        deterrence = self.model.deterrence
        p = inspection.bribe_acceptance_probability(self.corruptibility, deterrence, bribe_usd, c.bribe_scale_usd)
        if self.draws.random() >= p:
            return False
        self.bribes_taken += 1
        if self.draws.random() < self.model.catch_prob_per_bribe:
            self.get_caught()
        return True

    def get_caught(self) -> None:
        """Found out taking bribes: dismissed, and a newly hired officer takes the post."""
        self.model.ledger.officers_caught += 1
        self.corruptibility = self.model.draw_corruptibility(self.mean_corruptibility, self.draws)
        self.bribes_taken = 0


@dataclass
class PostSide:
    """One side's inspection at a post: its chances by conveyance, crew and agency."""

    agency: str
    p_inspect: list[float]   # by conveyance index
    p_detect: list[float]    # by conveyance index
    officers: list[Officer]


class Checkpoint(mesa.Agent):
    """A post where loads can be screened: inspect, detect, then seize or be bribed.

    At the Kazakh-Russian border a post has two sides (Kazakh exit and Russian entry);
    the regime says whether both inspect, or one (taking turns), and how often cargo is
    opened (:func:`sim.inspection.regime_factor`).
    """

    def __init__(self, model: NorthernRouteModel, node: int, sides: list[PostSide], both_sides_inspect: bool,
                 local_price: float, surveillance: list[PostSide] | None = None):
        super().__init__(model)
        self.node = node
        self.sides = sides
        self.surveillance = surveillance or []   # green zone, UAVs: watch every load (sim.policies)
        self.draws = model.stream("post", node)  # its own dice (common random numbers)
        self.both_sides_inspect = both_sides_inspect
        self.local_price = local_price
        self.inspections = 0
        self.seized_g = 0

    def screen(self, courier: Courier, day: float) -> str:
        """Screen a passing load; returns PASSED, CLEARED, BRIBED or SEIZED."""
        sides = self.sides
        if len(sides) > 1 and not self.both_sides_inspect:
            sides = [sides[0] if self.draws.random() < 0.5 else sides[1]]   # the sides take turns
        if self.surveillance:
            sides = [*self.surveillance, *sides]
        outcome = PASSED
        for side in sides:
            result = self.inspect(side, courier, day)
            if result == SEIZED:
                return SEIZED
            if result != PASSED and outcome != BRIBED:
                outcome = result
        return outcome

    def inspect(self, side: PostSide, courier: Courier, day: float) -> str:
        c = courier.conveyance
        if side.p_inspect[c] == 0.0 or self.draws.random() >= side.p_inspect[c]:
            return PASSED
        self.inspections += 1
        if self.draws.random() >= side.p_detect[c]:
            return CLEARED
        return self.model.confront(courier, self.node, day, side.agency, self.draws.choice(side.officers),
                                   self.local_price)


class MobilePatrol(mesa.Agent):
    """A mobile patrol in the south; each day it goes where loads were recently found."""

    def __init__(self, model: NorthernRouteModel, group: str, area: list[int], intercept_prob: float,
                 p_detect: list[float], officer: Officer, intelligence_weight: float, memory_days: int):
        super().__init__(model)
        self.group = group
        self.area = area
        self.intercept_prob = intercept_prob
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

    def note_find(self, day: float, node: int) -> None:
        self.recent_finds.append((day, node))


def _weighted_index(cumulative: list[float], u: float) -> int:
    """Index drawn from cumulative weights with one uniform number ``u``."""
    target = u * cumulative[-1]
    for i, c in enumerate(cumulative):
        if target < c:
            return i
    return len(cumulative) - 1


def post_side(model: NorthernRouteModel, node_id: str, agency: str, profile: InspectionProfile,
              n_crossings: int, factor_by_conveyance: list[float], n_officers: int) -> PostSide:
    """Build one side of a post from its inspection profile: chances and crew."""
    world = model.world
    insp = world.inspection
    p_inspect, p_detect = [], []
    for i, conv in enumerate(CONVEYANCES):
        spec = world.conveyances[conv]
        p = inspection.inspection_probability(profile.staff, insp.inspections_per_officer_day, model.funding_factor,
                                              profile.traffic_per_day, n_crossings, profile.targeting[conv])
        p_inspect.append(min(1.0, p * factor_by_conveyance[i]))
        p_detect.append(inspection.detection_probability(world.detection[m][spec.concealment] for m in profile.methods))
    crew_draws = model.stream(f"crew:{agency}", model.network.index[node_id])
    officers = [Officer(model, node_id, agency, profile.corruption, crew_draws) for _ in range(n_officers)]
    return PostSide(agency=agency, p_inspect=p_inspect, p_detect=p_detect, officers=officers)


def surveillance_side(model: NorthernRouteModel, node_id: str, agency: str, spot_prob: float, n_officers: int,
                      mean_corruptibility: float) -> PostSide:
    """Watchers (a green-zone strip, UAVs) who spot a passing load with ``spot_prob``.

    A spotted load is found; the courier then faces the watchers' officers as at a post.
    """
    draws = model.stream(f"watchers:{agency}", model.network.index[node_id])
    officers = [Officer(model, node_id, agency, mean_corruptibility, draws) for _ in range(n_officers)]
    n = len(CONVEYANCES)
    return PostSide(agency=agency, p_inspect=[spot_prob] * n, p_detect=[1.0] * n, officers=officers)
