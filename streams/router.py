"""Router: which institutions receive an audit entry, and what each may see of it.

Each institution's feed ``kawal.outbound.<inst>`` carries the entries of the cases it is party
to whose event type its role consumes (schema attribute ``kawal.consumed_by``), with only the
disclosures its role is entitled to (:mod:`streams.redaction`). The recommending authority
receives the cases of its period (:mod:`streams.authority`), so KASN keeps its cases and BKN
receives the later ones. The parties of a case (:mod:`streams.parties`) are those its
lifecycle names: the authority, reporter, employing agency and region of its report.
"""

from __future__ import annotations

from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.institutions import Institution
from streams.lifecycle import CaseLifecycle
from streams.parties import CaseParties, recipients
from streams.redaction import disclosures_for
from streams.topics import outbound_topic

#: Distinct (parties, event type) pairs whose recipients are remembered.
RECIPIENTS_CACHED = 10_000


def parties_of(case: CaseLifecycle) -> CaseParties:
    """The parties of a case, as its lifecycle records them."""
    return CaseParties(
        authority=case.authority,
        reporter=case.reporter,
        employing_agency=case.employing_agency,
        region_code=case.region_code,
    )


class Router:
    """Addresses entries to the registered institutions."""

    def __init__(
        self, catalog: SchemaCatalog, codec: AvroCodec, institutions: tuple[Institution, ...]
    ) -> None:
        """Route by ``catalog``'s consumers to ``institutions``, encoding with ``codec``."""
        self._catalog = catalog
        self._codec = codec
        self._institutions = institutions
        # Cases share a handful of party combinations, and the registry does not change
        # while the worker runs, so who receives what is worked out once per combination.
        self._recipients: dict[tuple[CaseParties, str], list[tuple[str, frozenset[str]]]] = {}

    def feeds(
        self, entry: dict[str, Any], encoded: bytes, case: CaseLifecycle
    ) -> list[tuple[str, bytes]]:
        """``(outbound topic, encoded entry)`` for every institution entitled to ``entry``.

        ``encoded`` is the whole entry encoded, the view of a recipient entitled to every
        disclosure.
        """
        # Recipients share a handful of views: encode each distinct view once.
        views = {tuple(item["field"] for item in entry["disclosures"]): encoded}
        routed = []
        for topic, roles in self.recipients(parties_of(case), entry["event_type"]):
            disclosures = disclosures_for(entry["disclosures"], roles)
            view = tuple(item["field"] for item in disclosures)
            if view not in views:
                feed = entry | {"disclosures": disclosures}
                views[view] = self._codec.encode("kawal.AuditEntry", feed, checked=False)
            routed.append((topic, views[view]))
        return routed

    def recipients(self, parties: CaseParties, event_type: str) -> list[tuple[str, frozenset[str]]]:
        """The outbound topic of each institution receiving ``event_type``, with its roles."""
        found = self._recipients.get((parties, event_type))
        if found is None:
            found = [
                (outbound_topic(institution.id), roles)
                for institution, roles in recipients(
                    self._catalog, self._institutions, parties, event_type
                )
            ]
            if len(self._recipients) < RECIPIENTS_CACHED:
                self._recipients[parties, event_type] = found
        return found
