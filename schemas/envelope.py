"""The ``kawal.Envelope`` record every case event carries, made in one place.

Connectors, the hub's deadline timer, the demo traffic and the tests build envelopes with
:func:`envelope`, so each holds every field of ``schemas/avro/kawal.Envelope.avsc`` and the
fields only the hub fills (``ingest_time``) or that are not used yet (``signature``) start
empty everywhere alike. It lives with the schemas so that both ``streams`` and ``connectors``
may import it.

Example:
    >>> from datetime import UTC, datetime
    >>> record = envelope(
    ...     event_id="9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f",
    ...     case_id="cbc9a2b3-9c4e-5f74-9873-6743118ee9f4",
    ...     event_type="ReportReceived",
    ...     event_time=datetime(2024, 11, 4, 9, 0, tzinfo=UTC),
    ...     source="bawaslu.3374",
    ...     actor_ref="system:bawaslu.3374",
    ... )
    >>> record["ingest_time"], record["traceparent"], record["signature"]
    (None, None, None)

A time without a UTC offset is refused here, where it is made, rather than wherever it is
first compared with an aware one (key validity, deadlines):

    >>> aware_time("event_time", datetime(2024, 11, 4, 9, 0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    schemas.errors.NaiveTimeError: event_time is a naive datetime (no UTC offset); ...
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.errors import NaiveTimeError, SchemaMismatchError

#: The envelope fields a signed event leaves null, and where what they would say is instead.
UNUSED_IN_SIGNED_EVENTS = {
    "ingest_time": "the hub dates its acceptance in the trail entry's recorded_at",
    "signature": "the sender's signature travels beside the event, in kawal.SignedEvent",
}

#: Where an envelope's times are, as errors name them.
_FIELD = "kawal.Envelope.{}"


def aware_time(path: str, moment: object) -> datetime:
    """``moment``, the value at field ``path``, if it is a timezone-aware datetime.

    Raises:
        NaiveTimeError: a datetime without a UTC offset.
        SchemaMismatchError: not a datetime at all.
    """
    if not isinstance(moment, datetime):
        raise SchemaMismatchError(
            f"{path} is not a date-time ({type(moment).__name__}); pass a timezone-aware datetime"
        )
    if moment.utcoffset() is None:
        raise NaiveTimeError(
            f"{path} is a naive datetime (no UTC offset); read the source's time with its "
            "offset (2024-11-01T09:30:00+07:00) or in its zone"
        )
    return moment


def envelope(
    *,
    event_id: str,
    case_id: str,
    event_type: str,
    event_time: datetime,
    source: str,
    actor_ref: str,
    ingest_time: datetime | None = None,
    traceparent: str | None = None,
    signature: bytes | None = None,
) -> dict[str, Any]:
    """The ``kawal.Envelope`` record of one event, ready to nest under ``"envelope"``.

    Args:
        event_id: The event's id (UUID); derive it from the source record where the event can
            be read again (:func:`connectors.ids.event_id_for`), so stages stay idempotent.
        case_id: The case the event belongs to (:func:`schemas.identity.case_id_for`).
        event_type: Short name of the event record, e.g. ``ReportReceived``.
        event_time: When the event happened at the source institution (timezone-aware).
        source: Id of the emitting institution, e.g. ``bawaslu.3374`` (``kawal``: the hub).
        actor_ref: Pseudonymous reference of the official or system that acted.
        ingest_time: When the hub accepted the event; None until ingress stamps it.
        traceparent: W3C trace context of the operation that produced the event, if traced.
        signature: Reserved for the source institution's signature over the event.

    Returns:
        The record, its keys in the schema's field order.

    Raises:
        NaiveTimeError: ``event_time`` or ``ingest_time`` has no UTC offset.
    """
    if ingest_time is not None:
        aware_time(_FIELD.format("ingest_time"), ingest_time)
    return {
        "event_id": event_id,
        "case_id": case_id,
        "event_type": event_type,
        "event_time": aware_time(_FIELD.format("event_time"), event_time),
        "ingest_time": ingest_time,
        "source": source,
        "actor_ref": actor_ref,
        "traceparent": traceparent,
        "signature": signature,
    }
