"""The Northern Route model (Mesa 3).

One step is one day:

1. every trafficking organisation receives its share of the day's heroin (a disrupted
   organisation's share goes to its rivals) and sends the loads its stock covers, each
   by the route it judges best;
2. mobile patrols take up their positions for the day;
3. couriers reach the nodes they arrive at today, in order of arrival time
   (:class:`sim.arrivals.Arrivals`), and meet what is there (:meth:`sim.agents.Courier.meet`);
4. the day's figures are collected.

The policies in force are data the model reads at setup (:func:`sim.policies.policy_settings`):
the posts' staff, funding and watchers, the let-run rule of controlled deliveries, the
officers' deterrence.
"""

from __future__ import annotations

import math
import random
import secrets
import zlib
from typing import Any, Mapping, Sequence

import mesa
from mesa.agent import AgentSet
import numpy as np

from sim import inspection
from sim.agents import CONVEYANCE_INDEX, Checkpoint, Courier, MobilePatrol, Officer, PostSide, TraffickingOrganisation
from sim.engine import make_arrivals
from sim.corruption import Integrity
from sim.economics import price_at, trip_cost_usd
from sim.config import scenario_params
from sim.ledger import Ledger
from sim.network import POST_KINDS, build_network
from sim.params import CONVEYANCES, ConfigError, Params
from sim.policies import funding_factor, policy_settings, reinforced, watches_at, with_policy_network
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
        self.keep_events = keep_events       # the per-hop event log (the ledger, and the engine buffering passages)
        self._set_up_rules()                   # the policies in force, deterrence, the arrivals queue
        self.node_ids = tuple(n.id for n in self.network.nodes)
        self.ledger = Ledger(self.node_ids, keep_events=keep_events)

        self.posts: list[Checkpoint | None] = [None] * len(self.node_ids)
        self.patrols_at: list[list[MobilePatrol]] = [[] for _ in self.node_ids]
        self.organisations = AgentSet([], random=self.random)
        self.patrols = AgentSet([], random=self.random)

        self._create_posts()
        self._create_patrols()
        self._create_organisations()
        self.refresh_rules()
        self.datacollector = mesa.DataCollector(model_reporters=DAILY_REPORTERS)

    # --- the schedule -------------------------------------------------------------

    def step(self) -> None:
        """One day: heroin arrives, organisations send loads, patrols deploy, couriers move, data is kept."""
        self.supply_organisations()
        self.organisations.shuffle_do("plan_shipments")
        self.deploy_patrols()
        self.arrivals.run_until(self.day + 1)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.horizon_days:
            self.running = False

    def run(self) -> None:
        """Run to the horizon."""
        while self.running:
            self.step()

    def supply_organisations(self) -> None:
        """Each organisation receives its day's heroin; a disrupted one's goes to its rivals."""
        for org in self.organisations:
            self.ledger.record_supply(org.daily_supply_g)
            if not org.disrupted(self.day) or not self.hand_to_rivals(org, org.daily_supply_g):
                org.receive(org.daily_supply_g)

    def hand_to_rivals(self, org: TraffickingOrganisation, grams: int) -> bool:
        """Heroin a disrupted organisation cannot move passes to the others working, in proportion.

        Its rivals of the same type take it if any is working (the same suppliers and
        buyers), otherwise every working organisation does. Returns False (nothing
        handed over) when no organisation is working.
        """
        if grams <= 0:
            return True
        working = [o for o in self.organisations if o is not org and not o.disrupted(self.day)]
        same = [o for o in working if o.org_type == org.org_type]
        takers = same or working
        if not takers:
            return False
        weights = [o.daily_supply_g for o in takers]
        total = sum(weights)
        given = 0
        for taker, w in zip(takers, weights):
            share = grams * w // total
            taker.receive(share)
            given += share
        takers[0].receive(grams - given)
        self.ledger.reassigned_g += grams
        return True

    def deploy_patrols(self) -> None:
        for patrols in self.patrols_at:
            patrols.clear()
        self.patrols.shuffle_do("choose_position")
        for patrol in self.patrols:
            self.patrols_at[patrol.position].append(patrol)

    # --- setup helpers -----------------------------------------------------------

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

    def refresh_rules(self) -> None:
        """Re-derive what depends on the rules in force from the agents and settings.

        Called at setup, once the posts, patrols and organisations exist (and, with
        timelines, after every event that changes the rules). The fast engine derives
        its arrays here (:meth:`sim.engine.transit.FastArrivals.follow_rules`).
        """
        self.arrivals.follow_rules(self)

    # --- setup --------------------------------------------------------------------

    def _set_up_rules(self) -> None:
        """What the policies in force set, the officers' deterrence, the queue of couriers on the road."""
        self.settings = policy_settings(self.world)
        corruption = self.world.corruption
        self.integrity = Integrity(self.settings.deterrence, corruption.deterrence_per_case, corruption.case_memory_days)
        self.arrivals = make_arrivals(self.params.transit, self._seed, self.keep_events)
        self.reporting_draws = self.stream("false couriers", 0)   # stagings change reports only (002 ¶27)

    def _create_posts(self) -> None:
        """A checkpoint agent (with its crews) at every post, green crossing and city."""
        world, insp = self.world, self.world.inspection
        for i, node in enumerate(self.network.nodes):
            if node.kind == "origin" or not node.active:
                continue
            profile_name = node.profile or insp.default_profile_by_kind.get(node.kind)
            if profile_name is None:
                continue
            own = reinforced(world, node, insp.profiles[profile_name])
            agency = node.agency or insp.default_agency_by_kind.get(node.kind, "police")
            sides = [self._side(node, agency, own)]
            counterpart = insp.counterpart_profile_by_border.get(node.border or "")
            if counterpart is not None and node.kind in POST_KINDS:
                other = insp.counterpart_agency_by_border.get(node.border, "counterpart border service")
                sides.append(self._side(node, other, insp.profiles[counterpart]))
            both = len(sides) == 2 and self.regime.sides_inspecting == 2 and not node.simplified
            watchers = [self._watchers(node, w) for w in watches_at(world, self.network, node)]
            self.posts[i] = Checkpoint(self, i, sides, both, surveillance=watchers,
                                       stages_false_couriers=node.id in self.settings.false_courier_posts)

    def _side(self, node, agency: str, profile) -> PostSide:
        """One side's crew at a post: capacity (funded staff) against the licit traffic it sees."""
        world = self.world
        capacity = profile.staff * world.inspection.inspections_per_officer_day * funding_factor(world, agency)
        traffic = profile.traffic_per_day * node.n_crossings
        targeting = [profile.targeting[c] * self._rule_factor(node, world.conveyances[c]) for c in CONVEYANCES]
        p_detect = [inspection.detection_probability(world.detection[m][world.conveyances[c].concealment]
                                                     for m in profile.methods) for c in CONVEYANCES]
        draws = self.stream(f"crew:{agency}", self.network.index[node.id])
        officers = [Officer(self, node.id, agency, profile.corruption, draws)
                    for _ in range(max(1, math.ceil(profile.staff)))]
        return PostSide(agency=agency, p_inspect=[inspection.share_inspected(capacity, traffic, t) for t in targeting],
                        p_detect=p_detect, officers=officers, staff=profile.staff, capacity=capacity,
                        licit_traffic=traffic, targeting=targeting)

    def _watchers(self, node, watch) -> PostSide:
        """Watchers (a green-zone strip, UAVs) who spot a passing load; spotted, it is found."""
        draws = self.stream(f"watchers:{watch.agency}", self.network.index[node.id])
        officers = [Officer(self, node.id, watch.agency, watch.corruption, draws) for _ in range(watch.officers)]
        n = len(CONVEYANCES)
        return PostSide(agency=watch.agency, p_inspect=[watch.spot_prob] * n, p_detect=[1.0] * n, officers=officers)

    def _rule_factor(self, node, spec) -> float:
        """Border rules: the Kazakh-Russian regime there; TIR seals at every border post."""
        if node.kind != "border_checkpoint":
            return 1.0
        if node.border == "kz_ru":
            return inspection.regime_factor(self.regime, spec)
        return self.regime.tir_inspection_factor if spec.tir else 1.0

    def _create_patrols(self) -> None:
        """Mobile patrols, each run by one agency (border guards, customs, police: 002 ¶6)."""
        world = self.world
        for group, spec in world.patrols.items():
            area = [self.network.index[n] for n in spec.area]
            p_detect = [inspection.detection_probability(world.detection[m][world.conveyances[c].concealment]
                                                         for m in spec.methods) for c in CONVEYANCES]
            for agency in _allocate(spec.count, spec.agencies):
                officer = Officer(self, f"patrol:{group}", agency, spec.corruption,
                                  self.stream(f"patrol-officer:{group}", len(self.patrols)))
                intercept = min(1.0, spec.intercept_prob * funding_factor(world, agency))
                stop_prob = {i: inspection.patrol_stop_probability(intercept, self.network.nodes[i].n_crossings,
                                                                   self._traffic_per_crossing(i, spec.quiet_traffic_per_day),
                                                                   spec.quiet_traffic_per_day) for i in area}
                self.patrols.add(MobilePatrol(self, group, area, stop_prob, p_detect, officer,
                                              spec.intelligence_weight, spec.memory_days))

    def _traffic_per_crossing(self, node: int, default: float) -> float:
        """Licit traffic a day on one crossing (or road) of a node: its post's, or ``default`` without a post."""
        post = self.posts[node]
        if post is None:
            return default
        return post.sides[0].licit_traffic / self.network.nodes[node].n_crossings

    def _create_organisations(self) -> None:
        world = self.world
        routes = build_route_menus(self.params, self.network)
        prior = self._prior_risk()
        yearly_g = world.flow.heroin_kg_per_year * world.flow.supply_multiplier * 1000
        for org_type, spec in world.organisations.items():
            if spec.count == 0:
                continue
            menus = self._menus_for(org_type, spec, routes)
            daily_g = round(yearly_g * spec.flow_share / spec.count / 365)
            for _ in range(spec.count):
                org = TraffickingOrganisation(self, org_type, spec, menus, prior, daily_g)
                self.organisations.add(org)

    def _menus_for(self, org_type: str, spec, routes) -> dict[str, RouteMenu]:
        """The routes an organisation considers: its origins, conveyances, and countries it works in."""
        nodes = self.network.nodes
        avoided = set(spec.avoids_countries)
        menus = {}
        for market in spec.markets:
            options = [r for o in spec.origins for c in spec.conveyances for r in routes.get((o, market, c), [])
                       if not any(nodes[n].country in avoided for n in r.nodes)]
            if not options:
                raise ConfigError(f"config error: world.organisations.{org_type}: no route to market {market!r} "
                                  f"that avoids {sorted(avoided)}")
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


def _allocate(count: int, weights: dict[str, float]) -> list[str]:
    """``count`` places shared among names by weight (largest remainders), in a fixed order."""
    total = sum(weights.values())
    exact = {name: count * w / total for name, w in weights.items()}
    places = {name: int(x) for name, x in exact.items()}
    for name in sorted(exact, key=lambda n: places[n] - exact[n])[: count - sum(places.values())]:
        places[name] += 1
    return [name for name in weights for _ in range(places[name])]


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
    "couriers_on_road": lambda m: len(m.arrivals),
}
