"""What the compiled engine sees of a run: one handle on all its arrays (a numba structref).

The kernel's functions take one argument, the :class:`World`: every array of the run's
state tables (:mod:`sim.model.state`: ``org_stock_g`` is ``state.orgs.stock_g``,
``side_capacity`` is ``state.sides.capacity``, ...), of the ledger's books and the route
book (under their own names, so that the compiled primitives that read a ``Books`` or a
``RouteArrays`` read a World the same way), of the couriers on the road, the random
streams, the officers' deterrence, the rules in force as numbers and the day's figures.

Why a flat structref: a structref passes to compiled code as one pointer, and reading
one of its arrays costs one reference count; a named tuple of arrays costs one for each
of its arrays at every call and every read, which made a hop of the kernel cost
microseconds. The arrays are the model's own (no copy): what the kernel writes, the
agents read. When the model replaces an array (a table grown, a menu added),
:meth:`sim.engine.engine.FastEngine.handle` makes a new World.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref
from numba.extending import intrinsic

from sim.model.ledger import Books
from sim.model.routing import RouteArrays
from sim.model.state import TABLES

#: each state table's prefix in the World (``orgs.stock_g`` -> ``org_stock_g``)
TABLE_PREFIX = {"orgs": "org", "posts": "post", "sides": "side", "watchers": "watcher", "officers": "officer",
                "patrols": "patrol"}
#: the couriers on the road (:class:`sim.engine.kernel.Transit`)
TRANSIT_FIELDS = ("heap_time", "heap_seq", "heap_slot", "slot_route", "slot_leg", "slot_departure", "slot_grams",
                  "slot_org", "slot_conveyance", "slot_nationality", "slot_shipment", "slot_controlled", "slot_when",
                  "slot_seq", "slot_next", "slot_used", "free", "bucket_head", "progress")
#: everything else: the random streams, deterrence, the rules in force, the daily figures
OTHER_FIELDS = ("seed", "keys", "counters", "cases", "ring", "integrity", "rules", "prior_losses", "prior_passages",
                "load_sizes", "link_from", "link_to", "link_series", "today", "patrols_at", "n_patrols_at",
                "chances", "post_chances")
#: The fields of a World, in order.
FIELDS = (tuple(f"{TABLE_PREFIX[t]}_{c}" for t in TABLE_PREFIX for c in TABLES[t]) + Books._fields
          + RouteArrays._fields + TRANSIT_FIELDS + OTHER_FIELDS)


@structref.register
class WorldType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class World(structref.StructRefProxy):
    """The compiled engine's handle on a run's arrays (made by :func:`new_world`)."""


structref.define_boxing(WorldType, World)


def fields_of(state, books, routes, transit, others: dict) -> dict:
    """A World's values by field name, from the model's tables and the engine's own arrays."""
    values = {f"{prefix}_{col}": getattr(getattr(state, table), col)
              for table, prefix in TABLE_PREFIX.items() for col in TABLES[table]}
    values.update(books._asdict())
    values.update(routes._asdict())
    values.update(transit._asdict())
    values.update(others)
    return values


def _world_type() -> WorldType:
    """The type of every World: its fields' types are fixed by the tables' dtypes, so every
    process compiles (and finds in numba's cache) the same kernel."""
    from sim.engine.kernel import Transit
    from sim.model.corruption import Integrity
    from sim.model.daily import DAILY_SERIES
    from sim.model.ledger import Ledger
    from sim.model.routing import RouteBook
    from sim.model.state import RunState

    integrity, i8, f8 = Integrity(0.0, 0.0, 1), np.zeros(1, dtype=np.int64), np.zeros(1)
    transit = Transit(*(f8 if name in ("heap_time", "slot_departure", "slot_when") else np.zeros(1, dtype=np.bool_)
                        if name in ("slot_controlled", "slot_used") else i8 for name in Transit._fields))
    others = {"seed": np.uint64(0), "keys": np.zeros(1, dtype=np.uint64), "counters": i8, "cases": integrity.cases,
              "ring": integrity.ring, "integrity": integrity.rules, "rules": f8, "prior_losses": f8,
              "prior_passages": f8, "load_sizes": np.zeros((5, 2)), "link_from": i8, "link_to": i8, "link_series": i8,
              "today": np.zeros(len(DAILY_SERIES)), "patrols_at": np.zeros((2, 1), dtype=np.int64), "n_patrols_at": i8,
              "chances": f8, "post_chances": f8}
    values = fields_of(RunState(2, 5, 1, 1, 1), Ledger(("a", "b"), 5).books, RouteBook().arrays, transit, others)
    return WorldType([(name, numba.typeof(values[name])) for name in FIELDS])


@intrinsic
def _fill(typingctx, world, values):
    """Set every field of a new World from a tuple of values in field order."""
    def codegen(context, builder, signature, args):
        world_type, values_type = signature.args
        instance, tup = args
        data = structref._Utils(context, builder, world_type).get_data_struct(instance)
        for i, (name, field_type) in enumerate(world_type.field_dict.items()):
            value = context.cast(builder, builder.extract_value(tup, i), values_type[i], field_type)
            context.nrt.incref(builder, field_type, value)
            setattr(data, name, value)
        return context.get_dummy_value()
    return types.none(world, values), codegen


WORLD_TYPE = _world_type()


@numba.njit(cache=True)
def _new(values):
    world = structref.new(WORLD_TYPE)
    _fill(world, values)
    return world


def new_world(values: dict) -> World:
    """A handle on the arrays ``values`` (one per name of :data:`FIELDS`)."""
    return _new(tuple(values[name] for name in FIELDS))
