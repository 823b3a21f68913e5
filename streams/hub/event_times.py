"""When an event says it happened, against when its record reached the broker and its case began.

A record's broker timestamp is when the hub accepted it (:func:`recorded_at`): on Apache Kafka the
broker's own stamp, so no sender can date its record. An event may be dated a little after it
(senders' clocks drift, :data:`CLOCK_SKEW`) but no more, and no earlier than its case's report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import faust

from streams.domain.chain import EPOCH
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.reasons import Reason, Rejection

#: How far an event's time may be ahead of the broker's timestamp of its record, or behind its
#: case's report: the senders' clocks drift. Beyond it the event would run its deadline clocks,
#: and the statistics, from a moment that has not come or from before the case existed.
CLOCK_SKEW = timedelta(minutes=5)


def recorded_at(message: faust.types.Message) -> datetime:
    """When the hub accepted a record: its broker timestamp, in whole milliseconds.

    It is the same on every redelivery, so an entry's hash never depends on when the hub
    processed the record.
    """
    return EPOCH + timedelta(milliseconds=round(message.timestamp * 1000))


def check_time(envelope: Mapping[str, Any], message: faust.types.Message) -> Rejection | None:
    """None if the event is dated no later than its record's arrival plus :data:`CLOCK_SKEW`.

    An event dated ahead is a sender's clock or time zone gone wrong.
    """
    ahead = envelope["event_time"] - recorded_at(message)
    if ahead <= CLOCK_SKEW:
        return None
    return Rejection(
        Reason.EVENT_TIME_IN_FUTURE,
        f"envelope.event_time is {_rounded(ahead)} after the broker received the record, more "
        f"than the {_rounded(CLOCK_SKEW)} clocks may drift; date an event when it happened "
        "(check the sending system's clock and time zone), then publish it again",
    )


def check_chronology(case: CaseLifecycle | None, envelope: Mapping[str, Any]) -> Rejection | None:
    """None unless the event is dated before its case was reported, beyond :data:`CLOCK_SKEW`.

    Nothing happens to a case before its report; an event dated so would start its clocks, and
    count in the handling times, from before the case existed.
    """
    if case is None:
        return None
    early = datetime.fromisoformat(case.reported_at) - envelope["event_time"]
    if early <= CLOCK_SKEW:
        return None
    return Rejection(
        Reason.EVENT_BEFORE_REPORT,
        f"envelope.event_time is {_rounded(early)} before the case's report was dated, more "
        f"than the {_rounded(CLOCK_SKEW)} clocks may drift; nothing happens to a case before "
        "its report: date the event when it happened (check the sending system's clock and "
        "time zone), then publish it again",
    )


def _rounded(span: timedelta) -> timedelta:
    return timedelta(seconds=round(span.total_seconds()))
