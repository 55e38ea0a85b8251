"""The route network: places and links of the Northern Route as a networkx graph.

Built from ``scenarios/network/*.yaml`` (validated by :mod:`sim.params`). Each link
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

from sim.params import ConveyanceSpec, NetworkConfig, Node, Transport

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
    """Build the graph; link length defaults to great-circle km times the detour factor."""
    graph = nx.Graph()
    for node in config.nodes:
        graph.add_node(node.id, **node.model_dump())
    for edge in config.edges:
        a, b = graph.nodes[edge.u], graph.nodes[edge.v]
        km = edge.km if edge.km is not None else great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]) * transport.detour_factor
        graph.add_edge(edge.u, edge.v, modes=tuple(edge.modes), km=km, days=edge.days)
    return RouteNetwork(graph=graph, nodes=tuple(config.nodes), transport=transport)
