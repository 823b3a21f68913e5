"""When each case's personal data is due to be erased, read from its trail (``kawal retention``).

A data protection officer must be able to say when the hub erases each case's personal data.
The retention timer decides from the case table; this module answers the same question from the
audit store, from the same moments the lifecycle records: the ReportReceived's and the latest
CaseClosed's event time, and the PersonalDataErased's ``erased_at``. It reads only the entries
of those three types and never a personal-data value; an entry that no longer decodes is left
out, as the projections leave it out (``kawal audit verify`` checks the trails).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schemas.codec import AvroCodec, CodecError
from streams.audit.store import AuditStore
from streams.domain.erasure import ERASURE_EVENT
from streams.domain.retention import RetentionRule, next_due

#: The entries whose moments the retention rules start from, and the erasure.
MOMENT_EVENTS = ("ReportReceived", "CaseClosed", ERASURE_EVENT)


@dataclass(frozen=True)
class RetentionStatus:
    """One case's moments, and when and by which rule its personal data is to be erased."""

    case_id: str
    reported_at: datetime | None
    closed_at: datetime | None
    erased_at: datetime | None
    #: The rule that will erase it, and when; None while no rule can start (or once erased).
    rule: RetentionRule | None
    due_at: datetime | None
    #: Once erased: the id of the rule whose period ended, or None for ``kawal erase``.
    erased_by_rule: str | None = None
    #: When the vault destroyed the case's data key, if it did while its trail records no
    #: erasure: an erasure stopped before its event was published (``kawal erase``, exit 8).
    key_destroyed_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The status as JSON (``kawal retention --json``)."""

        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "case_id": self.case_id,
            "reported_at": moment(self.reported_at),
            "closed_at": moment(self.closed_at),
            "erased_at": moment(self.erased_at),
            "rule": self.erased_by_rule if self.rule is None else self.rule.id,
            "due_at": moment(self.due_at),
            "erased_by": self._eraser(),
            "key_destroyed_at": moment(self.key_destroyed_at),
        }

    def _eraser(self) -> str | None:
        """``rule`` or ``command`` once erased (by the retention timer, by ``kawal erase``)."""
        if self.erased_at is None:
            return None
        return "command" if self.erased_by_rule is None else "rule"

    def describe(self, rules: Sequence[RetentionRule]) -> str:
        """The status in words, for the text listing; ``rules`` are the rules in force."""
        if self.erased_at is not None:
            by = "kawal erase" if self.erased_by_rule is None else f"rule {self.erased_by_rule}"
            return f"erased {self.erased_at.isoformat()} by {by}"
        if self.key_destroyed_at is not None:
            return (
                "erasure unfinished: its data key was destroyed "
                f"{self.key_destroyed_at.isoformat()} but no PersonalDataErased is recorded; run "
                f"`kawal erase {self.case_id} --reason ...` again while the hub runs, to record it"
            )
        if self.rule is None or self.due_at is None:
            starts = " or ".join(sorted({rule.after for rule in rules})) or "(no rule in force)"
            return f"not due: no retention rule has started (they start when a case is {starts})"
        return (
            f"erase due {self.due_at.isoformat()} by rule {self.rule.id} "
            f"({self.rule.period} after {self.rule.after})"
        )


def retention_statuses(
    store: AuditStore,
    codec: AvroCodec,
    rules: Sequence[RetentionRule],
    case_ids: Collection[str] | None = None,
) -> list[RetentionStatus]:
    """Every case's retention status (of ``case_ids`` only, if given), soonest due first.

    Erased cases come last, then the cases no rule applies to yet, each group by case id.
    """
    moments: dict[str, dict[str, datetime | None]] = {}
    erasers: dict[str, str | None] = {}
    for case_id, event in store.events_of_types(MOMENT_EVENTS):
        if case_ids is not None and case_id not in case_ids:
            continue
        try:
            decoded = codec.decode(event)
        except CodecError:
            continue
        event_type = decoded.full_name.rsplit(".", 1)[-1]
        _note(moments.setdefault(case_id, {}), event_type, decoded.record)
        if event_type == ERASURE_EVENT:
            erasers[case_id] = decoded.record["retention_rule"]
    statuses = [
        replace(_status(case_id, found, rules), erased_by_rule=erasers.get(case_id))
        for case_id, found in moments.items()
    ]
    return sorted(statuses, key=_order)


def _note(found: dict[str, datetime | None], event_type: str, record: dict[str, Any]) -> None:
    """Keep what ``record`` says of its case's moments, as the lifecycle keeps them."""
    if event_type == ERASURE_EVENT:
        found["erased"] = record["erased_at"]
    elif event_type == "ReportReceived":
        # The case starts with its first report; a later one does not move its start.
        found.setdefault("reported", record["envelope"]["event_time"])
    else:
        found["closed"] = record["envelope"]["event_time"]


def _status(
    case_id: str, found: dict[str, datetime | None], rules: Sequence[RetentionRule]
) -> RetentionStatus:
    erased = found.get("erased")
    due = None if erased is not None else next_due(rules, found)
    return RetentionStatus(
        case_id=case_id,
        reported_at=found.get("reported"),
        closed_at=found.get("closed"),
        erased_at=erased,
        rule=None if due is None else due[0],
        due_at=None if due is None else due[1],
    )


def _order(status: RetentionStatus) -> tuple[int, str, str]:
    if status.erased_at is not None:
        return (2, "", status.case_id)
    if status.due_at is None:
        return (1, "", status.case_id)
    return (0, status.due_at.isoformat(), status.case_id)
