"""Every simulated decision is a function of the case; Bawaslu registers the inspectorate's reports.

The demo's offices decide by a hash of the case's id (:mod:`connectors.demo_pace`), so two
demos with the same cases take the same paths whichever thread or round meets a case first.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.authority.simulator import CASES as REGISTER
from connectors.authority.simulator import DISCIPLINE_KINDS, AuthoritySystem
from connectors.authority.simulator import RECOMMENDATIONS as LETTERS
from connectors.base import InboundConnector
from connectors.bawaslu.officers import BawasluOfficers
from connectors.demo_pace import (
    AUTHORITY_PROVEN_BASIS_POINTS,
    authority_proven,
    authority_sanction,
    bawaslu_plan,
    ppk_wait,
)
from connectors.host import build
from schemas.catalog import default_catalog
from schemas.identity import case_id_for
from streams.domain.authority import load_authority_map
from streams.domain.institutions import load_institutions
from streams.domain.parties import parties_of_report, recipients, registrars
from tests.clocks import ManualClock
from tests.connectors.test_authority import case_status, entry
from tests.connectors.test_bawaslu import _status_update, webhook_bed
from tests.hubtools import referral, report

#: Case ids of the inspectorate's numbering, enough for both verdicts to come up.
CASES = [case_id_for("inspektorat.3374", f"{n:04d}/LP/ITDA-3374/ab12/2026") for n in range(300)]


def _decisions(case_ids: list[str]) -> dict[str, tuple[bool, str, str, float | None]]:
    return {
        case_id: (
            authority_proven(case_id),
            authority_sanction(case_id, DISCIPLINE_KINDS),
            bawaslu_plan(case_id).outcome,
            ppk_wait(case_id),
        )
        for case_id in case_ids
    }


def test_each_decision_is_the_same_in_any_order_and_any_thread() -> None:
    in_order = _decisions(CASES)
    shuffled = CASES[:]
    random.Random(7).shuffle(shuffled)
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = [
            part
            for chunk in pool.map(_decisions, [shuffled[i::8] for i in range(8)])
            for part in chunk.items()
        ]

    assert _decisions(shuffled) == in_order
    assert dict(threaded) == in_order
    proven = sum(decision[0] for decision in in_order.values()) / len(CASES)
    assert abs(proven - AUTHORITY_PROVEN_BASIS_POINTS / 10_000) < 0.08
    assert {decision[0] for decision in in_order.values()} == {True, False}
    assert {decision[1] for decision in in_order.values()} == set(DISCIPLINE_KINDS)


def test_a_share_of_all_or_none_is_every_case_or_none() -> None:
    assert all(authority_proven(case_id, 1.0) for case_id in CASES)
    assert not any(authority_proven(case_id, 0.0) for case_id in CASES)


def _verdicts(root: Path, seed: int, order: list[int]) -> dict[str, tuple[bool, str | None]]:
    """BKN's staff's verdict on each referral, delivered in ``order``, staff seeded by ``seed``."""
    clock = ManualClock(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))
    system = AuthoritySystem.on_sqlite(root, seed=seed, clock=clock)
    delivery = case_status(system)
    reports = [report(number=f"33/LP/{n:03d}") for n in range(12)]
    try:
        for position, n in enumerate(order):
            case_id = reports[n]["envelope"]["case_id"]
            delivery.deliver(entry(delivery, "ReportReceived", reports[n], 2 * position + 1))
            delivery.deliver(
                entry(delivery, "ReferralForwarded", referral(case_id), 2 * position + 2)
            )
            system.work_once()  # a round meets the cases one at a time, in this order
        with system.engine.connect() as connection:
            letters = connection.execute(
                select(LETTERS.c.case_id, LETTERS.c.proven, LETTERS.c.sanction_kind)
            ).all()
            hub_ids = {row.id: row.hub_case_id for row in connection.execute(select(REGISTER))}
    finally:
        delivery.close()
        system.stop()
    return {hub_ids[row.case_id]: (row.proven, row.sanction_kind) for row in letters}


def test_bkns_staff_decide_a_case_alike_whatever_order_and_seed(tmp_path: Path) -> None:
    forward = _verdicts(tmp_path / "a", seed=1, order=list(range(12)))
    backward = _verdicts(tmp_path / "b", seed=2, order=list(reversed(range(12))))

    assert forward == backward
    assert len(forward) == 12
    for case_id, (proven, kind) in forward.items():
        assert proven == authority_proven(case_id)
        assert kind == (authority_sanction(case_id, DISCIPLINE_KINDS) if proven else None)


def test_the_region_bawaslu_registers_a_report_no_bawaslu_office_filed() -> None:
    authority = load_authority_map()
    institutions = {inst.id: inst for inst in load_institutions()}
    catalog = default_catalog()
    by_inspectorate = parties_of_report(authority, report("inspektorat.3374"))
    by_national = parties_of_report(authority, report("bawaslu"))

    told = {
        inst.id
        for inst, _ in recipients(catalog, institutions.values(), by_inspectorate, "ReportReceived")
    }
    not_told = {
        inst.id
        for inst, _ in recipients(catalog, institutions.values(), by_national, "ReportReceived")
    }

    assert registrars(by_inspectorate) == ("bawaslu.33", "bawaslu.3374")
    assert registrars(by_national) == ()
    assert {"bawaslu", "bawaslu.33"} <= told
    assert "bawaslu.33" not in not_told  # Bawaslu RI's own report is its own to register


def _inspectorate_update(case_id: str, number: str, source: str) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-{source}",
        "event_type": "ReportReceived",
        "case_id": case_id,
        "source": source,
        "details": {"channel": "UNKNOWN", "case_number": number},
    }


def test_bawaslus_officers_take_an_inspectorate_report_down_its_plan(tmp_path: Path) -> None:
    """The plan of the case's hash; a report another Bawaslu office filed is left to it."""
    number = "0001/LP/ITDA-3374/ab12/2026"
    case_id = case_id_for("inspektorat.3374", number)
    theirs = case_id_for("bawaslu", "001/LP/PL/RI/2026")
    expected = {
        "not_registered": ["ReportRejected"],
        "not_proven": ["ReportRegistered", "VerificationCompleted"],
        "proven": ["ReportRegistered", "VerificationCompleted", "ReferralForwarded"],
    }[bawaslu_plan(case_id).outcome]
    with webhook_bed(tmp_path) as bed:
        officers = BawasluOfficers(bed.bawaslu, min_wait_seconds=0.0, wait_scale=0.0)
        officers.start(3600.0)
        assert (
            _status_update(bed.bawaslu, _inspectorate_update(case_id, number, "inspektorat.3374"))
            == 201
        )
        assert (
            _status_update(
                bed.bawaslu, _inspectorate_update(theirs, "001/LP/PL/RI/2026", "bawaslu")
            )
            == 201
        )
        connector = build("bawaslu-webhook", bed.config)
        assert isinstance(connector, InboundConnector)
        events: list[Any] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = [
                e
                for r in connector.read(None, 100)
                for e in connector.to_events(r)
                if e.event_type != "ReportReceived"  # the officers' own report of the hour
            ]
            if len(events) >= len(expected):
                break
            time.sleep(0.1)
        time.sleep(1.0)  # a step of the other case, were there one, would be in by now
        events = [e for r in connector.read(None, 100) for e in connector.to_events(r)]
        officers.stop()
        connector.close()

    steps = [e for e in events if e.event_type != "ReportReceived"]
    assert [e.event_type for e in steps] == expected
    assert {e.record["envelope"]["case_id"] for e in steps} == {case_id}
