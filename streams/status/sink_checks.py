"""What the audit sink's ``/metrics`` says: its store, how far the trail waits, its dead letters.

The sink's ``/livez`` and ``/readyz`` (:mod:`streams.status.process_checks`) say whether it runs;
these say whether it does its work. Its lag is the worker's reading of the group
``kawal-audit-sink`` (only the worker reads lag), the age of its last write is the sink's own.
Every value read is a count, a state or a time: never a case or a person.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from monitoring.stored import LAST_STORED
from streams.status.checks import (
    RUNBOOK_DEAD_LETTERS,
    RUNBOOK_LAG,
    RUNBOOK_LAG_UNKNOWN,
    RUNBOOK_PROCESS_DOWN,
    RUNBOOK_SINK_STALLED,
    RUNBOOK_STORE,
    Check,
    State,
    ok,
)
from streams.status.metric_checks import LAG_RECORDS, Sample, samples_of, values_of
from streams.status.web_reads import Answer, get

#: The names of the checks this module makes, in the order they are listed.
SINK_CHECKS = ("sink_store", "sink_lag", "sink_dead_letters")
#: The sink's consumer group and the topic it reads (:mod:`monitoring.lag`).
SINK_GROUP = "kawal-audit-sink"
SINK_TOPIC = "kawal.case.audit"
#: Seconds entries may wait with none stored before the sink counts as stalled:
#: KawalSinkStalled's 5 minutes.
STALLED_SECONDS = 300.0

#: Samples by series name.
Samples = dict[str, list[Sample]]


def sink_checks(sink: str, worker: str, clock: Callable[[], float] = time.time) -> list[Check]:
    """The sink's store, lag and dead-letter checks from its ``/metrics`` and the worker's.

    A sink whose ``/metrics`` does not answer leaves all three unknown (``DEGRADED``); its
    ``sink`` check says why it does not answer.
    """
    answer = get(f"{sink}/metrics")
    if answer.status != 200:
        why = f"unknown: the sink's /metrics {_said(answer)}"
        return [Check(name, State.DEGRADED, why, RUNBOOK_PROCESS_DOWN) for name in SINK_CHECKS]
    own = samples_of(answer.body)
    return [store_check(own), lag_check(own, _lag_of(worker), clock()), dead_letter_check(own)]


def _said(answer: Answer) -> str:
    return f"answers {answer.status}" if answer.status else f"does not answer ({answer.failure})"


def _lag_of(worker: str) -> float | str | None:
    """Entries the sink's group has not committed, as the worker last read; else why unknown.

    None while the worker has not read it yet (it just started), as its own lag check says.
    """
    answer = get(f"{worker}/metrics")
    if answer.status != 200:
        return f"the worker's /metrics {_said(answer)}"
    found = [
        value
        for labels, value in samples_of(answer.body).get("kawal_consumer_lag_records", [])
        if labels.get("group") == SINK_GROUP and labels.get("topic") == SINK_TOPIC
    ]
    return sum(found) if found else None


def store_check(own: Samples) -> Check:
    """``DOWN`` while the sink's writes to the audit store fail (``kawal_audit_store_up`` 0)."""
    failed = sum(values_of(own.get("kawal_audit_store_write_failures_total", [])))
    up = values_of(own.get("kawal_audit_store_up", []))
    since = f"{failed:.0f} failed transactions since it started"
    if up and min(up) == 0:
        why = f"the audit store does not take the sink's writes ({since}): entries wait"
        return Check("sink_store", State.DOWN, why, RUNBOOK_STORE)
    return ok("sink_store", f"takes the sink's writes ({since})")


def lag_check(own: Samples, lag: float | str | None, now: float) -> Check:
    """How many entries wait for the sink and how long ago it stored the last one.

    ``DOWN`` when entries wait and none was stored for :data:`STALLED_SECONDS` (counted from
    the sink's start when it stored none yet), as KawalSinkStalled pages; ``DEGRADED`` over
    :data:`LAG_RECORDS` entries behind, or when the lag is unknown.
    """
    last = max(values_of(own.get(LAST_STORED, [])), default=0.0)
    started = max(values_of(own.get("process_start_time_seconds", [])), default=0.0)
    stored = f"last entry stored {now - last:.0f} s ago" if last else "none stored since it started"
    if isinstance(lag, str):
        why = f"unknown ({lag}); {stored}"
        return Check("sink_lag", State.DEGRADED, why, RUNBOOK_LAG_UNKNOWN)
    if lag is None:
        return ok("sink_lag", f"not read yet by the worker; {stored}")
    waiting = f"{lag:.0f} entries wait on {SINK_TOPIC}"
    quiet = now - max(last, started)
    if lag > 0 and started and quiet > STALLED_SECONDS:
        why = f"stalled: {waiting} and none was stored for {quiet:.0f} s; {stored}"
        return Check("sink_lag", State.DOWN, why, RUNBOOK_SINK_STALLED)
    if lag > LAG_RECORDS:
        return Check("sink_lag", State.DEGRADED, f"{waiting}; {stored}", RUNBOOK_LAG)
    return ok("sink_lag", f"{waiting}; {stored}")


def dead_letter_check(own: Samples) -> Check:
    """``DEGRADED`` when the sink sent records it could not decode, or not the hub's, to the DLQ.

    Such an entry is in the trail topic but not in the store; the count is since the sink
    started, by reason code.
    """
    by_reason: dict[str, float] = {}
    for labels, value in own.get("kawal_rejections_total", []):
        if labels.get("stage") == "sink" and value:
            reason = labels.get("reason", "")
            by_reason[reason] = by_reason.get(reason, 0.0) + value
    if not by_reason:
        return ok("sink_dead_letters", "none since it started")
    listed = ", ".join(f"{reason} {count:.0f}" for reason, count in sorted(by_reason.items()))
    why = (
        f"{sum(by_reason.values()):.0f} trail records it could not decode or the hub did not "
        "make went to kawal.dlq "
        f"since it started ({listed}): `kawal dlq list --stage sink`"
    )
    return Check("sink_dead_letters", State.DEGRADED, why, RUNBOOK_DEAD_LETTERS)
