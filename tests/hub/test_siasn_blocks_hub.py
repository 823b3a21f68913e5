"""A follow-up breach blocks the data in SIASN, and BKN tells the hub, on the real broker.

The hub's deadline timer breaches an ignored recommendation; the ``siasn`` connector delivers
the breach from BKN's feed to SIASN (the simulator), which blocks the civil servant's data;
``siasn-blocks`` reads SIASN's block log and publishes ``PersonnelDataBlocked``, which the
hub accepts, so the case counts as ``overdue_blocked``, not ``overdue_unblocked``, and the
alert ``KawalFollowUpBreachedWithoutBlock`` stays quiet. The late sanction lifts the block, and
``PersonnelDataUnblocked`` follows it into the trail; a case closed while blocked has SIASN
release the block, and the trail of the closed case records that lifting too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.host import build, run_connector
from connectors.siasn.simulator import SiasnApi
from tests.disclosure_case import closed
from tests.hubtools import WAIT_SECONDS, RunningHub, metric_value, sanction

TOKEN = "siasn-integration-token-0123"
OVERDUE_BLOCKED = 'kawal_recommendations{state="overdue_blocked"}'


@pytest.fixture(scope="module")
def siasn(hub: RunningHub) -> Iterator[SiasnApi]:
    """SIASN, and BKN's two connectors running against it and the hub.

    One SIASN for the module: the connectors keep their positions in the hub's home, and a
    second SIASN would number its block log anew, under the position already read.
    """
    stop = threading.Event()
    with SiasnApi(TOKEN) as api:
        config = {"institution": "bkn", "base_url": api.base_url, "token": TOKEN}
        threads = [
            threading.Thread(
                target=run_connector,
                args=(build(name, config | {"poll_seconds": 0.3}), hub.bootstrap, hub.home, stop),
                name=f"connector-{name}",
                daemon=True,
            )
            for name in ("siasn", "siasn-blocks")
        ]
        for thread in threads:
            thread.start()
        try:
            yield api
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)


def wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {WAIT_SECONDS} s"
        time.sleep(0.3)


def types(hub: RunningHub, case_id: str) -> list[str]:
    return [row.event_type for row in hub.store.trail(case_id)]


def test_a_breach_blocked_in_siasn_is_counted_blocked_and_its_lifting_recorded(
    hub: RunningHub, siasn: SiasnApi
) -> None:
    before = metric_value(hub.base_url, OVERDUE_BLOCKED)
    case_id = hub.ignored_case()
    rows = hub.wait_trail(case_id, 6)
    assert rows[5].event_type == "DeadlineBreached"

    wait(lambda: "PersonnelDataBlocked" in types(hub, case_id), "the block in the trail")
    (blocked,) = [r for r in hub.store.trail(case_id) if r.event_type == "PersonnelDataBlocked"]
    block: dict[str, Any] = hub.codec.decode(blocked.event).record
    assert block["envelope"]["source"] == "bkn"
    assert block["breach_event_id"] == rows[5].event_id
    assert block["blocking_reference"] == siasn.blocks[case_id].reference
    wait(
        lambda: metric_value(hub.base_url, OVERDUE_BLOCKED) >= before + 1,
        "the case counted overdue_blocked",
    )

    hub.step("SanctionImposed", sanction(case_id))
    wait(lambda: "PersonnelDataUnblocked" in types(hub, case_id), "the unblock in the trail")
    assert not siasn.blocks[case_id].active
    assert types(hub, case_id)[-2:] == ["SanctionImposed", "PersonnelDataUnblocked"]
    # Each of SIASN's two log rows reached the trail once.
    assert types(hub, case_id).count("PersonnelDataBlocked") == 1


def test_a_block_released_when_its_case_closes_is_recorded_in_the_closed_case(
    hub: RunningHub, siasn: SiasnApi
) -> None:
    case_id = hub.ignored_case()
    hub.wait_trail(case_id, 6)
    wait(lambda: "PersonnelDataBlocked" in types(hub, case_id), "the block in the trail")

    hub.step(*closed(case_id, reason="SUBJECT_LEFT_SERVICE"))
    wait(lambda: "PersonnelDataUnblocked" in types(hub, case_id), "the unblock in the trail")
    assert not siasn.blocks[case_id].active
    assert types(hub, case_id)[-2:] == ["CaseClosed", "PersonnelDataUnblocked"]
    (lifted,) = [r for r in hub.store.trail(case_id) if r.event_type == "PersonnelDataUnblocked"]
    assert hub.codec.decode(lifted.event).record["reason"] == "CASE_CLOSED"
