"""The route network: loads, validates, and holds the places the sources name."""

from __future__ import annotations

import copy

import networkx as nx
import pytest

from sim.config import load_params
from sim.model import NorthernRouteModel
from sim.model.network import build_network, great_circle_km
from sim.params import ConfigError, params_from_mapping


def _with_network(params, network):
    data = params.model_dump(mode="json")
    data["network"] = network
    return params_from_mapping(data)


def test_the_cables_main_route_is_connected_in_order(baseline_params):
    # 002_3aa904e3dc1761f0.txt ¶15: Almaty, Karaganda, Semey, Novosibirsk, Barnaul, Omsk
    net = build_network(baseline_params.network, baseline_params.world.transport)
    cities = ["kz_almaty", "kz_karaganda", "kz_semey", "ru_novosibirsk", "ru_barnaul", "ru_omsk"]
    for a, b in zip(cities, cities[1:]):
        path = nx.shortest_path(net.graph, a, b, weight="km")
        assert len(path) <= 5, f"{a} -> {b} goes round about: {path}"


def test_the_41_unofficial_kyrgyz_border_roads_are_clusters_not_copies(baseline_params):
    # 002 ¶9: 41 roads cross the Kazakh-Kyrgyz border without a checkpoint; a similar number the Uzbek one
    nodes = baseline_params.network.nodes
    kg = [n for n in nodes if n.border == "kz_kg" and n.kind == "green_crossing"]
    uz = [n for n in nodes if n.border == "kz_uz" and n.kind == "green_crossing"]
    assert sum(n.n_crossings for n in kg) == 41
    assert len(kg) <= 3
    assert sum(n.n_crossings for n in uz) == 41


@pytest.mark.parametrize("node_id", ["kz_korday", "kz_karasu", "kz_merke", "kz_zhanazhol", "kz_kyzylzhar",
                                     "kz_uba", "kz_auyil", "kz_kyzyltu", "kz_astana_checkpoint",
                                     "kz_kostanay_simplified"])
def test_checkpoints_named_in_the_sources_are_on_the_network(baseline_params, node_id):
    node = next(n for n in baseline_params.network.nodes if n.id == node_id)
    assert node.kind in ("border_checkpoint", "internal_checkpoint")
    assert ".txt" in node.source


def test_every_node_cites_a_source(baseline_params):
    assert all(len(n.source) > 10 for n in baseline_params.network.nodes)


def test_link_lengths_are_great_circle_times_detour(baseline_params):
    net = build_network(baseline_params.network, baseline_params.world.transport)
    a, b = net.node("kz_astana"), net.node("kz_kostanay")
    expected = great_circle_km(a.lat, a.lon, b.lat, b.lon) * baseline_params.world.transport.detour_factor
    assert net.graph.edges["kz_astana", "kz_kostanay"]["km"] == pytest.approx(expected)
    assert 700 < expected < 900


def test_edge_to_unknown_node_is_an_error_naming_it(baseline_params, network_dict):
    broken = copy.deepcopy(network_dict)
    broken["edges"].append({"u": "kz_almaty", "v": "atlantis", "modes": ["road"]})
    with pytest.raises(ConfigError, match="unknown node 'atlantis'"):
        _with_network(baseline_params, broken)


def test_node_without_coordinates_is_an_error(baseline_params, network_dict):
    broken = copy.deepcopy(network_dict)
    del broken["nodes"][0]["lat"]
    with pytest.raises(ConfigError, match=r"network\.nodes\.0\.lat"):
        _with_network(baseline_params, broken)


def test_negative_travel_time_is_an_error(baseline_params, network_dict):
    broken = copy.deepcopy(network_dict)
    broken["edges"][0]["days"] = -2
    with pytest.raises(ConfigError, match=r"network\.edges\.0\.days.*greater than or equal to 0"):
        _with_network(baseline_params, broken)


def test_origin_with_no_path_to_its_market_is_an_error(baseline_params, network_dict):
    broken = copy.deepcopy(network_dict)
    broken["edges"] = [e for e in broken["edges"] if "ru_moscow" not in (e["u"], e["v"])]
    params = _with_network(baseline_params, broken)
    with pytest.raises(ConfigError, match="no route from .* to market 'ru_moscow'"):
        NorthernRouteModel(params)


def test_unknown_node_in_an_override_is_an_error():
    with pytest.raises(ConfigError, match="world.patrols.south.area: unknown node 'nowhere'"):
        load_params(["world.patrols.south.area=[nowhere]"])
