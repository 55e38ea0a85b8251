"""What a run measured: the outcomes policy readers ask about, as one flat dict.

Every figure is derived from the ledger (shipments, events, flows over links), so that
the summary, the tables and the maps can never disagree. Keys are stable: sweeps,
comparisons and calibration select outcomes by these names.
"""

from __future__ import annotations

import re

import pandas as pd

from sim.network import CROSSING_KINDS

SOUTHERN_BORDERS = ("kz_kg", "kz_uz", "kz_tm")
RUSSIA, EU_COUNTRIES = "RU", ("LT", "LV", "EE", "EU")
TRANSIT_COUNTRIES = ("TJ", "KG", "UZ", "TM")


def slug(text: str) -> str:
    """A key-safe form of a name: 'KNB border service' -> 'knb_border_service'."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def summarise(model, ships: pd.DataFrame | None = None) -> dict[str, float]:
    """All outcomes of a finished (or stopped) run (``ships``: the shipment table, if made)."""
    ledger, network = model.ledger, model.network
    ships = ledger.shipments_frame() if ships is None else ships
    nodes = {n.id: n for n in network.nodes}
    out: dict[str, float] = {
        "shipments": float(len(ships)),
        "hop_events": float(ledger.hop_events),
        "kg_entered": ledger.entered_g / 1000,
        "kg_seized": ledger.seized_g / 1000,
        "kg_delivered": ledger.delivered_g / 1000,
        "kg_in_transit": ledger.in_transit_g / 1000,
        "seizures": float(ledger.seizures_count),
        "bribes": float(ledger.bribes_count),
        "bribes_usd": ledger.bribes_usd,
        "officers_caught": float(ledger.officers_caught),
    }
    out["interdiction_rate"] = out["kg_seized"] / out["kg_entered"] if out["kg_entered"] else 0.0
    out.update(_seizures_by_place(ships, nodes))
    out.update(_deliveries(ships, nodes))
    out.update(_border_flows(ledger, network, out))
    out.update(_money(model))
    out.update(_arrests(ships))
    out.update(_conveyance_shares(ships))
    seized = ships[ships["outcome"] == "seized"]
    out["mean_seizure_kg"] = float(seized["kg"].mean()) if len(seized) else 0.0
    return out


def _seizures_by_place(ships: pd.DataFrame, nodes) -> dict[str, float]:
    seized = ships[ships["outcome"] == "seized"]
    where = seized["outcome_node"].astype(str)
    country = where.map(lambda n: nodes[n].country)
    border = where.map(lambda n: nodes[n].border if nodes[n].kind in CROSSING_KINDS else None)
    kind = where.map(lambda n: nodes[n].kind)
    out = {
        "kg_seized_kz": float(seized.loc[country == "KZ", "kg"].sum()),
        "kg_seized_kz_internal": float(seized.loc[(country == "KZ") & border.isna(), "kg"].sum()),
        "kg_seized_transit_countries": float(seized.loc[country.isin(TRANSIT_COUNTRIES), "kg"].sum()),
        "kg_seized_ru": float(seized.loc[country == RUSSIA, "kg"].sum()),
        "kg_seized_eu_border": float(seized.loc[country.isin(EU_COUNTRIES), "kg"].sum()),
        "kg_seized_green_border": float(seized.loc[kind == "green_crossing", "kg"].sum()),
    }
    for b in ("af_tj", "af_uz", "af_tm", "tj_kg", "tj_uz", "kz_kg", "kz_uz", "kz_tm", "kz_ru", "eu_external"):
        out[f"kg_seized_border_{b}"] = float(seized.loc[border == b, "kg"].sum())
    for agency, kg in seized.groupby(seized["agency"].astype(str))["kg"].sum().items():
        out[f"kg_seized_agency_{slug(agency)}"] = float(kg)
    return out


def _deliveries(ships: pd.DataFrame, nodes) -> dict[str, float]:
    done = ships[ships["outcome"] == "delivered"]
    country = done["outcome_node"].astype(str).map(lambda n: nodes[n].country)
    return {
        "kg_delivered_kz": float(done.loc[country == "KZ", "kg"].sum()),
        "kg_delivered_russia": float(done.loc[country == RUSSIA, "kg"].sum()),
        "kg_delivered_eu": float(done.loc[country.isin(EU_COUNTRIES), "kg"].sum()),
    }


def _border_flows(ledger, network, out) -> dict[str, float]:
    """Kilos entering Kazakhstan by southern border, and crossing into Russia by segment."""
    ids = network.nodes
    entering = {b: 0 for b in SOUTHERN_BORDERS}
    to_russia: dict[str, int] = {}
    for (u, v), grams in ledger.edge_flow_g.items():
        nu, nv = ids[u], ids[v]
        if nv.border in entering and nv.kind in CROSSING_KINDS and nu.country != "KZ":
            entering[nv.border] += grams
        if nu.border == "kz_ru" and nu.kind in CROSSING_KINDS and nv.country == RUSSIA:
            to_russia[nu.segment] = to_russia.get(nu.segment, 0) + grams
    total_in = sum(entering.values())
    result = {f"share_entry_{b}": (g / total_in if total_in else 0.0) for b, g in entering.items()}
    result["kg_entering_kz"] = total_in / 1000
    result["kg_reaching_russia"] = sum(to_russia.values()) / 1000
    total_out = sum(to_russia.values())
    for seg in sorted({n.segment for n in ids if n.border == "kz_ru"}):
        result[f"share_exit_{seg}"] = to_russia.get(seg, 0) / total_out if total_out else 0.0
    entered_kz_kg = total_in / 1000
    result["kz_interdiction_rate"] = out["kg_seized_kz"] / entered_kz_kg if entered_kz_kg else 0.0
    return result


def _money(model) -> dict[str, float]:
    orgs = list(model.organisations)
    return {
        "revenue_usd": float(sum(o.revenue_usd for o in orgs)),
        "losses_usd": float(sum(o.losses_usd for o in orgs)),
        "costs_usd": float(sum(o.costs_usd for o in orgs)),
    }


def _arrests(ships: pd.DataFrame) -> dict[str, float]:
    seized = ships[ships["outcome"] == "seized"]
    counts = seized["nationality"].astype(str).value_counts()
    return {f"couriers_arrested_{nat}": float(n) for nat, n in counts.items()}


def _conveyance_shares(ships: pd.DataFrame) -> dict[str, float]:
    total = ships["kg"].sum()
    by = ships.groupby(ships["conveyance"].astype(str))["kg"].sum()
    return {f"share_kg_{c}": float(kg / total) if total else 0.0 for c, kg in by.items()}
