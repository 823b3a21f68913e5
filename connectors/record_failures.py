"""A failure on one record that nobody foresaw: the record is refused, not the connector.

A defect met on one record, in a connector's mapping or delivery or in the runtime's own
checks, would otherwise end the connector; started again, it meets the same record first, so
one record would hold back every later record of its institution for good. Such a record goes
to ``kawal.dlq`` as ``internal_error`` instead, the failure's frames are logged (its type and
where it happened, never its text, which could quote the record), and the connector goes on.

A failure of the machine rather than of the record (a disk, a local database, the broker,
memory) still ends the pass: the record is not settled, and is handled again once the
machine is back.
"""

from __future__ import annotations

import logging
import sqlite3

from kafka.errors import KafkaError

from streams import logs
from streams.domain.reasons import Reason

log = logging.getLogger(__name__)

#: The reason code of a record the connector failed on: the hub's own code for the same.
INTERNAL_ERROR = Reason.INTERNAL_ERROR.value

#: Failures of the machine, not of the record: the pass ends, and the record comes again.
MACHINE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    sqlite3.Error,
    MemoryError,
    KafkaError,
)


def is_machine_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the machine's failure, which no record is to blame for."""
    return isinstance(exc, MACHINE_FAILURES)


def failure_reason(connector: str, record: str, exc: Exception, then: str) -> str:
    """Log ``connector``'s failure on ``record``; the dead letter's reason for it.

    Args:
        connector: The connector's name.
        record: Which record, by its place (a position, a source id), never its content.
        exc: The failure.
        then: What to do once the defect is fixed.
    """
    kind = logs.failure_name(exc)
    log.error(
        "%s failed on %s with %s, which nothing foresaw: the record is dead-lettered as %s "
        "and the connector goes on\n%s",
        connector,
        record,
        kind,
        INTERNAL_ERROR,
        logs.frames(exc.__traceback__),
    )
    return (
        f"{connector} failed on {record} with {kind}, a defect of the connector: its log "
        f"shows where; once it is fixed, {then}"
    )
