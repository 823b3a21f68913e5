"""Two PPKs and the public read the dashboard in turn: each gets its own view, never another's.

A hub of its own, on its own broker, with a registry of two PPKs (ppk.3374 and ppk.3301), each
with one recommendation not followed up: both rows are withheld from the public.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.settings import Settings
from streams.topics import all_topics
from tests.brokers import start_ephemeral_broker
from tests.hubtools import (
    RunningHub,
    http_request,
    recommendation,
    report,
    start_hub,
    until_referral,
)

A, B = "ppk.3374", "ppk.3301"
ELECTION = f"pilkada-test-{uuid.uuid4().hex[:8]}"
#: Each PPK's real row: one recommendation, not followed up.
REAL = {
    "recommended": 1, "followed_up": 0, "not_followed_up": 1, "pending": 1, "overdue": 0,
    "closed_without_follow_up": 0, "follow_up_rate": 0.0,
}  # fmt: skip
#: Each PPK's name in the test's registry, beside its id in every row.
NAMES = {A: "PPK Pemerintah Kota Semarang", B: "PPK Kabupaten Cilacap"}
BUNDLED = Path(__file__).parents[2] / "streams" / "data" / "institutions.toml"


def registry(folder: Path) -> Path:
    """The bundled registry and one more PPK."""
    path = folder / "institutions.toml"
    extra = f'\n[[institution]]\nid = "{B}"\nrole = "ppk"\nname = "PPK Kabupaten Cilacap"\n'
    path.write_text(BUNDLED.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    root = tmp_path_factory.mktemp("two_ppks")
    broker = start_ephemeral_broker(root / "broker")
    try:
        with pytest.MonkeyPatch.context() as env:
            # The hub's processes, its keys and its topics all read this registry.
            institutions = registry(root)
            env.setenv("KAWAL_INSTITUTIONS_FILE", str(institutions))
            topics = all_topics(load_institutions(institutions), Settings().partitions)
            provision_topics([broker.bootstrap_servers], topics)
            running = start_hub(broker.url, root / "home")
            try:
                for agency, recommended in ((A, True), (B, True), (A, False)):
                    drive(running, agency, recommended=recommended)
                yield running
            finally:
                running.stop()
    finally:
        broker.stop()


def drive(hub: RunningHub, agency: str, *, recommended: bool) -> None:
    """A case of ``agency``'s civil servant in :data:`ELECTION`, referred, maybe recommended."""
    first = report() | {
        "election": ELECTION,
        "employing_agency": agency,
        "region_code": agency.removeprefix("ppk."),
    }
    case_id = first["envelope"]["case_id"]
    hub.step("ReportReceived", first)
    for event_type, record in until_referral(case_id):
        hub.step(event_type, record)
    if recommended:
        hub.step("RecommendationIssued", recommendation(case_id))


def figures(hub: RunningHub, token: str | None) -> dict[str, Any]:
    status, _, body = http_request(
        f"{hub.base_url}/dashboard/figures.json?election={ELECTION}", token
    )
    assert status == 200, body[:500]
    found: dict[str, Any] = json.loads(body)
    return found


def page(hub: RunningHub, token: str | None) -> str:
    status, _, body = http_request(f"{hub.base_url}/dashboard?election={ELECTION}&lang=en", token)
    assert status == 200, body[:500]
    return body.decode()


def rows(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["agency"]: row for row in view["follow_up"]}


def test_ppk_a_then_ppk_b_then_the_public_each_read_their_own_figures(hub: RunningHub) -> None:
    a, b = hub.token(A).secret, hub.token(B).secret

    seen = [figures(hub, token) for token in (a, b, None)]

    public = seen[2]
    assert set(rows(public)) == {A, B}
    assert all(row["follow_up_rate"] is None for row in public["follow_up"])
    assert "own_row" not in public
    for view, own, other in ((seen[0], A, B), (seen[1], B, A)):
        assert rows(view)[own] == {
            "agency": own, "agency_name": NAMES[own], **REAL, "visible_only_to": own,
        }  # fmt: skip
        assert rows(view)[other] == rows(public)[other]
        assert view["own_row"]["agency"] == own
        put_back = {key: value for key, value in view.items() if key != "own_row"}
        put_back["follow_up"] = [rows(public)[row["agency"]] for row in view["follow_up"]]
        assert json.dumps(put_back) == json.dumps(public)


def test_ppk_a_then_ppk_b_then_the_public_each_read_their_own_page(hub: RunningHub) -> None:
    a, b = hub.token(A).secret, hub.token(B).secret

    pages = [page(hub, token) for token in (a, b, None)]

    own_rows = [re.findall(r'data-own-row="([\w.]+)"', text) for text in pages]
    assert own_rows == [[A], [B], []]
    assert "visible to you alone" not in pages[2]
