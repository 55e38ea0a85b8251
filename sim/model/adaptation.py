"""Agencies that adapt: once a month an agency moves part of its inspection capacity among its posts.

In 2009 practice (rule ``none``, the default) nothing moves: each post keeps the capacity
its profile, the policies and the budgets give it. Under the other rules
(``Params.adaptation.rule``), on the first day of each calendar month every adapting agency
(the Kazakh border guards, customs and police: 002 ¶6) looks at the month just ended and
moves capacity among its posts in ``countries``:

- ``recent_seizures``: toward the posts where it seized heroin (kilos, a memory that keeps
  ``seizure_memory`` of itself a month), as NarcoLogic's interdiction agents move toward
  seizures;
- ``intelligence``: toward the posts where intelligence says the heroin passes: the kilos
  through each post last month, as the agency sees them. Its own finds it knows; the rest
  comes from reports, each off by a lognormal factor (log-sd ``intelligence_noise``).
  Without CARICC the agency has one report per post, its own; with ``caricc_sharing``
  (002 ¶10, ¶12-13: CARICC collects and analyses information for its members) it pools the
  reports of every post that sees the same loads, the other crews at the post and the
  posts next to it, Kazakh or neighbours' (:func:`pooled_noise`);
- ``seizure_target``: no capacity moves between posts; a month's seizures below the
  agency's target raise its effort (capacity at every post, overtime), above it lower it,
  by ``effort_step`` at a full miss, within ``[min_effort, max_effort]``.

A capacity-moving rule aims at an allocation proportional to its evidence, moves at most
``share_moved_per_month`` of the agency's capacity toward it, and keeps every post within
``[min_staff_share, max_capacity_factor]`` times its configured capacity; the agency's total
is conserved (:func:`reallocate`). A month without evidence moves nothing.

The rules are pure functions from the month's evidence to new capacity (testable alone);
:class:`AgencyAllocation` keeps the state (each post's share, each agency's effort, the
seizure memory) and the monthly table (``allocation.csv``), and reads the month's evidence
from the model (:meth:`sim.model.NorthernRouteModel.adapt_agencies` calls it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.params import Adaptation

if TYPE_CHECKING:
    from sim.model import NorthernRouteModel

#: The columns of ``allocation.csv``: one row per month, agency and post (``kind`` "post", ``node``
#: its id, capacity in inspections a day) or patrol group (``kind`` "patrols", ``node`` the group,
#: capacity in patrols).
ALLOCATION_COLUMNS = ("day", "rule", "agency", "kind", "node", "configured_capacity", "share", "effort", "capacity",
                      "share_moved")

#: The settings each rule reads (besides ``rule``); a setting typed for a rule that does not
#: read it is refused (:func:`sim.scenario_checks.check_adaptation`).
MOVING = ("agencies", "countries", "share_moved_per_month", "min_staff_share", "max_capacity_factor")
READS = {
    "none": (),
    "recent_seizures": (*MOVING, "seizure_memory"),
    "intelligence": (*MOVING, "intelligence_noise", "caricc_sharing"),
    "seizure_target": ("agencies", "countries", "target_kg_per_month", "effort_step", "min_effort", "max_effort"),
}


# --- the rules: pure functions of the month's evidence -----------------------------------


def reallocate(capacity: np.ndarray, configured: np.ndarray, attraction: np.ndarray, share_moved: float,
               min_share: float, max_factor: float) -> np.ndarray:
    """An agency's capacity by post after one month's move toward ``attraction``.

    ``capacity``: each post's capacity now (inspections a day); ``configured``: what the
    post's profile, policies and budgets give it (the agency's total, ``configured.sum()``,
    is what it has to spread). The aim is the total spread in proportion to
    ``attraction``; ``share_moved`` of the total moves toward it, and each post ends
    within ``[min_share, max_factor] x configured``: what a bound clips off goes to (or
    comes from) the other posts in proportion to the room they have. The result sums to
    the total. No attraction anywhere: capacity stays (rescaled to the total).
    """
    total = float(configured.sum())
    if total <= 0:
        return configured.copy()
    now = capacity * (total / capacity.sum()) if capacity.sum() > 0 else configured.copy()
    pull = float(attraction.sum())
    aim = now if pull <= 0 else (1.0 - share_moved) * now + share_moved * total * attraction / pull
    return within_bounds(aim, min_share * configured, max_factor * configured, total)


def within_bounds(aim: np.ndarray, low: np.ndarray, high: np.ndarray, total: float) -> np.ndarray:
    """``aim`` clipped to ``[low, high]`` and brought back to ``total`` in one step.

    After clipping, the gap to the total is shared among the posts in proportion to their
    room toward the bound in the gap's direction; since ``low.sum() <= total <=
    high.sum()`` that room is enough, so no post crosses its bound.
    """
    x = np.clip(aim, low, high)
    gap = total - float(x.sum())
    room = (high - x) if gap > 0 else (x - low)
    if gap != 0 and room.sum() > 0:
        x = x + gap * room / room.sum()
    return x


def share_moved(before: np.ndarray, after: np.ndarray) -> float:
    """The share of the total capacity that changed post (half the absolute changes)."""
    total, before_total = float(after.sum()), float(before.sum())
    if total <= 0 or before_total <= 0:
        return 0.0
    return float(np.abs(after - before * (total / before_total)).sum() / 2 / total)


def remembered_seizures(memory: np.ndarray, seized_kg: np.ndarray, keep: float) -> np.ndarray:
    """Kilos seized at each post, remembered: last month's plus ``keep`` of the older memory."""
    return keep * memory + seized_kg


def pooled_noise(noise: float, reports: np.ndarray) -> np.ndarray:
    """Log-sd of a post's flow estimate pooled from ``reports`` independent reports (noise / sqrt(n))."""
    return noise / np.sqrt(np.maximum(reports, 1))


def intelligence_view(flow_kg: np.ndarray, own_seized_kg: np.ndarray, log_sd: np.ndarray,
                      normals: np.ndarray) -> np.ndarray:
    """Kilos through each post as the agency sees them: its own finds exactly, the rest
    through reports off by a mean-one lognormal factor (``normals``: standard normal draws)."""
    unseen = np.maximum(flow_kg - own_seized_kg, 0.0)
    return own_seized_kg + unseen * np.exp(log_sd * normals - log_sd**2 / 2)


def next_effort(effort: float, seized_kg: float, target_kg: float, step: float, low: float, high: float) -> float:
    """An agency's effort after a month: up by ``step`` at a full miss of the target, down
    as far above it, in proportion in between; within ``[low, high]``."""
    if target_kg > 0:
        gap = max(-1.0, min(1.0, (target_kg - seized_kg) / target_kg))
    else:
        gap = -1.0 if seized_kg > 0 else 0.0
    return min(high, max(low, effort + step * gap))


# --- the state the model keeps --------------------------------------------------------------


@dataclass
class AgencyAllocation:
    """Each adapting post's capacity share and each agency's effort, the evidence they follow
    and the monthly table; shares and efforts of 1 leave every post as configured."""

    share: dict[tuple[str, int], float] = field(default_factory=dict)        # (agency, node) -> x configured
    effort: dict[str, float] = field(default_factory=dict)                   # agency -> x configured, every post
    effort_at: dict[tuple[str, int], float] = field(default_factory=dict)    # (agency, node) -> its agency's effort
    configured: dict[tuple[str, int], float] = field(default_factory=dict)   # (agency, node) -> configured capacity
    memory_kg: dict[tuple[str, int | str], float] = field(default_factory=dict)   # recent_seizures' memory
    patrol_count: dict[tuple[str, str], int] = field(default_factory=dict)          # (agency, group) -> patrols
    patrol_spread: dict[tuple[str, str], float] = field(default_factory=dict)       # ... before rounding
    patrols_configured: dict[tuple[str, str], int] = field(default_factory=dict)
    effort_countries: tuple[str, ...] = ()
    rows: list[tuple] = field(default_factory=list)
    _seized_mark: np.ndarray | None = None    # grams seized by (node, agency code) at the last month's start
    _flow_mark: np.ndarray | None = None
    _month: int = 0
    _layout: tuple | None = None              # (adapting posts, patrol groups): unchanged until the posts are re-derived

    def capacity(self, agency: str, node: int, configured: float) -> float:
        """A side's capacity: its configured capacity times its share and its agency's effort."""
        self.configured[(agency, node)] = configured
        self._layout = None
        factor = self.share.get((agency, node), 1.0) * self.effort_at.get((agency, node), 1.0)
        return configured if factor == 1.0 else configured * factor

    def patrols(self, agency: str, group: str, configured: int) -> int:
        """How many patrols of a group an agency runs: as configured, or as it moved them."""
        key = (agency, group)
        if self.patrols_configured.get(key, configured) != configured:   # the rules changed the group: start again
            self.patrol_count.pop(key, None)
            self.patrol_spread.pop(key, None)
        self.patrols_configured[key] = configured
        self._layout = None
        return self.patrol_count.get(key, configured)

    def patrol_effort(self, agency: str, area: list) -> float:
        """The effort of a patrol's agency (seizure_target), where its area lies in the adapting countries."""
        if agency not in self.effort or not any(node.country in self.effort_countries for node in area):
            return 1.0
        return self.effort[agency]

    def start(self, model: NorthernRouteModel) -> None:
        """Day 0: the configured allocation is the table's first rows."""
        self._seized_since_mark(model)
        self._flow_since_mark(model)
        rules = model.params.adaptation
        posts, groups = self.layout(model, rules)
        self.record(0, rules, posts, {}, groups)

    def month(self, model: NorthernRouteModel, day: int) -> bool:
        """The month just ended: move capacity as the rule in force says; record the table.

        Returns whether any capacity changed (the model then re-derives its posts).
        """
        rules = model.params.adaptation
        posts, groups = self.layout(model, rules)
        seized = self._seized_since_mark(model)
        flow = self._flow_since_mark(model)
        self._month += 1
        moved: dict[str, float] = {}
        before = (dict(self.share), dict(self.effort_at), dict(self.patrol_count))
        for agency in rules.agencies:
            nodes = posts.get(agency, [])
            if rules.rule == "seizure_target":
                own = sum(kg for (node, a), kg in seized.items() if a == agency and _in(model, node, rules))
                self.effort[agency] = next_effort(self.effort.get(agency, 1.0), own, rules.target_kg_per_month[agency],
                                                  rules.effort_step, rules.min_effort, rules.max_effort)
                self.effort_at.update({(agency, node): self.effort[agency] for node in nodes})
                self.effort_countries = rules.countries
            elif rules.rule in ("recent_seizures", "intelligence"):
                if nodes:
                    moved[agency] = self._move(model, agency, nodes, rules, seized, flow)
                if len(groups.get(agency, {})) > 1:
                    moved[f"patrols:{agency}"] = self._move_patrols(model, agency, groups[agency], rules, seized, flow)
        self.record(day, rules, posts, moved, groups)
        return (dict(self.share), dict(self.effort_at), dict(self.patrol_count)) != before

    def layout(self, model: NorthernRouteModel, rules: Adaptation) -> tuple[dict, dict]:
        """The adapting posts and patrol groups of ``rules`` (:func:`adapting_posts`,
        :func:`patrol_groups`), found again only after the model re-derived its posts or
        patrols (every re-derivation passes through :meth:`capacity` or :meth:`patrols`)."""
        if self._layout is None or self._layout[0] is not rules:
            self._layout = (rules, adapting_posts(model, rules), patrol_groups(model, rules))
        return self._layout[1], self._layout[2]

    def _move(self, model: NorthernRouteModel, agency: str, nodes: list[int], rules: Adaptation,
              seized: dict[tuple[int, str], float], flow: np.ndarray) -> float:
        configured = np.array([self.configured[(agency, n)] for n in nodes])
        now = configured * np.array([self.share.get((agency, n), 1.0) for n in nodes])
        attraction = self._evidence(model, agency, {n: [n] for n in nodes}, rules, seized, flow, "posts")
        after = reallocate(now, configured, attraction, rules.share_moved_per_month, rules.min_staff_share,
                           rules.max_capacity_factor)
        for n, x, c in zip(nodes, after, configured):
            self.share[(agency, n)] = x / c if c > 0 else 1.0
        return share_moved(now, after)

    def _move_patrols(self, model: NorthernRouteModel, agency: str, groups: dict[str, list[int]], rules: Adaptation,
                      seized: dict[tuple[int, str], float], flow: np.ndarray) -> float:
        """Move an agency's patrols among the groups it runs, toward the rule's evidence in
        each group's area; to whole patrols (largest remainders), the agency's count kept."""
        names = list(groups)
        configured = np.array([self.patrols_configured[(agency, g)] for g in names], dtype=float)
        now = np.array([self.patrol_spread.get((agency, g), c) for g, c in zip(names, configured)])
        attraction = self._evidence(model, agency, groups, rules, seized, flow, "patrols")
        after = reallocate(now, configured, attraction, rules.share_moved_per_month, rules.min_staff_share,
                           rules.max_capacity_factor)
        counts = whole(after, int(configured.sum()))
        for g, x, n in zip(names, after, counts):
            self.patrol_spread[(agency, g)], self.patrol_count[(agency, g)] = float(x), int(n)
        return share_moved(now, after)

    def _evidence(self, model: NorthernRouteModel, agency: str, places: dict, rules: Adaptation,
                  seized: dict[tuple[int, str], float], flow: np.ndarray, what: str) -> np.ndarray:
        """What attracts an agency's capacity to each place (a post's node, or a patrol
        group's area): its remembered seizures there, or the kilos intelligence says pass."""
        own = np.array([sum(seized.get((n, agency), 0.0) for n in nodes) for nodes in places.values()])
        if rules.rule == "recent_seizures":
            keys = [(agency, place) for place in places]
            memory = remembered_seizures(np.array([self.memory_kg.get(k, 0.0) for k in keys]), own, rules.seizure_memory)
            self.memory_kg.update(zip(keys, memory))
            return memory
        passing = np.array([float(flow[nodes].sum()) for nodes in places.values()])
        reports = np.array([sum(_reports(model, n) for n in nodes) for nodes in places.values()]) \
            if rules.caricc_sharing else np.ones(len(places))
        stream = model.streams.number(f"intelligence:{what}:{agency}", self._month)
        normals = np.array([model.streams.normal(stream) for _ in places])
        return intelligence_view(passing, own, pooled_noise(rules.intelligence_noise, reports), normals)

    def record(self, day: int, rules: Adaptation, posts: dict[str, list[int]], moved: dict[str, float],
               groups: dict[str, dict[str, list[int]]] | None = None) -> None:
        """One row per adapting post (capacity in inspections a day) and, where an agency runs
        several patrol groups, per group (capacity in patrols)."""
        for agency, nodes in posts.items():
            for node in nodes:
                effort = self.effort_at.get((agency, node), 1.0)
                configured = self.configured[(agency, node)]
                share = self.share.get((agency, node), 1.0)
                self.rows.append((day, rules.rule, agency, "post", node, configured, share, effort,
                                  configured * share * effort, moved.get(agency, 0.0)))
        for agency, by_group in (groups or {}).items():
            for group in by_group if len(by_group) > 1 else ():
                configured = self.patrols_configured[(agency, group)]
                count = self.patrol_count.get((agency, group), configured)
                self.rows.append((day, rules.rule, agency, "patrols", group, configured,
                                  count / configured if configured else 1.0, self.effort.get(agency, 1.0), count,
                                  moved.get(f"patrols:{agency}", 0.0)))

    def frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        """The monthly table (``allocation.csv``), node ids for node indices."""
        frame = pd.DataFrame(self.rows, columns=list(ALLOCATION_COLUMNS))
        frame["node"] = [node_ids[n] if kind == "post" else n for kind, n in zip(frame["kind"], frame["node"])]
        return frame

    def _seized_since_mark(self, model: NorthernRouteModel) -> dict[tuple[int, str], float]:
        """Kilos seized by (node, agency) since the last month's start."""
        now = model.ledger.books.seized_g_at.copy()
        mark = self._seized_mark if self._seized_mark is not None else np.zeros_like(now)
        if mark.shape != now.shape:                       # agencies added since: their columns start at 0
            mark = np.pad(mark, ((0, 0), (0, now.shape[1] - mark.shape[1])))
        self._seized_mark = now
        nodes, agencies = np.nonzero(now - mark)
        names = model.ledger.agencies.names
        return {(int(n), names[a]): (now[n, a] - mark[n, a]) / 1000.0 for n, a in zip(nodes, agencies)}

    def _flow_since_mark(self, model: NorthernRouteModel) -> np.ndarray:
        """Kilos that reached each node since the last month's start."""
        total = model.ledger.edge_flow.sum(axis=0).astype(float)
        mark = self._flow_mark if self._flow_mark is not None else np.zeros_like(total)
        self._flow_mark = total
        return (total - mark) / 1000.0


def adapting_posts(model: NorthernRouteModel, rules: Adaptation) -> dict[str, list[int]]:
    """Agency -> the nodes (indices) where it has a crew with configured capacity, for the
    adapting agencies in ``rules.countries`` (a post moved down to nothing stays one)."""
    posts: dict[str, list[int]] = {agency: [] for agency in rules.agencies}
    configured = model.allocation.configured
    for node, post in enumerate(model.posts):
        if post is None or not _in(model, node, rules):
            continue
        for side in post.sides:
            if side.agency in posts and configured.get((side.agency, node), 0.0) > 0 and node not in posts[side.agency]:
                posts[side.agency].append(node)
    return posts


def patrol_groups(model: NorthernRouteModel, rules: Adaptation) -> dict[str, dict[str, list[int]]]:
    """Agency -> its patrol groups (with patrols configured) whose area lies in ``rules.countries``
    -> the area's nodes, for the adapting agencies."""
    groups: dict[str, dict[str, list[int]]] = {agency: {} for agency in rules.agencies}
    index = model.network.index
    for (agency, group), n in model.allocation.patrols_configured.items():
        spec = model.world.patrols.get(group)
        if agency in groups and n > 0 and spec is not None:
            area = [index[node_id] for node_id in spec.area]
            if any(_in(model, node, rules) for node in area):
                groups[agency][group] = area
    return groups


def whole(spread: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers summing to ``total`` nearest to ``spread`` (largest remainders)."""
    counts = np.floor(spread + 1e-9).astype(int)
    order = np.argsort(-(spread - counts), kind="stable")
    counts[order[: max(0, total - int(counts.sum()))]] += 1
    return counts


def _in(model: NorthernRouteModel, node: int, rules: Adaptation) -> bool:
    return model.network.nodes[node].country in rules.countries


def _reports(model: NorthernRouteModel, node: int) -> int:
    """Posts whose reports of a node's loads CARICC pools: the crews at it and the posts next to it."""
    network, posts = model.network, model.posts
    crews = len(posts[node].sides) if posts[node] is not None else 0
    neighbours = sum(posts[network.index[n]] is not None for n in network.graph.neighbors(network.nodes[node].id))
    return max(1, crews + neighbours)
