"""Events refused for their own content, through a real hub, then ``kawal dlq list|replay``.

A recommendation giving the PPK 0 days to follow it up, or an objection filed with BPASN (an
appeal's body), breaks a rule whatever its case holds: the same bytes sent again are refused
again, so they are ``invalid_content``, not ``illegal_transition``. Replay sends none back,
``kawal dlq list`` and the rejection receipt tell the sender to send a corrected event, and
the corrected event is recorded.
"""

from __future__ import annotations

from datetime import date

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from tests.cli.dlqtools import letters_of, objection
from tests.hubtools import (
    RunningHub,
    case_of,
    envelope,
    recommendation,
    referred,
    report,
    sanction,
)

pytestmark = pytest.mark.slow

#: What every invalid_content refusal tells its sender.
CORRECTED = "the sender must send a corrected event"


@pytest.mark.usefixtures("dlq_cli")
def test_events_refused_for_their_own_content_are_told_apart_and_never_replayed(
    dlq_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    first = referred(dlq_hub)
    case_id = case_of(first)
    no_days = recommendation(case_id) | {"follow_up_days": 0}
    dlq_hub.publish("RecommendationIssued", no_days)
    [letter] = letters_of(dlq_hub, no_days)
    dlq_hub.step("RecommendationIssued", recommendation(case_id))
    decree = sanction(case_id)
    dlq_hub.step("SanctionImposed", decree)
    misaddressed = objection(case_id, decree["decree_number"], "BPASN")
    dlq_hub.publish("ObjectionFiled", misaddressed)
    letters = [letter, *letters_of(dlq_hub, misaddressed)]

    assert [letter["reason_code"] for letter in letters] == ["invalid_content"] * 2
    days, body = (letter["reason"] for letter in letters)
    assert "follow_up_days gives the PPK 1 to" in days
    assert "an objection is filed with PPK_SUPERIOR" in body
    assert all(CORRECTED in letter["reason"] for letter in letters)
    refused = [no_days, misaddressed]
    receipts = [
        dlq_hub.receipts(r["envelope"]["source"], r["envelope"]["event_id"]) for r in refused
    ]
    assert [[r["reason_code"] for r in found] for found in receipts] == [["invalid_content"]] * 2
    assert all(CORRECTED in found[0]["reason"] for found in receipts)

    assert main(["dlq", "list", "--reason", "invalid_content"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "2 of them invalid_content: each event's own fields break a rule" in listed
    assert CORRECTED in listed

    # Nothing is sent back: not as illegal_transition, not under its own code.
    order = main(["dlq", "replay", "--reason", "illegal_transition"])
    own = main(["dlq", "replay", "--reason", "invalid_content"])
    printed = capsys.readouterr()
    assert (order, own) == (EXIT_OK, EXIT_ERROR)
    assert "replayed 0, already replayed 0, not replayable 0, permanent 2" in printed.out
    assert "not replayed, to be corrected by their sender: invalid_content (2): " in printed.out
    assert "none of the 2 selected dead letters can be replayed" in printed.err

    # The corrected objection, as the receipt asked for, is recorded.
    corrected = objection(case_id, decree["decree_number"], "PPK_SUPERIOR")
    rows = dlq_hub.step("ObjectionFiled", corrected)
    assert rows[-1].event_id == corrected["envelope"]["event_id"]
    assert [len(letters_of(dlq_hub, record)) for record in refused] == [1, 1]


@pytest.mark.usefixtures("dlq_cli")
def test_a_merger_without_the_case_it_merged_into_is_invalid_content(
    dlq_hub: RunningHub,
) -> None:
    first = report()
    case_id = first["envelope"]["case_id"]
    dlq_hub.step("ReportReceived", first)
    closing = {
        "envelope": envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": "MERGED_INTO_ANOTHER_CASE",
        "closed_on": date(2024, 12, 1),
        "final_sanction": None,
        "merged_into_case_id": None,
        "remarks": None,
    }
    dlq_hub.publish("CaseClosed", closing)

    [letter] = letters_of(dlq_hub, closing)

    assert letter["reason_code"] == "invalid_content"
    assert "names the case that now holds the facts in merged_into_case_id" in letter["reason"]
