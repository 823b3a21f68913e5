"""Rejection receipts on an institution's feed: the hub refused one of its events.

Inbound connectors publish and move on; the hub answers every record on the sender's own feed.
An outbound connector reading that feed meets the REJECTED receipts among the entries. It
checks the hub's signature on each (a receipt nobody signed could report a refusal that never
happened), tells the institution's operators (a WARNING naming the event, its case and the
reason, and ``kawal_connector_hub_refusals_total``) and hands it to the connector's
:meth:`connectors.base.OutboundConnector.refused`, so the system can be told as well. A receipt
holds no personal data: the hub's reasons never quote a value of the event.

A ``duplicate_event`` receipt for one of the institution's events is no refusal
(:attr:`HubRefusal.already_held`): the hub holds that event already, and answered a copy sent
again (``--reread-after``, a restart before the checkpoint). The runtime logs it at INFO and
counts it in ``kawal_connector_already_held_total``; the connector's ``refused`` never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.domain.entries import EntryProblem
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.reasons import Reason
from streams.domain.receipt_statement import rejection_statement_of
from streams.domain.signing import Context, verify


@dataclass(frozen=True)
class HubRefusal:
    """A record of the institution's that the hub refused, as its signed receipt says."""

    #: The refused event's ids and type; None when the record could not be read as an event.
    event_id: str | None
    case_id: str | None
    event_type: str | None
    reason_code: str
    #: What to fix, in the hub's words.
    reason: str
    #: ``topic:partition:offset`` of the refused record on the inbound topic.
    source: str
    issued_at: datetime

    @property
    def already_held(self) -> bool:
        """The hub holds this event already: a copy sent again, answered ``duplicate_event``.

        Event ids derive from the system's records (:func:`connectors.ids.event_id_for`), so a
        record read again yields the event the hub accepted before; the original stands.
        """
        return self.reason_code == Reason.DUPLICATE.value and self.event_id is not None


def believed_refusal(
    keys: KeyRegistry, receipt: dict[str, Any]
) -> HubRefusal | EntryProblem | None:
    """The refusal a ``kawal.Receipt`` reports, if the hub signed it; None for an acceptance.

    Returns:
        The refusal; an :class:`EntryProblem` if the hub's signature does not hold.
    """
    if receipt["status"] != "REJECTED":
        return None
    hub = keys.key_for(HUB_INSTITUTION, receipt["hub_key_id"], receipt["issued_at"])
    if isinstance(hub, KeyRefusal):
        return EntryProblem("hub_" + hub.problem.value, hub.detail)
    statement = rejection_statement_of(receipt)
    if statement is None or not verify(
        hub.public_key, Context.REJECTION, statement, receipt["hub_signature"]
    ):
        return EntryProblem("hub_signature_invalid", "the hub did not sign this receipt")
    return HubRefusal(
        event_id=receipt["event_id"],
        case_id=receipt["case_id"],
        event_type=receipt["event_type"],
        reason_code=str(receipt["reason_code"]),
        reason=str(receipt["reason"]),
        source=f"{receipt['source_topic']}:{receipt['source_partition']}:{receipt['source_offset']}",
        issued_at=receipt["issued_at"],
    )
