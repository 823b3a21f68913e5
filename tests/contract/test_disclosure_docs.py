"""docs/disclosure-policy.md: generated from the bundled policy, committed as generated.

The page is the policy for people; it must say exactly what the hub applies, with every row's
reason beside it.
"""

from __future__ import annotations

import pytest

from schemas.catalog import default_catalog
from streams.contract.asyncapi import POLICY_PATH, generate
from streams.contract.disclosuredocs import build_policy_markdown, lifecycle_order
from streams.contract.generated_files import PROJECT_ROOT
from streams.domain.disclosure_policy import (
    READERS_WITHOUT_ROLE,
    DisclosurePolicy,
    load_disclosure_policy,
)

CATALOG = default_catalog()


@pytest.fixture(scope="module")
def policy() -> DisclosurePolicy:
    """The bundled policy."""
    return load_disclosure_policy(None, CATALOG)


@pytest.fixture(scope="module")
def page() -> str:
    """The committed page."""
    return (PROJECT_ROOT / POLICY_PATH).read_text("utf-8")


def matrix_row(page: str, event: str) -> list[str]:
    """The cells of ``event``'s row of the matrix."""
    line = next(line for line in page.splitlines() if line.startswith(f"| {event} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def header(page: str) -> list[str]:
    line = next(line for line in page.splitlines() if line.startswith("| event |"))
    return [cell.strip().strip("`") for cell in line.strip("|").split("|")]


def test_the_committed_page_is_the_generated_one(page: str) -> None:
    # Regenerate with `.venv/bin/python -m streams.contract.asyncapi` after editing the TOML.
    assert generate()[POLICY_PATH] == page


def test_the_page_is_deterministic(policy: DisclosurePolicy) -> None:
    assert build_policy_markdown(policy, CATALOG) == build_policy_markdown(policy, CATALOG)


def test_every_reason_is_on_the_page(policy: DisclosurePolicy, page: str) -> None:
    for grant in policy.grants:
        assert grant.why in page
    for row in policy.sees_nothing:
        assert f"- `{row.role}`, " in page
        assert row.why in page


def test_the_matrix_cells_are_the_policys_answers(policy: DisclosurePolicy, page: str) -> None:
    roles = header(page)[2:]
    assert roles[:4] == ["election_supervisor", "recommending_authority", "personnel_agency", "ppk"]
    for event in CATALOG.event_types():
        personal = CATALOG.personal_data_fields(event)
        if not personal:
            assert event in page.split("Events without personal data")[1].split("\n")[0]
            continue
        cells = matrix_row(page, event)[2:]
        for role, cell in zip(roles, cells, strict=True):
            visible = policy.visible([role], event, personal)
            assert cell == (", ".join(f"`{field}`" for field in visible) or "—"), (role, event)


def test_the_ppk_column_never_shows_the_reporter(page: str) -> None:
    ppk = header(page).index("ppk")
    report = matrix_row(page, "ReportReceived")
    assert report[ppk] == "`subject_nip`, `subject_name`"


def test_readers_without_a_role_are_listed_as_seeing_nothing(page: str) -> None:
    nothing = page.split("## Shown nothing")[1]
    for reader in READERS_WITHOUT_ROLE:
        assert f"- `{reader}`, " in nothing


def test_events_follow_the_lifecycle_and_a_new_one_comes_last() -> None:
    ordered = lifecycle_order(["CaseClosed", "ZNew", "ReportReceived", "ANew"])
    assert ordered == ["ReportReceived", "CaseClosed", "ANew", "ZNew"]
