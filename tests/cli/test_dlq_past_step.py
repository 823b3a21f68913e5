"""Events their case is past for good, through a real hub, then ``kawal dlq list|replay``.

A case's lifecycle only moves forward: a recommendation for a case already recommended (the
demo's race), a second report of a reported case, and an objection naming a decree other
than the case's can never be recorded, and are refused as ``case_past_step``. Replay sends
none back, so replaying does not multiply their letters (as it did while they were
``illegal_transition``). An event that came before the one it needs is still
``illegal_transition``, and a replay once that one is in records it.
"""

from __future__ import annotations

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from tests.cli.dlqtools import letters_of, objection
from tests.hubtools import (
    RunningHub,
    case_of,
    recommendation,
    referred,
    report,
    sanction,
    until_referral,
)

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("dlq_cli")
def test_events_their_case_is_past_are_told_apart_and_replay_does_not_multiply_them(
    dlq_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    first = referred(dlq_hub)
    case_id = case_of(first)
    dlq_hub.step("RecommendationIssued", recommendation(case_id))
    decree = sanction(case_id)
    dlq_hub.step("SanctionImposed", decree)
    late = [
        ("RecommendationIssued", recommendation(case_id)),
        ("ReportReceived", report("bawaslu.33", first["case_number"])),
        ("ObjectionFiled", objection(case_id, "800/NOT-THIS-CASE/2024")),
    ]
    for event_type, record in late:
        dlq_hub.publish(event_type, record)
    letters = [letters_of(dlq_hub, record)[0] for _type, record in late]

    assert [letter["reason_code"] for letter in letters] == ["case_past_step"] * 3
    recommended, reported, contested = (letter["reason"] for letter in letters)
    assert "the case is sanctioned, past referred" in recommended
    assert "the case was already reported" in reported
    assert "contested_decree_number is not the number of the decree" in contested
    # Numbers are compared, never quoted.
    assert decree["decree_number"] not in contested
    assert "NOT-THIS-CASE" not in contested
    receipts = [
        dlq_hub.receipts(r["envelope"]["source"], r["envelope"]["event_id"]) for _t, r in late
    ]
    assert [[r["reason_code"] for r in found] for found in receipts] == [["case_past_step"]] * 3

    assert main(["dlq", "list", "--reason", "case_past_step"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "3 of them case_past_step: each event needs a state its case has moved past" in listed

    # The walkthrough's command, then the letters' own reason: nothing is sent back.
    walkthrough = main(["dlq", "replay", "--reason", "illegal_transition"])
    past = main(["dlq", "replay", "--reason", "case_past_step"])
    printed = capsys.readouterr()
    assert (walkthrough, past) == (EXIT_OK, EXIT_ERROR)
    assert "replayed 0, already replayed 0, not replayable 0, permanent 3" in printed.out
    assert "not replayed, past their step: case_past_step (3): " in printed.out
    assert "none of the 3 selected dead letters can be replayed" in printed.err

    # A marker behind any record replay could have sent: same topics, same case, so the
    # worker takes each after them.
    markers = [("RecommendationIssued", recommendation(case_id))]
    markers.append(("ReportReceived", report("bawaslu.33", first["case_number"])))
    markers.append(("ObjectionFiled", objection(case_id, "800/NOT-THIS-CASE/2024")))
    for event_type, record in markers:
        dlq_hub.publish(event_type, record)
    for _type, record in markers:
        assert [letter["reason_code"] for letter in letters_of(dlq_hub, record)] == [
            "case_past_step"
        ]
    assert [len(letters_of(dlq_hub, record)) for _type, record in late] == [1, 1, 1]

    # Sent anyway, such an event comes back refused, one more letter each time: what the
    # counts above would show had replay sent it.
    assert main(["dlq", "replay", "--reason", "case_past_step", "--include-permanent"]) == 0
    assert len(letters_of(dlq_hub, late[0][1], at_least=2)) == 2


@pytest.mark.usefixtures("dlq_cli")
def test_a_recommendation_before_its_referral_is_replayed_and_recorded_once_it_came(
    dlq_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    first = report()
    case_id = first["envelope"]["case_id"]
    dlq_hub.step("ReportReceived", first)
    early = recommendation(case_id)
    dlq_hub.publish("RecommendationIssued", early)
    [letter] = letters_of(dlq_hub, early)
    assert letter["reason_code"] == "illegal_transition"
    assert "the case is reported, not referred" in letter["reason"]
    for event_type, record in until_referral(case_id):
        dlq_hub.step(event_type, record)

    code = main(["dlq", "replay", "--reason", "illegal_transition"])

    assert code == EXIT_OK
    assert capsys.readouterr().out.splitlines()[0].startswith("replayed 1,")
    rows = dlq_hub.wait_trail(case_id, 5)
    assert rows[-1].event_id == early["envelope"]["event_id"]
