"""The PPK's feed → its decree registry, the ``ppk-inbox`` connector.

The hub carries to the PPK (the employing agency) the entries of its civil servants' cases
that its role consumes, and answers each event the PPK sends with a receipt on the same feed,
``kawal.outbound.<ppk>``. This connector writes two things of it into the registry
(:mod:`connectors.ppk.database`):

* **Recommendations to act on.** Each ``RecommendationIssued`` goes into the office's in-tray,
  ``recommendations``: the hub's case id, which the decree that follows it up names (the
  ``case_id`` column of ``decrees``, read by ``ppk-decrees``), the civil servant it is about
  as the hub disclosed them to the PPK, in its feed or in the case's trail read at the hub
  with the PPK's token (:mod:`connectors.ppk.subjects`, kept per case in ``case_subjects``
  and filled in whichever comes first; the recommendation is written first, whatever the hub
  answers), whether the violation is proven,
  the recommended level and kind, and the working days the PPK has to follow it up, counted
  from ``recorded_at`` (when the hub recorded it, which starts the hub's clock), with the last
  of those working days (``follow_up_due_on``), counted as the hub counts its follow-up clock
  (:func:`streams.domain.deadlines.last_working_day`) on the working-day calendar the
  configuration names (``calendar_file``: the hub's ``KAWAL_CALENDAR_FILE``; none: the bundled
  one), so the office sees the date the hub breaches the deadline after.
* **Refusals of its decrees.** Each refusal the hub signed goes into ``hub_refusals``, tied to
  the decree whose ``SanctionImposed`` the hub refused (its event id derives from the decree
  number, :mod:`connectors.ppk.connector`), with the hub's reason code and reason, so the
  registry no longer shows the decree as merely signed. A refused record that matches no
  decree (another system of the PPK sent it, or the hub could not read it) is kept unmatched
  and logged as a WARNING. A ``duplicate_event`` refusal is no refusal of the decree: the hub
  holds the event already (``ppk-decrees`` published it again after a restart).

Every other entry needs nothing of the registry. Writes are idempotent: on the event id for
recommendations, on the case for its subject, on the refused record's position for refusals.
The subject's NIP and name are the only personal data written, and only as disclosed to the
PPK; a receipt holds none. A registry made before a column or table the inbox writes still
takes what it has room for, and the connector says once per run what to add.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import AnyHttpUrl, Field, model_validator
from sqlalchemy import Connection, Engine, select

from connectors.base import (
    ConnectorContext,
    FeedEntry,
    HubRefusal,
    OutboundConnector,
)
from connectors.errors import ConnectorConfigError
from connectors.ids import event_id_for
from connectors.ppk.connector import RegistryConfig
from connectors.ppk.database import (
    DECREES,
    HUB_REFUSALS,
    NEW,
    NOTHING_TO_IMPOSE,
    RECOMMENDATIONS,
    missing_ddl,
)
from connectors.ppk.subject_reads import SubjectReads
from connectors.ppk.subjects import disclosed_subject, keep_subject, subject_of
from connectors.ppk.trail_subjects import TrailSubjects
from connectors.ppk.writes import insert_of, writing
from streams.domain.calendar import CalendarError, WorkingCalendar, load_calendar
from streams.domain.deadlines import last_working_day
from streams.domain.reasons import Reason

#: The tables the inbox writes, named when the registry refuses a write.
TABLES = "recommendations, case_subjects and hub_refusals tables"
#: The column of the follow-up's last working day, which registries made before it lack.
DUE_ON = "follow_up_due_on"
#: The columns of the recommendation's subject, which registries made before them lack.
SUBJECT_COLUMNS = ("subject_nip", "subject_name")


class InboxConfig(RegistryConfig):
    """The PPK's decree registry, its calendar, and the hub whose trails name the subjects."""

    calendar_file: Path | None = None
    """The hub's working-day calendar overrides (its ``KAWAL_CALENDAR_FILE``); none: the
    bundled calendar, which the hub uses too unless it names a file."""
    hub_url: AnyHttpUrl | None = None
    """The hub's web address (``https://kawal.example.go.id``, ``http://127.0.0.1:6066``),
    where the subject of a case is read from its trail; none: only from the feed."""
    token_file: Path | None = None
    """The file holding the PPK's bearer token for ``hub_url`` (``kawal token issue <ppk>``),
    read at each read, so a token renewed in it needs no restart; required with ``hub_url``."""
    hub_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for the hub's answer to one trail read."""
    trail_retry_seconds: float = Field(default=60.0, gt=0)
    """Least seconds between two reads of the trails of the cases still without a subject."""

    @model_validator(mode="after")
    def _token_with_hub(self) -> InboxConfig:
        if (self.hub_url is None) != (self.token_file is None):
            raise ValueError(
                "hub_url and token_file go together: give both to read subjects from the "
                "hub's trail, or neither"
            )
        return self


class Inbox(OutboundConnector[InboxConfig]):
    """The PPK's feed → ``recommendations`` and ``hub_refusals``."""

    name = "ppk-inbox"

    def __init__(self, config: InboxConfig, context: ConnectorContext) -> None:
        """Reach the registry, and read the calendar due dates are counted on.

        Raises:
            ConnectorConfigError: ``calendar_file`` cannot be read or does not fit.
        """
        super().__init__(config, context)
        self.calendar = _calendar(config.calendar_file)
        self.engine = config.engine()
        self._reads = _subject_reads(self.name, config, self.engine, context)
        #: What the registry lacks of what the inbox writes (missing_ddl); None until asked.
        self._lacking: frozenset[str] | None = None

    def deliver(self, entry: FeedEntry) -> None:
        """Put a recommendation in the office's in-tray, keep a disclosed subject of its case.

        Other entries need nothing.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        if entry.event_type == "RecommendationIssued":
            self._take_recommendation(entry)
        subject = disclosed_subject(entry.event)
        with self._writing() as connection:
            subjects_kept = "case_subjects" not in self._lacks(connection)
            if subject is not None and subjects_kept:
                keep_subject(connection, entry.case_id, entry.event_id, subject)
        keys = self.context.keys
        if self._reads is not None and subjects_kept and keys is not None:
            self._reads.read_if_waiting(entry.case_id, keys)

    def catch_up(self) -> int:
        """Read the subjects of the cases still without one from the hub's trail, when due.

        Returns:
            How many cases still wait for their subject (0 without ``hub_url``).

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        keys = self.context.keys
        if self._reads is None or keys is None:
            return 0
        with self._writing() as connection:
            if "case_subjects" in self._lacks(connection):
                return 0
        return self._reads.catch_up(keys)

    def refused(self, refusal: HubRefusal) -> None:
        """Mark the decree the hub refused, or keep the refusal unmatched and warn.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        if refusal.reason_code == Reason.DUPLICATE.value:
            self.context.log.info(
                "%s: event %s is in the hub already; its decree stands", self.name, refusal.event_id
            )
            return
        with self._writing() as connection:
            decree_id = self._refused_decree(connection, refusal)
            connection.execute(
                insert_of(self.engine, HUB_REFUSALS)
                .values(
                    source=refusal.source,
                    decree_id=decree_id,
                    event_id=refusal.event_id,
                    event_type=refusal.event_type,
                    case_id=refusal.case_id,
                    reason_code=refusal.reason_code,
                    reason=refusal.reason,
                    refused_at=self._local(refusal.issued_at),
                )
                .on_conflict_do_nothing(index_elements=["source"])
            )
        if decree_id is None:
            self.context.log.warning(
                "%s: no decree of the registry is the %s %s the hub refused (case %s); kept in "
                "hub_refusals without a decree: check which system of the PPK sent it",
                self.name,
                refusal.event_type or "record",
                refusal.event_id or "(unreadable)",
                refusal.case_id or "(unknown)",
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def _take_recommendation(self, entry: FeedEntry) -> None:
        event = entry.event
        issued_at: datetime = event["envelope"]["event_time"]
        recorded_at: datetime = entry.entry["recorded_at"]
        row = {
            "event_id": entry.event_id,
            "case_id": entry.case_id,
            "authority": event["authority"],
            "proven": event["proven"],
            "violation": event["violation"],
            "sanction_level": event["sanction_level"],
            "sanction_kind": event["sanction_kind"],
            "follow_up_days": event["follow_up_days"],
            "issued_at": self._local(issued_at),
            "recorded_at": self._local(recorded_at),
            "status": NEW if event["proven"] else NOTHING_TO_IMPOSE,
        }
        with self._writing() as connection:
            lacking = self._lacks(connection)
            if f"{RECOMMENDATIONS.name}.{DUE_ON}" not in lacking:
                row[DUE_ON] = self._due_on(event, issued_at, recorded_at)
            if not lacking & {"case_subjects", *_qualified(SUBJECT_COLUMNS)}:
                row |= subject_of(connection, entry.case_id).as_columns()
            connection.execute(
                insert_of(self.engine, RECOMMENDATIONS)
                .values(row)
                # No target: (case_id, event_id) as the registry is made now, or the event
                # id alone in a registry made before.
                .on_conflict_do_nothing()
            )

    def _lacks(self, connection: Connection) -> frozenset[str]:
        """What the registry lacks of what the inbox writes, asked once per run.

        A registry made before a column or table still takes what it has room for (its
        recommendations without their due date or subject), and is told once what to add.
        """
        if self._lacking is None:
            missing = missing_ddl(connection)
            self._lacking = frozenset(missing)
            if missing:
                self.context.log.warning(
                    "%s: the decree registry lacks %s, so what the inbox writes goes without "
                    "them; add them (%s; connectors.ppk.database.upgrade does) and restart the "
                    "connector",
                    self.name,
                    ", ".join(sorted(missing)),
                    "; ".join(missing[name] for name in sorted(missing)),
                )
        return self._lacking

    def _due_on(
        self, event: dict[str, Any], issued_at: datetime, recorded_at: datetime
    ) -> date | None:
        """The last working day of the hub's follow-up clock; None when it starts none.

        The PPK answers for the clock, not the authority that sent the recommendation, so the
        hub starts it no earlier than it recorded the recommendation.
        """
        if not event["proven"]:
            return None
        return last_working_day(self.calendar, max(issued_at, recorded_at), event["follow_up_days"])

    def _refused_decree(self, connection: Connection, refusal: HubRefusal) -> int | None:
        """The id of the decree whose ``SanctionImposed`` is the refused event, if any."""
        if refusal.event_type != "SanctionImposed" or refusal.event_id is None:
            return None
        numbered = select(DECREES.c.id, DECREES.c.decree_number).where(
            DECREES.c.decree_number.is_not(None)
        )
        for decree_id, number in connection.execute(numbered):
            if event_id_for(self.institution, f"decree/{number}", "SanctionImposed") == (
                refusal.event_id
            ):
                return int(decree_id)
        return None

    def _local(self, moment: datetime) -> datetime:
        """``moment`` in the registry's zone: a column without one keeps the wall time given."""
        return moment.astimezone(self.config.zone)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction on the registry (:func:`connectors.ppk.writes.writing`)."""
        with writing(self.engine, TABLES) as connection:
            yield connection


def _qualified(columns: tuple[str, ...]) -> set[str]:
    """``columns`` of ``recommendations`` as :func:`missing_ddl` names them."""
    return {f"{RECOMMENDATIONS.name}.{column}" for column in columns}


def _subject_reads(
    name: str, config: InboxConfig, engine: Engine, context: ConnectorContext
) -> SubjectReads | None:
    """The trail reads of ``config``'s hub; None without ``hub_url``."""
    if config.hub_url is None or config.token_file is None:
        return None
    reader = TrailSubjects(
        config.hub_url, config.token_file, config.hub_timeout_seconds, config.institution
    )
    return SubjectReads(
        reader, engine, context.codec, context.log, name, config.trail_retry_seconds
    )


def _calendar(path: Path | None) -> WorkingCalendar:
    try:
        return load_calendar(path, "the connector's calendar_file")
    except CalendarError as exc:
        raise ConnectorConfigError(f"calendar_file: {exc}") from exc
