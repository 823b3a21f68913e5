"""Router: which institutions receive an audit entry, and what each may see of it.

Each institution's feed ``kawal.outbound.<inst>`` carries the entries of the cases it is party
to whose event type its role consumes (schema attribute ``kawal.consumed_by``), with only the
disclosures the disclosure policy lets its roles see for that event type
(:mod:`streams.domain.disclosure_policy`), sealed to it (:mod:`streams.hub.feed_sealing`). The
recommending authority
receives the cases it holds (:mod:`streams.domain.authority`): KASN its cases until its
dissolution, BKN every case after, KASN's pending ones handed over with their next event.
The parties of a case (:mod:`streams.domain.parties`) are those its
lifecycle names: the authority, reporter, employing agency and region of its report, and the
ministries once one of its deadlines was breached.
"""

from __future__ import annotations

from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.domain.disclosure_policy import DisclosurePolicy
from streams.domain.institutions import Institution
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.parties import (
    CaseParties,
    parties_of_case,
    recipients,
    unregistered_parties,
)
from streams.hub.feed_sealing import FeedSealer
from streams.topics import outbound_topic

#: Distinct (parties, event type) pairs, and (roles, event type, fields), remembered.
RECIPIENTS_CACHED = 10_000
#: An institution receiving an entry: its id, outbound topic and roles in the case.
Recipient = tuple[str, str, frozenset[str]]


class Router:
    """Addresses entries to the registered institutions."""

    def __init__(
        self,
        catalog: SchemaCatalog,
        codec: AvroCodec,
        institutions: tuple[Institution, ...],
        policy: DisclosurePolicy,
        sealer: FeedSealer,
    ) -> None:
        """Route by ``catalog``'s consumers to ``institutions``, disclosing what ``policy`` allows.

        Each recipient's share is sealed to it by ``sealer``; entries are encoded with ``codec``.
        """
        self._catalog = catalog
        self._codec = codec
        self._institutions = institutions
        self._policy = policy
        self._sealer = sealer
        # Cases share a handful of party combinations, and the registry does not change
        # while the worker runs, so who receives what, and which disclosures a set of roles
        # sees, are worked out once per combination.
        self._recipients: dict[tuple[CaseParties, str], list[Recipient]] = {}
        self._visible: dict[tuple[frozenset[str], str, tuple[str, ...]], tuple[str, ...]] = {}
        self._registered = frozenset(institution.id for institution in institutions)
        self._unrouted: dict[tuple[CaseParties, str], list[tuple[str, str]]] = {}

    def feeds(self, entry: dict[str, Any], case: CaseLifecycle) -> list[tuple[str, bytes]]:
        """``(outbound topic, encoded entry)`` for every institution entitled to ``entry``.

        ``entry`` holds its disclosures in clear; each recipient's view holds its share sealed.
        """
        disclosures = entry["disclosures"]
        fields = tuple(item["field"] for item in disclosures)
        # Recipients who see no disclosure share one view, encoded once.
        bare: bytes | None = None
        routed = []
        for institution, topic, roles in self.recipients(case, entry["event_type"]):
            visible = self.visible(roles, entry["event_type"], fields)
            if not visible and bare is not None:
                routed.append((topic, bare))
                continue
            shown = [item for item in disclosures if item["field"] in visible]
            feed = self._sealer.sealed_view(entry, institution, shown)
            view = self._codec.encode("kawal.AuditEntry", feed, checked=False)
            if not visible:
                bare = view
            routed.append((topic, view))
        return routed

    def recipients(self, case: CaseLifecycle, event_type: str) -> list[Recipient]:
        """Each institution receiving ``event_type``: its id, outbound topic and roles."""
        parties = parties_of_case(case)
        key = (parties, event_type)
        found = self._recipients.get(key)
        if found is None:
            found = [
                (institution.id, outbound_topic(institution.id), roles)
                for institution, roles in recipients(
                    self._catalog, self._institutions, parties, event_type
                )
            ]
            if len(self._recipients) < RECIPIENTS_CACHED:
                self._recipients[key] = found
        return found

    def unrouted(self, case: CaseLifecycle, event_type: str) -> list[tuple[str, str]]:
        """``(role, institution id)`` of each party entitled to ``event_type`` not registered.

        Such an entry reaches nobody in that role: the caller makes it seen
        (:mod:`streams.hub.unrouted_parties`).
        """
        parties = parties_of_case(case)
        key = (parties, event_type)
        found = self._unrouted.get(key)
        if found is None:
            found = unregistered_parties(self._catalog, self._registered, parties, event_type)
            if len(self._unrouted) < RECIPIENTS_CACHED:
                self._unrouted[key] = found
        return found

    def visible(
        self, roles: frozenset[str], event_type: str, fields: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Which disclosed ``fields`` of an ``event_type`` an institution in ``roles`` sees."""
        key = (roles, event_type, fields)
        found = self._visible.get(key)
        if found is None:
            found = self._policy.visible(roles, event_type, fields)
            if len(self._visible) < RECIPIENTS_CACHED:
                self._visible[key] = found
        return found
