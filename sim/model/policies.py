"""Policies: the interventions users compare, as data the model reads at setup.

A policy never calls into a running model: it sets parameters of posts (staff, funding,
watchers), the let-run rule of controlled deliveries and the officers' deterrence
(:func:`policy_settings`), and the agents read them (:mod:`sim.model.agents`).

The 2009 baseline already has what was in force in 2009 (the August 2008 budget cut, the
MVD's own cut, controlled deliveries, the Russian UAVs, the reinforced Uzbek border);
each policy preset is a change from it.

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
  seized there, and the organisation behind it is disrupted (no supply for some days; its
  heroin passes to its rivals);
- **budgets** (002 ¶7: the 93% cut of August 2008 and the MVD's cut; 004: US assistance
  FY2005-2008): scale the capacity of the Kazakh agencies' posts and patrols.

One practice of 2009 is not a policy but a policy acts on it: **false couriers** (002 ¶27:
customs officers at Kyzylzhar handing seized drugs to "false couriers" to pad their
statistics). It is modelled as *reporting*: a staged seizure adds to the reported
seizures, never to the true ones, so the mass balance ``entered = seized + delivered + in
transit`` is untouched. Reported and true seizures are separate outcomes.

Random draws of controlled deliveries and investigations use the model's numpy generator
(``model.rng``); the core rules use the agents' own streams, and false-courier stagings a
stream of their own: a practice that only changes reporting leaves every true outcome of
a seed exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.network import great_circle_km
from sim.params import CONVEYANCES, ConfigError, InspectionProfile, Node, Params, World


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


def funding_factor(world: World, agency: str | None = None) -> float:
    """Inspection capacity of an agency relative to full funding: the world's factor times budgets.

    Budgets scale only the agencies they pay for (``budget.agencies``, the Kazakh
    agencies): ``programme_share_of_capacity`` of their capacity is paid by the national
    counter-narcotics programme and scales with its funding (0.07 after the 93% cut of
    August 2008, 002 ¶7); ``us_assistance_share_of_capacity`` scales with US assistance
    relative to FY2008 (004); ``agency_funding`` scales an agency's own budget on
    ``agency_share_of_capacity`` of its capacity (the MVD's 2009 cut, ¶7). ``agency=None``
    is a paid-for agency (the factor the budget applies where it applies).
    """
    base = world.inspection.funding_factor
    b = world.policies.budget
    if not b.enabled or (agency is not None and agency not in b.agencies):
        return base
    programme = 1.0 - b.programme_share_of_capacity * (1.0 - b.programme_funding)
    assistance = 1.0 + b.us_assistance_share_of_capacity * (b.us_assistance_usd / b.us_assistance_reference_usd - 1.0)
    own = 1.0 - b.agency_share_of_capacity * (1.0 - b.agency_funding.get(agency, 1.0))
    return base * max(0.0, programme) * max(0.0, assistance) * max(0.0, own)


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


# --- the policies as data the model reads ------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """Watchers at a node (a green-zone strip, UAV units) who spot a passing load."""

    agency: str
    spot_prob: float
    officers: int
    corruption: float


@dataclass(frozen=True)
class LetRun:
    """The controlled-delivery rule (002 ¶11-12): which found loads run on, and what follows."""

    countries: frozenset[str]
    let_run_prob: float
    success_prob: float
    disruption_days: int
    agency: str


@dataclass(frozen=True)
class PolicySettings:
    """What the policies in force set in one model; read by its agents, never calling back.

    ``deterrence`` and ``catch_prob_per_bribe``: the officers' base levels (the
    anti-corruption unit raises both, relative to the world's calibrated values);
    ``protection_detection_factor``: how much more often protection is found out;
    ``false_courier_detection``: the unit's chance to uncover a staging; ``let_run``: the
    controlled-delivery rule, or None.
    """

    deterrence: float
    catch_prob_per_bribe: float
    protection_detection_factor: float
    false_courier_detection: float
    let_run: LetRun | None
    false_courier_posts: frozenset[str]
    cost_usd_per_year: float


def policy_settings(world: World) -> PolicySettings:
    pol = world.policies
    unit = pol.anti_corruption_unit
    deterrence = world.corruption.deterrence
    catch = world.corruption.catch_prob_per_bribe
    if unit.enabled:
        deterrence += unit.deterrence_gain * (1.0 - deterrence)
        catch = min(1.0, catch * unit.catch_prob_factor)
    cd = pol.controlled_deliveries
    let_run = LetRun(frozenset(cd.countries), cd.let_run_prob, cd.success_prob, cd.disruption_days,
                     cd.agency) if cd.enabled else None
    fc = world.corruption.false_couriers
    return PolicySettings(
        deterrence=deterrence,
        catch_prob_per_bribe=catch,
        protection_detection_factor=unit.catch_prob_factor if unit.enabled else 1.0,
        false_courier_detection=unit.false_courier_detection if unit.enabled else 0.0,
        let_run=let_run,
        false_courier_posts=frozenset(fc.posts) if fc.enabled else frozenset(),
        cost_usd_per_year=policy_cost_usd_per_year(world),
    )


def staff_factor(world: World, node: Node) -> float:
    """More officers on the Kazakh side of a reinforced border (002 ¶14)."""
    br = world.policies.border_reinforcement
    if br.enabled and node.border in br.borders and node.country == "KZ":
        return br.staff_factor
    return 1.0


def reinforced(world: World, node: Node, profile: InspectionProfile) -> InspectionProfile:
    """The Kazakh side's profile at a post, with the reinforced staff."""
    factor = staff_factor(world, node)
    return profile if factor == 1.0 else profile.model_copy(update={"staff": profile.staff * factor})


def watches_at(world: World, network, node: Node) -> list[Watch]:
    """Watchers who see every load crossing here, whatever the border regime.

    A green zone on the node's segment and UAV units in range add one watch each: a load
    is spotted with the given chance and, spotted, found (the confrontation, and a
    possible bribe, follow as at any post).
    """
    watches = []
    gz = world.policies.green_zone
    if gz.enabled and node.kind == "green_crossing" and gz.segments.get(node.segment or ""):
        watches.append(Watch(node.agency or "border guards", gz.detection_prob, gz.officers, gz.corruption))
    units = _uav_units(world, network, node)
    if units:
        uav = world.policies.uav_surveillance
        spot = 1.0 - (1.0 - uav.spot_prob_per_unit) ** units
        watches.append(Watch(uav.agency, spot, uav.officers, uav.corruption))
    return watches


def _uav_units(world: World, network, node: Node) -> int:
    """How many UAV units have this node within range of their base."""
    uav = world.policies.uav_surveillance
    if not uav.enabled or node.border != "kz_ru":
        return 0
    watched = node.kind in uav.node_kinds or (node.kind == "border_checkpoint" and node.profile in uav.checkpoint_profiles)
    if not watched:
        return 0
    bases = [network.node(b) for b in uav.bases]
    return sum(great_circle_km(b.lat, b.lon, node.lat, node.lon) <= uav.range_km for b in bases)

