"""One vocabulary for what happens to a load: shared by the agents, the ledger and the outputs.

A load is dispatched; at each node it passes unseen, passes a post that its organisation
pays (protected), is inspected and cleared, buys its way through (bribed) or is seized;
at its market it is delivered. The values are the strings written to the event log and
the shipment table (``outcome``), so files keep their names.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    DISPATCHED = "dispatched"
    PASSED = "passed"
    PROTECTED = "protected"
    CLEARED = "inspected_cleared"
    BRIBED = "bribed"
    SEIZED = "seized"
    DELIVERED = "delivered"
    IN_TRANSIT = "in_transit"


EVENT_CODES = tuple(o.value for o in Outcome if o is not Outcome.IN_TRANSIT)


#: Every outcome, in the order of their codes (the compiled books store codes).
OUTCOMES = tuple(Outcome)
#: Outcome -> its code.
OUTCOME_CODE = {o: i for i, o in enumerate(OUTCOMES)}
