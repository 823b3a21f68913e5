"""The public register of final sanctions: off by default, agencies only, or names on a basis."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from streams.audit.figures.export import to_csv
from streams.audit.public_register import (
    RegisterMode,
    RegisterRow,
    RegisterSetupError,
    check_setup,
    fold,
    read_register,
)
from streams.audit.store import AuditRow
from streams.domain.deadlines import JAKARTA
from streams.web.labels import label_text
from streams.web.register_page import register_csv
from tests.brokers import start_ephemeral_broker
from tests.disclosure_case import closed, reported
from tests.hubtools import RunningHub, http_request, problem_of, recommendation, sanction, start_hub
from tests.web.openapi_spec import check_body

BASIS = "Perbawaslu 99/2099 Art. 1 (a legal basis the operator documents)"
SUBJECT = "Test Subject"  # tests.hubtools.report's subject_name


def final(case_id: str) -> tuple[str, dict[str, Any]]:
    event_type, record = closed(case_id)
    record["final_sanction"] = {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_6_MONTHS"}
    return event_type, record


def sanctioned_and_closed() -> list[tuple[str, dict[str, Any]]]:
    steps = reported()
    case_id = str(steps[0][1]["envelope"]["case_id"])
    return [
        *steps,
        ("RecommendationIssued", recommendation(case_id)),
        ("SanctionImposed", sanction(case_id)),
        final(case_id),
    ]


@dataclass(frozen=True)
class Register:
    """A hub publishing names, with a case in the register, one sanctioned but open, one erased."""

    hub: RunningHub
    listed: str
    still_open: str
    erased: str


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Register]:
    root = tmp_path_factory.mktemp("register")
    broker = start_ephemeral_broker(root / "broker")
    env = {"KAWAL_PUBLIC_REGISTER": "names", "KAWAL_PUBLIC_REGISTER_LEGAL_BASIS": BASIS}
    try:
        hub = start_hub(broker.url, root / "home", worker_env=env)
        try:
            ids = []
            for steps in (
                sanctioned_and_closed(),
                sanctioned_and_closed()[:-1],
                sanctioned_and_closed(),
            ):
                for event_type, record in steps:
                    hub.step(event_type, record)
                ids.append(str(steps[0][1]["envelope"]["case_id"]))
            erase = subprocess.run(
                [sys.executable, "-m", "streams.cli", "erase", ids[2], "--reason", "court order"],
                env=hub.worker.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert erase.returncode == 0, erase.stderr
            yield Register(hub, ids[0], ids[1], ids[2])
        finally:
            hub.stop()
    finally:
        broker.stop()


def get(hub: RunningHub, path: str) -> tuple[int, bytes]:
    status, _, body = http_request(f"{hub.base_url}{path}", None, {})
    return status, body


def test_only_closed_cases_with_a_final_sanction_are_listed_with_names(register: Register) -> None:
    status, body = get(register.hub, "/register?format=json")
    listed = json.loads(body)
    rows = listed["sanctions"]

    assert status == 200
    assert listed["mode"] == "names"
    assert listed["legal_basis"] == BASIS
    assert len(rows) == 2
    # The erased case stays listed, without its name.
    assert sorted(str(row["name"]) for row in rows) == ["None", SUBJECT]
    assert {row["agency"] for row in rows} == {"ppk.3374"}
    assert {row["sanction_kind"] for row in rows} == {"ALLOWANCE_CUT_25_6_MONTHS"}
    assert not [row for row in rows if "case_id" in row]


def test_the_page_and_csv_show_the_basis_and_the_name(register: Register) -> None:
    _, page = get(register.hub, "/register?lang=en")
    _, exported = get(register.hub, "/register?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))

    assert BASIS in page.decode()
    assert SUBJECT in page.decode()
    # The page shows each sanction's election, as the exports do.
    assert "<th>Election</th>" in page.decode()
    for row in rows:
        assert f"<td>{label_text('election', row['election'], 'en')}</td>" in page.decode()
    assert "Allowance" in page.decode() or "allowance" in page.decode()
    assert [sorted(rows[0])] == [sorted(
        ["agency", "region", "election", "violation", "sanction_level", "sanction_kind",
         "closed_on", "name", "generated_at"]
    )]  # fmt: skip


def test_the_csv_is_named_utf8_with_the_jakarta_day_it_was_read(register: Register) -> None:
    before = datetime.now(JAKARTA).date()
    status, headers, body = http_request(f"{register.hub.base_url}/register?format=csv", None, {})
    after = datetime.now(JAKARTA).date()

    assert status == 200
    # Without a charset a spreadsheet reads a name's letters beyond ASCII in its own code page.
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    named = {f'attachment; filename="kawal-register-{day}.csv"' for day in (before, after)}
    assert headers["Content-Disposition"] in named
    assert SUBJECT in body.decode("utf-8")


def test_the_register_is_as_of_the_read_of_the_store(register: Register) -> None:
    # Two requests a second apart of an unchanged store: one read, one "as of".
    _, first = get(register.hub, "/register?format=json")
    time.sleep(1.1)
    status, headers, body = http_request(f"{register.hub.base_url}/register?format=csv")
    _, second = get(register.hub, "/register?format=json")
    read_at = json.loads(first)["generated_at"]

    assert json.loads(second)["generated_at"] == read_at
    assert status == 200
    # Excel opened by a double click reads a name beyond ASCII as UTF-8 only after a BOM.
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row["generated_at"] for row in rows] == [read_at] * 2
    when = datetime.fromisoformat(read_at).astimezone(UTC)
    assert headers["Last-Modified"] == format_datetime(when, usegmt=True)
    assert headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    # Names are personal data: no cache keeps them, so an erasure reaches every copy.
    assert headers["Cache-Control"] == "no-store"
    again = http_request(
        f"{register.hub.base_url}/register?format=csv", None, {"If-None-Match": headers["ETag"]}
    )
    assert (again[0], again[2]) == (304, b"")


def test_agencies_mode_publishes_no_name(register: Register) -> None:
    rows = read_register(register.hub.store, register.hub.codec)

    assert len(rows) == 2
    assert all(row.name is None for row in rows)


def test_the_register_is_off_by_default(hub: RunningHub) -> None:
    status, headers, body = http_request(f"{hub.base_url}/register")
    found = problem_of(status, headers, body)

    assert (status, found["reason"]) == (404, "register_disabled")
    assert "KAWAL_PUBLIC_REGISTER" in found["detail"]


@pytest.mark.parametrize("basis", [None, "", "   "])
def test_names_need_a_legal_basis(basis: str | None) -> None:
    with pytest.raises(RegisterSetupError, match="KAWAL_PUBLIC_REGISTER_LEGAL_BASIS"):
        check_setup(RegisterMode.NAMES, basis)
    check_setup(RegisterMode.AGENCIES, basis)


def test_a_worker_asked_for_names_without_a_basis_does_not_start(tmp_path: Path) -> None:
    env = {
        "KAWAL_HOME": str(tmp_path),
        "KAWAL_BROKER_URL": "tansu://127.0.0.1:9",
        "KAWAL_PUBLIC_REGISTER": "names",
        "PATH": "/usr/bin:/bin",
    }
    started = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert started.returncode != 0
    assert "KAWAL_PUBLIC_REGISTER_LEGAL_BASIS" in started.stderr


def test_an_entry_that_does_not_decode_is_left_out(register: Register) -> None:
    rows = fold([("c1", b"\x00not avro")], register.hub.codec)

    assert rows == []


def test_a_store_that_cannot_be_read_is_a_problem(register: Register) -> None:
    table = AuditRow.__tablename__
    with register.hub.store.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        answers = {
            path: http_request(f"{register.hub.base_url}{path}")
            for path in ("/register", "/dashboard/figures.json")
        }
    finally:
        with register.hub.store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))

    for path, answer in answers.items():
        found = problem_of(*answer)
        assert (answer[0], found["reason"]) == (503, "store_unavailable"), path
        check_body(path, 503, "application/problem+json", found)


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_escaped() -> None:
    # The election and the name are the senders' text.
    election, name = '=HYPERLINK("https://example.com","pilkada-2024")', "@SUM(A1:A9)"
    row = RegisterRow(
        "ppk.3374", "3374", election, "ETHICS_BANNER", "MEDIUM", "DEMOTION_12_MONTHS",
        date(2024, 12, 2), name,
    )  # fmt: skip

    read_at = datetime(2024, 12, 3, 1, 2, 3, tzinfo=UTC)
    exported_csv = register_csv([row], RegisterMode.NAMES, read_at).decode()
    (exported,) = csv.DictReader(io.StringIO(exported_csv))

    assert (exported["election"], exported["name"]) == ("'" + election, "'" + name)
    assert (exported["agency"], exported["closed_on"]) == ("ppk.3374", "2024-12-02")
    assert exported["generated_at"] == "2024-12-03T01:02:03+00:00"


def test_figures_export_escapes_formulas_and_keeps_numbers() -> None:
    # The name is the registry's text, escaped as the senders' is.
    view = {"follow_up": [{"agency": "+cmd", "agency_name": "@SUM(A1)", "recommended": 3,
                           "followed_up": 0,
                           "not_followed_up": 4, "pending": 1, "overdue": 2,
                           "closed_without_follow_up": 1,
                           "follow_up_rate": -0.5}]}  # fmt: skip

    (exported,) = csv.DictReader(io.StringIO(to_csv(view, "follow_up")))

    assert exported == {"agency": "'+cmd", "recommended": "3", "followed_up": "0",
                        "not_followed_up": "4", "pending": "1", "overdue": "2",
                        "closed_without_follow_up": "1",
                        "follow_up_rate": "-0.5", "withheld_because": "",
                        "agency_name": "'@SUM(A1)"}  # fmt: skip
