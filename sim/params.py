"""The model's parameters: one typed, validated object built from the composed config.

Hydra composes YAML from ``scenarios/``; :func:`params_from_config` turns it into
:class:`Params`. Validation happens here, once, so that the model can trust its inputs:
a probability of 1.7, a negative size or an unknown node name fails with a one-line
:class:`ConfigError` that names the key and the problem.

Numbers live in the configs, not here: this module only says what each one means and
which values are admissible. Where each number comes from is in
``scenarios/provenance.yaml``.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Annotated, Any, Literal, Mapping

import datetime as dt

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

# Every number has a finite, admissible range: ``inf``/``nan`` are refused everywhere
# (model_config ``allow_inf_nan=False``), and each field below gives both bounds. The
# bounds are generous (what the mechanism can mean), not plausible ranges: those are
# in scenarios/provenance.yaml. ``python -m sim provenance`` shows both.
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Factor = Annotated[float, Field(ge=0.0, le=100.0)]           # a multiplier of a baseline quantity
Weight = Annotated[float, Field(gt=0.0, le=1000.0)]          # a relative weight (normalised in use)
Usd = Annotated[float, Field(ge=0.0, le=1e10)]               # money, per year or per trip
UsdPerKg = Annotated[float, Field(gt=0.0, le=1e6)]
Days = Annotated[float, Field(ge=0.0, le=365.0)]
DayCount = Annotated[int, Field(ge=1, le=3650)]
HeadCount = Annotated[int, Field(ge=0, le=10_000)]

CONVEYANCES = ("truck", "truck_tir", "car", "rail", "body_packer")
EDGE_MODES = ("road", "rail", "foot")
NODE_KINDS = ("origin", "city", "market", "border_checkpoint", "green_crossing", "internal_checkpoint")
CONCEALMENTS = ("vehicle_cache", "sealed_cargo", "rail_cargo", "body")
METHODS = ("canine", "scanner", "endoscope", "documents")

Conveyance = Literal["truck", "truck_tir", "car", "rail", "body_packer"]
EdgeMode = Literal["road", "rail", "foot"]
NodeKind = Literal["origin", "city", "market", "border_checkpoint", "green_crossing", "internal_checkpoint"]
Concealment = Literal["vehicle_cache", "sealed_cargo", "rail_cargo", "body"]
Method = Literal["canine", "scanner", "endoscope", "documents"]


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key and the problem."""


from sim.timeline import DEFAULT_START_DATE, Event, check_timeline, end_date, horizon_from_end_date  # noqa: E402


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """``horizon_days=true`` is not 1 day: a boolean where a number goes is refused."""
        annotation, _ = _unwrap(cls.model_fields[info.field_name].annotation)
        if isinstance(value, bool) and annotation in (int, float):
            raise ValueError("a number is required, not a boolean")
        if isinstance(value, Mapping) and typing.get_origin(annotation) is dict:
            element, _ = _unwrap(typing.get_args(annotation)[1])
            flags = [k for k, v in value.items() if isinstance(v, bool)]
            if element in (int, float) and flags:
                raise ValueError(f"{flags[0]}: a number is required, not {str(value[flags[0]]).lower()}")
        return value


# --- the network --------------------------------------------------------------------


class Node(_Strict):
    """A place on the route: a city, market, origin, checkpoint or crossing cluster."""

    id: str = Field(min_length=1)
    name: str
    country: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: NodeKind
    source: str = Field(min_length=3)
    price_zone: str
    border: str | None = None
    segment: str | None = None
    handles: tuple[Conveyance, ...] | None = None
    profile: str | None = None
    n_crossings: int = Field(default=1, ge=1, le=10_000)
    simplified: bool = False
    active: bool = True
    agency: str | None = None


class Edge(_Strict):
    """A link between two nodes, usable by the listed modes."""

    u: str
    v: str
    modes: tuple[EdgeMode, ...] = Field(min_length=1)
    km: Annotated[float, Field(gt=0.0, le=20_000.0)] | None = None
    days: Days | None = None


class NetworkConfig(_Strict):
    nodes: tuple[Node, ...] = Field(min_length=2)
    edges: tuple[Edge, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_resolve(self) -> "NetworkConfig":
        ids = [n.id for n in self.nodes]
        seen: set[str] = set()
        for i, node_id in enumerate(ids):
            if node_id in seen:
                raise ValueError(f"nodes.{i}.id: duplicate node id {node_id!r}")
            seen.add(node_id)
        for i, edge in enumerate(self.edges):
            for end in ("u", "v"):
                name = getattr(edge, end)
                if name not in seen:
                    raise ValueError(f"edges.{i}.{end}: unknown node {name!r}")
            if edge.u == edge.v:
                raise ValueError(f"edges.{i}: links node {edge.u!r} to itself")
        return self


# --- the world's mechanisms ----------------------------------------------------------


class Flow(_Strict):
    heroin_kg_per_year: float = Field(gt=0.0, le=1_000_000.0)   # 1,000 t: more than all Afghan heroin
    supply_multiplier: float = Field(default=1.0, ge=0.0, le=10.0)


class Transport(_Strict):
    detour_factor: float = Field(ge=1.0, le=10.0)
    speed_km_per_day: dict[EdgeMode, Annotated[float, Field(gt=0.0, le=5_000.0)]]
    handling_days_per_node: Days

    @model_validator(mode="after")
    def _all_modes(self) -> "Transport":
        missing = set(EDGE_MODES) - set(self.speed_km_per_day)
        if missing:
            raise ValueError(f"speed_km_per_day: missing modes {sorted(missing)}")
        return self


class SizeDistribution(_Strict):
    """Lognormal load size: median in kg and the standard deviation of log size."""

    median_kg: float = Field(gt=0.0, le=1_000.0)
    sigma: float = Field(ge=0.0, le=5.0)


class ConveyanceSpec(_Strict):
    edge_modes: tuple[EdgeMode, ...] = Field(min_length=1)
    concealment: Concealment
    cargo: bool
    tir: bool
    size: SizeDistribution
    courier_pay_usd_per_km: float = Field(ge=0.0, le=1_000.0)
    fixed_cost_usd: float = Field(ge=0.0, le=1e7)


class OrganisationType(_Strict):
    flow_share: Probability
    count: int = Field(ge=0, le=1_000)
    origins: tuple[str, ...] = Field(min_length=1)
    conveyances: tuple[Conveyance, ...] = Field(min_length=1)
    markets: dict[str, Weight] = Field(min_length=1)
    courier_nationalities: dict[str, Weight] = Field(min_length=1)
    avoids_countries: tuple[str, ...] = ()   # countries where it has no network: its routes avoid them


class Learning(_Strict):
    """How organisations judge risk: a Beta-Bernoulli belief per node and conveyance.

    The perceived chance of losing a load at a node is the posterior mean of a Beta prior
    (mean ``prior_risk`` by node kind, worth ``prior_strength`` passages) updated by the
    organisation's own losses and passages there, by news of others' seizures (each worth
    ``news_weight`` of an own loss), old evidence discounted by ``forgetting_per_day``.
    Past ``loss_tolerance`` (perceived chance of losing a load on a route) an organisation
    switches route or conveyance, or sends a smaller load.
    """

    prior_risk: dict[NodeKind, Probability]
    prior_strength: float = Field(gt=0.0, le=1e6)   # passages of evidence the prior is worth
    forgetting_per_day: Probability
    news_weight: Probability
    loss_tolerance: Probability
    small_load_factor: Annotated[float, Field(gt=0.0, le=1.0)]
    choice_temperature_usd_per_kg: UsdPerKg
    max_routes_per_market: int = Field(ge=1, le=1_000)
    max_detour_ratio: float = Field(ge=1.0, le=10.0)


class Economics(_Strict):
    price_usd_per_kg: dict[str, UsdPerKg]


class InspectionProfile(_Strict):
    """A post's crew and its licit traffic: ``traffic_per_day`` vehicles or people a day per crossing."""

    staff: float = Field(ge=0.0, le=10_000.0)
    traffic_per_day: float = Field(gt=0.0, le=1e6)
    methods: tuple[Method, ...]
    corruption: Probability
    targeting: dict[Conveyance, Factor]


class Inspection(_Strict):
    inspections_per_officer_day: float = Field(ge=0.0, le=1_000.0)
    funding_factor: Factor = 1.0
    officer_corruptibility_concentration: float = Field(gt=0.0, le=1_000.0)
    profiles: dict[str, InspectionProfile]
    default_profile_by_kind: dict[NodeKind, str]
    counterpart_profile_by_border: dict[str, str] = {}
    counterpart_agency_by_border: dict[str, str] = {}
    default_agency_by_kind: dict[NodeKind, str] = {}   # who works a node that names no agency
    seizure_officer_days: Days = 0.0   # officer-days a seizure takes from its post (processing, hand-over)


class FalseCouriers(_Strict):
    """Officers padding their statistics with seized drugs (002_3aa904e3dc1761f0.txt ¶27).

    At the listed posts, after a seizure the seizing officer may hand ``recycle_share`` of
    the load to a "false courier" and seize it again: reported seizures grow, true ones
    do not (see :mod:`sim.model.policies`).
    """

    enabled: bool = False
    posts: tuple[str, ...] = ()
    recycle_share: Probability = 0.0


class Protection(_Strict):
    """Officers paid by an organisation to wave its loads through (002 ¶25-27, 000 ¶4).

    An officer who took an organisation's bribe agrees with ``offer_prob`` to protect its
    loads at the post; each protected load then passes the officer's side uninspected,
    costs the organisation ``price_usd_per_load`` and risks the arrangement's discovery
    with ``detection_prob_per_load`` (times the anti-corruption unit's factor).
    """

    offer_prob: Probability = 0.0
    price_usd_per_load: Usd = 0.0
    detection_prob_per_load: Probability = 0.0


class Corruption(_Strict):
    """Bribes at a find, protection, detected cases and the deterrence they feed.

    The courier offers ``bribe_wage_months`` of the officer's monthly pay, but never more
    than ``bribe_share_of_value`` of the load's value where it was found; officers are
    tempted on the scale ``bribe_scale_usd``. Each detected corruption case adds to the
    officers' deterrence (``deterrence_per_case``, remembered ``case_memory_days``).
    """

    bribe_share_of_value: Probability
    bribe_scale_usd: float = Field(gt=0.0, le=1e7)
    officer_wage_usd_per_month: float = Field(gt=0.0, le=1e5)
    bribe_wage_months: float = Field(ge=0.0, le=120.0)
    deterrence: Probability
    catch_prob_per_bribe: Probability
    deterrence_per_case: Probability = 0.0
    case_memory_days: int = Field(default=90, ge=1, le=3650)
    protection: Protection = Protection()
    false_couriers: FalseCouriers = FalseCouriers()


class PatrolGroup(_Strict):
    """Mobile patrols; each is run by one of ``agencies`` (weights: how many of the patrols each runs)."""

    count: HeadCount
    agencies: dict[str, Weight] = Field(min_length=1)
    area: tuple[str, ...] = Field(min_length=1)
    intercept_prob: Probability               # chance to stop a passing load where traffic is quiet ...
    quiet_traffic_per_day: float = Field(gt=0.0, le=1e6)          # ... this many vehicles a day per crossing, or fewer
    methods: tuple[Method, ...]
    corruption: Probability
    intelligence_weight: Factor
    memory_days: DayCount


class Investigation(_Strict):
    """The KNB's follow-up of seizures: routes and groups shut (002 ¶3; 003 ¶2-3).

    After a seizure in ``countries`` the agency investigates: with ``route_shut_prob`` it
    shuts the organisation's channel through that node (its routes through it are closed
    to it for ``route_shut_days``); with ``group_shut_prob`` it dismantles the group (the
    organisation sends nothing for ``disruption_days``; its heroin passes to rivals).
    """

    countries: tuple[str, ...] = ("KZ",)
    route_shut_prob: Probability = 0.0
    route_shut_days: int = Field(default=0, ge=0, le=3650)
    group_shut_prob: Probability = 0.0
    disruption_days: int = Field(default=0, ge=0, le=3650)


# --- policies (interventions) -------------------------------------------------------------
# What each mechanism does is in sim/model/policies.py; the numbers live in
# scenarios/world/baseline_2009.yaml and scenarios/policy/*.yaml. Defaults here are the
# neutral "not in force" values; the 2009 baseline switches on what was in force in 2009.


class GreenZone(_Strict):
    """A secured strip along border segments (002_3aa904e3dc1761f0.txt ¶9)."""

    enabled: bool = False
    segments: dict[str, bool] = {}           # segment -> in the zone (a mapping, so policies combine)
    detection_prob: Probability = 0.0        # chance a load crossing an unofficial road there is stopped
    officers: int = Field(default=1, ge=1, le=10_000)   # zone guards per crossing cluster (bribe-taking varies by officer)
    corruption: Probability = 0.0
    cost_usd_per_year_per_segment: Usd = 0.0


class DedicatedCheckpoints(_Strict):
    """Checkpoints reserved for cargo or for passengers (002_3aa904e3dc1761f0.txt ¶9)."""

    enabled: bool = False
    cargo_only: tuple[str, ...] = ()
    passengers_only: tuple[str, ...] = ()
    cargo_profile: str | None = None
    passenger_profile: str | None = None
    cost_usd_per_year: Usd = 0.0

    @model_validator(mode="after")
    def _not_both(self) -> "DedicatedCheckpoints":
        both = sorted(set(self.cargo_only) & set(self.passengers_only))
        if both:
            raise ValueError(f"checkpoint(s) {both} cannot be both cargo-only and passengers-only")
        return self


class AntiCorruptionUnit(_Strict):
    """An interagency unit against officials tied to traffickers (002 ¶8, ¶25-27)."""

    enabled: bool = False
    deterrence_gain: Probability = 0.0        # share of the gap to full deterrence the unit closes
    catch_prob_factor: float = Field(default=1.0, gt=0.0, le=100.0)   # bribe-takers are caught this many times as often
    false_courier_detection: Probability = 0.0   # chance the unit uncovers a staged "false courier"
    cost_usd_per_year: Usd = 0.0


class BorderReinforcement(_Strict):
    """More officers on the Kazakh side of named borders (002 ¶14: the Kazakh-Uzbek border)."""

    enabled: bool = False
    borders: tuple[str, ...] = ()
    staff_factor: Factor = 1.0
    cost_usd_per_year: Usd = 0.0


class InlCheckpoints(_Strict):
    """The seven INL/UNODC checkpoints on major arteries (004_91a8e82d799f6db7.txt)."""

    enabled: bool = False
    nodes: tuple[str, ...] = ()
    cost_usd_per_year: Usd = 0.0


class UavSurveillance(_Strict):
    """Russian border-guard UAVs watching the Kazakh border (003_3707a514222d1585.txt ¶6)."""

    enabled: bool = False
    bases: tuple[str, ...] = ()               # one node per vehicle-mounted unit
    range_km: float = Field(default=0.0, ge=0.0, le=10_000.0)
    spot_prob_per_unit: Probability = 0.0    # chance one unit in range spots a crossing load
    node_kinds: tuple[NodeKind, ...] = ("green_crossing",)
    checkpoint_profiles: tuple[str, ...] = ()   # checkpoints with these profiles are watched too
    agency: str = "Russian FSB border service"
    officers: int = Field(default=1, ge=1, le=10_000)
    corruption: Probability = 0.0
    cost_usd_per_year: Usd = 0.0


class ControlledDeliveries(_Strict):
    """Letting a found load run on to dismantle the organisation behind it (002 ¶11)."""

    enabled: bool = False
    countries: tuple[str, ...] = ("KZ",)     # where finds may be let run
    let_run_prob: Probability = 0.0          # chance a found (and not bribed-away) load is let run
    success_prob: Probability = 0.0          # chance it is seized at its destination
    disruption_days: int = Field(default=0, ge=0, le=3650)   # the organisation's supply halts this long
    agency: str = "MVD counter-narcotics (controlled delivery)"
    cost_usd_per_year: Usd = 0.0


class Budget(_Strict):
    """Counter-narcotics budgets scale inspection capacity (002 ¶7; 004 funding table).

    Only the posts and patrols of ``agencies`` (the Kazakh agencies the programme and US
    assistance pay for) are scaled; ``agency_funding`` scales one agency's own budget
    further (the MVD's 2009 anti-narcotics money cut by 45 of 225 million tenge, ¶7).
    """

    enabled: bool = False
    agencies: tuple[str, ...] = ()
    agency_funding: dict[str, Factor] = {}
    agency_share_of_capacity: Probability = 0.0    # share of an agency's capacity its own budget pays
    programme_share_of_capacity: Probability = 0.0   # share of capacity the national programme pays for
    programme_funding: Factor = 1.0                   # programme funding relative to the baseline
    us_assistance_share_of_capacity: Probability = 0.0
    us_assistance_usd: Usd = 0.0
    us_assistance_reference_usd: float = Field(default=1.0, gt=0.0, le=1e10)   # the US assistance the baseline year ran on


class Post(_Strict):
    """A checkpoint a scenario switches on at a node (``world.policies.posts.<node id>``).

    The generic way to put a new post into service: the node (often one the scenario adds
    with ``network.changes``) becomes active with its own inspection profile and agency,
    and its yearly cost counts in the policy cost. Numbers live in the config that sets it.
    """

    enabled: bool = False
    profile: str                              # a key of world.inspection.profiles
    agency: str                               # who seizes there (seizures are booked to it)
    cost_usd_per_year: Usd


class Deployment(_Strict):
    """Officers, equipment and patrol units added to the 2009 deployment (``world.deployment``).

    What an allocation of money buys (``python -m sim optimise``, docs/optimisation.md):
    ``officers_added`` more officers on the post's own (Kazakh) crew; ``equipment_added``
    inspection methods the crew gains there (scanner, canine team, endoscope); patrol units
    are ``world.patrols.<group>.count``. The yearly costs price them: an officer-year is
    twelve months of ``world.corruption.officer_wage_usd_per_month`` times
    ``officer_cost_factor`` (pay plus overheads), one method at one post costs
    ``equipment_usd_per_post_year``, one patrol unit ``patrol_unit_usd_per_year``.
    """

    officers_added: dict[str, HeadCount] = {}          # post node id -> officers added to its own crew
    equipment_added: dict[str, tuple[Method, ...]] = {}   # post node id -> methods added there
    officer_cost_factor: float = Field(default=1.0, ge=1.0, le=10.0)   # an officer-year costs this many years of pay
    equipment_usd_per_post_year: dict[Method, Usd] = {}
    patrol_unit_usd_per_year: Usd = 0.0


class Policies(_Strict):
    """Every intervention, each off unless ``enabled``; they combine freely."""

    green_zone: GreenZone = GreenZone()
    dedicated_checkpoints: DedicatedCheckpoints = DedicatedCheckpoints()
    anti_corruption_unit: AntiCorruptionUnit = AntiCorruptionUnit()
    border_reinforcement: BorderReinforcement = BorderReinforcement()
    inl_checkpoints: InlCheckpoints = InlCheckpoints()
    uav_surveillance: UavSurveillance = UavSurveillance()
    controlled_deliveries: ControlledDeliveries = ControlledDeliveries()
    budget: Budget = Budget()
    posts: dict[str, Post] = {}               # node id -> the post switched on there


class World(_Strict):
    flow: Flow
    transport: Transport
    conveyances: dict[Conveyance, ConveyanceSpec]
    organisations: dict[str, OrganisationType] = Field(min_length=1)
    learning: Learning
    economics: Economics
    inspection: Inspection
    detection: dict[Method, dict[Concealment, Probability]]
    corruption: Corruption
    patrols: dict[str, PatrolGroup] = {}
    investigation: Investigation = Investigation()
    policies: Policies = Policies()
    deployment: Deployment = Deployment()


class Regime(_Strict):
    """Inspection rules on the Kazakh-Russian border."""

    name: str
    sides_inspecting: int = Field(ge=1, le=2)
    cargo_inspection_factor: Factor
    person_inspection_factor: Factor
    tir_inspection_factor: Factor
    licit_traffic_factor: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0   # licit traffic at the border posts, x 2009


# --- agencies that adapt (sim/model/adaptation.py) ------------------------------------------


AdaptationRule = Literal["none", "recent_seizures", "intelligence", "seizure_target"]


class Adaptation(_Strict):
    """How agencies move inspection capacity among their posts once a month (:mod:`sim.model.adaptation`).

    ``rule``: ``none`` (2009 practice: nothing moves), ``recent_seizures`` (toward the posts
    of the agency's recent seizures), ``intelligence`` (toward a noisy view of the flows
    through its posts; pooled through CARICC with ``caricc_sharing``, 002 ¶10, ¶12-13) or
    ``seizure_target`` (a monthly target in kilos raises or lowers the agency's effort).
    Only the posts of ``agencies`` in ``countries`` take part. Each month at most
    ``share_moved_per_month`` of an agency's capacity moves; a post keeps at least
    ``min_staff_share`` and at most ``max_capacity_factor`` times its configured capacity.
    The defaults are the neutral values (nothing moves); the numbers live in
    ``scenarios/adaptation/*.yaml``, their sources in ``scenarios/provenance.yaml``.
    """

    rule: AdaptationRule = "none"
    agencies: tuple[str, ...] = ()
    countries: tuple[str, ...] = ("KZ",)
    share_moved_per_month: Probability = 0.0
    min_staff_share: Probability = 1.0
    max_capacity_factor: float = Field(default=1.0, ge=1.0, le=100.0)
    seizure_memory: Probability = 0.0          # recent_seizures: share of the remembered kilos kept a month on
    intelligence_noise: float = Field(default=0.0, ge=0.0, le=10.0)   # log-sd of one report of a post's flow
    caricc_sharing: bool = False               # intelligence: reports pooled through CARICC
    target_kg_per_month: dict[str, Annotated[float, Field(ge=0.0, le=1e6)]] = {}   # seizure_target, by agency
    effort_step: Probability = 0.0             # seizure_target: change of effort a month at a full miss
    min_effort: float = Field(default=1.0, ge=0.0, le=10.0)
    max_effort: float = Field(default=1.0, ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _consistent(self) -> "Adaptation":
        if self.min_effort > 1.0 or self.max_effort < 1.0:
            raise ValueError(f"min_effort ({self.min_effort:g}) must be at most 1 and max_effort "
                             f"({self.max_effort:g}) at least 1 (effort 1 is the configured capacity)")
        missing = [a for a in self.agencies if a not in self.target_kg_per_month]
        if self.rule == "seizure_target" and missing:
            raise ValueError(f"target_kg_per_month: no target for agency {missing[0]!r} (rule seizure_target)")
        return self


class Params(_Strict):
    """Everything one run needs, validated. Picklable, so workers can receive it."""

    network: NetworkConfig
    world: World
    regime: Regime
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    horizon_days: int = Field(default=365, ge=1, le=36_500)
    start_date: dt.date = DEFAULT_START_DATE       # the calendar date of day 0 (sim.timeline)
    timeline: tuple[Event, ...] = ()               # dated changes of the rules in force (sim.timeline)
    transit: Literal["fast", "reference"] = "reference"   # the engine that moves couriers (sim.engine)
    adaptation: Adaptation = Adaptation()          # agencies moving capacity among posts (sim.model.adaptation)
    _phases: Any = PrivateAttr(default=None)       # the phases validation built (sim.timeline.phases)

    @property
    def end_date(self) -> dt.date:
        """The calendar date of the last simulated day."""
        return end_date(self.start_date, self.horizon_days)

    @model_validator(mode="before")
    @classmethod
    def _affordable(cls, data: Any) -> Any:
        """Refuse a run too large to finish before pydantic reports the bare bound."""
        if isinstance(data, Mapping):
            check_run_size(data)
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> "Params":
        _check_cross_references(self)
        self._phases = check_timeline(self)
        return self


def _check_cross_references(p: Params) -> None:
    """Names used in one part of the config must exist in the part that defines them."""
    nodes = {n.id: n for n in p.network.nodes}
    world = p.world
    zones = set(world.economics.price_usd_per_kg)
    profiles = set(world.inspection.profiles)
    for i, node in enumerate(p.network.nodes):
        if node.price_zone not in zones:
            raise ValueError(f"network.nodes.{i} ({node.id}).price_zone: unknown price zone {node.price_zone!r}")
        if node.profile is not None and node.profile not in profiles:
            raise ValueError(f"network.nodes.{i} ({node.id}).profile: unknown inspection profile {node.profile!r}")
    for kind, profile in world.inspection.default_profile_by_kind.items():
        if profile not in profiles:
            raise ValueError(f"world.inspection.default_profile_by_kind.{kind}: unknown profile {profile!r}")
    for border, profile in world.inspection.counterpart_profile_by_border.items():
        if profile not in profiles:
            raise ValueError(f"world.inspection.counterpart_profile_by_border.{border}: unknown profile {profile!r}")
    missing = set(CONVEYANCES) - set(world.conveyances)
    if missing:
        raise ValueError(f"world.conveyances: missing {sorted(missing)}")
    for name, org in world.organisations.items():
        where = f"world.organisations.{name}"
        if org.count == 0 and org.flow_share > 0:
            raise ValueError(f"{where}.count: 0 organisations cannot carry flow_share {org.flow_share:g} of the heroin; "
                             f"set {where}.flow_share=0 and give its share to the others (shares sum to 1)")
        for origin in org.origins:
            if origin not in nodes:
                raise ValueError(f"{where}.origins: unknown node {origin!r}")
            if nodes[origin].kind != "origin":
                raise ValueError(f"{where}.origins: node {origin!r} is a {nodes[origin].kind}, not an origin")
        for market in org.markets:
            if market not in nodes:
                raise ValueError(f"{where}.markets: unknown node {market!r}")
            if nodes[market].kind != "market":
                raise ValueError(f"{where}.markets: node {market!r} is a {nodes[market].kind}, not a market")
        countries = {n.country for n in nodes.values()}
        for c in org.avoids_countries:
            if c not in countries:
                raise ValueError(f"{where}.avoids_countries: no node in country {c!r}")
    total_share = sum(o.flow_share for o in world.organisations.values())
    if abs(total_share - 1.0) > 1e-6:
        raise ValueError(f"world.organisations.*.flow_share: shares sum to {total_share:.4f}, not 1")
    for group, patrol in world.patrols.items():
        for node_id in patrol.area:
            if node_id not in nodes:
                raise ValueError(f"world.patrols.{group}.area: unknown node {node_id!r}")
    for method in METHODS:
        if method not in world.detection:
            raise ValueError(f"world.detection: missing method {method!r}")
        missing_c = set(CONCEALMENTS) - set(world.detection[method])
        if missing_c:
            raise ValueError(f"world.detection.{method}: missing concealments {sorted(missing_c)}")
    for pname, prof in world.inspection.profiles.items():
        missing_t = set(CONVEYANCES) - set(prof.targeting)
        if missing_t:
            raise ValueError(f"world.inspection.profiles.{pname}.targeting: missing {sorted(missing_t)}")
    _check_policy_references(p, nodes)
    _check_adaptation_references(p, nodes)


def _check_policy_references(p: Params, nodes: dict[str, Node]) -> None:
    """Policies and practices name segments, nodes and profiles that must exist."""
    pol, where = p.world.policies, "world.policies"
    profiles = set(p.world.inspection.profiles)
    segments = {n.segment for n in nodes.values() if n.segment}
    green_segments = {n.segment for n in nodes.values() if n.segment and n.kind == "green_crossing"}
    for seg in pol.green_zone.segments:
        if seg not in segments:
            raise ValueError(f"{where}.green_zone.segments: unknown border segment {seg!r} "
                             f"(known: {', '.join(sorted(segments))})")
        if seg not in green_segments:
            raise ValueError(f"{where}.green_zone.segments: segment {seg!r} has no unofficial (green) crossings")
    if pol.green_zone.enabled and not any(pol.green_zone.segments.values()):
        raise ValueError(f"{where}.green_zone: enabled but no segments named")
    dc = pol.dedicated_checkpoints
    cargo = {c for c, spec in p.world.conveyances.items() if spec.cargo}
    for field, ids in (("cargo_only", dc.cargo_only), ("passengers_only", dc.passengers_only)):
        for node_id in ids:
            _require_node(nodes, node_id, f"{where}.dedicated_checkpoints.{field}", "border_checkpoint")
            handles = set(nodes[node_id].handles or CONVEYANCES)
            kept = handles & cargo if field == "cargo_only" else handles - cargo
            if not kept:
                raise ValueError(f"{where}.dedicated_checkpoints.{field}: {node_id!r} handles only "
                                 f"{sorted(handles)}: as a {field.replace('_', '-')} checkpoint it would handle nothing")
    for field in ("cargo_profile", "passenger_profile"):
        name = getattr(dc, field)
        if name is not None and name not in profiles:
            raise ValueError(f"{where}.dedicated_checkpoints.{field}: unknown inspection profile {name!r}")
    borders = {n.border for n in nodes.values() if n.border}
    for b in pol.border_reinforcement.borders:
        if b not in borders:
            raise ValueError(f"{where}.border_reinforcement.borders: unknown border {b!r} (known: {', '.join(sorted(borders))})")
    for node_id in pol.inl_checkpoints.nodes:
        _require_node(nodes, node_id, f"{where}.inl_checkpoints.nodes", "internal_checkpoint")
    uav = pol.uav_surveillance
    for node_id in uav.bases:
        _require_node(nodes, node_id, f"{where}.uav_surveillance.bases")
    for name in uav.checkpoint_profiles:
        if name not in profiles:
            raise ValueError(f"{where}.uav_surveillance.checkpoint_profiles: unknown inspection profile {name!r}")
    if uav.enabled and not uav.bases:
        raise ValueError(f"{where}.uav_surveillance: enabled but no bases named")
    for node_id, post in pol.posts.items():
        _require_node(nodes, node_id, f"{where}.posts.{node_id}")
        if nodes[node_id].kind not in ("border_checkpoint", "internal_checkpoint"):
            raise ValueError(f"{where}.posts.{node_id}: node {node_id!r} is a {nodes[node_id].kind}, "
                             f"not a border_checkpoint or internal_checkpoint")
        if post.profile not in profiles:
            raise ValueError(f"{where}.posts.{node_id}.profile: unknown inspection profile {post.profile!r}")
    for node_id in p.world.corruption.false_couriers.posts:
        _require_node(nodes, node_id, "world.corruption.false_couriers.posts")
    _check_deployment(p, nodes)


def _check_deployment(p: Params, nodes: dict[str, Node]) -> None:
    """Officers and equipment go to posts in service (an idle node would silently waste them)."""
    dep, pol = p.world.deployment, p.world.policies
    switched_on = set(pol.inl_checkpoints.nodes) if pol.inl_checkpoints.enabled else set()
    switched_on |= {node_id for node_id, post in pol.posts.items() if post.enabled}
    for field in ("officers_added", "equipment_added"):
        for node_id in getattr(dep, field):
            where = f"world.deployment.{field}.{node_id}"
            _require_node(nodes, node_id, where)
            node = nodes[node_id]
            if node.kind not in ("border_checkpoint", "internal_checkpoint", "green_crossing"):
                raise ValueError(f"{where}: node {node_id!r} is a {node.kind}, not a post (border_checkpoint, "
                                 f"internal_checkpoint or green_crossing)")
            if not node.active and node_id not in switched_on:
                raise ValueError(f"{where}: post {node_id!r} is not in service (switch it on with its policy first)")


def known_agencies(p: Params) -> set[str]:
    """Every agency that works a post or runs a patrol in the configured network and world."""
    insp, pol = p.world.inspection, p.world.policies
    return ({n.agency for n in p.network.nodes if n.agency} | set(insp.default_agency_by_kind.values())
            | set(insp.counterpart_agency_by_border.values()) | {a for g in p.world.patrols.values() for a in g.agencies}
            | {post.agency for post in pol.posts.values()})


def _check_adaptation_references(p: Params, nodes: dict[str, Node]) -> None:
    """The agencies and countries that adapt, and those given targets, must exist."""
    adaptation, agencies = p.adaptation, known_agencies(p)
    for field, names in (("agencies", adaptation.agencies), ("target_kg_per_month", adaptation.target_kg_per_month)):
        for name in names:
            if name not in agencies:
                raise ValueError(f"adaptation.{field}: unknown agency {name!r}{suggest(name, sorted(agencies))}")
    countries = {n.country for n in nodes.values()}
    for country in adaptation.countries:
        if country not in countries:
            raise ValueError(f"adaptation.countries: no node in country {country!r}")


def _require_node(nodes: dict[str, Node], node_id: str, where: str, kind: str | None = None) -> None:
    if node_id not in nodes:
        raise ValueError(f"{where}: unknown node {node_id!r}")
    if kind is not None and nodes[node_id].kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise ValueError(f"{where}: node {node_id!r} is a {nodes[node_id].kind}, not {article} {kind}")


def format_validation_error(err: ValidationError, root: type[BaseModel] | None = None, most: int = 3) -> str:
    """One line: per problem the dotted key, what is wrong and the offending value
    (the first ``most`` problems, then how many more); ``root`` is the validated model."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key" + suggest(str(e["loc"][-1]), known_keys(loc, root or Params))
        given = e.get("input")
        shown = "" if isinstance(given, (dict, list, tuple)) or given is None else f" (got {given!r})"
        lines.append(f"{loc}: {msg}{shown}" if loc else f"{msg}{shown}")
    more = f"; and {len(lines) - most} more problem(s)" if len(lines) > most else ""
    return "; ".join(lines[:most]) + more


def params_from_mapping(data: Mapping[str, Any]) -> Params:
    """Validate a plain mapping (the composed config) into :class:`Params`."""
    wanted = {k: data[k] for k in ("network", "world", "regime", "seed", "horizon_days", "start_date", "timeline",
                                   "transit", "adaptation") if k in data}
    try:
        if data.get("end_date") is not None:       # an end date sets the horizon (sim.timeline)
            wanted["horizon_days"] = horizon_from_end_date(data.get("start_date") or DEFAULT_START_DATE, data["end_date"])
        return Params.model_validate(wanted)
    except ValidationError as err:
        raise ConfigError(f"config error: {format_validation_error(err)}") from None
    except ValueError as err:                      # a malformed end_date
        raise ConfigError(f"config error: {err}") from None


# --- the cost of a run, estimated before it starts -----------------------------------
# Measured (README "Performance", benchmarks/bench_model.py): the calibrated baseline
# (85.0 t a year, issue 9's recalibration) sends 5,316 shipments a year; a run costs
# 0.11-0.13 s per 1,000 shipments and about 200 MB plus 1 KB per shipment.
BASELINE_KG_PER_YEAR = 84_954.3
SHIPMENTS_PER_YEAR_AT_BASELINE = 5_316
SECONDS_PER_1000_SHIPMENTS = 0.13
MEMORY_MB_BASE, MEMORY_MB_PER_SHIPMENT = 200.0, 0.001
MAX_RUN_MEMORY_GB = 8.0          # a run that would need more is refused up front


def estimate_run_cost(horizon_days: float, heroin_kg_per_year: float, supply_multiplier: float = 1.0
                      ) -> tuple[float, float, float]:
    """(shipments, seconds, MB of memory) one run would need, scaled from the baseline."""
    shipments = SHIPMENTS_PER_YEAR_AT_BASELINE * heroin_kg_per_year * supply_multiplier / BASELINE_KG_PER_YEAR \
        * horizon_days / 365.0
    return shipments, shipments / 1000 * SECONDS_PER_1000_SHIPMENTS, MEMORY_MB_BASE + shipments * MEMORY_MB_PER_SHIPMENT


def check_run_size(data: Mapping[str, Any]) -> None:
    """Raise ValueError, with the estimated cost, for a run too large to finish.

    Works on the raw mapping (before field validation), so that ``horizon_days=1e9``
    is refused with what it would cost rather than a bare bound; values that are not
    finite numbers are left to field validation.
    """
    world = data.get("world") if isinstance(data.get("world"), Mapping) else {}
    flow = world.get("flow") if isinstance(world.get("flow"), Mapping) else {}
    horizon = _finite(data.get("horizon_days", 365))
    kg = _finite(flow.get("heroin_kg_per_year"))
    multiplier = _finite(flow.get("supply_multiplier", 1.0))
    if horizon is None or kg is None or multiplier is None or min(horizon, kg, multiplier) <= 0:
        return
    shipments, seconds, memory_mb = estimate_run_cost(horizon, kg, multiplier)
    if memory_mb > MAX_RUN_MEMORY_GB * 1000:
        raise ValueError(
            f"horizon_days={horizon:.0f} with world.flow.heroin_kg_per_year={kg:.0f} x supply_multiplier={multiplier:g}: "
            f"about {_count(shipments)} shipments, {_duration(seconds)} and {_size(memory_mb)} of memory; "
            f"a run may use at most {MAX_RUN_MEMORY_GB:g} GB (shorten horizon_days or lower the flow)")


def check_horizon_days(horizon_days: int, heroin_kg_per_year: float = BASELINE_KG_PER_YEAR) -> None:
    """ConfigError for a horizon (``--horizon-days`` of sweeps) too costly at the baseline
    flow or outside the schema's range, before any run starts."""
    try:
        check_run_size({"horizon_days": horizon_days, "world": {"flow": {"heroin_kg_per_year": heroin_kg_per_year}}})
    except ValueError as err:
        raise ConfigError(f"config error: {err}") from None
    low, high = schema_bounds("horizon_days")
    if not low <= horizon_days <= high:
        raise ConfigError(f"config error: horizon_days: must be from {low} to {high} days (got {horizon_days})")


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _count(n: float) -> str:
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if n >= scale:
            return f"{n / scale:,.1f} {word}"
    return f"{n:,.0f}"


def _duration(seconds: float) -> str:
    for scale, unit in ((365 * 86400, "years"), (86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= scale:
            return f"~{seconds / scale:,.1f} {unit} of computing"
    return f"~{seconds:.0f} s of computing"


def _size(mb: float) -> str:
    for scale, unit in ((1e9, "PB"), (1e6, "TB"), (1e3, "GB")):
        if mb >= scale:
            return f"~{mb / scale:,.1f} {unit}"
    return f"~{mb:,.0f} MB"


# --- the schema as data: admissible ranges and known keys -----------------------------


def schema_bounds(key: str) -> tuple[float | None, float | None] | None:
    """The admissible (low, high) of the number at dotted ``key``, from the Field bounds.

    ``None`` when the key is not a number of the schema. Dictionary keys and list
    indices in ``key`` are matched by the dictionary's or list's element type.
    """
    found = _schema_at(Params, key.split("."))
    if found is None:
        return None
    annotation, metadata = found
    if annotation not in (int, float):
        return None
    low = high = None
    for m in metadata:
        for c in getattr(m, "metadata", [m]):
            if isinstance(c, (annotated_types.Ge, annotated_types.Gt)):
                low = c.ge if isinstance(c, annotated_types.Ge) else c.gt
            elif isinstance(c, (annotated_types.Le, annotated_types.Lt)):
                high = c.le if isinstance(c, annotated_types.Le) else c.lt
    return low, high


def known_keys(key: str, root: type[BaseModel] | None = None) -> list[str]:
    """The field names a model accepts at the parent of dotted ``key`` (for suggestions)."""
    found = _schema_at(root or Params, key.split(".")[:-1])
    model = found[0] if found else None
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def accepts_new_keys(key: str) -> bool:
    """Whether the mapping at dotted ``key`` takes names of the user's choosing (segments,
    organisations, patrols...) rather than the fixed fields of a model."""
    found = _schema_at(Params, key.split(".")) if key else None
    return found is not None and typing.get_origin(found[0]) is dict


def _schema_at(root: Any, parts: list[str]) -> tuple[Any, list[Any]] | None:
    """The bare type at a dotted path of the schema and the constraints on it, or None."""
    annotation, metadata = _unwrap(root)
    for part in parts:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None
            annotation, inner = _unwrap(field.annotation)
            metadata = [*field.metadata, *inner]
        elif typing.get_origin(annotation) in (dict, tuple):
            args = typing.get_args(annotation)
            annotation, metadata = _unwrap(args[1] if typing.get_origin(annotation) is dict else args[0])
        else:
            return None
    return annotation, metadata


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated[...]`` and ``X | None``; return the bare type and its metadata."""
    metadata: list[Any] = []
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation, metadata


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """``" (did you mean 'x'?)"`` for the nearest of ``choices``, else the list of choices."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(sorted(choices))})" if choices else ""
