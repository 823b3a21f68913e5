"""Each case's lifecycle read back from the audit store, as the hub's case table holds it.

The readers that have no case table (the command line) fold every stored entry of a case, in
trail order, through the same step ingress applies to an event it accepts
(:func:`streams.domain.case_state.next_state`), with the entry's ``recorded_at`` as the moment
the hub received it. The store holds only accepted events, so no check is repeated. An entry
whose bytes no longer decode, or a trail that does not start with its report, leaves its case
out and is counted: ``kawal audit verify`` says what is wrong with it.

The fold applies today's rules and registry: the supervisor of a case the hub opened before it
kept one is chosen as the hub would choose it now (:func:`streams.domain.parties.supervisor_of`),
while a clock whose breach was recorded names the institution that breach named.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from schemas.codec import AvroCodec, CodecError
from streams.audit.tables import AuditRow
from streams.domain.authority import AuthorityMap, AuthorityMapError
from streams.domain.calendar import WorkingCalendar
from streams.domain.case_state import acting_authority, next_state
from streams.domain.deadlines import DeadlineRule
from streams.domain.lifecycle import CaseLifecycle


@dataclass
class LifecycleReader:
    """Folds stored trails into lifecycles; :attr:`unreadable` counts the cases left out."""

    codec: AvroCodec
    authorities: AuthorityMap
    deadline_rules: dict[str, DeadlineRule]
    calendar: WorkingCalendar
    #: The registered institutions' ids: which Bawaslu office answers for a report.
    registered: Collection[str]
    unreadable: list[str] = field(default_factory=list)

    def lifecycles(self, entries: Iterable[AuditRow]) -> Iterator[tuple[str, CaseLifecycle]]:
        """``(case_id, lifecycle)`` of each readable case of ``entries`` (ordered by case, seq)."""
        for case_id, trail in groupby(entries, key=lambda row: row.case_id):
            case = self._folded(trail)
            if case is None:
                self.unreadable.append(case_id)
            else:
                yield case_id, case

    def _folded(self, trail: Iterable[AuditRow]) -> CaseLifecycle | None:
        case: CaseLifecycle | None = None
        for row in trail:
            if case is None and row.event_type != "ReportReceived":
                return None
            try:
                case = self._step(case, row)
            except (CodecError, AuthorityMapError, KeyError, TypeError, ValueError):
                # An entry edited outside the hub: its trail is for `kawal audit verify`.
                return None
        return case

    def _step(self, case: CaseLifecycle | None, row: AuditRow) -> CaseLifecycle:
        record = self.codec.decode(row.event).record
        authority = acting_authority(self.authorities, case, record["envelope"]["event_time"])
        return next_state(
            case,
            record,
            authority,
            self.deadline_rules,
            self.calendar,
            row.recorded_at,
            registered=self.registered,
        )
