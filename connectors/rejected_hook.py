"""Telling an institution's system that the runtime refused one of its records.

The dead letter goes to ``kawal.dlq``, which only the hub's operators read; the person who
keeps the record in the institution's system would believe it sent. After the dead letter is
in, the inbound runner calls the connector's
:meth:`~connectors.base.InboundConnector.rejected` hook (a no-op unless the connector has a
place for it), retried like any call into the system. Its failure never stops the runner: the
dead letter stands, and a WARNING says the system was not told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.base import ConnectorConfig, InboundConnector, SourceRecord
from connectors.errors import ConnectorError, PermanentError
from connectors.retry import GaveUp, RetryPolicy, with_retries

log = logging.getLogger(__name__)


def tell_system(
    connector: InboundConnector[ConnectorConfig],
    record: SourceRecord,
    error: PermanentError,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> None:
    """Call ``connector.rejected(record, error)`` with retries; log, never raise, a failure."""
    what = f"{connector.name}: telling its system of a record refused as {error.reason_code}"
    told: GaveUp | Exception | None
    try:
        told = with_retries(lambda: connector.rejected(record, error), policy, sleep, what)
    except ConnectorError as exc:
        told = exc
    except Exception as exc:  # a defect of the hook: the dead letter is in, the loop goes on
        told = TypeError(type(exc).__name__)  # its text could quote the record
    if told is None:
        return
    # A connector's own errors are free of personal data (connectors.errors).
    shown = told.last_error if isinstance(told, GaveUp) else told
    log.warning(
        "%s: its system was not told of a record refused as %s (%s: %s); the dead letter "
        "alone holds it",
        connector.name,
        error.reason_code,
        type(shown).__name__,
        shown,
    )
