"""The Northern Route model (Mesa 3).

One step is one day:

1. every trafficking organisation receives its share of the day's heroin (a disrupted
   organisation's share goes to its rivals) and sends the loads its stock covers, each
   by the route it judges best;
2. mobile patrols take up their positions for the day;
3. couriers reach the nodes they arrive at today, in order of arrival time
   (:class:`sim.model.arrivals.Arrivals`), and meet what is there (:meth:`sim.model.agents.Courier.meet`);
4. the day's figures are collected.

The policies in force are data the model reads (:func:`sim.model.policies.policy_settings`): the
posts' staff, funding and watchers, the let-run rule of controlled deliveries, the
officers' deterrence. A scenario's timeline (:mod:`sim.timeline`) changes them at the start
of an event's day: :meth:`NorthernRouteModel.refresh_rules` re-derives what depends on
them, and the world goes on from its state. ``model.use_rules(params)`` puts other rules in
force in a running model (a policy exercise's turn) the same way.
"""

from __future__ import annotations

import math
import random
from collections import Counter
import secrets
import zlib
from typing import Any, Mapping, Sequence

import mesa
from mesa.agent import AgentSet
import numpy as np

from sim.model import inspection
from sim.model.adaptation import AgencyAllocation, is_first_of_month
from sim.model.agents import CONVEYANCE_INDEX, Checkpoint, Courier, MobilePatrol, Officer, PostSide, TraffickingOrganisation
from sim.engine import make_arrivals
from sim.model.corruption import Integrity
from sim.model.deployment import deployed
from sim.model.economics import price_at, trip_cost_usd
from sim.model.ledger import Ledger
from sim.model.network import POST_KINDS, build_network
from sim.model.outcomes import FLOW_SERIES, flow_edges
from sim.params import CONVEYANCES, ConfigError, Params
from sim.model.policies import funding_factor, policy_settings, reinforced, watches_at, with_policy_network
from sim.model.routing import RouteMenu, build_route_menus
from sim.timeline import phases


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
        timeline: dated events replacing the scenario's own (``[{"date": "2009-07-01",
            "policies": ["reinforce_uzbek_border"]}]``; docs/timelines.md).
        start_date: the calendar date of day 0 (default: the scenario's, 2009-01-01).
        rng: the random seed. None draws a fresh one, as in Mesa (``params.seed`` is not
            used: pass ``rng=params.seed``, as :func:`sim.run.simulate` does); the seed used
            is ``model.seed`` (and ``model.params.seed``), so any run can be repeated.
        keep_events: keep the per-hop event log (turn off in large sweeps).
    """

    def __init__(self, params: Params | None = None, *, preset: str | None = None, regime: str | None = None,
                 policies: Sequence[str] = (), horizon_days: int | None = None, supply_multiplier: float | None = None,
                 overrides: Mapping[str, Any] | None = None, config_dir: str | None = None,
                 timeline: Sequence[Mapping[str, Any]] | None = None, start_date: Any = None,
                 rng: int | None = None, keep_events: bool = True):
        from sim.config import scenario_params   # the config layer above the model (it reads sim.model.network)

        params = scenario_params(params, preset=preset, regime=regime, policies=policies, horizon_days=horizon_days,
                                 supply_multiplier=supply_multiplier, overrides=overrides, config_dir=config_dir,
                                 timeline=timeline, start_date=start_date)
        super().__init__(rng=fresh_seed() if rng is None else rng)
        self.seed = self._seed
        params = params.model_copy(update={"seed": self.seed}) if params.seed != self.seed else params
        self.timeline = params.timeline        # the scenario's dated events (sim.timeline)
        self.start_date = params.start_date
        self.phases = phases(params)           # the rules in force between events (sim.timeline)
        self.phase = 0
        self.horizon_days = params.horizon_days
        self.day = 0

        self.node_ids = tuple(n.id for n in params.network.nodes)
        self.ledger = Ledger(self.node_ids, keep_events=keep_events)
        self.arrivals = make_arrivals(params.transit, self.seed, keep_events)   # the engine moving couriers (sim.engine)
        self.reporting_draws = self.stream("false couriers", 0)   # stagings change reports only (002 ¶27)
        self.posts: list[Checkpoint | None] = [None] * len(self.node_ids)
        self.patrols_at: list[list[MobilePatrol]] = [[] for _ in self.node_ids]
        self.organisations = AgentSet([], random=self.random)
        self.patrols = AgentSet([], random=self.random)
        self.network = None
        self.integrity = None
        self._watches: dict[int, tuple] = {}
        self._patrols_made = 0
        self._route_key = None
        self.allocation = AgencyAllocation()   # agencies' capacity by post, as they adapt (sim.model.adaptation)
        self.use_rules(self.phases[0].params)
        self.allocation.start(self)
        self.flow_edges = flow_edges(self.network)   # links of the daily border flows (node set never changes)
        self.datacollector = mesa.DataCollector(model_reporters=DAILY_REPORTERS)

    # --- the schedule -------------------------------------------------------------

    def step(self) -> None:
        """One day: the day's events, heroin arrives, organisations send loads, patrols deploy,
        couriers move, data is kept."""
        self.apply_events()
        self.adapt_agencies()
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

    def apply_events(self) -> None:
        """At the start of an event's day, the rules of the phase it opens come into force."""
        while self.phase + 1 < len(self.phases) and self.phases[self.phase + 1].start_day <= self.day:
            self.phase += 1
            self.use_rules(self.phases[self.phase].params)

    def use_rules(self, params: Params) -> None:
        """Put ``params`` (one phase's rules) in force and re-derive what depends on them."""
        params = params.model_copy(update={"seed": self.seed}) if params.seed != self.seed else params
        self.params = with_policy_network(params)   # dedicated and INL checkpoints change the network
        self.world = self.params.world
        self.regime = self.params.regime
        self.refresh_rules()

    def adapt_agencies(self) -> None:
        """On the first day of each calendar month, agencies move capacity among their posts
        as the adaptation rule in force says (:mod:`sim.model.adaptation`); the posts concerned,
        and the fast engine's arrays, follow."""
        if is_first_of_month(self.start_date, self.day) and self.allocation.month(self, self.day):
            self._refresh_posts()
            self._refresh_patrols()
            self.arrivals.follow_rules(self)

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

    def kg_flow(self, series: str) -> float:
        """Kilos carried so far over the links of one of :data:`sim.model.outcomes.FLOW_SERIES`."""
        return self.ledger.grams_over(self.flow_edges[series]) / 1000.0

    def trip_cost_usd(self, route) -> float:
        return trip_cost_usd(self.world.conveyances[route.conveyance], route.km)

    # --- setup --------------------------------------------------------------------

    def refresh_rules(self) -> None:
        """Re-derive everything that depends on the rules in force (at setup and after each event).

        The world goes on from its state: organisations keep their beliefs, stock and plans
        (a plan is dropped only when its route menu changes), couriers on the road keep
        their routes, crews keep their officers, protection deals and officers tied up by
        seizures, patrols their memory of finds, the officers the deterrence of recent
        cases. What changes: the policy settings, the network (route menus rebuilt on it,
        beliefs carried over: node indices never change), each post's crews (capacity,
        targeting, detection; officers hired or let go to the new staff), watchers,
        patrols (added or withdrawn), the organisations' daily supply. Re-deriving rules
        that did not change draws no random number, so an event that changes nothing
        changes nothing (common random numbers).
        """
        self.settings = policy_settings(self.world)
        corruption = self.world.corruption
        if self.integrity is None:
            self.integrity = Integrity(self.settings.deterrence, corruption.deterrence_per_case,
                                       corruption.case_memory_days)
        else:
            self.integrity.retune(self.settings.deterrence, corruption.deterrence_per_case, corruption.case_memory_days)
        if self.network is None or self.network.nodes != self.params.network.nodes \
                or self.network.transport != self.world.transport:
            self.network = build_network(self.params.network, self.world.transport)
        self._refresh_posts()
        self._refresh_patrols()
        self._refresh_organisations()
        self.arrivals.follow_rules(self)       # the fast engine's arrays (sim.engine.transit)

    def _refresh_posts(self) -> None:
        """A checkpoint agent (with its crews) at every active post, green crossing and city."""
        for i, node in enumerate(self.network.nodes):
            self._refresh_post(i, node)

    def _refresh_post(self, i: int, node) -> None:
        world, insp = self.world, self.world.inspection
        profile_name = node.profile or insp.default_profile_by_kind.get(node.kind)
        post = self.posts[i]
        if node.kind == "origin" or not node.active or profile_name is None:
            if post is not None:                  # a post taken out of service (a policy switched off)
                for side in [*post.sides, *post.surveillance]:
                    self._let_go(side, 0)
                post.remove()
                self.posts[i] = None
            return
        own = deployed(world, node, reinforced(world, node, insp.profiles[profile_name]))
        crews = [(node.agency or insp.default_agency_by_kind.get(node.kind, "police"), own)]
        counterpart = insp.counterpart_profile_by_border.get(node.border or "")
        if counterpart is not None and node.kind in POST_KINDS:
            crews.append((insp.counterpart_agency_by_border.get(node.border, "counterpart border service"),
                          insp.profiles[counterpart]))
        old = post.sides if post is not None else []
        sides = [self._side(node, agency, profile, old[j] if j < len(old) and old[j].agency == agency else None)
                 for j, (agency, profile) in enumerate(crews)]
        for side in old:
            if not any(side is s for s in sides):
                self._let_go(side, 0)
        both = len(sides) == 2 and self.regime.sides_inspecting == 2 and not node.simplified
        watches = tuple(watches_at(world, self.network, node))
        if post is not None and self._watches.get(i) == watches:
            watchers = post.surveillance
        else:
            for side in post.surveillance if post is not None else []:
                self._let_go(side, 0)
            watchers = [self._watchers(node, w) for w in watches]
        self._watches[i] = watches
        stages = node.id in self.settings.false_courier_posts
        if post is None:
            self.posts[i] = Checkpoint(self, i, sides, both, surveillance=watchers, stages_false_couriers=stages)
        else:
            post.sides, post.both_sides_inspect, post.surveillance = sides, both, watchers
            post.stages_false_couriers = stages

    def _side(self, node, agency: str, profile, side: PostSide | None = None) -> PostSide:
        """One side's crew at a post: capacity (funded staff) against the licit traffic it sees.

        ``side``: the crew already there, updated in place (its officers, deals and
        officers tied up stay; officers are hired or let go to the new staff).
        """
        world = self.world
        capacity = self.allocation.capacity(agency, self.network.index[node.id], profile.staff
                                            * world.inspection.inspections_per_officer_day * funding_factor(world, agency))
        traffic = profile.traffic_per_day * node.n_crossings * self._traffic_factor(node)
        targeting = [profile.targeting[c] * self._rule_factor(node, world.conveyances[c]) for c in CONVEYANCES]
        p_detect = [inspection.detection_probability(world.detection[m][world.conveyances[c].concealment]
                                                     for m in profile.methods) for c in CONVEYANCES]
        p_inspect = [inspection.share_inspected(capacity, traffic, t) for t in targeting]
        staff = max(1, math.ceil(profile.staff))
        if side is None:
            draws = self.stream(f"crew:{agency}", self.network.index[node.id])
            officers = [Officer(self, node.id, agency, profile.corruption, draws) for _ in range(staff)]
            return PostSide(agency=agency, p_inspect=p_inspect, p_detect=p_detect, officers=officers,
                            staff=profile.staff, capacity=capacity, licit_traffic=traffic, targeting=targeting)
        side.p_inspect, side.p_detect, side.targeting = p_inspect, p_detect, targeting
        side.staff, side.capacity, side.licit_traffic = profile.staff, capacity, traffic
        draws = side.officers[0].draws
        side.officers.extend(Officer(self, node.id, agency, profile.corruption, draws)
                             for _ in range(staff - len(side.officers)))
        self._let_go(side, staff)
        return side

    def _let_go(self, side: PostSide, keep: int) -> None:
        """Officers beyond the first ``keep`` of a crew leave it (and their protection deals end)."""
        for officer in side.officers[keep:]:
            side.end_protection_by(officer)
            officer.remove()
        del side.officers[keep:]

    def _traffic_factor(self, node) -> float:
        """Licit traffic at a post relative to 2009: the regime's on the Kazakh-Russian border.

        Freer trade across that border (002 ¶6: measures to expedite licit goods; the
        customs union) brings more licit vehicles, so a crew's capacity covers a smaller share.
        """
        if node.kind == "border_checkpoint" and node.border == "kz_ru":
            return self.regime.licit_traffic_factor
        return 1.0

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

    def _refresh_patrols(self) -> None:
        """Mobile patrols, each run by one agency (border guards, customs, police: 002 ¶6).

        Patrols already out keep their memory of finds; a larger count adds patrols, a
        smaller one withdraws the last added of that group and agency.
        """
        world = self.world
        wanted = {(group, agency): self.allocation.patrols(agency, group, n) for group, spec in world.patrols.items()
                  for agency, n in Counter(_allocate(spec.count, spec.agencies)).items()}   # as agencies adapt
        have = Counter((p.group, p.officer.agency) for p in self.patrols)
        for patrol in reversed(list(self.patrols)):
            key = (patrol.group, patrol.officer.agency)
            if have[key] > wanted.get(key, 0):
                have[key] -= 1
                patrol.officer.remove()
                patrol.remove()
        for group, spec in world.patrols.items():
            area = [self.network.index[n] for n in spec.area]
            p_detect = [inspection.detection_probability(world.detection[m][world.conveyances[c].concealment]
                                                         for m in spec.methods) for c in CONVEYANCES]
            for patrol in self.patrols:
                if patrol.group == group:
                    patrol.area, patrol.p_detect = area, p_detect
                    patrol.stop_prob = self._stop_prob(spec, patrol.officer.agency, area)
                    patrol.intelligence_weight, patrol.memory_days = spec.intelligence_weight, spec.memory_days
            for agency in [a for (g, a), n in wanted.items() if g == group for _ in range(n)]:
                if have[(group, agency)] >= wanted[(group, agency)]:
                    continue
                have[(group, agency)] += 1
                officer = Officer(self, f"patrol:{group}", agency, spec.corruption,
                                  self.stream(f"patrol-officer:{group}", self._patrols_made))
                patrol = MobilePatrol(self, group, area, self._stop_prob(spec, agency, area), p_detect, officer,
                                      spec.intelligence_weight, spec.memory_days)
                patrol.draws = self.stream("patrol", self._patrols_made)   # never a withdrawn patrol's dice
                self._patrols_made += 1
                self.patrols.add(patrol)

    def _stop_prob(self, spec, agency: str, area: list[int]) -> dict[int, float]:
        """A patrol's chance to stop a passing load at each node of its area (funding scales it)."""
        intercept = min(1.0, spec.intercept_prob * funding_factor(self.world, agency)
                        * self.allocation.patrol_effort(agency, [self.network.nodes[i] for i in area]))
        return {i: inspection.patrol_stop_probability(intercept, self.network.nodes[i].n_crossings,
                                                      self._traffic_per_crossing(i, spec.quiet_traffic_per_day),
                                                      spec.quiet_traffic_per_day) for i in area}

    def _traffic_per_crossing(self, node: int, default: float) -> float:
        """Licit traffic a day on one crossing (or road) of a node: its post's, or ``default`` without a post."""
        post = self.posts[node]
        if post is None:
            return default
        return post.sides[0].licit_traffic / self.network.nodes[node].n_crossings

    def _refresh_organisations(self) -> None:
        """Organisations: created at setup; after an event, their supply, specs and (when the
        network or what routes depend on changed) their route menus, beliefs carried over."""
        world = self.world
        route_key = (self.params.network, world.transport, world.conveyances, world.economics,
                     world.learning.max_routes_per_market, world.learning.max_detour_ratio,
                     {t: (o.origins, o.markets, o.conveyances, o.avoids_countries) for t, o in world.organisations.items()})
        menus = None
        if route_key != self._route_key:
            routes = build_route_menus(self.params, self.network)
            menus = {t: self._menus_for(t, spec, routes) for t, spec in world.organisations.items() if spec.count}
            self._route_key = route_key
        prior = self._prior_risk()
        yearly_g = world.flow.heroin_kg_per_year * world.flow.supply_multiplier * 1000
        daily_g = {t: round(yearly_g * spec.flow_share / spec.count / 365)
                   for t, spec in world.organisations.items() if spec.count}
        if len(self.organisations) == 0:
            for org_type, spec in world.organisations.items():
                for _ in range(spec.count):
                    self.organisations.add(TraffickingOrganisation(self, org_type, spec, menus[org_type], prior,
                                                                   daily_g[org_type]))
            return
        for org in self.organisations:
            org.follow_rules(world.organisations[org.org_type], daily_g[org.org_type],
                             menus[org.org_type] if menus is not None else None, prior, world.learning)

    def _menus_for(self, org_type: str, spec, routes) -> dict[str, RouteMenu]:
        """The routes an organisation considers: its origins, conveyances, and countries it works in
        (built once per process for the same options and prices: ``routes.menus``)."""
        prices = tuple(price_at(self.network.node(m), self.world) for m in spec.markets)
        key = (org_type, tuple(spec.markets), spec.origins, spec.conveyances, spec.avoids_countries, prices)
        menus = routes.menus.get(key)
        if menus is None:
            menus = routes.menus[key] = self._build_menus(org_type, spec, routes)
        return menus

    def _build_menus(self, org_type: str, spec, routes) -> dict[str, RouteMenu]:
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
    **{series: (lambda m, s=series: m.kg_flow(s)) for series in FLOW_SERIES},   # by border: periods, displacement
}
