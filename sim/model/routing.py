"""Route options and how organisations weigh them.

For each origin, market and conveyance, organisations consider a menu of candidate
routes: the shortest paths through every pair of border crossings, so that every
crossing (official checkpoint or green-border cluster) is a real option, pruned to the
ones not much slower than the fastest. An organisation values a route by its expected
profit per kilo, ``P(arrive) x market price - trip cost per kilo``, where ``P(arrive)``
comes from its own beliefs about the risk at each node; it picks among routes by a logit
rule, so flows shift smoothly as beliefs change (route displacement).

Many candidate routes share most of their nodes (forty variants of one road corridor,
two of the one rail line). A plain logit counts each variant as a separate option, so a
corridor or conveyance with more variants draws more traffic for no reason but the size
of its menu. The choice is therefore a path-size logit (Ben-Akiva and Bierlaire 1999):
each route's weight is multiplied by its path size, the share of its nodes it does not
share with the other routes of the menu, so a bundle of near-identical routes weighs
about as much as one distinct route.
"""

from __future__ import annotations

import itertools
import math
from collections import namedtuple
from dataclasses import dataclass, field

import networkx as nx
import numba
import numpy as np

from sim.model.beliefs import safe_at
from sim.model.economics import trip_cost_per_kg
from sim.model.network import CROSSING_KINDS, RouteNetwork
from sim.params import CONVEYANCES, ConfigError, Params


@dataclass(frozen=True)
class Route:
    """One way from an origin to a market for one conveyance."""

    conveyance: str
    nodes: tuple[int, ...]        # node indices, origin first, market last
    arrival_days: tuple[float, ...]  # days from departure to reach each node
    km: float
    cost_per_kg: float
    crossings: str                # the border crossings it uses, e.g. "tj_panji_poyon>kz_korday>kz_uba"
    # the (node, conveyance) beliefs a delivery teaches, flat (node x n_conveyances + conveyance),
    # origin excluded (sim.model.beliefs.LossBeliefs.observe_steps)
    steps: np.ndarray = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.steps is None:
            c = CONVEYANCES.index(self.conveyance)
            object.__setattr__(self, "steps", np.asarray(self.nodes[1:], dtype=np.intp) * len(CONVEYANCES) + c)


class RouteMenu:
    """The candidate routes to one market, arranged for fast vectorised valuation."""

    def __init__(self, routes: list[Route], market_price: float, n_conveyances: int):
        self.routes = routes
        self.market_price = market_price
        conv_index = {c: i for i, c in enumerate(CONVEYANCES)}
        flat, starts = [], []
        for route in routes:
            starts.append(len(flat))
            c = conv_index[route.conveyance]
            flat.extend(n * n_conveyances + c for n in route.nodes)
        self.flat_index = np.asarray(flat, dtype=np.intp)
        self.starts = np.asarray(starts, dtype=np.intp)
        self.cost_per_kg = np.asarray([r.cost_per_kg for r in routes])
        self.log_path_size = np.log(_path_sizes(self.flat_index, self.starts))
        # the distinct (node, conveyance) steps of the menu, and where each route's steps are among them
        self.steps, self.step_position = np.unique(self.flat_index, return_inverse=True)
        # the routes' shared endings, as a suffix trie: route choice multiplies P(pass) once per node
        self.suffix_step, self.suffix_next, self.route_suffix = _suffix_trie(self.step_position, self.starts)
        # the routes end to end, as a run's RouteBook keeps them
        self.route_lengths = np.array([len(r.nodes) for r in routes], dtype=np.int64)
        self.route_nodes = np.array([n for r in routes for n in r.nodes], dtype=np.int64)
        self.route_arrive = np.array([d for r in routes for d in r.arrival_days], dtype=np.float64)
        self.route_conveyance = np.array([conv_index[r.conveyance] for r in routes], dtype=np.int64)
        self.route_km = np.array([r.km for r in routes], dtype=np.float64)
        self.crossing_names, self.crossing_of_route = np.unique([r.crossings for r in routes], return_inverse=True)

    def choose(self, safe: np.ndarray, temperature: float, u: float, tolerance: float = 1.0) -> tuple[Route, float]:
        """Path-size logit choice among the routes within the loss tolerance, given P(pass)
        per (node, conveyance), flat (what :func:`choose_route` reads from beliefs).

        Returns the route, driven by one uniform draw ``u`` in [0, 1), and its perceived
        chance of loss. Routes whose chance of loss exceeds ``tolerance`` are dropped while
        any route is within it; if none is, all stay in the choice (the caller sends a
        smaller load).
        """
        arrive = arrive_over_trie(np.asarray(safe, dtype=np.float64)[self.steps], self.suffix_step, self.suffix_next,
                                  self.route_suffix)
        pick, loss = pick_by_utility(arrive, self.cost_per_kg, self.log_path_size, self.market_price, temperature, u,
                                     tolerance)
        return self.routes[pick], loss


@numba.njit(cache=True)
def arrive_over_trie(safe, trie_step, trie_next, entry_suffix):
    """Each route's P(arrive) from P(pass) at each of the menu's steps (``safe``), over the
    menu's suffix trie (:func:`_suffix_trie`): one multiplication per node of the trie."""
    onward = np.empty(len(trie_step))            # P(arrive) from each node of the trie on
    for k in range(len(trie_step)):
        following = trie_next[k]
        onward[k] = safe[trie_step[k]] * (onward[following] if following >= 0 else 1.0)
    arrive = np.empty(len(entry_suffix))
    for r in range(len(entry_suffix)):
        arrive[r] = onward[entry_suffix[r]]
    return arrive


@numba.njit(cache=True)
def pick_by_utility(arrive, cost_per_kg, log_path_size, market_price, temperature, u, tolerance):
    """Path-size logit: the route picked by the uniform ``u``, and its perceived chance of loss.

    Utility of a route: expected profit per kilo / temperature + log path size, where
    expected profit is P(arrive) x market price - trip cost per kilo (``arrive``: each
    route's P(arrive)). Routes whose chance of loss exceeds ``tolerance`` are dropped while
    any route is within it.
    """
    n = len(arrive)
    floor = 1.0 - tolerance
    n_within = 0
    for r in range(n):
        if arrive[r] >= floor:
            n_within += 1
    only_within = 0 < n_within < n
    utility = np.empty(n)
    best = -math.inf
    for r in range(n):
        if only_within and arrive[r] < floor:
            utility[r] = -math.inf
        else:
            utility[r] = (arrive[r] * market_price - cost_per_kg[r]) / temperature + log_path_size[r]
        best = max(best, utility[r])
    total = 0.0
    for r in range(n):
        total += math.exp(utility[r] - best)
        utility[r] = total                     # now the cumulative weight
    target = u * total
    pick = n - 1
    for r in range(n):
        if utility[r] > target:
            pick = r
            break
    return pick, 1.0 - arrive[pick]


BLOCKED_SAFE = 1e-6    # P(pass) at a node on a route the KNB shut: the load would surely be lost


RouteArrays = namedtuple("RouteArrays", [
    # one row per route: its nodes and days from departure to each (end to end in ``route_nodes``, ``route_arrive``)
    "route_start", "route_length", "route_nodes", "route_arrive", "route_conveyance", "route_trip_cost_usd",
    "route_crossings",
    # one row per menu: its entries, its market's price, its distinct steps (end to end in ``menu_steps``)
    "menu_start", "menu_len", "menu_price", "menu_step_start", "menu_n_steps", "menu_steps",
    # one row per menu entry: the route, its cost per kilo, log path size, its node of the menu's suffix trie
    "entry_route", "entry_cost_per_kg", "entry_log_path_size", "entry_suffix",
    # one row per node of a menu's suffix trie (end to end): its step (among the menu's) and the node after it
    "menu_trie_start", "menu_trie_len", "trie_step", "trie_next",
])


@numba.njit(cache=True)
def choose_route(book, menu, n_conveyances, prior_losses, prior_passages, losses, passages, scale, shut_until, o,
                 day, temperature, tolerance, u):
    """Organisation ``o``'s path-size logit choice in a menu, by expected profit per kilo under its beliefs.

    Routes through a node where the KNB shut the organisation's channel count as sure
    losses until the channel reopens. Returns the route (its row in ``book``) and its
    perceived chance of loss. The beliefs are read once for each distinct step of the
    menu; a route's P(arrive) is the product of P(pass) over its steps.
    """
    first_step, n_steps = book.menu_step_start[menu], book.menu_n_steps[menu]
    safe = np.empty(n_steps)
    for j in range(n_steps):
        step = book.menu_steps[first_step + j]
        if shut_until[o, step // n_conveyances] > day:
            safe[j] = BLOCKED_SAFE
        else:
            safe[j] = safe_at(prior_losses, prior_passages, losses, passages, scale, o, step)
    first_node, n_nodes = book.menu_trie_start[menu], book.menu_trie_len[menu]
    first, n = book.menu_start[menu], book.menu_len[menu]
    arrive = arrive_over_trie(safe, book.trie_step[first_node:first_node + n_nodes],
                              book.trie_next[first_node:first_node + n_nodes], book.entry_suffix[first:first + n])
    pick, loss = pick_by_utility(arrive, book.entry_cost_per_kg[first:first + n],
                                 book.entry_log_path_size[first:first + n], book.menu_price[menu], temperature, u,
                                 tolerance)
    return book.entry_route[first + pick], loss


class RouteBook:
    """The route menus of one run and their routes, as arrays (route choice and the fast engine read them).

    A menu gets its row, and its routes theirs, the first time it is used (:meth:`menu`);
    ``routes[row]`` gives a route back. A route in two menus has a row in each. ``version``
    changes when rows are added (the arrays are then made anew, on first use).
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.menus: list[RouteMenu] = []
        self._menu_rows: dict[int, int] = {}
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in RouteArrays._fields}
        self._arrays: RouteArrays | None = None
        self.version = 0

    @property
    def arrays(self) -> RouteArrays:
        if self._arrays is None:
            floats = {"route_arrive", "route_trip_cost_usd", "menu_price", "entry_cost_per_kg", "entry_log_path_size"}
            self._arrays = RouteArrays(**{
                name: np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64 if name in floats else np.int64)
                for name, parts in self._parts.items()})
        return self._arrays

    def copy(self) -> RouteBook:
        """A book with the same rows, that grows on its own (the arrays are shared, never written)."""
        book = RouteBook()
        book.routes, book.menus, book._menu_rows = list(self.routes), list(self.menus), dict(self._menu_rows)
        book._parts = {name: list(parts) for name, parts in self._parts.items()}
        book._arrays = self.arrays
        return book

    def menu_row(self, menu: RouteMenu) -> int:
        """The row of a menu already added."""
        return self._menu_rows[id(menu)]

    def menu(self, menu: RouteMenu, trip_cost_usd: np.ndarray, crossings: np.ndarray) -> int:
        """The menu's row (added on first use, with each route's trip cost and crossings' code)."""
        row = self._menu_rows.get(id(menu))
        if row is not None:
            return row
        row = self._menu_rows[id(menu)] = len(self.menus)
        first_route = len(self.routes)
        self.menus.append(menu)
        self.routes.extend(menu.routes)
        parts = self._parts
        n_routes = len(menu.routes)
        node_start = sum(len(a) for a in parts["route_nodes"])
        parts["route_start"].append(node_start + np.concatenate([[0], np.cumsum(menu.route_lengths[:-1])]))
        parts["route_length"].append(menu.route_lengths)
        parts["route_nodes"].append(menu.route_nodes)
        parts["route_arrive"].append(menu.route_arrive)
        parts["route_conveyance"].append(menu.route_conveyance)
        parts["route_trip_cost_usd"].append(np.asarray(trip_cost_usd, dtype=np.float64))
        parts["route_crossings"].append(np.asarray(crossings, dtype=np.int64))
        entry_start = sum(len(a) for a in parts["entry_route"])
        parts["menu_start"].append(np.array([entry_start]))
        parts["menu_len"].append(np.array([n_routes]))
        parts["menu_price"].append(np.array([menu.market_price]))
        parts["menu_step_start"].append(np.array([sum(len(a) for a in parts["menu_steps"])]))
        parts["menu_n_steps"].append(np.array([len(menu.steps)]))
        parts["menu_steps"].append(menu.steps.astype(np.int64))
        parts["entry_route"].append(first_route + np.arange(n_routes))
        parts["entry_cost_per_kg"].append(menu.cost_per_kg.astype(np.float64))
        parts["entry_log_path_size"].append(menu.log_path_size.astype(np.float64))
        parts["entry_suffix"].append(menu.route_suffix)
        parts["menu_trie_start"].append(np.array([sum(len(a) for a in parts["trie_step"])]))
        parts["menu_trie_len"].append(np.array([len(menu.suffix_step)]))
        parts["trie_step"].append(menu.suffix_step)
        parts["trie_next"].append(menu.suffix_next)
        self._arrays = None
        self.version += 1
        return row


def _suffix_trie(positions: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The routes' endings shared: node k is one step (its position among the menu's steps)
    followed by node ``next[k]`` (-1: the route ends). Nodes come after the nodes they lead
    to; each route is the node of its whole sequence. P(arrive) from a node is its step's
    P(pass) times the next node's: one multiplication per node instead of one per step of
    every route (the routes of a menu share their ways into the market)."""
    nodes: dict[tuple[int, int], int] = {}
    step, following, route_node = [], [], []
    ends = np.append(starts, len(positions))
    for r in range(len(starts)):
        node = -1
        for position in positions[ends[r]:ends[r + 1]][::-1].tolist():
            key = (position, node)
            found = nodes.get(key)
            if found is None:
                found = nodes[key] = len(step)
                step.append(position)
                following.append(node)
            node = found
        route_node.append(node)
    return (np.asarray(step, dtype=np.int64), np.asarray(following, dtype=np.int64),
            np.asarray(route_node, dtype=np.int64))


def _path_sizes(flat_index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Path size of each route: the mean over its (node, conveyance) steps of 1 / routes using it.

    A route that shares no step with another has path size 1; each of k identical routes
    has 1/k. (Node-based path size: every step counts the same, as nodes are the places a
    load can be lost.)
    """
    counts = np.bincount(flat_index)
    inverse = 1.0 / counts[flat_index]
    lengths = np.diff(np.append(starts, len(flat_index)))
    return np.add.reduceat(inverse, starts) / lengths


def build_route_menus(params: Params, network: RouteNetwork) -> dict[tuple[str, str, str], list[Route]]:
    """Candidate routes for every (origin, market, conveyance) some organisation uses.

    Cached on the network and transport settings: sweeps call this many times in one
    worker with the same network.
    """
    wanted = set()
    for org in params.world.organisations.values():
        for origin, market, conv in itertools.product(org.origins, org.markets, org.conveyances):
            wanted.add((origin, market, conv))
    key = (
        _as_json(params.network),
        _as_json(params.world.transport),
        params.world.learning.max_routes_per_market,
        params.world.learning.max_detour_ratio,
        tuple(sorted((c, _as_json(s)) for c, s in params.world.conveyances.items())),
    )
    key = (key, frozenset(wanted))
    all_menus = _MENU_CACHE.get(key)
    if all_menus is None:
        all_menus = _enumerate_routes(wanted, params, network)
        if len(_MENU_CACHE) >= 8:
            _MENU_CACHE.pop(next(iter(_MENU_CACHE)))
        _MENU_CACHE[key] = all_menus
    for org_name, org in params.world.organisations.items():
        for origin, market in itertools.product(org.origins, org.markets):
            if not any(all_menus.get((origin, market, c)) for c in org.conveyances):
                raise ConfigError(
                    f"config error: world.organisations.{org_name}: no route from {origin!r} to market "
                    f"{market!r} for any of its conveyances {list(org.conveyances)} (disconnected network?)"
                )
    return all_menus


_MENU_CACHE: dict = {}
_JSON_CACHE: dict[int, tuple] = {}


def _as_json(settings) -> str:
    """A settings object's JSON (the menus' cache key), made once per object: a sweep's runs
    share their settings objects, and the network's JSON takes milliseconds to write."""
    entry = _JSON_CACHE.get(id(settings))
    if entry is None or entry[0] is not settings:
        if len(_JSON_CACHE) >= 64:
            _JSON_CACHE.pop(next(iter(_JSON_CACHE)))
        entry = _JSON_CACHE[id(settings)] = (settings, settings.model_dump_json())
    return entry[1]


class RouteOptions(dict):
    """Candidate routes by (origin, market, conveyance), as :func:`build_route_menus` returns them.

    ``menus`` keeps the route menus built from these options (organisation type, markets,
    origins, conveyances, countries avoided, prices -> {market: RouteMenu}), so that the
    runs of a sweep in one process build each menu once (``NorthernRouteModel._menus_for``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.menus: dict = {}


def _enumerate_routes(wanted, params: Params, network: RouteNetwork) -> RouteOptions:
    menus = RouteOptions()
    by_conveyance: dict[str, list[tuple[str, str]]] = {}
    for origin, market, conv in wanted:
        by_conveyance.setdefault(conv, []).append((origin, market))
    learning = params.world.learning
    for conv, pairs in by_conveyance.items():
        spec = params.world.conveyances[conv]
        graph = network.usable_by(conv, spec)
        dist, paths = _all_pairs(graph)
        vias = [n.id for n in network.nodes if n.kind in CROSSING_KINDS and n.id in graph]
        country = {n.id: n.country for n in network.nodes}
        for origin, market in pairs:
            candidates = _candidate_paths(dist, paths, origin, market, vias, learning.max_detour_ratio, country)
            routes = [_make_route(network, graph, conv, spec, path) for path in candidates[: learning.max_routes_per_market]]
            menus[(origin, market, conv)] = routes
    return menus


def _all_pairs(graph: nx.Graph):
    dist, paths = {}, {}
    for source, (d, p) in nx.all_pairs_dijkstra(graph, weight="days"):
        dist[source], paths[source] = d, p
    return dist, paths


def _candidate_paths(dist, paths, origin, market, vias, max_ratio, country) -> list[tuple[str, ...]]:
    """Shortest paths origin -> x1 -> x2 -> market through pairs of crossings, fastest first.

    A route never revisits a node, nor re-enters a country it has left.
    """
    if origin not in dist or market not in dist[origin]:
        return []
    limit = dist[origin][market] * max_ratio + 1e-9
    d_from_origin, found = dist[origin], {}
    stops = [None, *vias]
    for x1 in stops:
        d1 = 0.0 if x1 is None else d_from_origin.get(x1, math.inf)
        if d1 > limit:
            continue
        start = origin if x1 is None else x1
        for x2 in stops:
            if x2 is not None and x2 == x1:
                continue
            d2 = 0.0 if x2 is None else dist[start].get(x2, math.inf)
            mid = start if x2 is None else x2
            total = d1 + d2 + dist[mid].get(market, math.inf)
            if total > limit:
                continue
            path = tuple(paths[origin][start][:-1]) + tuple(paths[start][mid][:-1]) + tuple(paths[mid][market])
            if len(set(path)) == len(path) and _enters_each_country_once(path, country):
                found[path] = total
    return sorted(found, key=lambda p: (found[p], p))


def _enters_each_country_once(path: tuple[str, ...], country: dict[str, str]) -> bool:
    visited, previous = set(), None
    for node in path:
        c = country[node]
        if c != previous:
            if c in visited:
                return False
            visited.add(c)
            previous = c
    return True


def _make_route(network: RouteNetwork, graph: nx.Graph, conv: str, spec, path: tuple[str, ...]) -> Route:
    arrival, km, t = [0.0], 0.0, 0.0
    for u, v in itertools.pairwise(path):
        edge = graph.edges[u, v]
        t += edge["days"]
        km += edge["km"]
        arrival.append(t)
    idx = network.index
    crossings = ">".join(n for n in path if network.nodes[idx[n]].kind in CROSSING_KINDS)
    return Route(conveyance=conv, nodes=tuple(idx[n] for n in path), arrival_days=tuple(arrival), km=km,
                 cost_per_kg=trip_cost_per_kg(spec, km), crossings=crossings)
