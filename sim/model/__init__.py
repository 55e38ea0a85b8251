"""The Northern Route model (Mesa 3): the network, the agents and their rules, the schedule.

One module per concept of the model's description:

- :mod:`~sim.model.model`: :class:`NorthernRouteModel`, its set-up from the parameters
  and its day (the schedule);
- :mod:`~sim.model.agents`: the trafficking organisations, couriers, posts and their
  crews, officers and mobile patrols, and their rules in the order a load meets them;
- :mod:`~sim.model.network` and :mod:`~sim.model.routing`: the route network and the
  routes organisations weigh; :mod:`~sim.model.beliefs`: what they believe of the risk;
- :mod:`~sim.model.inspection`, :mod:`~sim.model.corruption`, :mod:`~sim.model.economics`:
  the rules of inspection, bribery and money, as pure functions;
- :mod:`~sim.model.policies`, :mod:`~sim.model.deployment`, :mod:`~sim.model.adaptation`:
  what the policies in force, the officers and equipment added, and agencies that adapt
  change;
- :mod:`~sim.model.arrivals`: the queue of couriers on the road; :mod:`~sim.model.ledger`
  and :mod:`~sim.model.states`: the bookkeeping of every gram and its vocabulary;
  :mod:`~sim.model.outcomes`: what a run measured.

The compiled engine that moves couriers fast is :mod:`sim.engine`; running, writing and
comparing runs live outside this package (:mod:`sim.run`, :mod:`sim.outputs`, ...).
"""

from sim.model.model import NorthernRouteModel

__all__ = ["NorthernRouteModel"]
