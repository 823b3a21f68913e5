"""Rejections: every refused record goes to ``kawal.dlq`` with a machine-readable reason."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust

from monitoring.metrics import Stage
from schemas.codec import (
    BadMagicError,
    CodecError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownSchemaError,
)
from streams.reasons import Reason

if TYPE_CHECKING:
    from streams.hub import Hub

log = logging.getLogger(__name__)


_CODEC_REASONS: dict[type[CodecError], Reason] = {
    BadMagicError: Reason.BAD_MAGIC,
    TruncatedMessageError: Reason.TRUNCATED,
    UnknownSchemaError: Reason.UNKNOWN_SCHEMA,
    SchemaMismatchError: Reason.SCHEMA_MISMATCH,
}


def reason_for_codec_error(exc: CodecError) -> Reason:
    """The rejection reason for a decoding failure."""
    for error_type, reason in _CODEC_REASONS.items():
        if isinstance(exc, error_type):
            return reason
    return Reason.UNDECODABLE


async def dead_letter(
    hub: Hub, stage: Stage, reason: Reason, detail: str, message: faust.types.Message
) -> None:
    """Send the record of ``message`` to the DLQ with its reason and source coordinates."""
    record = {
        "stage": str(stage),
        "reason_code": str(reason),
        "reason": detail,
        "source_topic": message.topic,
        "source_partition": message.partition,
        "source_offset": message.offset,
        "payload": message.value if isinstance(message.value, bytes) else b"",
        "rejected_at": datetime.now(UTC),
    }
    value = hub.codec.encode("kawal.DeadLetter", record)
    key = message.key if isinstance(message.key, bytes) else None
    await hub.dlq.send(key=key, value=value)
    hub.metrics.reject(stage, reason)
    log.warning(
        "rejected %s:%d:%d at %s: %s",
        message.topic,
        message.partition,
        message.offset,
        stage,
        reason,
    )


def register_per_event(
    hub: Hub,
    topic: faust.TopicT,
    name: str,
    stage: Stage,
    handler: Callable[[Hub, faust.types.Message], Awaitable[None]],
) -> None:
    """Attach an agent that runs ``handler`` on each record of ``topic``, :func:`guarded`."""

    async def agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(hub, stage, handler, event.message)

    hub.app.agent(topic, name=name)(agent)


async def guarded(
    hub: Hub,
    stage: Stage,
    handler: Callable[[Hub, faust.types.Message], Awaitable[None]],
    message: faust.types.Message,
) -> None:
    """Run and time a stage's handler; an unexpected failure dead-letters the record.

    The reason names only the exception type: its message could quote the record.
    """
    started = time.perf_counter()
    try:
        await handler(hub, message)
    except Exception as exc:
        # Frames but not the message: an exception's text may quote personal data.
        log.error(
            "%s failed on %s:%d:%d with %s\n%s",
            stage,
            message.topic,
            message.partition,
            message.offset,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        detail = f"{stage} failed with {type(exc).__name__}; see the worker log, then replay"
        await dead_letter(hub, stage, Reason.INTERNAL_ERROR, detail, message)
    finally:
        hub.metrics.processing_seconds.labels(stage=stage).observe(time.perf_counter() - started)
