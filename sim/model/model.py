"""The Northern Route model (Mesa 3).

One step is one day:

1. the day's events (a timeline) put new rules in force, and on the first of a month
   agencies that adapt move capacity among their posts;
2. every trafficking organisation receives its share of the day's heroin (a disrupted
   organisation's share goes to its rivals) and sends the loads its stock covers, each
   by the route it judges best;
3. mobile patrols take up their positions for the day;
4. couriers reach the nodes they arrive at today, in order of arrival time
   (:class:`sim.model.arrivals.Arrivals`), and meet what is there
   (:meth:`sim.model.agents.Courier.meet`);
5. the day's figures are collected.

Steps 2-5 are the agents' methods, one Python call per hop (the reference engine,
``transit: reference``), or the same rules compiled (``transit: fast``, the default:
:mod:`sim.engine`), over the same state (:mod:`sim.model.state`) with the same random
numbers: the two give the same run.

The policies in force are data the model reads (:func:`sim.model.policies.policy_settings`):
the posts' staff, funding and watchers, the let-run rule of controlled deliveries, the
officers' deterrence. A scenario's timeline (:mod:`sim.timeline`) changes them at the start
of an event's day: :meth:`NorthernRouteModel.refresh_rules` re-derives what depends on
them, and the world goes on from its state. ``model.use_rules(params)`` puts other rules in
force in a running model (a policy exercise's turn) the same way.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from typing import Any, Mapping, Sequence

import mesa
from mesa.agent import AgentSet
import numpy as np

from sim.model import inspection
from sim.model.adaptation import AgencyAllocation
from sim.model.agents import Checkpoint, MobilePatrol, Officer, PostSide, TraffickingOrganisation, Watchers
from sim.model.beliefs import BeliefArrays, prior_arrays
from sim.model.corruption import Integrity
from sim.model.daily import DailySeries, DAILY_SERIES, day_figures, flow_links
from sim.model.deployment import deployed
from sim.model.draws import Streams
from sim.model.economics import price_at, trip_cost_usd
from sim.model.ledger import REASSIGNED_G, Ledger, Vocabulary
from sim.model.network import POST_KINDS, build_network
from sim.model.outcomes import flow_edges
from sim.model.policies import funding_factor, policy_settings, reinforced, watches_at, with_policy_network
from sim.model.routing import RouteBook, RouteMenu, build_route_menus
from sim.model.state import RunState
from sim.params import CONVEYANCES, ConfigError, Params
from sim.timeline import month_bounds, phases


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
        keep_shipments: keep a row per shipment (the shipment table; sweeps need only the summary).
    """

    def __init__(self, params: Params | None = None, *, preset: str | None = None, regime: str | None = None,
                 policies: Sequence[str] = (), horizon_days: int | None = None, supply_multiplier: float | None = None,
                 overrides: Mapping[str, Any] | None = None, config_dir: str | None = None,
                 timeline: Sequence[Mapping[str, Any]] | None = None, start_date: Any = None,
                 rng: int | None = None, keep_events: bool = True, keep_shipments: bool = True):
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
        self.month_starts = frozenset(first for first, _, _ in month_bounds(self.start_date, self.horizon_days)[1:])

        self.node_ids = tuple(n.id for n in params.network.nodes)
        self.streams = Streams(self.seed)      # every random number of the run (sim.model.draws)
        self.state = RunState(len(self.node_ids), len(CONVEYANCES), _organisation_count(params),
                              _most_markets(params), _most_nationalities(params))
        self.ledger = Ledger(self.node_ids, len(CONVEYANCES), keep_events=keep_events, keep_shipments=keep_shipments)
        self.routes = RouteBook()              # the routes organisations weigh, as arrays
        self.posts: list[Checkpoint | None] = [None] * len(self.node_ids)
        self._patrols_at: list[list[MobilePatrol]] = [[] for _ in self.node_ids]
        self.officer_at: list[Officer] = []    # an officer's row -> the officer
        self.organisations = AgentSet([], random=self.random)
        self.patrols = AgentSet([], random=self.random)
        self.network = None
        self.integrity = None
        self.arrivals = None
        self.fast = None
        self._watches: dict[int, tuple] = {}
        self._patrols_made = 0
        self._route_key = None
        self.allocation = AgencyAllocation()   # agencies' capacity by post, as they adapt (sim.model.adaptation)
        self.use_rules(self.phases[0].params)
        self.flow_edges = flow_edges(self.network)   # links of the daily border flows (node set never changes)
        self.flow_links = flow_links(self.flow_edges)
        self.today = np.zeros(len(DAILY_SERIES))
        self.datacollector = DailySeries()
        self._start_engine(params.transit)
        self.allocation.start(self)

    def _start_engine(self, transit: str) -> None:
        """The queue of couriers of the reference engine, or the compiled engine (:mod:`sim.engine`)."""
        if transit == "reference":
            from sim.model.arrivals import Arrivals
            self.arrivals = Arrivals()
        else:
            from sim.engine import FastEngine
            self.fast = FastEngine(self)

    # --- the schedule -------------------------------------------------------------

    def step(self) -> None:
        """One day: the day's events, agencies adapt, heroin arrives, organisations send loads,
        patrols deploy, couriers move, the day's figures are kept."""
        self.apply_events()
        self.adapt_agencies()
        if self.fast is not None:
            self.fast.run_day()                # the same day, compiled (sim.engine)
        else:
            self.supply_organisations()
            self.organisations.do("plan_shipments")
            self.deploy_patrols()
            self.arrivals.run_until(self.day + 1)
            self.record_day()
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
        as the adaptation rule in force says (:mod:`sim.model.adaptation`); the posts concerned follow."""
        if self.day in self.month_starts and self.allocation.month(self, self.day):
            self._refresh_posts()
            self._refresh_patrols()

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
        self.ledger.add(REASSIGNED_G, grams)
        return True

    def deploy_patrols(self) -> None:
        """Each patrol takes up its position for the day (in the order they were sent out)."""
        for patrols in self._patrols_at:
            patrols.clear()
        for patrol in self.patrols:
            patrol.choose_position()
            self._patrols_at[patrol.position].append(patrol)

    @property
    def patrols_at(self) -> list[list[MobilePatrol]]:
        """The patrols at each node today, in the order a load meets them."""
        return self._patrols_at if self.fast is None else self.fast.patrols_by_node()

    def record_day(self) -> None:
        """The day's figures (:data:`sim.model.daily.DAILY_SERIES`), for the data collector."""
        day_figures(self.ledger.books, len(self.arrivals), self.flow_links, self.today)

    @property
    def couriers_on_road(self) -> int:
        """Loads on the road now."""
        return len(self.arrivals if self.fast is None else self.fast)

    def loads_on_road(self) -> dict[int, int]:
        """The loads on the road now, counted from the couriers themselves (not the ledger): shipment -> grams."""
        if self.fast is not None:
            return self.fast.loads_on_road()
        return {courier.shipment: courier.grams for courier in self.arrivals.couriers()}

    # --- what the rules draw and read ---------------------------------------------

    def belief_arrays(self) -> BeliefArrays:
        """Where the organisations' beliefs are kept (:class:`sim.model.beliefs.LossBeliefs` reads them)."""
        orgs = self.state.orgs
        return BeliefArrays(self.prior_losses, self.prior_passages, orgs.belief_losses, orgs.belief_passages,
                            orgs.belief_scale, orgs.keep_per_day)

    def node_draw(self, node: int) -> float:
        """The next random number of a node's stream: the encounters there, a crew's detection."""
        return self.streams.uniform(self.state.posts.stream.item(node))

    def rules_draw(self, node: int) -> float:
        """The next random number of the rules that follow a find at a node (controlled deliveries)."""
        return self.streams.uniform(self.state.posts.rules_stream.item(node))

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
        self._detection_by_methods: dict[tuple[str, ...], list[float]] = {}
        corruption = self.world.corruption
        if self.integrity is None:
            self.integrity = Integrity(self.settings.deterrence, corruption.deterrence_per_case,
                                       corruption.case_memory_days)
        else:
            self.integrity.retune(self.settings.deterrence, corruption.deterrence_per_case, corruption.case_memory_days)
        if self.network is None or self.network.nodes != self.params.network.nodes \
                or self.network.transport != self.world.transport:
            self.network = build_network(self.params.network, self.world.transport)
        self._refresh_nodes()
        self._refresh_posts()
        self._refresh_patrols()
        self._refresh_organisations()

    def _refresh_nodes(self) -> None:
        """What each node is to the rules: the price of a kilo there, who follows up a seizure there."""
        posts, world = self.state.posts, self.world
        let_run = self.settings.let_run
        self.let_run_agency = self.ledger.agency(let_run.agency) if let_run is not None else -1
        for i, node in enumerate(self.network.nodes):
            posts.price_usd_per_kg[i] = price_at(node, world)
            posts.investigated[i] = node.country in world.investigation.countries
            posts.let_run_country[i] = let_run is not None and node.country in let_run.countries
            posts.stream[i] = self.streams.number("node", i)
            posts.rules_stream[i] = self.streams.number("rules", i)
            posts.reporting_stream[i] = self.streams.number("false couriers", i)
        self.load_sizes = np.array([[world.conveyances[c].size.median_kg, world.conveyances[c].size.sigma]
                                    for c in CONVEYANCES])

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
                for crew in [*post.sides, *post.surveillance]:
                    self._let_go(crew, 0)
                post.close()
                self.posts[i] = None
            return
        if post is None:
            post = self.posts[i] = self._open_post(i)
        own = deployed(world, node, reinforced(world, node, insp.profiles[profile_name]))
        crews = [(node.agency or insp.default_agency_by_kind.get(node.kind, "police"), own)]
        counterpart = insp.counterpart_profile_by_border.get(node.border or "")
        if counterpart is not None and node.kind in POST_KINDS:
            crews.append((insp.counterpart_agency_by_border.get(node.border, "counterpart border service"),
                          insp.profiles[counterpart]))
        for side in post.sides[len(crews):]:
            self._let_go(side, 0)
        post.sides = [self._side(post, j, agency, profile) for j, (agency, profile) in enumerate(crews)]
        self.state.posts.n_sides[i] = len(post.sides)
        post.both_sides_inspect = len(post.sides) == 2 and self.regime.sides_inspecting == 2 and not node.simplified
        watches = tuple(watches_at(world, self.network, node))
        if self._watches.get(i) != watches:
            for watcher in post.surveillance:
                self._let_go(watcher, 0)
            post.surveillance = [self._watchers(i, w, watch) for w, watch in enumerate(watches)]
            self.state.posts.n_watchers[i] = len(watches)
        self._watches[i] = watches
        post.stages_false_couriers = node.id in self.settings.false_courier_posts

    def _open_post(self, i: int) -> Checkpoint:
        """A post put in service (at setup, or by a policy): its books start empty."""
        posts = self.state.posts
        posts.inspections[i] = posts.seized_g[i] = posts.loads_today[i] = 0
        posts.loads_day[i] = -1
        return Checkpoint(self, i)

    def _side(self, post: Checkpoint, j: int, agency: str, profile) -> PostSide:
        """One side's crew at a post: capacity (funded staff) against the licit traffic it sees.

        The crew already there (same agency) is updated in place: its officers, deals and
        officers tied up stay; officers are hired or let go to the new staff.
        """
        world, node, i = self.world, self.network.nodes[post.node], post.node
        code = self.ledger.agency(agency)
        side = post.sides[j] if j < len(post.sides) else None
        if side is not None and side.agency_code != code:   # another agency's crew takes over
            self._let_go(side, 0)
            side = None
        new_crew = side is None
        if new_crew:
            side = PostSide(self, i, j)
            sides = self.state.sides
            sides.n_busy[i, j] = 0
            sides.protector[i, j] = -1
            side.agency_code = code
        capacity = self.allocation.capacity(agency, i, profile.staff * world.inspection.inspections_per_officer_day
                                            * funding_factor(world, agency))
        traffic = profile.traffic_per_day * node.n_crossings * self._traffic_factor(node)
        targeting = [profile.targeting[c] * self._rule_factor(node, world.conveyances[c]) for c in CONVEYANCES]
        sides = self.state.sides
        sides.targeting[i, j] = targeting
        sides.p_detect[i, j] = self._detection(profile.methods)
        sides.p_inspect[i, j] = [inspection.share_inspected(capacity, traffic, t) for t in targeting]
        side.staff, side.capacity, side.licit_traffic = profile.staff, capacity, traffic
        staff = max(1, math.ceil(profile.staff))
        self.state.grow("B", staff + 1)           # the ring of officers tied up holds the whole crew
        stream = self.streams.number(f"crew:{agency}", i, fresh=new_crew)
        side.officers.extend(Officer.hire(self, staff - len(side.officers), node.id, code, profile.corruption, stream))
        self._let_go(side, staff)
        return side

    def _watchers(self, i: int, w: int, watch) -> Watchers:
        """Watchers (a green-zone strip, UAVs) who spot a passing load; spotted, it is found."""
        if w >= self.state.dims["W"]:
            self._grow_watchers(w + 1)
        watchers = Watchers(self, i, w)
        code = self.ledger.agency(watch.agency)
        watchers.agency_code = code
        self.state.watchers.p_spot[i, w] = watch.spot_prob
        stream = self.streams.number(f"watchers:{watch.agency}", i, fresh=True)
        watchers.officers = Officer.hire(self, watch.officers, self.node_ids[i], code, watch.corruption, stream)
        self._write_roster(watchers)
        return watchers

    def _grow_watchers(self, n: int) -> None:
        from sim.model.state import grown
        state = self.state
        state.dims["W"] = n
        state.watchers = grown(state.watchers, "watchers", rows=n)   # rows are (node, watch): widen the second
        state.version += 1

    def _let_go(self, crew, keep: int) -> None:
        """Officers beyond the first ``keep`` of a crew leave it (and their protection deals end)."""
        for officer in crew.officers[keep:]:
            if isinstance(crew, PostSide):
                crew.end_protection_by(officer)
            officer.leave()
        del crew.officers[keep:]
        self._write_roster(crew)

    def _write_roster(self, crew) -> None:
        """The crew's officers, as the rows the compiled engine draws an officer from."""
        table = self.state.sides if isinstance(crew, PostSide) else self.state.watchers
        n = len(crew.officers)
        if n > self.state.dims["R"]:
            self.state.grow("R", n)
            table = self.state.sides if isinstance(crew, PostSide) else self.state.watchers
        table.roster[crew.row] = -1
        table.roster[crew.row + (slice(0, n),)] = [o.row for o in crew.officers]
        table.n_officers[crew.row] = n

    def _detection(self, methods: tuple[str, ...]) -> list[float]:
        """The chance that these inspection methods find a load, by conveyance (its concealment)."""
        found = self._detection_by_methods.get(methods)
        if found is None:
            world = self.world
            found = self._detection_by_methods[methods] = [
                inspection.detection_probability([world.detection[m][world.conveyances[c].concealment] for m in methods])
                for c in CONVEYANCES]
        return found

    def _traffic_factor(self, node) -> float:
        """Licit traffic at a post relative to 2009: the regime's on the Kazakh-Russian border.

        Freer trade across that border (002 ¶6: measures to expedite licit goods; the
        customs union) brings more licit vehicles, so a crew's capacity covers a smaller share.
        """
        if node.kind == "border_checkpoint" and node.border == "kz_ru":
            return self.regime.licit_traffic_factor
        return 1.0

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
                patrol.withdraw()
        for group, spec in world.patrols.items():
            area = [self.network.index[n] for n in spec.area]
            for agency in [a for (g, a), n in wanted.items() if g == group for _ in range(n)]:
                if have[(group, agency)] >= wanted[(group, agency)]:
                    continue
                have[(group, agency)] += 1
                officer, = Officer.hire(self, 1, f"patrol:{group}", self.ledger.agency(agency), spec.corruption,
                                        self.streams.number(f"patrol-officer:{group}", self._patrols_made))
                self.patrols.add(MobilePatrol(self, group, officer, self.streams.number("patrol", self._patrols_made)))
                self._patrols_made += 1
            for patrol in self.patrols:
                if patrol.group == group:
                    self._patrol_rules(patrol, spec, area)

    def _patrol_rules(self, patrol: MobilePatrol, spec, area: list[int]) -> None:
        """A patrol's area, its chance to stop and find a load at each node, its use of intelligence."""
        patrols, p = self.state.patrols, patrol.row
        if len(area) > self.state.dims["AREA"]:
            self.state.grow("AREA", len(area))
            patrols = self.state.patrols
        patrols.n_area[p] = len(area)
        patrols.area[p, :len(area)] = area
        patrols.in_area[p] = False
        patrols.in_area[p, area] = True
        patrols.stop_prob[p] = 0.0
        for node, chance in self._stop_prob(spec, patrol.officer.agency, area).items():
            patrols.stop_prob[p, node] = chance
        patrols.p_detect[p] = self._detection(spec.methods)
        patrol.intelligence_weight, patrol.memory_days = spec.intelligence_weight, spec.memory_days
        if patrol.position not in area:
            patrol.position = area[0]

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
            self._book_menus([menu for by_market in menus.values() for menu in by_market.values()])
            self._route_key = route_key
        self.prior_losses, self.prior_passages = prior_arrays(self._prior_risk(), world.learning.prior_strength)
        yearly_g = world.flow.heroin_kg_per_year * world.flow.supply_multiplier * 1000
        daily_g = {t: round(yearly_g * spec.flow_share / spec.count / 365)
                   for t, spec in world.organisations.items() if spec.count}
        if len(self.organisations) == 0:
            for org_type, spec in world.organisations.items():
                for _ in range(spec.count):
                    org = TraffickingOrganisation(self, len(self.organisations), org_type)
                    self.state.orgs.stream[org.row] = self.streams.number("organisation", org.row)
                    self.state.orgs.org_type[org.row] = list(world.organisations).index(org_type)
                    self.organisations.add(org)
            self.ledger.org_ids = [org.unique_id for org in self.organisations]
            self.ledger.org_types = [org.org_type for org in self.organisations]
        for org in self.organisations:
            self._organisation_rules(org, world.organisations[org.org_type], daily_g[org.org_type],
                                     menus[org.org_type] if menus is not None else None)

    def _organisation_rules(self, org: TraffickingOrganisation, spec, daily_supply_g: int,
                            menus: dict[str, RouteMenu] | None) -> None:
        """An organisation's spec and supply, its buyers and recruits; new route menus drop its planned load."""
        orgs, o = self.state.orgs, org.row
        org.spec, org.daily_supply_g = spec, daily_supply_g
        orgs.keep_per_day[o] = 1.0 - self.world.learning.forgetting_per_day
        if menus is not None:
            org.menus = menus
            orgs.next_market[o] = -1
        markets = list(spec.markets)
        if len(markets) > self.state.dims["MK"]:
            self.state.grow("MK", len(markets))
            orgs = self.state.orgs
        orgs.n_markets[o] = len(markets)
        orgs.market_cum[o, :len(markets)] = np.cumsum(list(spec.markets.values()))
        orgs.menu[o, :len(markets)] = [self.routes.menu_row(org.menus[m]) for m in markets]
        nationalities = list(spec.courier_nationalities)
        if len(nationalities) > self.state.dims["NT"]:
            self.state.grow("NT", len(nationalities))
            orgs = self.state.orgs
        orgs.n_nationalities[o] = len(nationalities)
        orgs.nationality[o, :len(nationalities)] = [self.ledger.nationalities.code(n) for n in nationalities]
        orgs.nationality_cum[o, :len(nationalities)] = np.cumsum(list(spec.courier_nationalities.values()))

    def _menus_for(self, org_type: str, spec, routes) -> dict[str, RouteMenu]:
        """The routes an organisation considers: its origins, conveyances, and countries it works in
        (built once per process for the same options and prices: ``routes.menus``), each menu in
        the run's route book."""
        prices = tuple(price_at(self.network.node(m), self.world) for m in spec.markets)
        key = (org_type, tuple(spec.markets), spec.origins, spec.conveyances, spec.avoids_countries, prices)
        menus = routes.menus.get(key)
        if menus is None:
            menus = routes.menus[key] = self._build_menus(org_type, spec, routes)
        return menus

    def _book_menus(self, menus: list[RouteMenu]) -> None:
        """The menus in the run's route book. A run's first book is made once per process for
        the same menus and trip costs (sweeps run many runs in one process) and copied."""
        specs = self.world.conveyances
        key = (tuple(map(id, menus)), tuple((specs[c].fixed_cost_usd, specs[c].courier_pay_usd_per_km) for c in CONVEYANCES))
        first = not self.routes.menus
        cached = _FIRST_BOOKS.get(key) if first else None
        if cached is not None and all(a is b for a, b in zip(cached[0], menus)):
            self.routes = cached[1].copy()
            self.ledger.crossings = Vocabulary(cached[2])
            return
        for menu in menus:
            self._book_menu(menu)
        if first:
            if len(_FIRST_BOOKS) >= 8:
                _FIRST_BOOKS.pop(next(iter(_FIRST_BOOKS)))
            _FIRST_BOOKS[key] = (list(menus), self.routes.copy(), list(self.ledger.crossings.names))

    def _book_menu(self, menu: RouteMenu) -> None:
        """A menu in the run's route book, with what each trip costs and its crossings' codes."""
        specs = self.world.conveyances
        fixed = np.array([specs[c].fixed_cost_usd for c in CONVEYANCES])
        per_km = np.array([specs[c].courier_pay_usd_per_km for c in CONVEYANCES])
        trip_cost = fixed[menu.route_conveyance] + per_km[menu.route_conveyance] * menu.route_km
        codes = np.array([self.ledger.crossings.code(str(name)) for name in menu.crossing_names], dtype=np.int64)
        self.routes.menu(menu, trip_cost, codes[menu.crossing_of_route])

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


#: (the menus, trip costs) -> (the menus, kept alive, the route book, crossings' names): see ``_book_menus``
_FIRST_BOOKS: dict = {}


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


def _organisation_count(params: Params) -> int:
    return sum(spec.count for spec in params.world.organisations.values())


def _most_markets(params: Params) -> int:
    return max([len(spec.markets) for spec in params.world.organisations.values()] + [1])


def _most_nationalities(params: Params) -> int:
    return max([len(spec.courier_nationalities) for spec in params.world.organisations.values()] + [1])
