"""Route maps: the trafficking network drawn over country outlines.

Only matplotlib (Agg canvas, no display needed), numpy and the standard library are used
at run time; country outlines come from the GeoJSON shipped in ``sim/data`` (Natural
Earth, public domain; see ``sim/data/ATTRIBUTION.md``).

The map uses plain lon/lat coordinates with the aspect ratio corrected for the middle
latitude (an equirectangular view), which is adequate for a regional overview.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox

OUTLINES_PATH = Path(__file__).parent / "data" / "country_outlines.geojson"
DEFAULT_EXTENT = (24.0, 90.0, 34.0, 60.0)  # lon_min, lon_max, lat_min, lat_max
INSET_EXTENT = (65.0, 77.8, 35.2, 43.9)
CAPTION = ("Country outlines: Made with Natural Earth (naturalearthdata.com, public domain). "
           "Flows and seizures are simulated model output, not observed data.")

# kind -> (marker, face colour, marker area in pt^2, legend label)
KIND_STYLE = {
    "origin": ("*", "#7b3294", 170, "Origin (production area)"),
    "city": ("o", "#404040", 22, "City / transit hub"),
    "market": ("s", "#0571b0", 50, "Consumer market"),
    "border_checkpoint": ("^", "#1a9641", 55, "Border checkpoint"),
    "green_crossing": ("D", "#a6611a", 34, "'Green' (unofficial) crossing"),
    "internal_checkpoint": ("p", "#5e5e5e", 50, "Internal checkpoint"),
}
MODES = ("road", "rail", "foot")
MODE_STYLE = {"road": "-", "rail": (0, (2.5, 2.2)), "foot": (0, (0.1, 1.9))}  # foot: round dots
FLOW_COLOUR, IDLE_COLOUR, SEIZURE_COLOUR = "#e6550d", "#9a9a9a", "#d7191c"
MAX_LINE_WIDTH, MIN_LINE_WIDTH, IDLE_LINE_WIDTH = 9.0, 0.9, 0.5
MAX_SEIZURE_AREA = 900.0  # pt^2 for the largest seizure
# Country-name positions where the polygon centroid is off-map or awkward (lon, lat).
COUNTRY_LABEL_AT = {
    "Russia": (52.0, 58.6), "China": (84.0, 38.5), "Kazakhstan": (62.5, 48.8),
    "Mongolia": (89.0, 48.6), "Iran": (55.5, 35.0), "Afghanistan": (65.5, 34.6),
    "Pakistan": (71.5, 34.4), "Turkey": (33.0, 39.5), "Ukraine": (31.5, 49.3),
    "Finland": (27.5, 59.7), "Belarus": (28.0, 53.4), "India": (76.5, 34.3),
    "Uzbekistan": (63.0, 42.3), "Turkmenistan": (59.0, 39.2), "Kyrgyzstan": (75.2, 41.7),
    "Tajikistan": (71.5, 38.9),
}
SMALL_COUNTRIES = {"Lithuania", "Latvia", "Estonia", "Armenia", "Georgia", "Azerbaijan",
                   "Moldova", "Lebanon", "Israel", "Cyprus", "N. Cyprus", "Palestine", "Kuwait"}


def load_country_outlines(path=None):
    """Read the shipped country GeoJSON.

    Returns a list of dicts ``{"name", "iso_a3", "polygons"}`` where ``polygons`` is a
    list of polygons, each a list of rings (``numpy`` arrays of shape (n, 2), lon/lat;
    the first ring is the exterior, any others are holes).
    """
    with open(path or OUTLINES_PATH, encoding="utf-8") as fh:
        collection = json.load(fh)
    countries = []
    for feature in collection["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        countries.append({
            "name": feature["properties"]["name"],
            "iso_a3": feature["properties"]["iso_a3"],
            "polygons": [[np.asarray(ring, dtype=float) for ring in poly] for poly in polys],
        })
    return countries


def draw_route_map(nodes, edges, edge_flow_kg, node_seized_kg, path, title="", node_labels=True,
                   inset_extent=INSET_EXTENT):
    """Draw the route network over country outlines and save a PNG at `path`.

    nodes: pandas.DataFrame with columns id, name, country, lat, lon, kind
           (kind is one of: origin, city, market, border_checkpoint, green_crossing,
           internal_checkpoint)
    edges: pandas.DataFrame with columns u, v, modes (modes: a tuple/list of strings among
           road, rail, foot). Edges with road are drawn solid, rail-only dashed, foot-only dotted.
    edge_flow_kg: dict mapping (u, v) node-id pairs (either orientation; both orientations
           are added together) to kg of heroin that moved over the edge
    node_seized_kg: dict mapping node id -> kg seized there
    inset_extent: (lon_min, lon_max, lat_min, lat_max) of a zoomed detail panel drawn
           under the legends when it holds at least 3 nodes (default: the Afghan-Tajik
           border and Fergana valley, where the network is densest); None disables it.
    Raises ValueError for unknown node ids, kinds or modes, missing columns, or
    negative/non-finite numbers. Returns the matplotlib Figure (and closes nothing;
    caller may close).
    """
    node_tab = _check_nodes(nodes)
    edge_modes = _check_edges(edges, node_tab)
    flows = _check_flows(edge_flow_kg, edge_modes, node_tab)
    seized = _check_seizures(node_seized_kg, node_tab)

    extent = _map_extent(node_tab)
    with_inset = bool(inset_extent) and _count_inside(node_tab, inset_extent) >= 3
    fig, map_rect, column_x = _layout(extent, min_height=7.3 if with_inset else 5.2)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(map_rect)
    scales = (max(flows.values(), default=0.0), max(seized.values(), default=0.0))
    layers = (load_country_outlines(), node_tab, edge_modes, flows, seized, scales)
    _draw_map(ax, extent, layers, canvas, node_labels)
    ax.set_title(title or "Simulated heroin flows on the Northern Route", fontsize=13, loc="left")
    legend_bottom = _add_legends(fig, column_x, node_tab, edge_modes, *scales)
    if with_inset:
        inset_rect = (column_x, map_rect[1], 1 - column_x - 0.01, legend_bottom - 0.04 - map_rect[1])
        _draw_inset(fig, ax, inset_extent, layers, canvas, node_labels, inset_rect)
    fig.text(0.012, 0.012, CAPTION, fontsize=7.5, color="#555555")
    fig.savefig(path, dpi=150, facecolor="white")
    return fig


def period_flows(events, shipments, first_day, end_day):
    """Kilos over each link and seized at each node during days ``[first_day, end_day)``.

    A map of a period (before or after an event) needs when each load crossed each link:
    that is in the per-hop event log (``RunResult.events``, kept unless
    ``output.events=false``): a load's consecutive nodes in it are the links it crossed,
    each on the day it reached the second node. Seizures count on the day they were made
    (``shipments.outcome_day``). Returns ``(edge_flow_kg, node_seized_kg)`` as
    :func:`draw_route_map` takes them.
    """
    if events is None:
        raise ValueError("a map of a period needs the per-hop event log: run with output.events=true")
    ev = events.sort_values(["shipment_id", "day"], kind="stable")
    node = ev["node"].astype(str)
    same_load = ev["shipment_id"].eq(ev["shipment_id"].shift())
    ev = ev[~(same_load & node.eq(node.shift()))]            # several events at one node: one visit
    prev = ev["node"].astype(str).shift()
    hop = ev["shipment_id"].eq(ev["shipment_id"].shift()) & (ev["day"] >= first_day) & (ev["day"] < end_day)
    kg = ev["shipment_id"].map(shipments.set_index("shipment_id")["kg"])
    hops = ev.assign(u=prev, v=ev["node"].astype(str), kg=kg)[hop]
    flows = {(u, v): float(x) for (u, v), x in hops.groupby(["u", "v"])["kg"].sum().items()}
    seized = shipments[(shipments["outcome"] == "seized") & (shipments["outcome_day"] >= first_day)
                       & (shipments["outcome_day"] < end_day)]
    by_node = seized.groupby(seized["outcome_node"].astype(str))["kg"].sum()
    return flows, {str(k): float(v) for k, v in by_node.items()}


def draw_period_map(result, path, first_day, end_day, title=""):
    """The route map of one period of a run (days ``[first_day, end_day)``, see :func:`period_flows`)."""
    from sim.timeline import date_of

    flows, seized = period_flows(result.events, result.shipments, first_day, end_day)
    nodes, edges = result.network.frames()
    start = result.params.start_date
    when = f"{date_of(start, first_day).isoformat()} to {date_of(start, end_day - 1).isoformat()}"
    return draw_route_map(nodes, edges, flows, seized, path,
                          title=f"{title}: {when}" if title else f"Simulated heroin flows and seizures, {when}")


# --------------------------------------------------------------------------- validation

def _check_nodes(nodes):
    """Return {id: dict(name, lat, lon, kind)}; raise ValueError on bad input."""
    _require_columns(nodes, ("id", "name", "country", "lat", "lon", "kind"), "nodes")
    table = {}
    for row in nodes.itertuples(index=False):
        if row.id in table:
            raise ValueError(f"duplicate node id {row.id!r}")
        if row.kind not in KIND_STYLE:
            raise ValueError(f"node {row.id!r} has unknown kind {row.kind!r}; expected one of {list(KIND_STYLE)}")
        lat, lon = float(row.lat), float(row.lon)
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            raise ValueError(f"node {row.id!r} has invalid coordinates lat={row.lat!r}, lon={row.lon!r}")
        table[row.id] = {"name": str(row.name), "lat": lat, "lon": lon, "kind": row.kind}
    return table


def _check_edges(edges, node_tab):
    """Return {frozenset({u, v}): set(modes)}; parallel rows for the same pair are merged."""
    _require_columns(edges, ("u", "v", "modes"), "edges")
    result = {}
    for row in edges.itertuples(index=False):
        for end in (row.u, row.v):
            if end not in node_tab:
                raise ValueError(f"edge ({row.u!r}, {row.v!r}) names unknown node {end!r}")
        modes = (row.modes,) if isinstance(row.modes, str) else tuple(row.modes)
        bad = [m for m in modes if m not in MODES]
        if bad or not modes:
            raise ValueError(f"edge ({row.u!r}, {row.v!r}) has invalid modes {modes!r}; expected among {MODES}")
        result.setdefault(_key(row.u, row.v), set()).update(modes)
    return result


def _check_flows(edge_flow_kg, edge_modes, node_tab):
    """Return {frozenset({u, v}): kg}, adding both orientations together."""
    flows = {}
    for pair, kg in (edge_flow_kg or {}).items():
        u, v = pair
        for end in (u, v):
            if end not in node_tab:
                raise ValueError(f"edge_flow_kg key ({u!r}, {v!r}) names unknown node {end!r}")
        if _key(u, v) not in edge_modes:
            raise ValueError(f"edge_flow_kg has flow on ({u!r}, {v!r}), which is not an edge")
        flows[_key(u, v)] = flows.get(_key(u, v), 0.0) + _amount(kg, f"edge_flow_kg[({u!r}, {v!r})]")
    return flows


def _check_seizures(node_seized_kg, node_tab):
    """Return {node id: kg}; raise ValueError for unknown nodes or bad amounts."""
    seized = {}
    for node, kg in (node_seized_kg or {}).items():
        if node not in node_tab:
            raise ValueError(f"node_seized_kg names unknown node {node!r}")
        seized[node] = _amount(kg, f"node_seized_kg[{node!r}]")
    return seized


def _require_columns(frame, columns, what):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing columns {missing}")


def _amount(value, what):
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite, non-negative number of kg, got {value!r}")
    return value


def _key(u, v):
    return frozenset((u, v))


# --------------------------------------------------------------------------- drawing

def _layout(extent, min_height, map_width=10.4, column=4.3, top=0.55, bottom=0.4):
    """Size the figure to the map's aspect ratio, widening the map rather than leaving the
    legend column taller than the map. Returns (fig, main-axes rect, legend-column x)."""
    lon0, lon1, lat0, lat1 = extent
    ratio = (lon1 - lon0) * math.cos(math.radians((lat0 + lat1) / 2)) / (lat1 - lat0)
    map_height = min(max(map_width / ratio, min_height - top - bottom), 8.5)
    map_width = map_height * ratio
    width, height = 0.18 + map_width + 0.3 + column, map_height + top + bottom
    fig = Figure(figsize=(width, height), dpi=150)
    rect = (0.18 / width, bottom / height, map_width / width, map_height / height)
    return fig, rect, (0.18 + map_width + 0.3) / width


def _draw_map(ax, extent, layers, canvas, node_labels):
    """Everything inside one map axes: countries, edges, seizures, nodes, labels."""
    countries, node_tab, edge_modes, flows, seized, (max_flow, max_seized) = layers
    _setup_axes(ax, extent)
    _draw_countries(ax, countries)
    _draw_edges(ax, node_tab, edge_modes, flows, max_flow)
    _draw_seizures(ax, node_tab, seized, max_seized)
    _draw_nodes(ax, node_tab)
    obstacles = _node_boxes(ax, node_tab, canvas)
    _label_countries(ax, countries, extent, obstacles, canvas)
    if node_labels:
        _label_nodes(ax, node_tab, flows, seized, obstacles, canvas)


def _draw_inset(fig, main_ax, extent, layers, canvas, node_labels, rect):
    """Zoomed detail panel at `rect` (figure coords), with its frame marked on the main map."""
    lon0, lon1, lat0, lat1 = extent
    ax = fig.add_axes(rect)
    _draw_map(ax, extent, layers, canvas, node_labels)
    name = "Afghanistan - Central Asia" if tuple(extent) == INSET_EXTENT else "dashed frame on main map"
    ax.set_title(f"Detail: {name}", fontsize=8.5, loc="left")
    main_ax.add_patch(Rectangle((lon0, lat0), lon1 - lon0, lat1 - lat0, fill=False, ec="#444444",
                                lw=0.8, ls="--", zorder=9))


def _count_inside(node_tab, extent):
    lon0, lon1, lat0, lat1 = extent
    return sum(lon0 <= n["lon"] <= lon1 and lat0 <= n["lat"] <= lat1 for n in node_tab.values())


def _map_extent(node_tab, margin=1.5):
    """Default regional extent, widened if any node falls outside it."""
    lon0, lon1, lat0, lat1 = DEFAULT_EXTENT
    lons = [n["lon"] for n in node_tab.values()]
    lats = [n["lat"] for n in node_tab.values()]
    if lons:
        lon0, lon1 = min(lon0, min(lons) - margin), max(lon1, max(lons) + margin)
        lat0, lat1 = min(lat0, min(lats) - margin), max(lat1, max(lats) + margin)
    return lon0, lon1, lat0, lat1


def _setup_axes(ax, extent):
    """Fix limits, aspect (equirectangular at mid-latitude) and a sea-coloured background."""
    lon0, lon1, lat0, lat1 = extent
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / math.cos(math.radians((lat0 + lat1) / 2)), adjustable="box", anchor="W")
    ax.set_facecolor("#eaf2f8")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.apply_aspect()  # settle the final axes box now: label placement measures in display space
    for spine in ax.spines.values():
        spine.set_color("#888888")
        spine.set_linewidth(0.6)


def _draw_countries(ax, countries):
    """Light grey country fills with thin white-grey borders."""
    for country in countries:
        for rings in country["polygons"]:
            path = MplPath.make_compound_path(*[MplPath(r, closed=True) for r in rings])
            ax.add_patch(PathPatch(path, facecolor="#e4e4e4", edgecolor="#9c9c9c", linewidth=0.5, zorder=1))


def _flow_width(kg, max_flow):
    """Line width (pt) for a flow: square-root scaling, floor for tiny non-zero flows."""
    return max(MIN_LINE_WIDTH, MAX_LINE_WIDTH * math.sqrt(kg / max_flow)) if max_flow > 0 else MIN_LINE_WIDTH


def _edge_style(modes):
    """Road (solid) wins over rail (dashed), which wins over foot (dotted)."""
    return next(MODE_STYLE[m] for m in MODES if m in modes)


def _draw_edges(ax, node_tab, edge_modes, flows, max_flow):
    """Idle edges thin and faint; used edges in order of flow so big flows sit on top."""
    ordered = sorted(edge_modes, key=lambda k: flows.get(k, 0.0))
    for key in ordered:
        a, b = sorted(key, key=str) if len(key) == 2 else (next(iter(key)),) * 2
        xs = [node_tab[a]["lon"], node_tab[b]["lon"]]
        ys = [node_tab[a]["lat"], node_tab[b]["lat"]]
        kg = flows.get(key, 0.0)
        if kg > 0:
            ax.plot(xs, ys, color=FLOW_COLOUR, alpha=0.8, lw=_flow_width(kg, max_flow),
                    ls=_edge_style(edge_modes[key]), solid_capstyle="round", dash_capstyle="round", zorder=4)
        else:
            ax.plot(xs, ys, color=IDLE_COLOUR, alpha=0.7, lw=IDLE_LINE_WIDTH,
                    ls=_edge_style(edge_modes[key]), dash_capstyle="round", zorder=3)


def _seizure_area(kg, max_seized):
    return MAX_SEIZURE_AREA * kg / max_seized if max_seized > 0 else 0.0


def _draw_seizures(ax, node_tab, seized, max_seized):
    """Red translucent circles, area proportional to kg seized."""
    hits = [(n, kg) for n, kg in sorted(seized.items(), key=lambda x: -x[1]) if kg > 0]
    if hits:
        ax.scatter([node_tab[n]["lon"] for n, _ in hits], [node_tab[n]["lat"] for n, _ in hits],
                   s=[_seizure_area(kg, max_seized) for _, kg in hits], color=SEIZURE_COLOUR,
                   alpha=0.35, edgecolor=SEIZURE_COLOUR, linewidth=0.8, zorder=5)


def _draw_nodes(ax, node_tab):
    """One scatter per node kind, distinct marker and colour."""
    for kind, (marker, colour, size, _) in KIND_STYLE.items():
        pts = [(n["lon"], n["lat"]) for n in node_tab.values() if n["kind"] == kind]
        if pts:
            xs, ys = zip(*pts)
            ax.scatter(xs, ys, marker=marker, s=size, color=colour, edgecolor="white",
                       linewidth=0.6, zorder=6)


# --------------------------------------------------------------------------- labels

HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]
# Candidate label offsets (points) and alignments: right, left, above, below, diagonals.
LABEL_OFFSETS = [((5, 0), "left", "center"), ((-5, 0), "right", "center"), ((0, 5), "center", "bottom"),
                 ((0, -5), "center", "top"), ((4, 4), "left", "bottom"), ((-4, 4), "right", "bottom"),
                 ((4, -4), "left", "top"), ((-4, -4), "right", "top"), ((9, 0), "left", "center"),
                 ((-9, 0), "right", "center"), ((0, 10), "center", "bottom"), ((0, -10), "center", "top")]


def _node_boxes(ax, node_tab, canvas, half=4.0):
    """Display-space boxes around node markers, used as obstacles for labels."""
    px = half * ax.figure.dpi / 72.0
    pts = ax.transData.transform([(n["lon"], n["lat"]) for n in node_tab.values()]) if node_tab else []
    return [Bbox.from_extents(x - px, y - px, x + px, y + px) for x, y in pts]


def _free(box, obstacles, ax_box):
    """True if `box` lies inside the axes and overlaps no obstacle."""
    inside = ax_box.x0 <= box.x0 and box.x1 <= ax_box.x1 and ax_box.y0 <= box.y0 and box.y1 <= ax_box.y1
    return inside and not any(box.overlaps(o) for o in obstacles)


def _place(ax, text, xy, obstacles, canvas, offsets, **style):
    """Try each offset in turn; keep the first label that fits, else remove it. Returns success."""
    renderer = canvas.get_renderer()
    ax_box = ax.get_window_extent(renderer)
    for offset, ha, va in offsets:
        label = ax.annotate(text, xy, xytext=offset, textcoords="offset points", ha=ha, va=va, **style)
        box = label.get_window_extent(renderer).expanded(1.05, 1.1)
        if _free(box, obstacles, ax_box):
            obstacles.append(box)
            return True
        label.remove()
    return False


def _label_nodes(ax, node_tab, flows, seized, obstacles, canvas):
    """Label origins, markets and every node with flow or seizures, busiest first."""
    through = {n: 0.0 for n in node_tab}
    for key, kg in flows.items():
        for n in key:
            through[n] += kg

    def rank(n):
        return node_tab[n]["kind"] in ("origin", "market"), through[n] + seized.get(n, 0.0)

    wanted = [n for n in node_tab if through[n] > 0 or seized.get(n, 0) > 0
              or node_tab[n]["kind"] in ("origin", "market")]
    for n in sorted(wanted, key=rank, reverse=True):
        info = node_tab[n]
        _place(ax, info["name"], (info["lon"], info["lat"]), obstacles, canvas, LABEL_OFFSETS,
               fontsize=7, color="#1a1a1a", zorder=8, path_effects=HALO)


def _label_point(country, extent, pad=(0.6, 0.4)):
    """Manual spot if known and on the map, else the middle of the country's visible part."""
    lon0, lon1, lat0, lat1 = extent[0] + pad[0], extent[1] - pad[0], extent[2] + pad[1], extent[3] - pad[1]
    manual = COUNTRY_LABEL_AT.get(country["name"])
    if manual and lon0 < manual[0] < lon1 and lat0 < manual[1] < lat1:
        return manual
    grid = np.stack(np.meshgrid(np.linspace(lon0, lon1, 60), np.linspace(lat0, lat1, 60)), -1).reshape(-1, 2)
    inside = np.zeros(len(grid), dtype=bool)
    for rings in country["polygons"]:
        inside |= MplPath(rings[0]).contains_points(grid)
    if inside.sum() < 3:
        return None
    pts = grid[inside]
    return tuple(pts[np.argmin(((pts - pts.mean(axis=0)) ** 2).sum(axis=1))])


def _label_countries(ax, countries, extent, obstacles, canvas):
    """Small grey country names at their label points (skipped if off-map or crowded)."""
    for country in sorted(countries, key=lambda c: c["name"] in SMALL_COUNTRIES):
        xy = _label_point(country, extent)
        if xy is None:
            continue
        small = country["name"] in SMALL_COUNTRIES
        _place(ax, country["name"], xy, obstacles, canvas, [((0, 0), "center", "center")],
               fontsize=6.5 if small else 8.5, color="#8a8a8a", style="italic", zorder=2)


# --------------------------------------------------------------------------- legends

def _nice_floor(value):
    """Largest 1/2/5 x 10^k not above `value`."""
    if value <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(value))
    return max(m * exp for m in (1, 2, 5) if m * exp <= value * (1 + 1e-9))


def _reference_values(max_value):
    """Two or three round reference values spanning the data (for sqrt / area scales)."""
    top = _nice_floor(max_value)
    refs = sorted({_nice_floor(top / 20), _nice_floor(top / 4), top} - {0.0})
    return refs[-3:]


def _fmt_kg(kg):
    """'1.5 t' for tonnes, '250 kg' below a tonne."""
    return f"{kg / 1000:g} t" if kg >= 1000 else f"{kg:g} kg"


def _add_legends(fig, x, node_tab, edge_modes, max_flow, max_seized):
    """Right-hand legend column: node kinds, flow widths + line styles, seizure sizes.

    Returns the figure y coordinate just below the last legend."""
    y = 1 - 0.3 / fig.get_figheight()
    kinds = [k for k in KIND_STYLE if any(n["kind"] == k for n in node_tab.values())]
    handles = [Line2D([], [], ls="", marker=KIND_STYLE[k][0], ms=math.sqrt(KIND_STYLE[k][2]),
                      color=KIND_STYLE[k][1], markeredgecolor="white", label=KIND_STYLE[k][3]) for k in kinds]
    y = _legend(fig, handles, "Nodes", (x, y))
    modes = [m for m in MODES if any(_edge_style(ms) == MODE_STYLE[m] for ms in edge_modes.values())]
    handles = [Line2D([], [], color=FLOW_COLOUR, alpha=0.8, lw=_flow_width(kg, max_flow),
                      solid_capstyle="butt", label=f"{kg / 1000:g} t") for kg in _reference_values(max_flow)]
    handles += [Line2D([], [], color="#555555", lw=1.5, ls=MODE_STYLE[m],
                        dash_capstyle="round", label=m) for m in modes]
    handles.append(Line2D([], [], color=IDLE_COLOUR, alpha=0.7, lw=IDLE_LINE_WIDTH, label="no flow"))
    y_flow = _legend(fig, handles, "Heroin moved (width ~ sqrt)", (x, y), handlelength=3.2)
    if max_seized > 0:
        handles = [Line2D([], [], ls="", marker="o", ms=math.sqrt(_seizure_area(kg, max_seized)),
                          color=SEIZURE_COLOUR, alpha=0.35, markeredgecolor=SEIZURE_COLOUR, label=_fmt_kg(kg))
                   for kg in _reference_values(max_seized)]
        y = _legend(fig, handles, "Seized (area ~ kg)", (x + 2.1 / fig.get_figwidth(), y),
                    labelspacing=1.5, handlelength=3.5, handletextpad=1.0, borderpad=0.6)
    return min(y, y_flow)


def _legend(fig, handles, title, anchor, **kw):
    """Add one figure legend with its top-left at `anchor`; return the y just below it."""
    if not handles:
        return anchor[1]
    leg = fig.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=anchor, fontsize=8,
                     title_fontsize=8.5, frameon=False, alignment="left", **kw)
    box = leg.get_window_extent(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted())
    return box.y0 - 0.02
