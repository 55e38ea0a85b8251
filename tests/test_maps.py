"""Tests for sim.maps: shipped country outlines and the route map."""

import numpy as np
import pandas as pd
import pytest

from sim.maps import draw_route_map, load_country_outlines

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_network():
    nodes = pd.DataFrame(
        [
            ("kunduz", "Kunduz", "AFG", 36.73, 68.86, "origin"),
            ("pyanj", "Nizhny Pyanj", "TJK", 37.20, 68.60, "border_checkpoint"),
            ("ford", "Panj ford", "TJK", 37.25, 69.45, "green_crossing"),
            ("dushanbe", "Dushanbe", "TJK", 38.56, 68.77, "city"),
            ("osh", "Osh", "KGZ", 40.53, 72.80, "city"),
            ("korday", "Korday", "KAZ", 43.04, 74.71, "internal_checkpoint"),
            ("moscow", "Moscow", "RUS", 55.76, 37.62, "market"),
        ],
        columns=["id", "name", "country", "lat", "lon", "kind"],
    )
    edges = pd.DataFrame(
        [
            ("kunduz", "pyanj", ("road",)),
            ("kunduz", "ford", ["foot"]),
            ("pyanj", "dushanbe", ("road",)),
            ("ford", "dushanbe", ("foot",)),
            ("dushanbe", "osh", ("road",)),
            ("osh", "korday", ("road",)),
            ("korday", "moscow", ("road", "rail")),
        ],
        columns=["u", "v", "modes"],
    )
    flows = {("kunduz", "pyanj"): 1200.0, ("dushanbe", "pyanj"): 1100.0, ("osh", "dushanbe"): 900.0,
             ("osh", "korday"): 850.0, ("korday", "moscow"): 700.0}
    seized = {"pyanj": 100.0, "korday": 150.0, "moscow": 40.0}
    return nodes, edges, flows, seized


def test_outlines_contain_kazakhstan_with_plausible_bbox():
    countries = {c["iso_a3"]: c for c in load_country_outlines()}
    for iso in ("AFG", "TJK", "KGZ", "UZB", "TKM", "KAZ", "RUS", "LTU", "LVA", "EST"):
        assert iso in countries
    kaz = countries["KAZ"]
    assert kaz["name"] == "Kazakhstan"
    pts = np.concatenate([ring for poly in kaz["polygons"] for ring in poly])
    (lon_min, lat_min), (lon_max, lat_max) = pts.min(axis=0), pts.max(axis=0)
    assert 45 < lon_min < 48 and 86 < lon_max < 88.5
    assert 40 < lat_min < 41.5 and 55 < lat_max < 56


def test_draw_route_map_writes_png(tmp_path):
    nodes, edges, flows, seized = small_network()
    out = tmp_path / "route.png"
    fig = draw_route_map(nodes, edges, flows, seized, out, title="test map")
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 50_000
    assert fig.get_axes()  # main map (+ legends/inset)


def test_draw_route_map_handles_no_flows_or_labels(tmp_path):
    nodes, edges, _, _ = small_network()
    out = tmp_path / "empty.png"
    draw_route_map(nodes, edges, {}, {}, out, node_labels=False, inset_extent=None)
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_edge_with_unknown_node_raises_naming_it(tmp_path):
    nodes, edges, flows, seized = small_network()
    edges = pd.concat([edges, pd.DataFrame([("osh", "atlantis", ("road",))], columns=edges.columns)])
    with pytest.raises(ValueError, match="atlantis"):
        draw_route_map(nodes, edges, flows, seized, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize(
    "flows, seized, needle",
    [
        ({("osh", "nowhere"): 5.0}, {}, "nowhere"),
        ({("kunduz", "moscow"): 5.0}, {}, "not an edge"),
        ({("osh", "korday"): -1.0}, {}, "non-negative"),
        ({}, {"ghost_town": 3.0}, "ghost_town"),
    ],
)
def test_bad_flow_or_seizure_inputs_raise(tmp_path, flows, seized, needle):
    nodes, edges, _, _ = small_network()
    with pytest.raises(ValueError, match=needle):
        draw_route_map(nodes, edges, flows, seized, tmp_path / "bad.png")


def test_unknown_kind_and_mode_raise(tmp_path):
    nodes, edges, flows, seized = small_network()
    bad_nodes = nodes.assign(kind=nodes["kind"].replace("city", "village"))
    with pytest.raises(ValueError, match="village"):
        draw_route_map(bad_nodes, edges, flows, seized, tmp_path / "bad.png")
    bad_edges = edges.copy()
    bad_edges.at[0, "modes"] = ("road", "camel")
    with pytest.raises(ValueError, match="camel"):
        draw_route_map(nodes, bad_edges, flows, seized, tmp_path / "bad.png")
