"""The daily series: what the model keeps at the end of each day (Mesa's DataCollector).

Cumulative figures since day 0, read from the ledger: kilos entered, seized, delivered
and in transit; shipments, seizures and bribes so far; couriers on the road; and the kilos
entering Kazakhstan by each southern border and crossing into Russia
(:data:`sim.model.outcomes.FLOW_SERIES`), from which periods and displacement are read
(:func:`sim.model.outcomes.period_outcomes`). One compiled function,
:func:`day_figures`, makes a day's row for both engines; :class:`DailySeries` is the
model's ``datacollector``.
"""

from __future__ import annotations

from collections import namedtuple

import mesa
import numba
import numpy as np

from sim.model.ledger import BRIBES, BRIBES_USD, DELIVERED_G, ENTERED_G, SEIZED_G, SEIZURES, SHIPMENTS
from sim.model.outcomes import FLOW_SERIES

#: The daily series, in the order of a day's row.
DAILY_SERIES = ("kg_entered", "kg_seized", "kg_delivered", "kg_in_transit", "shipments", "seizures", "bribes_usd",
                "bribes", "couriers_on_road", *FLOW_SERIES)
#: Series that count things (whole numbers in the daily table).
COUNT_SERIES = ("shipments", "seizures", "bribes", "couriers_on_road")
FIRST_FLOW = DAILY_SERIES.index(FLOW_SERIES[0])

#: The links behind the flow series: from-node, to-node, and which series (0 = the first flow series).
FlowLinks = namedtuple("FlowLinks", ["link_from", "link_to", "link_series"])


def flow_links(edges: dict[str, tuple[np.ndarray, np.ndarray]]) -> FlowLinks:
    """The links of :func:`sim.model.outcomes.flow_edges` as one table."""
    parts = [(np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64), np.full(len(u), k, dtype=np.int64))
             for k, (u, v) in enumerate(edges[name] for name in FLOW_SERIES)]
    return FlowLinks(*(np.concatenate([p[i] for p in parts]) for i in range(3)))


@numba.njit(cache=True)
def day_figures(books, couriers_on_road, links, out):
    """The day's row of :data:`DAILY_SERIES`, into ``out`` (``books``: the ledger's, ``links``: a
    :data:`FlowLinks`; the fast engine passes its World for both)."""
    counts = books.counts
    out[0] = counts[ENTERED_G] / 1000.0
    out[1] = counts[SEIZED_G] / 1000.0
    out[2] = counts[DELIVERED_G] / 1000.0
    out[3] = (counts[ENTERED_G] - counts[SEIZED_G] - counts[DELIVERED_G]) / 1000.0
    out[4] = counts[SHIPMENTS]
    out[5] = counts[SEIZURES]
    out[6] = books.sums[BRIBES_USD]
    out[7] = counts[BRIBES]
    out[8] = couriers_on_road
    grams = np.zeros(len(out) - FIRST_FLOW, dtype=np.int64)
    for k in range(len(links.link_series)):
        grams[links.link_series[k]] += books.edge_flow[links.link_from[k], links.link_to[k]]
    for s in range(len(grams)):
        out[FIRST_FLOW + s] = grams[s] / 1000.0


class DailySeries(mesa.DataCollector):
    """The model's data collector: one row of :data:`DAILY_SERIES` a day (``get_model_vars_dataframe()``).

    Each day's row is made by :func:`day_figures` (in the fast engine, inside its compiled
    day) and kept in ``model_vars``, as Mesa's collector keeps its reporters' values.
    """

    def __init__(self) -> None:
        super().__init__(model_reporters={name: (lambda m, i=i: m.today[i]) for i, name in enumerate(DAILY_SERIES)})
        self._counts = tuple(name in COUNT_SERIES for name in DAILY_SERIES)

    def collect(self, model) -> None:
        if hasattr(self, "_collection_steps"):          # as Mesa's own collect keeps them (batch_run reads them)
            self._collection_steps.append(model.time)
        for name, is_count, value in zip(DAILY_SERIES, self._counts, model.today.tolist()):
            self.model_vars[name].append(int(value) if is_count else value)
