"""The ministries are party to a case only once one of its deadlines was breached.

KemenPAN-RB and Kemendagri oversee follow-up: DeadlineBreached is theirs (DOMAIN.md). Under
least privilege they learn nothing of a case whose clocks all held, and everything of a
breached one that any party without a personal-data grant sees.
"""

from __future__ import annotations

from schemas.catalog import default_catalog
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import CaseLifecycle, advance, start
from streams.domain.parties import CaseParties, case_roles, parties_of_case, recipients
from streams.web.case_audience import cases_for
from streams.web.render import CaseRow
from tests.hubtools import report

INSTITUTIONS = {institution.id: institution for institution in load_institutions()}
MINISTRIES = ("kemendagri", "kemenpanrb")
CATALOG = default_catalog()


def case() -> CaseLifecycle:
    return start(report("bawaslu.33"), "bkn")  # employing agency ppk.3374 (tests.hubtools)


def breached(rule_id: str = "registration") -> CaseLifecycle:
    return advance(case(), "DeadlineBreached", {"rule_id": rule_id})


def test_a_ministry_is_no_party_to_a_case_whose_deadlines_held() -> None:
    parties = parties_of_case(case())

    assert not parties.breached
    for ministry in MINISTRIES:
        assert case_roles(INSTITUTIONS[ministry], parties) is None, ministry
    # The case's other parties keep it.
    assert case_roles(INSTITUTIONS["ppk.3374"], parties) == frozenset({"ppk"})


def test_any_breach_makes_the_ministries_parties_from_then_on() -> None:
    lifecycle = breached()
    parties = parties_of_case(lifecycle)

    assert lifecycle.deadline_breached
    assert not lifecycle.follow_up_breached
    for ministry in MINISTRIES:
        assert case_roles(INSTITUTIONS[ministry], parties) == frozenset({"ministry"}), ministry
    # Later events keep it breached: the ministry may still read what followed.
    later = advance(lifecycle, "ReportRegistered", {})
    assert parties_of_case(later).breached


def test_a_lifecycle_kept_before_every_breach_was_recorded_still_shows_its_breaches() -> None:
    kept = case().to_json()
    del kept["deadline_breached"]
    followed_up = CaseLifecycle.from_json(kept | {"follow_up_breached": True})
    clock = {"rule_id": "registration", "caused_by": "e", "due_at": "2024-01-01T00:00:00+00:00"}
    waiting = CaseLifecycle.from_json(kept | {"clocks": [clock | {"breached_at": "2024-01-02"}]})
    held = CaseLifecycle.from_json(kept | {"clocks": [clock]})

    assert followed_up
    assert waiting
    assert held
    assert parties_of_case(followed_up).breached
    assert parties_of_case(waiting).breached
    assert not parties_of_case(held).breached


def test_the_breach_itself_reaches_both_ministries_and_nothing_else_does() -> None:
    unbreached, after = parties_of_case(case()), parties_of_case(breached())

    def routed(parties: CaseParties, event_type: str) -> set[str]:
        found = recipients(CATALOG, INSTITUTIONS.values(), parties, event_type)
        return {institution.id for institution, _ in found} & set(MINISTRIES)

    # The breach that makes them parties reaches them, and only a breach does.
    assert routed(unbreached, "DeadlineBreached") == set(MINISTRIES)
    assert routed(after, "DeadlineBreached") == set(MINISTRIES)
    assert routed(after, "RecommendationIssued") == set()
    assert routed(unbreached, "ReportRegistered") == set()


def test_the_front_page_lists_a_ministry_only_its_breached_cases() -> None:
    rows = [CaseRow("held", "reported"), CaseRow("breached", "reported")]
    parties = {"held": parties_of_case(case()), "breached": parties_of_case(breached())}

    for ministry in MINISTRIES:
        shown = cases_for(rows, ministry, parties, INSTITUTIONS)
        assert [row.case_id for row in shown] == ["breached"], ministry
