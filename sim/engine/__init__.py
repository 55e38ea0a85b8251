"""Engines that move couriers along their routes: ``reference`` and ``fast``.

- ``reference`` (:class:`sim.model.arrivals.Arrivals`): every hop is a Python event; each
  courier's :meth:`sim.model.agents.Courier.arrive` meets the node with its own draws. The
  readable path, kept to test the fast engine against.
- ``fast`` (:class:`sim.engine.transit.FastArrivals`): a compiled kernel moves couriers
  through quiet nodes and hands every hop where something happens to the same rules
  (:meth:`sim.model.agents.Courier.meet`). Statistically the same model (tests/test_engine*.py,
  scripts/engine_equivalence.py); its random streams differ.

The engine is chosen by the scenario's ``transit`` key (``scenarios/config.yaml``; not to be
confused with the sweep engine, which says where runs execute).
"""

from __future__ import annotations

ENGINES = ("fast", "reference")


def make_arrivals(transit: str, seed: int, keep_events: bool):
    """The queue of couriers on the road for the ``transit`` engine."""
    if transit == "reference":
        from sim.model.arrivals import Arrivals
        return Arrivals()
    from sim.engine.transit import FastArrivals
    return FastArrivals(seed, keep_passes=keep_events)
