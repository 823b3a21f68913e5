"""What the worker's ``/metrics`` says of the hub's signing key and of consumer lag."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from prometheus_client.parser import text_string_to_metric_families

from streams.status.checks import (
    RUNBOOK_HUB_KEY,
    RUNBOOK_HUB_KEY_FILE,
    RUNBOOK_LAG,
    RUNBOOK_LAG_UNKNOWN,
    RUNBOOK_PROCESS_DOWN,
    Check,
    State,
    ok,
)
from streams.status.web_reads import get

#: Records a group may be behind before it is worth a look: KawalConsumerLagGrowing's bar.
LAG_RECORDS = 1000
#: Readings of lag that may be missed, and the least age that counts as old: KawalLagUnknown's.
LAG_READINGS = 8
LAG_OLD_SECONDS = 120.0

#: One sample: its labels and value.
Sample = tuple[dict[str, str], float]


def metric_checks(base_url: str, clock: Callable[[], float] = time.time) -> list[Check]:
    """The hub-key and lag checks from the worker at ``base_url``; unknown when it is silent."""
    answer = get(f"{base_url}/metrics")
    if answer.status != 200:
        said = (
            f"answers {answer.status}" if answer.status else f"does not answer ({answer.failure})"
        )
        why = f"unknown: the worker's /metrics {said}"
        return [
            Check(name, State.DEGRADED, why, RUNBOOK_PROCESS_DOWN) for name in ("hub_key", "lag")
        ]
    samples = samples_of(answer.body)
    return [hub_key_check(samples), lag_check(samples, clock())]


def samples_of(text: str) -> dict[str, list[Sample]]:
    """Every sample of a Prometheus text exposition, by series name."""
    found: dict[str, list[Sample]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((dict(sample.labels), float(sample.value)))
    return found


def hub_key_check(samples: dict[str, list[Sample]]) -> Check:
    """Whether the worker holds a registered hub key valid now (``kawal_hub_signing_key_valid``).

    And the files of its key folder it set aside (``kawal_hub_key_file_damaged``), by name:
    beside a valid key they make the check ``DEGRADED``, not ``DOWN``.
    """
    values = [value for _, value in samples.get("kawal_hub_signing_key_valid", [])]
    damaged = _damaged_key_files(samples)
    if values and min(values) == 0:
        why = "no valid hub signing key: the hub signs nothing and events wait"
        return Check("hub_key", State.DOWN, why + damaged, RUNBOOK_HUB_KEY)
    if damaged:
        why = "valid, but key files are set aside" + damaged
        return Check("hub_key", State.DEGRADED, why, RUNBOOK_HUB_KEY_FILE)
    if not values:
        return ok("hub_key", "not checked yet by the worker")
    return ok("hub_key", "valid")


def _damaged_key_files(samples: dict[str, list[Sample]]) -> str:
    """``: <file> (<damage>), ...`` for each key file the worker set aside; empty if none."""
    files = sorted(
        f"{labels.get('file', '')} ({labels.get('damage', '')})"
        for labels, value in samples.get("kawal_hub_key_file_damaged", [])
        if value
    )
    return f": {', '.join(files)}" if files else ""


def lag_check(samples: dict[str, list[Sample]], now: float) -> Check:
    """How far the consumer groups are behind, and whether the worker still reads it."""
    # 0 until the first reading.
    read_at = [
        t for t in values_of(samples.get("kawal_consumer_lag_read_timestamp_seconds", [])) if t
    ]
    if read_at:
        intervals = [
            value
            for labels, value in samples.get("kawal_timer_interval_seconds", [])
            if labels.get("timer") == "consumer_lag"
        ]
        old = max(LAG_READINGS * max(intervals, default=0.0), LAG_OLD_SECONDS)
        if (age := now - max(read_at)) > old:
            why = f"unknown: not read from the broker for {age:.0f} s"
            return Check("lag", State.DEGRADED, why, RUNBOOK_LAG_UNKNOWN)
    elif sum(values_of(samples.get("kawal_consumer_lag_read_failures_total", []))) > 0:
        why = "unknown: every reading from the broker failed so far"
        return Check("lag", State.DEGRADED, why, RUNBOOK_LAG_UNKNOWN)
    else:
        return ok("lag", "not read yet")
    behind = _by_group(samples.get("kawal_consumer_lag_records", []))
    late = {group: records for group, records in behind.items() if records > LAG_RECORDS}
    if late:
        listed = ", ".join(f"{group} {records:.0f}" for group, records in sorted(late.items()))
        why = f"records behind over {LAG_RECORDS}: {listed}"
        return Check("lag", State.DEGRADED, why, RUNBOOK_LAG)
    return ok("lag", f"{sum(behind.values()):.0f} records behind in all")


def values_of(samples: Iterable[Sample]) -> list[float]:
    """The values of ``samples``, labels dropped."""
    return [value for _, value in samples]


def _by_group(samples: Iterable[Sample]) -> dict[str, float]:
    groups: dict[str, float] = defaultdict(float)
    for labels, value in samples:
        groups[labels.get("group", "")] += value
    return dict(groups)
