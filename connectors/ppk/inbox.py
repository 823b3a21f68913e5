"""The PPK's feed → its decree registry, the ``ppk-inbox`` connector.

The hub carries to the PPK (the employing agency) the entries of its civil servants' cases
that its role consumes, and answers each event the PPK sends with a receipt on the same feed,
``kawal.outbound.<ppk>``. This connector writes two things of it into the registry
(:mod:`connectors.ppk.database`):

* **Recommendations to act on.** Each ``RecommendationIssued`` goes into the office's in-tray,
  ``recommendations``: the hub's case id, which the decree that follows it up names (the
  ``case_id`` column of ``decrees``, read by ``ppk-decrees``), whether the violation is proven,
  the recommended level and kind, and the working days the PPK has to follow it up, counted
  from ``recorded_at`` (when the hub recorded it, which starts the hub's clock).
* **Refusals of its decrees.** Each refusal the hub signed goes into ``hub_refusals``, tied to
  the decree whose ``SanctionImposed`` the hub refused (its event id derives from the decree
  number, :mod:`connectors.ppk.connector`), with the hub's reason code and reason, so the
  registry no longer shows the decree as merely signed. A refused record that matches no
  decree (another system of the PPK sent it, or the hub could not read it) is kept unmatched
  and logged as a WARNING. A ``duplicate_event`` refusal is no refusal of the decree: the hub
  holds the event already (``ppk-decrees`` published it again after a restart).

Every other entry needs nothing of the registry. Writes are idempotent: on the event id for
recommendations, on the refused record's position for refusals. A recommendation holds no
personal data, nor does a receipt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Table, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from connectors.base import (
    ConnectorContext,
    FeedEntry,
    HubRefusal,
    OutboundConnector,
    PermanentError,
)
from connectors.ids import event_id_for
from connectors.ppk.connector import RegistryConfig
from connectors.ppk.database import (
    DECREES,
    HUB_REFUSALS,
    NEW,
    NOTHING_TO_IMPOSE,
    RECOMMENDATIONS,
)
from connectors.sql import cause, outage_is_transient
from streams.domain.reasons import Reason

SYSTEM = "decree registry"


class Inbox(OutboundConnector[RegistryConfig]):
    """The PPK's feed → ``recommendations`` and ``hub_refusals``."""

    name = "ppk-inbox"

    def __init__(self, config: RegistryConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.engine = config.engine()

    def deliver(self, entry: FeedEntry) -> None:
        """Put a recommendation in the office's in-tray; other entries need nothing.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        if entry.event_type == "RecommendationIssued":
            self._take_recommendation(entry)

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
                self._insert(HUB_REFUSALS)
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
        with self._writing() as connection:
            connection.execute(
                self._insert(RECOMMENDATIONS)
                .values(
                    event_id=entry.event_id,
                    case_id=entry.case_id,
                    authority=event["authority"],
                    proven=event["proven"],
                    violation=event["violation"],
                    sanction_level=event["sanction_level"],
                    sanction_kind=event["sanction_kind"],
                    follow_up_days=event["follow_up_days"],
                    issued_at=self._local(event["envelope"]["event_time"]),
                    recorded_at=self._local(entry.entry["recorded_at"]),
                    status=NEW if event["proven"] else NOTHING_TO_IMPOSE,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
            )

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

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """An insert of the registry's dialect, which can skip a row already there."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _local(self, moment: datetime) -> datetime:
        """``moment`` in the registry's zone: a column without one keeps the wall time given."""
        return moment.astimezone(self.config.zone)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction on the registry; an outage is transient, a refused write permanent."""
        try:
            with outage_is_transient(SYSTEM), self.engine.begin() as connection:
                yield connection
        except sa_exc.DBAPIError as exc:
            raise PermanentError(
                "registry_refused",
                f"the decree registry refused the write ({cause(exc)}); check that its "
                "recommendations and hub_refusals tables match connectors.ppk.database, "
                "then redeliver",
            ) from exc
