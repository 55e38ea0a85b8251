"""Officers and equipment added at posts (``world.deployment``): the crew a post then has.

An allocation of money (``python -m sim optimise``, docs/optimisation.md) buys officers
and inspection methods for the posts' own crews. The model reads them here, where a post's
crew is made (:meth:`sim.model.NorthernRouteModel._refresh_post`): the post's own (Kazakh)
crew gets ``officers_added`` more staff, so more inspection capacity against the same
licit traffic, and the methods of ``equipment_added``, so a better chance to find a load
it inspects. Costs: :mod:`sim.optimise.costs`.
"""

from __future__ import annotations

from sim.params import InspectionProfile, Node, World


def deployed(world: World, node: Node, profile: InspectionProfile) -> InspectionProfile:
    """The post's own crew profile with the officers and methods added there."""
    dep = world.deployment
    officers = dep.officers_added.get(node.id, 0)
    methods = tuple(m for m in dep.equipment_added.get(node.id, ()) if m not in profile.methods)
    if not officers and not methods:
        return profile
    return profile.model_copy(update={"staff": profile.staff + officers, "methods": profile.methods + methods})
