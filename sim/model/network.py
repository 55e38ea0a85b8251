"""The route network: places and links of the Northern Route as a networkx graph.

Built from ``scenarios/network/*.yaml`` (validated by :mod:`sim.params`); a scenario
changes it with a ``network.changes`` section (:func:`apply_network_changes`) rather than
a copy of the whole file, since Hydra replaces lists where it merges mappings. Each link
knows its length and which modes (road, rail, foot) can use it; each conveyance
(truck, TIR truck, car, rail, body-packer) sees the part of the network it can use:
the links open to its modes and the checkpoints that process it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import pandas as pd

from typing import Any, Mapping

from pydantic import ValidationError

from sim.params import ConfigError, ConveyanceSpec, Edge, NetworkConfig, Node, Transport, format_validation_error

EARTH_RADIUS_KM = 6371.0
CROSSING_KINDS = ("border_checkpoint", "green_crossing")
POST_KINDS = ("border_checkpoint", "green_crossing", "internal_checkpoint")


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points on the Earth, in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class RouteNetwork:
    """The validated graph plus fast integer indexing for the simulation's hot path."""

    graph: nx.Graph
    nodes: tuple[Node, ...]
    transport: Transport

    @cached_property
    def index(self) -> dict[str, int]:
        return {node.id: i for i, node in enumerate(self.nodes)}

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[self.index[node_id]]
        except KeyError:
            raise KeyError(f"unknown node {node_id!r}") from None

    def nodes_where(self, **attrs) -> list[Node]:
        """Nodes whose attributes equal all the given values, e.g. ``border="kz_kg"``."""
        return [n for n in self.nodes if all(getattr(n, k) == v for k, v in attrs.items())]

    def edge_days(self, u: str, v: str, spec: ConveyanceSpec) -> float | None:
        """Travel time over a link for a conveyance (fastest mode it may use), or None."""
        data = self.graph.edges[u, v]
        usable = [m for m in data["modes"] if m in spec.edge_modes]
        if not usable:
            return None
        if data["days"] is not None:
            return data["days"]
        speeds = self.transport.speed_km_per_day
        return min(data["km"] / speeds[m] for m in usable)

    def usable_by(self, conveyance: str, spec: ConveyanceSpec) -> nx.Graph:
        """The subgraph a conveyance can travel: open links, checkpoints that process it.

        Edge weight ``days`` includes the handling time at the node entered.
        """
        handling = self.transport.handling_days_per_node
        sub = nx.Graph()
        for node in self.nodes:
            if node.handles is None or conveyance in node.handles:
                sub.add_node(node.id)
        for u, v in self.graph.edges:
            if u in sub and v in sub:
                days = self.edge_days(u, v, spec)
                if days is not None:
                    sub.add_edge(u, v, days=days + handling, km=self.graph.edges[u, v]["km"])
        return sub

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Nodes and edges as tables (for outputs and maps)."""
        nodes = pd.DataFrame([n.model_dump() for n in self.nodes])
        edges = pd.DataFrame(
            [{"u": u, "v": v, "modes": tuple(d["modes"]), "km": d["km"]} for u, v, d in self.graph.edges(data=True)]
        )
        return nodes, edges


def build_network(config: NetworkConfig, transport: Transport) -> RouteNetwork:
    """Build the graph; link length defaults to great-circle km times the detour factor.

    The runs of a sweep in one process share their configs: the network of the same
    config objects is built once (it is never changed once built).
    """
    key = (id(config), id(transport))
    cached = _BUILT.get(key)
    if cached is not None and cached[0] is config and cached[1] is transport:
        return cached[2]
    network = _build(config, transport)
    if len(_BUILT) >= 16:
        _BUILT.pop(next(iter(_BUILT)))
    _BUILT[key] = (config, transport, network)
    return network


_BUILT: dict = {}


def _build(config: NetworkConfig, transport: Transport) -> RouteNetwork:
    graph = nx.Graph()
    for node in config.nodes:
        graph.add_node(node.id, **node.model_dump())
    for edge in config.edges:
        a, b = graph.nodes[edge.u], graph.nodes[edge.v]
        km = edge.km if edge.km is not None else great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]) * transport.detour_factor
        graph.add_edge(edge.u, edge.v, modes=tuple(edge.modes), km=km, days=edge.days)
    return RouteNetwork(graph=graph, nodes=tuple(config.nodes), transport=transport)


# --- a scenario's changes to the network ---------------------------------------------

#: What a change set may hold, in the order it is applied.
CHANGE_KINDS = ("add_nodes", "update_nodes", "remove_edges", "add_edges", "split_edges")


def apply_network_changes(network: Mapping[str, Any]) -> dict[str, Any]:
    """The network config (plain data) with its ``changes`` applied and removed.

    ``changes`` maps a name to a change set, so that several config files combine (Hydra
    merges mappings but replaces lists); sets apply in the order composed. A set holds::

        add_nodes:    [{id, name, country, lat, lon, kind, source, price_zone, ...}]
        update_nodes: {node_id: {field: value}}          # e.g. {kz_kyzyltu: {profile: kz_inl}}
        remove_edges: [[u, v]]
        add_edges:    [{u, v, modes, km?, days?}]
        split_edges:  [{u, v, via: node_id}]             # u-v becomes u-via and via-v

    applied in that order. ``split_edges`` puts a node (a new post, say) on an existing
    road: the two halves keep the link's modes, and a fixed ``km`` or ``days`` is shared in
    proportion to the halves' great-circle lengths. Any entry that names an unknown node or
    link, or adds one twice, is a one-line :class:`ConfigError` naming the entry.
    """
    if "changes" not in network:
        return dict(network)
    data = dict(network)
    changes = data.pop("changes") or {}
    if not isinstance(changes, Mapping):
        raise ConfigError("config error: network.changes: give a mapping of named change sets "
                          "(name: {add_nodes: [...], split_edges: [...], ...})")
    nodes, edges = _indexed(data)
    for name, change in changes.items():
        _apply_change_set(nodes, edges, change, f"network.changes.{name}")
    data["nodes"] = list(nodes.values())
    data["edges"] = list(edges.values())
    return data


def _indexed(data: Mapping[str, Any]) -> tuple[dict[str, dict], dict[frozenset[str], dict]]:
    """The network's nodes by id and links by their two ends (plain data, copied)."""
    nodes: dict[str, dict] = {}
    for i, node in enumerate(data.get("nodes") or ()):
        if not isinstance(node, Mapping) or "id" not in node:
            raise _fail(f"network.nodes.{i}", "a node is a mapping with an id")
        if node["id"] in nodes:
            raise _fail(f"network.nodes.{i}.id", f"duplicate node id {node['id']!r}")
        nodes[node["id"]] = dict(node)
    edges: dict[frozenset[str], dict] = {}
    for i, edge in enumerate(data.get("edges") or ()):
        if not isinstance(edge, Mapping) or not {"u", "v"} <= set(edge):
            raise _fail(f"network.edges.{i}", "a link is a mapping with u and v")
        edges[_edge_key(edge["u"], edge["v"])] = dict(edge)
    return nodes, edges


def _apply_change_set(nodes: dict, edges: dict, change: Any, where: str) -> None:
    if not isinstance(change, Mapping):
        raise _fail(where, f"give a mapping with any of {', '.join(CHANGE_KINDS)}")
    unknown = [k for k in change if k not in CHANGE_KINDS]
    if unknown:
        raise _fail(f"{where}.{unknown[0]}", f"unknown change (known: {', '.join(CHANGE_KINDS)})")
    for kind in CHANGE_KINDS:
        if change.get(kind):
            _APPLY[kind](nodes, edges, change[kind], f"{where}.{kind}")


def _edge_key(u: str, v: str) -> frozenset[str]:
    return frozenset((u, v))


def _fail(where: str, problem: str) -> ConfigError:
    return ConfigError(f"config error: {where}: {problem}")


def _checked(model, data: Any, where: str) -> dict[str, Any]:
    """``data`` validated as a Node or Edge, back as plain data (defaults left out)."""
    if not isinstance(data, Mapping):
        raise _fail(where, f"give a mapping (got {data!r})")
    try:
        model.model_validate(data)
    except ValidationError as err:
        raise _fail(where, format_validation_error(err, root=model)) from None
    return dict(data)


def _entries(entries: Any, where: str, mapping: bool = False):
    if mapping != isinstance(entries, Mapping) or isinstance(entries, str):
        raise _fail(where, "give a mapping of node id -> changed fields" if mapping else "give a list")
    return entries.items() if mapping else enumerate(entries)


def _require(nodes: dict, node_id: Any, where: str) -> None:
    if node_id not in nodes:
        raise _fail(where, f"unknown node {node_id!r}")


def _add_nodes(nodes: dict, _edges: dict, entries: Any, where: str) -> None:
    for i, node in _entries(entries, where):
        node = _checked(Node, node, f"{where}.{i}")
        if node["id"] in nodes:
            raise _fail(f"{where}.{i}", f"duplicate node id {node['id']!r} (to change a node, use update_nodes)")
        nodes[node["id"]] = node


def _update_nodes(nodes: dict, _edges: dict, entries: Any, where: str) -> None:
    for node_id, fields in _entries(entries, where, mapping=True):
        _require(nodes, node_id, f"{where}.{node_id}")
        if not isinstance(fields, Mapping):
            raise _fail(f"{where}.{node_id}", f"give the changed fields as a mapping (got {fields!r})")
        if "id" in fields:
            raise _fail(f"{where}.{node_id}.id", "a node's id cannot change (add a node and rewire the links instead)")
        nodes[node_id] = _checked(Node, {**nodes[node_id], **fields}, f"{where}.{node_id}")


def _remove_edges(nodes: dict, edges: dict, entries: Any, where: str) -> None:
    for i, pair in _entries(entries, where):
        u, v = _pair(pair, f"{where}.{i}")
        if edges.pop(_edge_key(u, v), None) is None:
            raise _fail(f"{where}.{i}", f"no link {u}-{v} in the network")


def _add_edges(nodes: dict, edges: dict, entries: Any, where: str) -> None:
    for i, edge in _entries(entries, where):
        edge = _checked(Edge, edge, f"{where}.{i}")
        _link(nodes, edges, edge, f"{where}.{i}")


def _split_edges(nodes: dict, edges: dict, entries: Any, where: str) -> None:
    for i, split in _entries(entries, where):
        here = f"{where}.{i}"
        if not isinstance(split, Mapping) or set(split) != {"u", "v", "via"}:
            raise _fail(here, f"give {{u, v, via}}: the link u-v and the node put on it (got {split!r})")
        u, v, via = split["u"], split["v"], split["via"]
        _require(nodes, via, f"{here}.via")
        old = edges.pop(_edge_key(u, v), None)
        if old is None:
            raise _fail(here, f"no link {u}-{v} in the network")
        first = _share(nodes, u, via, v)
        for (a, b), share in (((u, via), first), ((via, v), 1.0 - first)):
            half = {"u": a, "v": b, "modes": old["modes"]}
            for field in ("km", "days"):
                if old.get(field) is not None:
                    half[field] = old[field] * share
            _link(nodes, edges, half, here)


def _share(nodes: dict, a: str, b: str, c: str) -> float:
    """The share of the way a-b in the two halves a-b and b-c (by great-circle length)."""
    ab, bc = (great_circle_km(nodes[x]["lat"], nodes[x]["lon"], nodes[y]["lat"], nodes[y]["lon"]) for x, y in ((a, b), (b, c)))
    return ab / (ab + bc) if ab + bc > 0 else 0.5


def _pair(pair: Any, where: str) -> tuple[str, str]:
    if isinstance(pair, Mapping) and set(pair) == {"u", "v"}:
        return pair["u"], pair["v"]
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        return pair[0], pair[1]
    raise _fail(where, f"give a link as [u, v] (got {pair!r})")


def _link(nodes: dict, edges: dict, edge: dict, where: str) -> None:
    for end in ("u", "v"):
        _require(nodes, edge[end], f"{where}.{end}")
    if edge["u"] == edge["v"]:
        raise _fail(where, f"links node {edge['u']!r} to itself")
    key = _edge_key(edge["u"], edge["v"])
    if key in edges:
        raise _fail(where, f"link {edge['u']}-{edge['v']} is already in the network")
    edges[key] = edge


_APPLY = {"add_nodes": _add_nodes, "update_nodes": _update_nodes, "remove_edges": _remove_edges,
          "add_edges": _add_edges, "split_edges": _split_edges}
