"""The Northern Route model (Mesa 3).

One step is one day:

1. every trafficking organisation receives its share of the day's heroin and sends the
   loads its stock covers, each by the route it judges best;
2. mobile patrols take up their positions for the day;
3. couriers reach the nodes they arrive at today (in order of arrival time) and are
   screened there: a checkpoint may inspect, find the load, and seize it or take a
   bribe; a delivered load is sold at its market;
4. the day's figures are collected.

Couriers move event by event (a heap of arrival times), so the cost of a run grows with
shipments and hops, not with days x agents.

The interventions in force (:mod:`sim.policies`) shape the network and the posts at
setup, and act at three moments: a found load may be let run (controlled delivery), a
controlled load is seized on arrival, a seizure may be re-staged (false couriers).
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
import zlib
from typing import Any, Mapping, Sequence

import mesa
from mesa.agent import AgentSet
import numpy as np

from sim.agents import (CONVEYANCE_INDEX, PASSED, SEIZED, BRIBED, CLEARED, Checkpoint, Courier, MobilePatrol, Officer,
                        TraffickingOrganisation, post_side)
from sim import inspection
from sim.economics import price_at, trip_cost_usd
from sim.config import scenario_params
from sim.ledger import Ledger
from sim.network import POST_KINDS, build_network
from sim.params import CONVEYANCES, Params
from sim.policies import PolicyEffects, with_policy_network
from sim.routing import RouteMenu, build_route_menus


class NorthernRouteModel(mesa.Model):
    """Heroin trafficking from northern Afghanistan through Central Asia to Russia and the EU.

    Keyword parameters follow Mesa's conventions, so that ``mesa.batch_run`` can vary any
    of them by name: ``NorthernRouteModel(regime="customs_union", supply_multiplier=1.2)``.

    Args:
        params: prepared parameters (:func:`sim.config.load_params`); default: composed
            from the keywords below (the baseline scenario when none is given).
        preset: a preset scenario (``scenarios/preset/``), e.g. ``"package_integrity"``.
        regime: the Kazakh-Russian border regime (``scenarios/regime/``).
        policies: policy configs to add (``scenarios/policy/``), e.g. ``["green_zone_kyrgyz"]``.
        horizon_days: days to simulate.
        supply_multiplier: heroin supply relative to the baseline year.
        overrides: any other setting, dotted key -> value
            (``{"world.corruption.deterrence": 0.5}``); an unknown key is an error.
        config_dir: a folder of the user's own configs (see docs/own_scenarios.md).
        rng: the random seed. None draws a fresh one, as in Mesa (``params.seed`` is not
            used: pass ``rng=params.seed``, as :func:`sim.run.simulate` does); the seed used
            is ``model.seed`` (and ``model.params.seed``), so any run can be repeated.
        keep_events: keep the per-hop event log (turn off in large sweeps).
    """

    def __init__(self, params: Params | None = None, *, preset: str | None = None, regime: str | None = None,
                 policies: Sequence[str] = (), horizon_days: int | None = None, supply_multiplier: float | None = None,
                 overrides: Mapping[str, Any] | None = None, config_dir: str | None = None,
                 rng: int | None = None, keep_events: bool = True):
        params = scenario_params(params, preset=preset, regime=regime, policies=policies, horizon_days=horizon_days,
                                 supply_multiplier=supply_multiplier, overrides=overrides, config_dir=config_dir)
        super().__init__(rng=fresh_seed() if rng is None else rng)
        self.seed = self._seed
        params = params.model_copy(update={"seed": self.seed}) if params.seed != self.seed else params
        params = with_policy_network(params)   # dedicated and INL checkpoints change the network
        self.params = params
        self.world = params.world
        self.regime = params.regime
        self.horizon_days = params.horizon_days
        self.day = 0

        self.network = build_network(params.network, self.world.transport)
        self.policies = PolicyEffects(self)    # the interventions in force (sim.policies)
        self.deterrence = self.policies.deterrence
        self.catch_prob_per_bribe = self.policies.catch_prob_per_bribe
        self.funding_factor = self.policies.funding_factor
        self.node_ids = tuple(n.id for n in self.network.nodes)
        self.ledger = Ledger(self.node_ids, keep_events=keep_events)
        self._arrivals: list[tuple[float, int, Courier]] = []
        self._arrival_seq = 0

        self.posts: list[Checkpoint | None] = [None] * len(self.node_ids)
        self.patrols_at: list[list[MobilePatrol]] = [[] for _ in self.node_ids]
        self.organisations = AgentSet([], random=self.random)
        self.patrols = AgentSet([], random=self.random)

        self._create_posts()
        self._create_patrols()
        self._create_organisations()
        self.datacollector = mesa.DataCollector(model_reporters=DAILY_REPORTERS)

    # --- the schedule -------------------------------------------------------------

    def step(self) -> None:
        """One day: organisations send loads, patrols deploy, couriers move, data is kept."""
        self.organisations.shuffle_do("plan_shipments")
        self.deploy_patrols()
        self.move_couriers_until(self.day + 1)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.horizon_days:
            self.running = False

    def run(self) -> None:
        """Run to the horizon."""
        while self.running:
            self.step()

    def schedule_arrival(self, courier: Courier, when: float) -> None:
        self._arrival_seq += 1
        heapq.heappush(self._arrivals, (when, self._arrival_seq, courier))

    def move_couriers_until(self, until: float) -> None:
        """Let every courier due before ``until`` reach its next node, in time order."""
        arrivals = self._arrivals
        while arrivals and arrivals[0][0] < until:
            when, _, courier = heapq.heappop(arrivals)
            courier.arrive(when)

    def deploy_patrols(self) -> None:
        for patrols in self.patrols_at:
            patrols.clear()
        self.patrols.shuffle_do("choose_position")
        for patrol in self.patrols:
            self.patrols_at[patrol.position].append(patrol)

    # --- what happens at a node ---------------------------------------------------

    def screen(self, courier: Courier, node: int, day: float) -> str:
        """Screen a load at a node: mobile patrols present, then the post, if any."""
        for patrol in self.patrols_at[node]:
            n = self.network.nodes[node].n_crossings
            if patrol.draws.random() < inspection.patrol_encounter_probability(1, patrol.intercept_prob, n):
                if patrol.draws.random() < patrol.p_detect[courier.conveyance]:
                    result = self.confront(courier, node, day, patrol.officer.agency, patrol.officer,
                                           price_at(self.network.nodes[node], self.world))
                    if result == SEIZED:
                        return SEIZED
        post = self.posts[node]
        outcome = PASSED if post is None else post.screen(courier, day)
        if outcome != SEIZED:
            self.ledger.record_passage(courier.shipment, node, day, inspected=outcome != PASSED)
        return outcome

    def confront(self, courier: Courier, node: int, day: float, agency: str, officer: Officer,
                 local_price: float) -> str:
        """A load was found: the courier offers a bribe; the officer takes it or seizes.

        A load under a controlled delivery runs on; a found load may be let run as one.
        """
        if courier.controlled:
            return CLEARED
        bribe = courier.offer_bribe(local_price)
        if officer.takes_bribe(bribe):
            self.ledger.record_bribe(courier.shipment, node, day, agency, bribe)
            courier.organisation.costs_usd += bribe
            return BRIBED
        if self.policies.let_run(courier, node):
            return CLEARED
        grams = courier.shipment.grams
        self.seize(courier, node, day, agency)
        self.policies.after_seizure(grams, node, agency, officer)   # false couriers at some posts
        return SEIZED

    def seize(self, courier: Courier, node: int, day: float, agency: str) -> None:
        """Seize the load, arrest the courier; the news teaches every organisation."""
        self.ledger.record_seizure(courier.shipment, node, day, agency)
        post = self.posts[node]
        if post is not None:
            post.seized_g += courier.shipment.grams
        org = courier.organisation
        org.losses_usd += courier.kg * price_at(self.network.nodes[node], self.world)
        org.learn_from_seizure(node, courier.conveyance)
        news = self.world.learning.news_weight
        if news > 0:
            for other in self.organisations:
                if other is not org:
                    other.learn_from_seizure(node, courier.conveyance, weight=news)
        for patrol in self.patrols:
            if node in patrol.area:
                patrol.note_find(day, node)
        courier.remove()

    def deliver(self, courier: Courier, node: int, day: float) -> None:
        """The load reaches its market and is sold at the market's price."""
        if courier.controlled and self.policies.close_controlled_delivery(courier, node, day):
            return                             # seized on arrival; its organisation disrupted
        self.ledger.record_delivery(courier.shipment, node, day)
        org = courier.organisation
        org.revenue_usd += courier.kg * price_at(self.network.nodes[node], self.world)
        org.learn_from_delivery(courier.route)
        courier.remove()

    # --- officers -----------------------------------------------------------------

    def draw_corruptibility(self, mean: float, draws: random.Random) -> float:
        """An officer's willingness to take bribes, drawn (Beta) around the post's level."""
        k = self.world.inspection.officer_corruptibility_concentration
        a, b = max(mean * k, 1e-6), max((1 - mean) * k, 1e-6)
        return draws.betavariate(a, b)

    def stream(self, purpose: str, index: int) -> random.Random:
        """A random stream of its own for one agent or post, derived from the run's seed.

        Each organisation, post, crew and patrol draws from its own stream, so that two
        scenarios run with the same seed (common random numbers) differ only where the
        policies differ, not because one extra draw shifted every later one.
        """
        key = np.random.SeedSequence([int(self._seed) & (2**64 - 1), zlib.crc32(purpose.encode()), index]).generate_state(2)
        return random.Random(int(key[0]) << 32 | int(key[1]))

    def trip_cost_usd(self, route) -> float:
        return trip_cost_usd(self.world.conveyances[route.conveyance], route.km)

    # --- setup --------------------------------------------------------------------

    def _create_posts(self) -> None:
        """A checkpoint agent (with its crew) at every post, green crossing and city."""
        insp = self.world.inspection
        for i, node in enumerate(self.network.nodes):
            if node.kind == "origin" or not node.active:
                continue
            profile_name = node.profile or insp.default_profile_by_kind.get(node.kind)
            if profile_name is None:
                continue
            own = self.policies.reinforced(node, insp.profiles[profile_name])
            sides = [self._side(node, node.agency or "police", own)]
            counterpart = insp.counterpart_profile_by_border.get(node.border or "")
            if counterpart is not None and node.kind in POST_KINDS:
                agency = insp.counterpart_agency_by_border.get(node.border, "counterpart border service")
                sides.append(self._side(node, agency, insp.profiles[counterpart]))
            both = len(sides) == 2 and self.regime.sides_inspecting == 2 and not node.simplified
            self.posts[i] = Checkpoint(self, i, sides, both, price_at(node, self.world),
                                       surveillance=self.policies.surveillance_at(node))

    def _side(self, node, agency: str, profile):
        factors = [self._rule_factor(node, self.world.conveyances[c]) for c in CONVEYANCES]
        n_officers = max(1, math.ceil(profile.staff))
        return post_side(self, node.id, agency, profile, node.n_crossings, factors, n_officers)

    def _rule_factor(self, node, spec) -> float:
        """Border rules: the Kazakh-Russian regime there; TIR seals at every border post."""
        if node.kind != "border_checkpoint":
            return 1.0
        if node.border == "kz_ru":
            return inspection.regime_factor(self.regime, spec)
        return self.regime.tir_inspection_factor if spec.tir else 1.0

    def _create_patrols(self) -> None:
        world = self.world
        for group, spec in world.patrols.items():
            area = [self.network.index[n] for n in spec.area]
            p_detect = [inspection.detection_probability(world.detection[m][world.conveyances[c].concealment]
                                                         for m in spec.methods) for c in CONVEYANCES]
            for _ in range(spec.count):
                officer = Officer(self, f"patrol:{group}", "mobile patrol", spec.corruption,
                                  self.stream(f"patrol-officer:{group}", len(self.patrols)))
                self.patrols.add(MobilePatrol(self, group, area, spec.intercept_prob, p_detect, officer,
                                              spec.intelligence_weight, spec.memory_days))

    def _create_organisations(self) -> None:
        world = self.world
        routes = build_route_menus(self.params, self.network)
        prior = self._prior_risk()
        yearly_g = world.flow.heroin_kg_per_year * world.flow.supply_multiplier * 1000
        for org_type, spec in world.organisations.items():
            if spec.count == 0:
                continue
            menus = self._menus_for(spec, routes)
            daily_g = round(yearly_g * spec.flow_share / spec.count / 365)
            for _ in range(spec.count):
                org = TraffickingOrganisation(self, org_type, spec, menus, prior, daily_g)
                self.organisations.add(org)

    def _menus_for(self, spec, routes) -> dict[str, RouteMenu]:
        menus = {}
        for market in spec.markets:
            options = [r for o in spec.origins for c in spec.conveyances for r in routes.get((o, market, c), [])]
            price = price_at(self.network.node(market), self.world)
            menus[market] = RouteMenu(options, price, len(CONVEYANCES))
        return menus

    def _prior_risk(self) -> np.ndarray:
        prior = self.world.learning.prior_risk
        risk = np.zeros((len(self.node_ids), len(CONVEYANCES)))
        for i, node in enumerate(self.network.nodes):
            risk[i, :] = prior.get(node.kind, 0.0)
        return risk


def fresh_seed() -> int:
    """A new random seed (what Mesa does for ``rng=None``), recorded so the run can be repeated."""
    return secrets.randbelow(2**31 - 1)   # Mesa's own fresh seeds are below int32's maximum too


def _kg(grams: int) -> float:
    return grams / 1000.0


DAILY_REPORTERS = {
    "kg_entered": lambda m: _kg(m.ledger.entered_g),
    "kg_seized": lambda m: _kg(m.ledger.seized_g),
    "kg_delivered": lambda m: _kg(m.ledger.delivered_g),
    "kg_in_transit": lambda m: _kg(m.ledger.in_transit_g),
    "shipments": lambda m: len(m.ledger.shipments),
    "seizures": lambda m: m.ledger.seizures_count,
    "bribes_usd": lambda m: m.ledger.bribes_usd,
    "bribes": lambda m: m.ledger.bribes_count,
    "couriers_on_road": lambda m: len(m._arrivals),
}
