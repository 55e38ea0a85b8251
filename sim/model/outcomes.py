"""What a run measured: the outcomes policy readers ask about, as one flat dict.

Every figure is derived from the ledger's books (totals, seizures by place and agency,
the seizure log, flows over links), so that the summary, the tables and the maps can never
disagree, and a run need not keep its shipment table to be summarised. Keys are stable:
sweeps, comparisons and calibration select outcomes by these names.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.model.ledger import (BRIBES, BRIBES_USD, CONTROLLED_LET_RUN, CONTROLLED_SEIZED, CONTROLLED_SEIZED_G,
                              GROUPS_SHUT, HOP_EVENTS, OFFICERS_CAUGHT, ORGANISATION_DAYS_DISRUPTED, PROTECTED_PASSAGES,
                              PROTECTION_USD, REASSIGNED_G, ROUTES_SHUT, SEIZURE_OFFICER_DAYS, SEIZURES, STAGINGS,
                              STAGINGS_UNCOVERED)
from sim.model.network import CROSSING_KINDS
from sim.model.policies import policy_cost_usd_per_year
from sim.params import CONVEYANCES

SOUTHERN_BORDERS = ("kz_kg", "kz_uz", "kz_tm")
RUSSIA, EU_COUNTRIES = "RU", ("LT", "LV", "EE", "EU")
TRANSIT_COUNTRIES = ("TJ", "KG", "UZ", "TM")


def slug(text: str) -> str:
    """A key-safe form of a name: 'KNB border service' -> 'knb_border_service'."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def summarise(model) -> dict[str, float]:
    """All outcomes of a finished (or stopped) run."""
    ledger, network = model.ledger, model.network
    nodes = {n.id: n for n in network.nodes}
    places = _Places(network.nodes)
    out: dict[str, float] = {
        "shipments": float(ledger.n_shipments),
        "hop_events": float(ledger.count(HOP_EVENTS)),
        "kg_entered": ledger.entered_g / 1000,
        "kg_seized": ledger.seized_g / 1000,
        "kg_delivered": ledger.delivered_g / 1000,
        "kg_in_transit": ledger.in_transit_g / 1000,
        "seizures": float(ledger.count(SEIZURES)),
        "bribes": float(ledger.count(BRIBES)),
        "bribes_usd": ledger.total(BRIBES_USD),
        "officers_caught": float(ledger.count(OFFICERS_CAUGHT)),
    }
    out["interdiction_rate"] = out["kg_seized"] / out["kg_entered"] if out["kg_entered"] else 0.0
    out.update(_seizures_by_place(model, places))
    out.update(_deliveries(model, nodes))
    out.update(_border_flows(ledger, network, out))
    out.update(_crossings(model))
    out.update(_money(model))
    out.update(_arrests(model))
    out.update(_conveyance_shares(model))
    out.update(_kazakh_statistics(model, places, nodes))
    out["mean_seizure_kg"] = out["kg_seized"] / out["seizures"] if out["seizures"] else 0.0
    out.update(_corruption(model))
    out.update(_policy_outcomes(model, out))   # true vs reported seizures, controlled deliveries, cost
    return out


class _Places:
    """What the summary asks of each node, as arrays by node index."""

    def __init__(self, nodes) -> None:
        self.country = np.array([n.country for n in nodes], dtype=object)
        self.kind = np.array([n.kind for n in nodes], dtype=object)
        self.crossing_border = np.array([n.border if n.kind in CROSSING_KINDS else None for n in nodes], dtype=object)


def seized_kg_by_node(model) -> dict[str, float]:
    """Kilos seized at each node where anything was."""
    grams = model.ledger.books.seized_g_at.sum(axis=1)
    return {model.node_ids[i]: float(grams[i]) / 1000 for i in np.flatnonzero(grams)}


CORRUPTION_KINDS = ("bribe", "protection", "false couriers")


def _corruption(model) -> dict[str, float]:
    """Corruption found out and protection paid (002 ¶25-27).

    ``corruption_cases_detected`` (the same count as ``officers_caught``) and by kind:
    bribe-takers caught, protection arrangements uncovered, false-courier stagings
    uncovered; ``protected_passages``: loads waved through by an officer their
    organisation pays; ``protection_usd``: what that cost the organisations.
    """
    ledger = model.ledger
    out = {"corruption_cases_detected": float(ledger.count(OFFICERS_CAUGHT))}
    cases = ledger.corruption_cases
    for kind in CORRUPTION_KINDS:
        out[f"corruption_cases_{slug(kind)}"] = float(cases.get(kind, 0))
    out["protected_passages"] = float(ledger.count(PROTECTED_PASSAGES))
    out["protection_usd"] = ledger.total(PROTECTION_USD)
    out["seizure_officer_days"] = ledger.total(SEIZURE_OFFICER_DAYS)
    out["routes_shut_knb"] = float(ledger.count(ROUTES_SHUT))
    out["groups_shut_knb"] = float(ledger.count(GROUPS_SHUT))
    out["kg_reassigned_disruption"] = ledger.count(REASSIGNED_G) / 1000
    return out


def _policy_outcomes(model, out: dict[str, float]) -> dict[str, float]:
    """Outcome keys of the policy mechanisms (always present, zero when off).

    ``out`` is the summary computed so far (true seizures by border and agency).
    """
    ledger, nodes = model.ledger, model.network.nodes
    staged_by_border: dict[str, int] = {}
    staged_by_agency: dict[str, int] = {}
    staged = ledger.staged_g
    for (node, agency), grams in staged.items():
        n = nodes[node]
        if n.kind in CROSSING_KINDS and n.border:
            staged_by_border[n.border] = staged_by_border.get(n.border, 0) + grams
        staged_by_agency[slug(agency)] = staged_by_agency.get(slug(agency), 0) + grams
    staged_kg = sum(staged.values()) / 1000
    true_kg = out["kg_seized"]
    result = {
        "kg_seized_true": true_kg,
        "kg_seized_reported": true_kg + staged_kg,
        "seizures_reported": out["seizures"] + ledger.count(STAGINGS),
        "kg_staged_false_couriers": staged_kg,
        "false_courier_stagings": float(ledger.count(STAGINGS)),
        "false_courier_stagings_uncovered": float(ledger.count(STAGINGS_UNCOVERED)),
        "reported_inflation": staged_kg / true_kg if true_kg else 0.0,
        "controlled_deliveries": float(ledger.count(CONTROLLED_LET_RUN)),
        "controlled_deliveries_seized": float(ledger.count(CONTROLLED_SEIZED)),
        "kg_seized_controlled_delivery": ledger.count(CONTROLLED_SEIZED_G) / 1000,
        "organisation_days_disrupted": float(ledger.count(ORGANISATION_DAYS_DISRUPTED)),
        "policy_cost_usd": sum(policy_cost_usd_per_year(phase.params.world) * (phase.end_day - phase.start_day)
                               for phase in model.phases) / 365,   # each phase's policies for its days
    }
    for key in [k for k in out if k.startswith("kg_seized_border_")]:
        border = key.removeprefix("kg_seized_border_")
        result[f"kg_seized_reported_border_{border}"] = out[key] + staged_by_border.get(border, 0) / 1000
    agencies = {k.removeprefix("kg_seized_agency_") for k in out if k.startswith("kg_seized_agency_")}
    for name in sorted(agencies | set(staged_by_agency)):
        result[f"kg_seized_reported_agency_{name}"] = out.get(f"kg_seized_agency_{name}", 0.0) + staged_by_agency.get(name, 0) / 1000
    return result


def _seizures_by_place(model, places: _Places) -> dict[str, float]:
    books = model.ledger.books
    kg = books.seized_g_at.sum(axis=1) / 1000            # by node
    country, border = places.country, places.crossing_border
    out = {
        "kg_seized_kz": float(kg[country == "KZ"].sum()),
        "kg_seized_kz_internal": float(kg[(country == "KZ") & (border == None)].sum()),   # noqa: E711 (elementwise)
        "kg_seized_transit_countries": float(kg[np.isin(country, TRANSIT_COUNTRIES)].sum()),
        "kg_seized_ru": float(kg[country == RUSSIA].sum()),
        "kg_seized_eu_border": float(kg[np.isin(country, EU_COUNTRIES)].sum()),
        "kg_seized_green_border": float(kg[places.kind == "green_crossing"].sum()),
    }
    for b in ("af_tj", "af_uz", "af_tm", "tj_kg", "tj_uz", "kz_kg", "kz_uz", "kz_tm", "kz_ru", "eu_external"):
        out[f"kg_seized_border_{b}"] = float(kg[border == b].sum())
    by_agency = books.seizures_at.sum(axis=0)
    grams = books.seized_g_at.sum(axis=0)
    for a in sorted(np.flatnonzero(by_agency), key=lambda a: model.ledger.agencies.names[a]):
        out[f"kg_seized_agency_{slug(model.ledger.agencies.names[a])}"] = float(grams[a]) / 1000
    return out


def _deliveries(model, nodes) -> dict[str, float]:
    grams = model.ledger.books.delivered_g_at
    country = np.array([nodes[n].country for n in model.node_ids], dtype=object)
    return {
        "kg_delivered_kz": float(grams[country == "KZ"].sum()) / 1000,
        "kg_delivered_russia": float(grams[country == RUSSIA].sum()) / 1000,
        "kg_delivered_eu": float(grams[np.isin(country, EU_COUNTRIES)].sum()) / 1000,
    }


def entry_border(nu, nv) -> str | None:
    """The southern border by which a link from ``nu`` to ``nv`` enters Kazakhstan, or None."""
    return nv.border if nv.border in SOUTHERN_BORDERS and nv.kind in CROSSING_KINDS and nu.country != "KZ" else None


def exits_to_russia(nu, nv) -> bool:
    """Whether a link leaves a Kazakh-Russian border crossing into Russia."""
    return nu.border == "kz_ru" and nu.kind in CROSSING_KINDS and nv.country == RUSSIA


def _border_flows(ledger, network, out) -> dict[str, float]:
    """Kilos entering Kazakhstan by southern border, and crossing into Russia by segment."""
    ids = network.nodes
    entering = {b: 0 for b in SOUTHERN_BORDERS}
    to_russia: dict[str, int] = {}
    for (u, v), grams in ledger.edge_flow_g.items():
        nu, nv = ids[u], ids[v]
        border = entry_border(nu, nv)
        if border is not None:
            entering[border] += grams
        if exits_to_russia(nu, nv):
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


# --- outcomes over periods: phases between events, calendar months ----------------------

#: Cumulative flows the model records every day (:data:`sim.model.model.DAILY_REPORTERS`).
FLOW_SERIES = tuple(f"kg_entering_{b}" for b in SOUTHERN_BORDERS) + ("kg_reaching_russia",)
#: What :func:`period_outcomes` reports for each period.
PERIOD_OUTCOMES = ("kg_entered", "kg_entering_kz", "kg_seized", "kg_reaching_russia", "kg_delivered",
                   *(f"share_entry_{b}" for b in SOUTHERN_BORDERS))


def flow_edges(network) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The links (node indices, both directions) behind each of :data:`FLOW_SERIES`, as
    arrays of from-nodes and to-nodes (:meth:`sim.model.ledger.Ledger.grams_over` reads them daily)."""
    edges: dict[str, list[tuple[int, int]]] = {name: [] for name in FLOW_SERIES}
    nodes, index = network.nodes, network.index
    for a, b in network.graph.edges:
        for u, v in ((index[a], index[b]), (index[b], index[a])):
            border = entry_border(nodes[u], nodes[v])
            if border is not None:
                edges[f"kg_entering_{border}"].append((u, v))
            if exits_to_russia(nodes[u], nodes[v]):
                edges["kg_reaching_russia"].append((u, v))
    return {name: tuple(np.asarray(links, dtype=np.intp).reshape(-1, 2).T) for name, links in edges.items()}


def period_outcomes(daily: pd.DataFrame, periods: list[tuple[int, int]]) -> pd.DataFrame:
    """Headline outcomes over periods of days ``[start, end)`` (day 0 = the start date).

    Computed from the cumulative daily series (row ``day`` d holds the totals after d
    days), so a period's figure is what happened in it: kilos entering the route and
    Kazakhstan (with the shares by southern border), seized, crossing into Russia,
    delivered. Loads on the road at a period's end count where they had got to.
    """
    columns = ["kg_entered", "kg_seized", "kg_delivered", *FLOW_SERIES]
    totals = daily.set_index("day")[columns]
    totals.loc[0] = 0.0
    rows = []
    for start, end in periods:
        d = totals.loc[end] - totals.loc[start]
        entering = sum(d[f"kg_entering_{b}"] for b in SOUTHERN_BORDERS)
        row = {"kg_entered": d["kg_entered"], "kg_entering_kz": entering, "kg_seized": d["kg_seized"],
               "kg_reaching_russia": d["kg_reaching_russia"], "kg_delivered": d["kg_delivered"]}
        for b in SOUTHERN_BORDERS:
            row[f"share_entry_{b}"] = d[f"kg_entering_{b}"] / entering if entering else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PERIOD_OUTCOMES)).astype(float)


def phase_table(daily: pd.DataFrame, params) -> pd.DataFrame:
    """The headline outcomes per phase between a scenario's events (one row per phase)."""
    from sim.timeline import date_of, phase_bounds

    bounds = phase_bounds(params)
    frame = period_outcomes(daily, [(a, b) for a, b, _ in bounds])
    start = params.start_date
    frame.insert(0, "phase", range(1, len(bounds) + 1))
    frame.insert(1, "label", [label for *_, label in bounds])
    frame.insert(2, "start_date", [date_of(start, a).isoformat() for a, _, _ in bounds])
    frame.insert(3, "end_date", [date_of(start, b - 1).isoformat() for _, b, _ in bounds])
    frame.insert(4, "days", [b - a for a, b, _ in bounds])
    return frame


def monthly_table(daily: pd.DataFrame, start_date, horizon_days: int | None = None) -> pd.DataFrame:
    """The headline outcomes per calendar month (a first or last month may be partial: ``days``)."""
    from sim.timeline import month_bounds

    horizon = int(daily["day"].max()) if horizon_days is None else horizon_days
    bounds = month_bounds(start_date, horizon)
    frame = period_outcomes(daily, [(a, b) for a, b, _ in bounds])
    frame.insert(0, "month", [month for *_, month in bounds])
    frame.insert(1, "days", [b - a for a, b, _ in bounds])
    return frame


def _crossings(model) -> dict[str, float]:
    """Kilos arriving at each border crossing (displacement), inspections by border.

    ``kg_crossing_<node>``: kilos that reached the crossing (those seized there included);
    ``kg_via_green_<segment>``: the same over a segment's unofficial crossings;
    ``inspections_border_<border>``: inspections made at the border's posts;
    ``kg_reaching_eu``: kilos that reached the EU's external border.
    """
    nodes = model.network.nodes
    arriving = [0] * len(nodes)
    for (_u, v), grams in model.ledger.edge_flow_g.items():
        arriving[v] += grams
    out: dict[str, float] = {}
    green: dict[str, int] = {}
    inspections: dict[str, int] = {}
    reaching_eu = 0
    for i, node in enumerate(nodes):
        if node.kind not in CROSSING_KINDS:
            continue
        out[f"kg_crossing_{node.id}"] = arriving[i] / 1000
        if node.kind == "green_crossing" and node.segment:
            green[node.segment] = green.get(node.segment, 0) + arriving[i]
        if node.border:
            post = model.posts[i]
            inspections[node.border] = inspections.get(node.border, 0) + (post.inspections if post is not None else 0)
        if node.border == "eu_external":
            reaching_eu += arriving[i]
    out.update({f"kg_via_green_{seg}": g / 1000 for seg, g in sorted(green.items())})
    out.update({f"inspections_border_{b}": float(n) for b, n in sorted(inspections.items())})
    out["kg_reaching_eu"] = reaching_eu / 1000
    return out


def _money(model) -> dict[str, float]:
    orgs = list(model.organisations)
    return {
        "revenue_usd": float(sum(o.revenue_usd for o in orgs)),
        "losses_usd": float(sum(o.losses_usd for o in orgs)),
        "costs_usd": float(sum(o.costs_usd for o in orgs)),
    }


def _arrests(model) -> dict[str, float]:
    """Couriers arrested, by nationality (most first)."""
    ledger = model.ledger
    counts = np.bincount(ledger.books.sz_nationality[:ledger.count(SEIZURES)], minlength=len(ledger.nationalities))
    order = sorted(np.flatnonzero(counts), key=lambda k: -counts[k])
    return {f"couriers_arrested_{ledger.nationalities.names[k]}": float(counts[k]) for k in order}


def _conveyance_shares(model) -> dict[str, float]:
    """The share of the kilos sent by each conveyance that carried any."""
    grams = model.ledger.books.dispatched_g
    total = int(grams.sum())
    return {f"share_kg_{c}": float(g / total) for c, g in zip(CONVEYANCES, grams.tolist()) if g > 0}


# --- figures as Kazakh statistics report them (calibration targets) -------------------

HOME = "KZ"
SIZE_QUANTILES = {"q25": 0.25, "median": 0.5, "q75": 0.75}


def _kazakh_statistics(model, places: _Places, nodes) -> dict[str, float]:
    """Seizures in Kazakhstan by Kazakh agencies, the way Kazakh statistics count them.

    The Kazakh figures (002_3aa904e3dc1761f0.txt ¶2-4) count seizures made in Kazakhstan
    by Kazakh agencies; seizures by the Russian side of a joint post (the counterpart
    agency) are Russian statistics and are left out. Keys (always present for a model,
    so that targets can name them before any run):

    - ``kg_seized_kz_national``, ``seizures_kz_national``: heroin (kg, count) seized;
    - ``kg_seized_kz_agency_<slug>``, ``seizures_kz_agency_<slug>``: the same by agency,
      for every agency that can seize at a Kazakh node (posts' sides and patrols);
    - ``share_seizures_kz_border_<border>``, ``share_seizures_kz_inland``: share of the
      seizures (count) made at each of Kazakhstan's borders or inland;
    - ``seizure_kg_q25_kz``, ``seizure_kg_median_kz``, ``seizure_kg_q75_kz``: the
      seizure-size distribution (NaN when nothing was seized: no size to report);
    - ``foreign_couriers_arrested_kz`` and ``share_foreign_arrested_kz_<NAT>``: foreign
      couriers arrested in Kazakhstan and their nationalities' shares.
    """
    ledger = model.ledger
    names = ledger.agencies.names
    foreign_agencies = set(model.world.inspection.counterpart_agency_by_border.values())
    agencies = _kazakh_agencies(model, foreign_agencies)
    n = ledger.count(SEIZURES)
    b = ledger.books
    node, agency, grams, nationality = b.sz_node[:n], b.sz_agency[:n], b.sz_grams[:n], b.sz_nationality[:n]
    foreign_codes = [k for k, name in enumerate(names) if name in foreign_agencies]
    national = (places.country[node] == HOME) & ~np.isin(agency, foreign_codes)
    n_national = int(national.sum())
    out: dict[str, float] = {
        "kg_seized_kz_national": float(grams[national].sum()) / 1000,
        "seizures_kz_national": float(n_national),
    }
    kg_by = np.bincount(agency[national], weights=grams[national], minlength=len(names)) / 1000
    count_by = np.bincount(agency[national], minlength=len(names))
    for name in sorted(agencies | {names[k] for k in np.flatnonzero(count_by)}):
        k = names.index(name) if name in names else None
        out[f"kg_seized_kz_agency_{slug(name)}"] = float(kg_by[k]) if k is not None else 0.0
        out[f"seizures_kz_agency_{slug(name)}"] = float(count_by[k]) if k is not None else 0.0
    border = places.crossing_border[node[national]]
    kz_borders = sorted({n.border for n in nodes.values() if n.country == HOME and n.kind in CROSSING_KINDS and n.border})
    for b_ in kz_borders:
        out[f"share_seizures_kz_border_{b_}"] = float((border == b_).sum() / n_national) if n_national else 0.0
    out["share_seizures_kz_inland"] = float((border == None).sum() / n_national) if n_national else 0.0   # noqa: E711
    sizes = grams[national] / 1000
    for name, q in SIZE_QUANTILES.items():
        out[f"seizure_kg_{name}_kz"] = float(np.quantile(sizes, q)) if n_national else float("nan")
    nat_names = np.asarray(ledger.nationalities.names + [""], dtype=object)[nationality[national]]
    foreign = nat_names[nat_names != HOME]
    out["foreign_couriers_arrested_kz"] = float(len(foreign))
    found, counts = np.unique(foreign.astype(str), return_counts=True) if len(foreign) else ([], [])
    by_nat = dict(zip(found, counts))
    known = {nat for org in model.world.organisations.values() for nat in org.courier_nationalities} - {HOME}
    for nat in sorted(known | set(by_nat)):
        out[f"share_foreign_arrested_kz_{nat}"] = float(by_nat.get(nat, 0) / len(foreign)) if len(foreign) else 0.0
    return out


def _kazakh_agencies(model, foreign_agencies: set[str]) -> set[str]:
    """Every Kazakh agency that can seize at a node in Kazakhstan (posts and patrols)."""
    nodes = model.network.nodes
    found: set[str] = set()
    for post in model.posts:
        if post is not None and nodes[post.node].country == HOME:
            found.update(side.agency for side in post.sides)
    for patrol in model.patrols:
        if any(nodes[i].country == HOME for i in patrol.area):
            found.add(patrol.officer.agency)
    return found - foreign_agencies
