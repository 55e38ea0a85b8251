"""Policies: the interventions users compare, and how each one enters a model at setup.

A policy is switched on in config (``scenarios/policy/<name>.yaml`` sets
``world.policies.<mechanism>.enabled: true`` and its parameters; the numbers live in
``scenarios/world/baseline_2009.yaml`` with their sources in ``scenarios/provenance.yaml``).
This module says what each mechanism does to the model:

- **green zone** (002_3aa904e3dc1761f0.txt ¶9): a secured strip along named border
  segments, as on the Kazakh-Chinese border; every load crossing one of the segment's
  unofficial roads is spotted and stopped with ``detection_prob``, then dealt with by the
  zone's guards (who may still be bribed);
- **dedicated checkpoints** (¶9): Korday handles cargo only (trucks, TIR, rail) and Karasu
  passengers only (cars, body-packers), each with its specialised inspection profile
  (scanners for cargo; documents and profiling for passengers). The checkpoints' ``handles``
  change in the network itself, so route menus are enumerated on the changed network and
  traffic that cannot use a checkpoint any more reroutes;
- **interagency anti-corruption unit** (¶8, ¶25-27): raises officers' deterrence and the
  chance that a bribe-taker is caught, and uncovers "false courier" stagings;
- **border reinforcement** (¶14: the Border Guard Service strengthening the Kazakh-Uzbek
  border): more officers on the Kazakh side of the named borders;
- **INL/UNODC checkpoints** (004_91a8e82d799f6db7.txt, 'Counternarcotics'): the seven posts
  on major arteries, present in the network but inactive, become active;
- **UAV surveillance** (003_3707a514222d1585.txt ¶6): the Russian Urals border directorate's
  three vehicle-mounted UAVs (range 500 km) watch the Kazakh-Russian green border and minor
  checkpoints within range of their bases;
- **controlled deliveries** (002 ¶11): a found load is sometimes let run to its destination,
  seized there, and the organisation behind it is disrupted (no supply for some days);
- **budgets** (002 ¶7: the 93% cut of August 2008; 004: US assistance FY2005-2008): scale
  the capacity of every post to inspect.

One practice of 2009 is not a policy but a policy acts on it: **false couriers** (002 ¶27:
customs officers at Kyzylzhar handing seized drugs to "false couriers" to pad their
statistics). It is modelled as *reporting*: a staged seizure adds to the reported
seizures, never to the true ones, so the mass balance ``entered = seized + delivered + in
transit`` is untouched. Reported and true seizures are separate outcomes.

Random draws of the policy mechanisms use the model's numpy generator (``model.rng``),
the core rules use ``model.random``: a practice that only changes reporting (false
couriers) leaves every true outcome of a seed exactly as it was.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sim.network import CROSSING_KINDS, great_circle_km
from sim.params import CONVEYANCES, ConfigError, InspectionProfile, Node, Params, World

if TYPE_CHECKING:
    from sim.agents import Courier, Officer, PostSide
    from sim.model import NorthernRouteModel


# --- policies that change the network (applied before routes are enumerated) -----------


def with_policy_network(params: Params) -> Params:
    """The parameters with the network as the policies in force make it.

    Dedicated checkpoints change what a checkpoint handles and how it inspects; the INL
    programme activates its checkpoints; a post switched on (``posts``) becomes active with
    its own profile and agency. Route menus are cached by the network config, so
    these changes must be made here, on the parameters, and not on a built graph.
    Applying this twice gives the same result.
    """
    pol = params.world.policies
    dc, inl = pol.dedicated_checkpoints, pol.inl_checkpoints
    posts = {node_id: post for node_id, post in pol.posts.items() if post.enabled}
    if not dc.enabled and not inl.enabled and not posts:
        return params
    cargo = {c for c, spec in params.world.conveyances.items() if spec.cargo}
    nodes = []
    for node in params.network.nodes:
        update: dict = {}
        if dc.enabled and node.id in dc.cargo_only:
            update = _dedicated(node, "cargo", lambda c: c in cargo, dc.cargo_profile)
        elif dc.enabled and node.id in dc.passengers_only:
            update = _dedicated(node, "passengers", lambda c: c not in cargo, dc.passenger_profile)
        if inl.enabled and node.id in inl.nodes:
            update["active"] = True
        if node.id in posts:
            update.update(active=True, profile=posts[node.id].profile, agency=posts[node.id].agency)
        nodes.append(node.model_copy(update=update) if update else node)
    network = params.network.model_copy(update={"nodes": tuple(nodes)})
    return params.model_copy(update={"network": network})


def _dedicated(node: Node, role: str, keeps, profile: str | None) -> dict:
    handles = tuple(c for c in (node.handles or CONVEYANCES) if keeps(c))
    if not handles:
        raise ConfigError(f"config error: world.policies.dedicated_checkpoints: {node.id} would handle "
                          f"nothing as a {role}-only checkpoint (it handles {list(node.handles or CONVEYANCES)})")
    update: dict = {"handles": handles}
    if profile is not None:
        update["profile"] = profile
    return update


# --- budgets and cost ---------------------------------------------------------------


def funding_factor(world: World) -> float:
    """Inspection capacity relative to full funding: the world's factor times budgets.

    ``programme_share_of_capacity`` of the capacity is paid by the national
    counter-narcotics programme and scales with its funding (0.07 after the 93% cut,
    002 ¶7); ``us_assistance_share_of_capacity`` scales with US assistance relative to the
    year the baseline ran on (FY2008, 004).
    """
    base = world.inspection.funding_factor
    b = world.policies.budget
    if not b.enabled:
        return base
    programme = 1.0 - b.programme_share_of_capacity * (1.0 - b.programme_funding)
    assistance = 1.0 + b.us_assistance_share_of_capacity * (b.us_assistance_usd / b.us_assistance_reference_usd - 1.0)
    return base * max(0.0, programme) * max(0.0, assistance)


def policy_cost_usd_per_year(world: World) -> float:
    """What the policies in force cost a year (assumptions: see provenance.yaml)."""
    pol = world.policies
    cost = 0.0
    if pol.green_zone.enabled:
        cost += pol.green_zone.cost_usd_per_year_per_segment * sum(pol.green_zone.segments.values())
    for name in ("dedicated_checkpoints", "anti_corruption_unit", "border_reinforcement", "inl_checkpoints",
                 "uav_surveillance", "controlled_deliveries"):
        mechanism = getattr(pol, name)
        if mechanism.enabled:
            cost += mechanism.cost_usd_per_year
    cost += sum(post.cost_usd_per_year for post in pol.posts.values() if post.enabled)
    return cost


def enabled_policies(world: World) -> list[str]:
    """Names of the mechanisms in force, in a fixed order (a post switched on as ``post:<node>``)."""
    pol = world.policies
    names = [name for name in type(pol).model_fields if name != "posts" and getattr(pol, name).enabled]
    return names + [f"post:{node_id}" for node_id, post in pol.posts.items() if post.enabled]


# --- the policies inside a running model ---------------------------------------------


class PolicyEffects:
    """What the policies in force do inside one model, and what they counted.

    Built by the model at setup (after its network, before its posts). The model asks it:
    the officers' deterrence and catch chance, the funding factor, a post's staff and its
    surveillance; while running it calls :meth:`let_run`, :meth:`close_controlled_delivery`
    and :meth:`after_seizure` at the moments those mechanisms act.
    """

    def __init__(self, model: NorthernRouteModel):
        self.model = model
        world = model.world
        self.world = world
        pol = world.policies
        unit = pol.anti_corruption_unit
        self.deterrence = world.corruption.deterrence
        self.catch_prob_per_bribe = world.corruption.catch_prob_per_bribe
        if unit.enabled:   # relative to the world's (calibrated) values, so they stay meaningful
            self.deterrence += unit.deterrence_gain * (1.0 - self.deterrence)
            self.catch_prob_per_bribe = min(1.0, self.catch_prob_per_bribe * unit.catch_prob_factor)
        self.funding_factor = funding_factor(world)
        self.cost_usd_per_year = policy_cost_usd_per_year(world)
        self._uav_units = self._uav_units_by_node(model)
        fc = world.corruption.false_couriers
        self._false_courier_posts = {model.network.index[n] for n in fc.posts} if fc.enabled else set()
        # what the mechanisms counted
        self.staged_g: dict[tuple[int, str], int] = defaultdict(int)   # (node, agency) -> grams re-reported
        self.stagings = 0
        self.stagings_uncovered = 0
        self.controlled_let_run = 0
        self.controlled_seized = 0
        self.controlled_seized_g = 0
        self.organisation_days_disrupted = 0
        self.stock_lost_g = 0

    # --- setup: posts ---------------------------------------------------------------

    def reinforced(self, node: Node, profile: InspectionProfile) -> InspectionProfile:
        """The Kazakh side's profile at a post, with more staff on a reinforced border."""
        br = self.world.policies.border_reinforcement
        if br.enabled and node.border in br.borders and node.country == "KZ":
            return profile.model_copy(update={"staff": profile.staff * br.staff_factor})
        return profile

    def surveillance_at(self, node: Node) -> list[PostSide]:
        """Watchers who see every load crossing here, whatever the border regime.

        A green zone on the node's segment and UAV units in range add one surveillance
        side each: a load is spotted with the given chance and, spotted, found (the
        confrontation, and a possible bribe, follow as at any post).
        """
        from sim.agents import surveillance_side

        sides = []
        gz = self.world.policies.green_zone
        if gz.enabled and node.kind == "green_crossing" and gz.segments.get(node.segment or ""):
            sides.append(surveillance_side(self.model, node.id, node.agency or "border guards", gz.detection_prob,
                                           gz.officers, gz.corruption))
        units = self._uav_units.get(node.id, 0)
        if units:
            uav = self.world.policies.uav_surveillance
            spot = 1.0 - (1.0 - uav.spot_prob_per_unit) ** units
            sides.append(surveillance_side(self.model, node.id, uav.agency, spot, uav.officers, uav.corruption))
        return sides

    @staticmethod
    def _uav_units_by_node(model: NorthernRouteModel) -> dict[str, int]:
        """How many UAV units have each watched node within range of their base."""
        uav = model.world.policies.uav_surveillance
        if not uav.enabled:
            return {}
        network = model.network
        bases = [network.node(b) for b in uav.bases]
        units = {}
        for node in network.nodes:
            watched = node.kind in uav.node_kinds or (node.kind == "border_checkpoint" and node.profile in uav.checkpoint_profiles)
            if node.border != "kz_ru" or not watched:
                continue
            n = sum(great_circle_km(b.lat, b.lon, node.lat, node.lon) <= uav.range_km for b in bases)
            if n:
                units[node.id] = n
        return units

    # --- running: controlled deliveries -------------------------------------------------

    def let_run(self, courier: Courier, node: int) -> bool:
        """A load was found and not bribed away: let it run on as a controlled delivery?"""
        cd = self.world.policies.controlled_deliveries
        if not cd.enabled or courier.controlled or courier.leg >= len(courier.route.nodes) - 1:
            return False
        if self.model.network.nodes[node].country not in cd.countries:
            return False
        if self.model.rng.random() >= cd.let_run_prob:
            return False
        courier.controlled = True
        self.controlled_let_run += 1
        return True

    def close_controlled_delivery(self, courier: Courier, node: int, day: float) -> bool:
        """A controlled load reached its destination: seize it there and disrupt its sender.

        Returns whether it was seized (otherwise the trail was lost and it is delivered).
        """
        cd = self.world.policies.controlled_deliveries
        if self.model.rng.random() >= cd.success_prob:
            return False
        grams, org = courier.shipment.grams, courier.organisation
        self.model.seize(courier, node, day, cd.agency)
        self.controlled_seized += 1
        self.controlled_seized_g += grams
        self.disrupt(org, day, cd.disruption_days)
        return True

    def disrupt(self, org, day: float, days: int) -> None:
        """The organisation's people are arrested: its stock is lost, its supply halts."""
        start = max(self.model.day, org.disrupted_until)
        until = max(org.disrupted_until, int(day) + 1 + days)
        self.organisation_days_disrupted += max(0, min(until, self.model.horizon_days) - start)
        org.disrupted_until = until
        self.stock_lost_g += org.stock_g
        org.stock_g = 0
        org.next_load = None

    # --- running: false couriers ------------------------------------------------------

    def after_seizure(self, grams: int, node: int, agency: str, officer: Officer) -> None:
        """At a false-courier post the seizing officer may re-stage part of the load.

        The officer does it with the same willingness that makes them take bribes
        (corruptibility x (1 - deterrence)); with the anti-corruption unit at work, a
        staging is uncovered with ``false_courier_detection`` and the officer is caught.
        """
        if node not in self._false_courier_posts:
            return
        rng = self.model.rng
        if rng.random() >= officer.corruptibility * (1.0 - self.model.deterrence):
            return
        unit = self.world.policies.anti_corruption_unit
        if unit.enabled and rng.random() < unit.false_courier_detection:
            self.stagings_uncovered += 1
            officer.get_caught()
            return
        share = self.world.corruption.false_couriers.recycle_share
        self.staged_g[(node, agency)] += round(grams * share)
        self.stagings += 1

    # --- what the policies counted -------------------------------------------------------

    def outcomes(self, out: dict[str, float]) -> dict[str, float]:
        """Outcome keys of the policy mechanisms (always present, zero when off).

        ``out`` is the summary computed so far (true seizures by border and agency).
        """
        nodes = self.model.network.nodes
        staged_by_border: dict[str, int] = defaultdict(int)
        staged_by_agency: dict[str, int] = defaultdict(int)
        for (node, agency), grams in self.staged_g.items():
            n = nodes[node]
            if n.kind in CROSSING_KINDS and n.border:
                staged_by_border[n.border] += grams
            staged_by_agency[agency] += grams
        staged_kg = sum(self.staged_g.values()) / 1000
        true_kg = out["kg_seized"]
        result = {
            "kg_seized_true": true_kg,
            "kg_seized_reported": true_kg + staged_kg,
            "seizures_reported": out["seizures"] + self.stagings,
            "kg_staged_false_couriers": staged_kg,
            "false_courier_stagings": float(self.stagings),
            "false_courier_stagings_uncovered": float(self.stagings_uncovered),
            "reported_inflation": staged_kg / true_kg if true_kg else 0.0,
            "controlled_deliveries": float(self.controlled_let_run),
            "controlled_deliveries_seized": float(self.controlled_seized),
            "kg_seized_controlled_delivery": self.controlled_seized_g / 1000,
            "organisation_days_disrupted": float(self.organisation_days_disrupted),
            "kg_stock_lost_disruption": self.stock_lost_g / 1000,
            "policy_cost_usd": self.cost_usd_per_year * self.model.horizon_days / 365,
        }
        from sim.outcomes import slug

        for key in [k for k in out if k.startswith("kg_seized_border_")]:
            border = key.removeprefix("kg_seized_border_")
            result[f"kg_seized_reported_border_{border}"] = out[key] + staged_by_border.get(border, 0) / 1000
        agencies = {k.removeprefix("kg_seized_agency_") for k in out if k.startswith("kg_seized_agency_")}
        staged_slugs = {slug(a): g for a, g in staged_by_agency.items()}
        for name in sorted(agencies | set(staged_slugs)):
            result[f"kg_seized_reported_agency_{name}"] = out.get(f"kg_seized_agency_{name}", 0.0) + staged_slugs.get(name, 0) / 1000
        return result


# --- presets and briefings (implemented in sim.brief; the command line looks here) ----

from sim.brief import briefing, briefing_markdown, list_policies, list_presets, main_brief, main_presets  # noqa: E402,F401
