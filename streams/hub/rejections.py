"""Rejections: every refused record goes to ``kawal.dlq`` with a machine-readable reason.

The record's bytes go along sealed to the hub's encryption key
(:mod:`streams.domain.hub_sealing`): a refused record may hold personal data in clear. A record
refused *for* holding personal data in clear is kept by its coordinates only (docs/signing.md):
replayed, it would be refused again, and each replay would write its personal data in clear
once more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import faust

from monitoring.metrics import HubMetrics, Outcome, Stage
from schemas.codec import (
    AvroCodec,
    BadMagicError,
    CodecError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownSchemaError,
)
from schemas.errors import KawalError
from streams import logs
from streams.domain.hub_sealing import dead_letter_payload
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Reason
from streams.hub.outbox import Outbox
from streams.topics import DLQ

log = logging.getLogger(__name__)


#: Largest payload a DLQ record carries, in bytes; larger records are referred to by position.
MAX_PAYLOAD_BYTES = 128 * 1024
#: Reasons whose record is kept by its coordinates only, never its bytes.
IN_CLEAR = frozenset({Reason.DISCLOSURES_IN_CLEAR, Reason.PERSONAL_DATA_IN_CLEAR})

_CODEC_REASONS: dict[type[CodecError], Reason] = {
    BadMagicError: Reason.BAD_MAGIC,
    TruncatedMessageError: Reason.TRUNCATED,
    UnknownSchemaError: Reason.UNKNOWN_SCHEMA,
    SchemaMismatchError: Reason.SCHEMA_MISMATCH,
}


#: Every reason :func:`reason_for_codec_error` gives: all the audit sink dead-letters for.
CODEC_REASONS = frozenset({*_CODEC_REASONS.values(), Reason.UNDECODABLE})


def reason_for_codec_error(exc: CodecError) -> Reason:
    """The rejection reason for a decoding failure."""
    for error_type, reason in _CODEC_REASONS.items():
        if isinstance(exc, error_type):
            return reason
    return Reason.UNDECODABLE


def dead_letter_value(
    codec: AvroCodec,
    keys: KeyRegistry,
    stage: Stage,
    reason: Reason,
    detail: str,
    message: faust.types.Message,
) -> bytes:
    """The ``kawal.DeadLetter`` of ``message``: its reason, coordinates and sealed payload.

    The payload is empty for a record too large to copy or refused for personal data in clear
    (:data:`IN_CLEAR`): its coordinates say where it is.
    """
    coordinates = f"{message.topic}:{message.partition}:{message.offset}"
    kept = b"" if reason in IN_CLEAR else _payload(message.value)
    payload, sealed_to = dead_letter_payload(keys, kept, coordinates)
    record = {
        "stage": str(stage),
        "reason_code": str(reason),
        "reason": detail,
        "source_topic": message.topic,
        "source_partition": message.partition,
        "source_offset": message.offset,
        "payload": payload,
        "sealed_to": sealed_to,
        "rejected_at": datetime.now(UTC),
    }
    return codec.encode("kawal.DeadLetter", record)


def _payload(value: object) -> bytes:
    # An oversized record stays on its source topic (the coordinates say where): copied here,
    # it could exceed a producer batch and stop the stage that refused it.
    if not isinstance(value, bytes) or len(value) > MAX_PAYLOAD_BYTES:
        return b""
    return value


def log_rejection(
    metrics: HubMetrics,
    stage: Stage,
    reason: Reason,
    message: faust.types.Message,
    envelope: Mapping[str, Any] | None = None,
) -> None:
    """Count and log a dead-lettered record (coordinates, reason code and its ids if known).

    A copy of an event already taken counts as its stage's one outcome ``duplicate``, any
    other refusal as ``rejected``.
    """
    outcome = Outcome.DUPLICATE if reason is Reason.DUPLICATE else Outcome.REJECTED
    metrics.reject(stage, reason, outcome)
    ids = {k: envelope.get(k) for k in ("event_id", "case_id")} if envelope else {}
    log.warning(
        "rejected %s:%d:%d at %s: %s",
        message.topic,
        message.partition,
        message.offset,
        stage,
        reason,
        extra={"stage": str(stage), "reason": str(reason), **ids},
    )


def dead_letter(
    codec: AvroCodec,
    keys: KeyRegistry,
    metrics: HubMetrics,
    outbox: Outbox,
    stage: Stage,
    reason: Reason,
    detail: str,
    message: faust.types.Message,
) -> None:
    """Queue the record of ``message`` for the DLQ with its reason and source coordinates."""
    key = message.key if isinstance(message.key, bytes) else None
    outbox.add(DLQ, key, dead_letter_value(codec, keys, stage, reason, detail, message))
    log_rejection(metrics, stage, reason, message)


def log_failure(stage: Stage, message: faust.types.Message, exc: Exception) -> str:
    """Log an unexpected failure on a record; the DLQ reason for it.

    Frames but not the message, and the reason names only the exception type: an exception's
    text could quote the record's personal data.
    """
    log.error(
        "%s failed on %s:%d:%d with %s\n%s",
        stage,
        message.topic,
        message.partition,
        message.offset,
        type(exc).__name__,
        logs.frames(exc.__traceback__),
    )
    return f"{stage} failed with {type(exc).__name__}; see the worker log, then replay"


def log_stop(agent: str, exc: Exception) -> None:
    """Log why ``agent`` stops its process: a failure outside any one record's step.

    The process exits 1 and its supervisor starts it again, from its last commit. Frames and
    the exception type only, as in :func:`log_failure`, except for the hub's own errors,
    whose messages never hold personal data and say what to do.
    """
    what = f"{type(exc).__name__}: {exc}" if isinstance(exc, KawalError) else type(exc).__name__
    log.critical(
        "the %s failed with %s outside any one record; stopping so that a restart processes "
        "its unacknowledged records again from the last commit\n%s",
        agent,
        what,
        logs.frames(exc.__traceback__),
    )
