"""A run's state, in one place: tables of arrays that the agents read and write.

Everything that changes while a run goes (an organisation's stock, money, beliefs and
plans; a post's loads and inspections; the officers a crew has tied up by seizures and
who it protects; an officer's corruptibility; a patrol's position and memory of finds;
the cases that deter officers) is kept in the tables of :class:`RunState`, one row per agent (or per node, per side of
a post, ...). The Mesa agents of :mod:`sim.model.agents` are views of their rows
(:class:`Column`): ``organisation.stock_g`` reads ``state.orgs.stock_g[organisation.row]``.
So the readable reference engine (the agents' methods, one Python event per hop) and the
compiled fast engine (:mod:`sim.engine`, which runs a day over the same arrays) work on
one state, and the model stays a Mesa model whichever engine moves the couriers.

A table is a named tuple of arrays (numba passes it to compiled code as it is), made by
:func:`new_table` from its columns (:data:`TABLES`): a column's first dimension is the
table's rows; further dimensions are named (``"C"``: conveyances, ``"N"``: nodes,
``"NC"``: node x conveyance beliefs, ...) and may grow (:meth:`RunState.grow`), when a
crew takes on more officers than its roster holds, say. What the rules in force derive
(a crew's capacity, a route's nodes) is kept in the same tables and re-derived by
:meth:`sim.model.model.NorthernRouteModel.refresh_rules`.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

I8, F8, B1 = np.int64, np.float64, np.bool_

#: table -> column -> (dtype, further dimensions by name, fill value)
TABLES: dict[str, dict[str, tuple[Any, tuple[str, ...], Any]]] = {
    # one row per trafficking organisation
    "orgs": {
        "stock_g": (I8, (), 0), "received_g": (I8, (), 0), "passed_on_g": (I8, (), 0),
        "revenue_usd": (F8, (), 0.0), "losses_usd": (F8, (), 0.0), "costs_usd": (F8, (), 0.0),
        "disrupted_until": (I8, (), 0),                 # sends nothing before this day (its people arrested)
        "next_market": (I8, (), -1),                    # the load it plans next: market (index in its list), -1: none
        "next_route": (I8, (), 0), "next_grams": (I8, (), 0),
        "daily_supply_g": (I8, (), 0), "org_type": (I8, (), 0), "stream": (I8, (), 0),
        "belief_scale": (F8, (), 1.0), "keep_per_day": (F8, (), 1.0),
        "belief_losses": (F8, ("NC",), 0.0),            # discounted evidence / belief_scale (sim.model.beliefs)
        "belief_passages": (F8, ("NC",), 0.0),
        "shut_until": (I8, ("N",), 0),                  # node -> day until which the KNB keeps its channel shut
        "n_markets": (I8, (), 0), "market_cum": (F8, ("MK",), 0.0), "menu": (I8, ("MK",), -1),
        "n_nationalities": (I8, (), 0), "nationality": (I8, ("NT",), 0), "nationality_cum": (F8, ("NT",), 0.0),
    },
    # one row per node: its post (if any) and what the node is to the rules
    "posts": {
        "has_post": (B1, (), False), "inspections": (I8, (), 0), "seized_g": (I8, (), 0),
        "loads_today": (I8, (), 0), "loads_day": (I8, (), -1), "stream": (I8, (), 0),
        "stages_false_couriers": (B1, (), False), "n_sides": (I8, (), 0), "both_sides_inspect": (B1, (), False),
        "n_watchers": (I8, (), 0),
        "price_usd_per_kg": (F8, (), 0.0),              # a kilo's price where the node stands on the ladder
        "investigated": (B1, (), False),                # a seizure here is followed up by the KNB (002 ¶3)
        "let_run_country": (B1, (), False),             # a found load may be let run here (controlled deliveries)
        "rules_stream": (I8, (), 0),                    # draws of the rules that follow a find here
        "reporting_stream": (I8, (), 0),                # false-courier stagings: reporting only (002 ¶27)
    },
    # one row per (node, side): the crews of a post (the Kazakh side first)
    "sides": {
        "agency": (I8, (), -1), "capacity": (F8, (), 0.0), "staff": (F8, (), 0.0), "licit_traffic": (F8, (), 0.0),
        "targeting": (F8, ("C",), 0.0), "p_inspect": (F8, ("C",), 0.0), "p_detect": (F8, ("C",), 0.0),
        "n_officers": (I8, (), 0), "roster": (I8, ("R",), -1),
        "n_busy": (I8, (), 0), "busy_until": (F8, ("B",), 0.0),   # when officers tied up by seizures are free
        "protector": (I8, ("O",), -1),                  # organisation -> the officer it pays here, -1: none
    },
    # one row per (node, watch): green-zone strips and UAV units watching a node
    "watchers": {
        "agency": (I8, (), -1), "p_spot": (F8, ("C",), 0.0), "n_officers": (I8, (), 0), "roster": (I8, ("R",), -1),
    },
    # one row per officer ever hired (an officer let go keeps the row, inactive)
    "officers": {
        "corruptibility": (F8, (), 0.0), "mean_corruptibility": (F8, (), 0.0), "bribes_taken": (I8, (), 0),
        "stream": (I8, (), 0), "agency": (I8, (), -1), "active": (B1, (), False),
    },
    # one row per mobile patrol ever sent out (a withdrawn one keeps the row, inactive)
    "patrols": {
        "active": (B1, (), False), "position": (I8, (), 0), "agency": (I8, (), -1), "officer": (I8, (), -1),
        "stream": (I8, (), 0), "intelligence_weight": (F8, (), 0.0), "memory_days": (I8, (), 0),
        "stop_prob": (F8, ("N",), 0.0), "p_detect": (F8, ("C",), 0.0),
        "n_area": (I8, (), 0), "area": (I8, ("AREA",), 0), "in_area": (B1, ("N",), False),
        "first_find": (I8, (), 0), "n_finds": (I8, (), 0),       # its memory of finds: a ring of (day, node)
        "find_day": (F8, ("F",), 0.0), "find_node": (I8, ("F",), 0),
    },
}

#: Dimensions that hold a ring per row: the table, the column of each row's first place, the ring's columns
#: (:meth:`RunState.grow` turns them to start at 0 before growing).
RINGS = {"F": (("patrols", "first_find", ("find_day", "find_node")),)}
#: Starting sizes of the growable dimensions (each doubles when full).
START_SIZES = {"R": 8, "B": 8, "F": 16, "W": 1, "AREA": 8}


def new_table(name: str, rows: int | tuple[int, ...], dims: dict[str, int]):
    """An empty table: every column filled with its fill value."""
    rows = (rows,) if isinstance(rows, int) else tuple(rows)
    columns = TABLES[name]
    cls = _TABLE_CLASSES[name]
    return cls(**{col: np.full(rows + tuple(dims[d] for d in extra), fill, dtype=dtype)
                  for col, (dtype, extra, fill) in columns.items()})


def grown(table, name: str, *, rows: int | None = None, dim: str | None = None, size: int | None = None):
    """The table with more rows (``rows``), or a named dimension grown to ``size``; contents kept."""
    columns = TABLES[name]
    values = {}
    for col, (dtype, extra, fill) in columns.items():
        old = getattr(table, col)
        shape = list(old.shape)
        if rows is not None:
            n_lead = old.ndim - len(extra)
            shape[n_lead - 1] = rows
        if dim is not None and dim in extra:
            shape[old.ndim - len(extra) + extra.index(dim)] = size
        if tuple(shape) == old.shape:
            values[col] = old
            continue
        new = np.full(shape, fill, dtype=dtype)
        new[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, shape))] = \
            old[tuple(slice(0, min(a, b)) for a, b in zip(old.shape, shape))]
        values[col] = new
    return type(table)(**values)


_TABLE_CLASSES = {name: namedtuple(name.capitalize(), list(columns)) for name, columns in TABLES.items()}


class RunState:
    """The tables of one run, and the sizes of their named dimensions.

    ``orgs`` (one row per organisation), ``posts`` (per node), ``sides`` (per node and side),
    ``watchers`` (per node and watch), ``officers``, ``patrols``. ``version`` changes whenever a
    table is replaced (grown), so that the fast engine knows to take the new arrays.
    """

    def __init__(self, n_nodes: int, n_conveyances: int, n_orgs: int, n_markets: int, n_nationalities: int,
                 n_sides: int = 2) -> None:
        self.dims = {"N": n_nodes, "C": n_conveyances, "NC": n_nodes * n_conveyances, "O": max(1, n_orgs),
                     "MK": max(1, n_markets), "NT": max(1, n_nationalities), **START_SIZES}
        self.orgs = new_table("orgs", n_orgs, self.dims)
        self.posts = new_table("posts", n_nodes, self.dims)
        self.sides = new_table("sides", (n_nodes, n_sides), self.dims)
        self.watchers = new_table("watchers", (n_nodes, self.dims["W"]), self.dims)
        self.officers = new_table("officers", 64, self.dims)
        self.patrols = new_table("patrols", 8, self.dims)
        self.n_officers = 0
        self.n_patrols = 0
        self.version = 0

    def grow(self, dim: str, size: int) -> None:
        """Grow a named dimension (a crew's roster ``R``, the tied-up ring ``B``, ...) to at least ``size``."""
        if size <= self.dims[dim]:
            return
        size = max(size, 2 * self.dims[dim])
        for table, first, columns in RINGS.get(dim, ()):
            self._unroll(table, first, columns)
        self.dims[dim] = size
        for name in TABLES:
            if any(dim in extra for _, extra, _ in TABLES[name].values()):
                setattr(self, name, grown(getattr(self, name), name, dim=dim, size=size))
        self.version += 1

    def _unroll(self, name: str, first: str, columns: tuple[str, ...]) -> None:
        """Turn each row's ring to start at its first place, so that growing (which copies
        places ``0..n-1`` as they are) keeps the ring's order: a ring that wrapped round its
        end would otherwise be read out of order, and with gaps."""
        table = getattr(self, name)
        starts = getattr(table, first)
        width = getattr(table, columns[0]).shape[1]
        rows = np.arange(len(starts))[:, None]
        order = (starts[:, None] + np.arange(width)[None, :]) % width
        for column in columns:
            values = getattr(table, column)
            values[:] = values[rows, order]
        starts[:] = 0

    def add_officers(self, n: int) -> range:
        """``n`` new rows in the officers table; their numbers."""
        first = self.n_officers
        self.n_officers = self._add_row("officers", first, n)
        return range(first, self.n_officers)

    def add_patrol(self) -> int:
        """A new row in the patrols table; its number."""
        row = self.n_patrols = self._add_row("patrols", self.n_patrols)
        return row - 1

    def _add_row(self, name: str, used: int, n: int = 1) -> int:
        """Room for ``n`` more rows in a table of ``used`` rows (doubled until they fit); the rows then used."""
        table = getattr(self, name)
        if used + n > len(table.active):
            rows = len(table.active)
            while used + n > rows:
                rows *= 2
            setattr(self, name, grown(table, name, rows=rows))
            self.version += 1
        return used + n


class Column:
    """An agent's attribute kept in a table of the run's state (a view, not a copy).

    ``stock_g = Column("orgs")`` on an agent class makes ``agent.stock_g`` read and write
    ``agent.model.state.orgs.stock_g[agent.row]``; ``row`` is the agent's row (a tuple for
    a two-dimensional table such as a post's sides).
    """

    def __init__(self, table: str, column: str | None = None) -> None:
        self.table, self.column = table, column

    def __set_name__(self, owner, name: str) -> None:
        self.column = self.column or name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(getattr(agent.model.state, self.table), self.column).item(agent.row)

    def __set__(self, agent, value) -> None:
        getattr(getattr(agent.model.state, self.table), self.column)[agent.row] = value
