"""When ``ppk-inbox`` reads a case's subject from the hub's trail, and what it does on failure.

A recommendation is recorded first, whatever the hub answers: the in-tray never waits for the
subject. Then the subject of its case is read from the trail
(:mod:`connectors.ppk.trail_subjects`), at once, again whenever the feed brings another entry
of a case still without one, and at each catch-up (every ``trail_retry_seconds``, between the
runner's passes: :meth:`connectors.base.OutboundConnector.catch_up`) for every case the
registry shows waiting (:func:`connectors.ppk.subjects.cases_without_subject`), so a read that
failed is neither lost nor forgotten over a restart. A failure is logged as a WARNING with the
case id, a code and what to do, never a value; the runtime exports how many cases wait
(``kawal_connector_waiting``). A failure of the hub or of the token (unreachable, 401, 5xx)
ends a catch-up at once, logged once for every case it leaves waiting; one of a case (404, an
entry not believed) is logged once per case and code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import Engine

from connectors.ppk.subjects import cases_without_subject, keep_subject
from connectors.ppk.trail_subjects import HUB_WIDE, TrailReadError, TrailSubjects
from connectors.ppk.writes import writing
from schemas.codec import AvroCodec
from streams.domain.keys import KeyRegistry

#: The tables a trail read writes, named when the registry refuses a write.
TABLES = "recommendations and case_subjects tables"


class SubjectReads:
    """Reads the subjects of the registry's cases waiting for one, now and at each catch-up.

    Args:
        reader: The trail reader of the connector's hub and token.
        engine: The decree registry.
        codec: Decodes the trail's committed events.
        log: The connector's logger.
        name: The connector's name, for its log lines.
        every: Least seconds between two catch-ups.
        clock: Monotonic seconds (tests move it on instead of waiting).
    """

    def __init__(
        self,
        reader: TrailSubjects,
        engine: Engine,
        codec: AvroCodec,
        log: logging.Logger,
        name: str,
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.engine = engine
        self.codec = codec
        self.log = log
        self.name = name
        self.every = every
        self.clock = clock
        self._due = 0.0
        #: Cases waiting for their subject, as the last catch-up found them.
        self._waiting = 0
        #: Per case, the code of its last failed read: each new one is logged once.
        self._failed: dict[str, str] = {}

    def read_if_waiting(self, case_id: str, keys: KeyRegistry) -> None:
        """Read ``case_id``'s subject now if the registry shows it waiting for one.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        with writing(self.engine, TABLES) as connection:
            waiting = case_id in cases_without_subject(connection)
        if waiting:
            failure = self._read(case_id, keys)
            if failure is not None:
                self._failed_once(case_id, failure)

    def catch_up(self, keys: KeyRegistry) -> int:
        """Read the subjects of the cases waiting, when due; how many still wait.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write.
        """
        now = self.clock()
        if now < self._due:
            return self._waiting
        self._due = now + self.every
        with writing(self.engine, TABLES) as connection:
            waiting = cases_without_subject(connection)
        for done, case_id in enumerate(waiting):
            failure = self._read(case_id, keys)
            if failure is not None and failure.code in HUB_WIDE:
                self._hub_failed(failure, len(waiting) - done)
                break
            if failure is not None:
                self._failed_once(case_id, failure)
        with writing(self.engine, TABLES) as connection:
            self._waiting = len(cases_without_subject(connection))
        return self._waiting

    def _read(self, case_id: str, keys: KeyRegistry) -> TrailReadError | None:
        """Read and keep the subject of ``case_id``; the failure, if any."""
        try:
            event_id, subject = self.reader.subject(case_id, self.codec, keys)
        except TrailReadError as failure:
            return failure
        with writing(self.engine, TABLES) as connection:
            keep_subject(connection, case_id, event_id, subject)
        if self._failed.pop(case_id, None) is not None:
            self.log.info(
                "%s: the subject of case %s is read from the hub's trail", self.name, case_id
            )
        return None

    def _failed_once(self, case_id: str, failure: TrailReadError) -> None:
        if self._failed.get(case_id) == failure.code:
            return
        self._failed[case_id] = failure.code
        self.log.warning(
            "%s: the subject of case %s is not read from the hub's trail (%s: %s); its "
            "recommendation is in the in-tray without it, and the read is tried again at the "
            "case's next entry and every %g s",
            self.name,
            case_id,
            failure.code,
            failure.detail,
            self.every,
        )

    def _hub_failed(self, failure: TrailReadError, left: int) -> None:
        self.log.warning(
            "%s: no subject is read from the hub's trail (%s: %s); %d cases wait for theirs, "
            "their recommendations in the in-tray without it; tried again in %g s",
            self.name,
            failure.code,
            failure.detail,
            left,
            self.every,
        )
