"""The fast engine: the model's day compiled (numba), over the same state as the agents.

``transit: fast`` (the default, ``scenarios/config.yaml``) runs each day's supply,
planning, patrols and couriers in compiled code (:mod:`sim.engine.kernel`, the compiled
twin of :mod:`sim.model.agents`'s rules), handed the run's arrays through one handle
(:mod:`sim.engine.world`) by :class:`~sim.engine.engine.FastEngine`. ``transit:
reference`` runs the agents' own methods, one Python call per hop. Both draw the same
random numbers in the same order and give the same run (``tests/test_engine.py``).

The engine is chosen by the scenario's ``transit`` key (not to be confused with the sweep
engine, which says where runs execute).
"""

from __future__ import annotations

ENGINES = ("fast", "reference")

from sim.engine.engine import FastEngine  # noqa: E402

__all__ = ["ENGINES", "FastEngine"]
