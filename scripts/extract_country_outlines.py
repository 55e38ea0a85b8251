#!/usr/bin/env python3
"""Extract the Northern Route region's country outlines into a small GeoJSON.

Source: Natural Earth 1:110m Admin 0 countries (public domain, "Made with
Natural Earth", naturalearthdata.com) as shipped inside the geopandas 0.14.4
wheel under ``geopandas/datasets/naturalearth_lowres/``.

The script keeps every country whose outline reaches into a clip box around the
region (default lon 10..100, lat 28..70; this always includes the countries in
``REQUIRED``), clips each polygon to that box (Sutherland-Hodgman; good enough
for drawing filled outlines), rounds coordinates to 3 decimals, and writes an
RFC 7946 FeatureCollection (exterior rings counter-clockwise, holes clockwise)
with properties ``name`` and ``iso_a3``.

Usage (re-runnable; the output is deterministic)::

    python scripts/extract_country_outlines.py /tmp/gpd/geopandas/datasets/naturalearth_lowres
    python scripts/extract_country_outlines.py geopandas-0.14.4-py3-none-any.whl

Only needs pyshp (``import shapefile``) and the standard library.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path

import shapefile  # pyshp

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "sim" / "data" / "country_outlines.geojson"
WHEEL_MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
DEFAULT_BOX = (10.0, 28.0, 100.0, 70.0)  # lon_min, lat_min, lon_max, lat_max
DECIMALS = 3

REQUIRED = {
    "AFG", "TJK", "KGZ", "UZB", "TKM", "KAZ", "RUS", "CHN", "IRN", "PAK", "MNG",
    "BLR", "UKR", "LTU", "LVA", "EST", "POL", "FIN", "AZE", "GEO", "ARM",
}
# Natural Earth leaves a few iso_a3 codes as "-99"; give them usable codes.
ISO_FIXES = {"Kosovo": "XKX"}


def open_reader(source: Path) -> shapefile.Reader:
    """Open the naturalearth_lowres shapefile from a folder, a .shp path or the wheel."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            parts = {ext: io.BytesIO(zf.read(f"{WHEEL_MEMBER}.{ext}")) for ext in ("shp", "shx", "dbf")}
        return shapefile.Reader(**parts, encoding="iso_8859_1")  # the .cpg says ISO-8859-1
    if source.is_dir():
        source = source / "naturalearth_lowres.shp"
    return shapefile.Reader(str(source.with_suffix("")), encoding="iso_8859_1")


def clip_ring(ring, box):
    """Clip one ring (list of (x, y)) to an axis-aligned box; may return [] ."""
    x0, y0, x1, y1 = box
    edges = [
        (lambda p: p[0] >= x0, lambda p, q: _cross_x(p, q, x0)),
        (lambda p: p[0] <= x1, lambda p, q: _cross_x(p, q, x1)),
        (lambda p: p[1] >= y0, lambda p, q: _cross_y(p, q, y0)),
        (lambda p: p[1] <= y1, lambda p, q: _cross_y(p, q, y1)),
    ]
    pts = list(ring[:-1]) if ring and ring[0] == ring[-1] else list(ring)
    for inside, cross in edges:
        if not pts:
            break
        out, prev = [], pts[-1]
        for cur in pts:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
        pts = out
    return pts


def _cross_x(p, q, x):
    t = (x - p[0]) / (q[0] - p[0])
    return (x, p[1] + t * (q[1] - p[1]))


def _cross_y(p, q, y):
    t = (y - p[1]) / (q[1] - p[1])
    return (p[0] + t * (q[0] - p[0]), y)


def signed_area(ring) -> float:
    """Shoelace area; positive for counter-clockwise rings."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))


def tidy_ring(ring, want_ccw: bool):
    """Round, drop repeated points, orient, close. Returns None for degenerate rings."""
    pts = []
    for x, y in ring:
        p = (round(x, DECIMALS), round(y, DECIMALS))
        if not pts or p != pts[-1]:
            pts.append(p)
    while len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    if len(pts) < 3 or abs(signed_area(pts)) < 1e-4:
        return None
    if (signed_area(pts) > 0) != want_ccw:
        pts.reverse()
    return [list(p) for p in pts + pts[:1]]


def shape_polygons(shape):
    """Split a pyshp polygon shape into [exterior, *holes] groups (shapefile: exterior is clockwise)."""
    bounds = list(shape.parts) + [len(shape.points)]
    polygons = []
    for a, b in zip(bounds, bounds[1:]):
        ring = [tuple(p) for p in shape.points[a:b]]
        if signed_area(ring) < 0 or not polygons:
            polygons.append([ring])
        else:
            polygons[-1].append(ring)
    return polygons


def country_feature(record, shape, box):
    """Return a GeoJSON Feature for one country clipped to `box`, or None if nothing is left."""
    multipolygon = []
    for rings in shape_polygons(shape):
        outer = tidy_ring(clip_ring(rings[0], box), want_ccw=True)
        if outer is None:
            continue
        holes = [h for h in (tidy_ring(clip_ring(r, box), want_ccw=False) for r in rings[1:]) if h]
        multipolygon.append([outer, *holes])
    if not multipolygon:
        return None
    iso = ISO_FIXES.get(record["name"], record["iso_a3"])
    return {
        "type": "Feature",
        "properties": {"name": record["name"], "iso_a3": iso},
        "geometry": {"type": "MultiPolygon", "coordinates": multipolygon},
    }


def extract(source: Path, box=DEFAULT_BOX) -> dict:
    """Build the FeatureCollection; raises SystemExit if a required country is missing."""
    reader = open_reader(source)
    features = []
    for sr in reader.iterShapeRecords():
        feature = country_feature(sr.record.as_dict(), sr.shape, box)
        if feature is not None:
            features.append(feature)
    features.sort(key=lambda f: f["properties"]["name"])
    missing = REQUIRED - {f["properties"]["iso_a3"] for f in features}
    if missing:
        raise SystemExit(f"required countries missing from output: {sorted(missing)}")
    return {"type": "FeatureCollection", "features": features}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path,
                        help="unpacked naturalearth_lowres folder, its .shp, or the geopandas wheel")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"output GeoJSON (default {DEFAULT_OUT})")
    parser.add_argument("--box", type=float, nargs=4, default=DEFAULT_BOX,
                        metavar=("LON_MIN", "LAT_MIN", "LON_MAX", "LAT_MAX"), help="clip box in degrees")
    args = parser.parse_args(argv)
    collection = extract(args.source, tuple(args.box))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {len(collection['features'])} countries, {len(text) / 1024:.0f} KB -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
