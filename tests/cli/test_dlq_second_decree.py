"""A second decree for a sanctioned case, through a real hub, then ``kawal dlq list|replay``.

A case takes one decree: another one is refused as ``already_sanctioned``, which no replay
mends, and the decree the hub holds entered again under another event id as
``duplicate_event``, which needs nothing. Replay sends neither back, so replaying does not
multiply their letters (as it did while they were ``illegal_transition``: 7, 14, 21 letters
after each replay of a fresh demo's). A sanction that came before its recommendation is still
``illegal_transition``, and a replay once the recommendation is in records it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from tests.cli.dlqtools import letters_of
from tests.hubtools import RunningHub, recommendation, sanction

PPK = "ppk.3374"

pytestmark = pytest.mark.slow


def sanctioned_case(hub: RunningHub) -> tuple[str, dict[str, Any]]:
    """A case recommended and sanctioned through the hub; its id and its decree."""
    case_id = hub.open_case()
    hub.step("RecommendationIssued", recommendation(case_id))
    decree = sanction(case_id)
    hub.step("SanctionImposed", decree)
    return case_id, decree


@pytest.mark.usefixtures("dlq_cli")
def test_second_decrees_are_told_apart_and_replay_does_not_multiply_their_letters(
    dlq_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id, decree = sanctioned_case(dlq_hub)
    other = sanction(case_id)
    same = sanction(case_id) | {"decree_number": decree["decree_number"]}
    dlq_hub.publish("SanctionImposed", other)
    dlq_hub.publish("SanctionImposed", same)
    [other_letter] = letters_of(dlq_hub, other)
    [same_letter] = letters_of(dlq_hub, same)

    assert other_letter["reason_code"] == "already_sanctioned"
    assert "the hub holds another decree_number for this case" in other_letter["reason"]
    assert same_letter["reason_code"] == "duplicate_event"
    assert "nothing more is needed" in same_letter["reason"]
    # Numbers are compared, never quoted.
    assert decree["decree_number"] not in other_letter["reason"] + same_letter["reason"]
    receipts = [dlq_hub.receipts(PPK, event["envelope"]["event_id"]) for event in (other, same)]
    assert [[r["reason_code"] for r in found] for found in receipts] == [
        ["already_sanctioned"],
        ["duplicate_event"],
    ]

    assert main(["dlq", "list"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "1 of them duplicate_event: the hub holds each of these events already" in listed
    assert "1 of them already_sanctioned: each case has its decree already" in listed
    assert "ask the PPK which decree stands" in listed

    # The walkthrough's command, then the letters' own reasons: nothing is sent back.
    walkthrough = main(["dlq", "replay", "--reason", "illegal_transition"])
    second = main(["dlq", "replay", "--reason", "already_sanctioned"])
    held = main(["dlq", "replay", "--reason", "duplicate_event"])
    printed = capsys.readouterr()
    assert (walkthrough, second, held) == (EXIT_OK, EXIT_ERROR, EXIT_OK)
    assert "replayed 0, already replayed 0, not replayable 0, permanent 1" in printed.out
    assert "not replayed, already sanctioned: already_sanctioned (1): " in printed.out
    assert "not replayed, already held: duplicate_event (1): " in printed.out

    # A marker behind any record replay could have sent: same topic, same case, so the
    # worker takes it after them.
    marker = sanction(case_id)
    dlq_hub.publish("SanctionImposed", marker)
    assert [letter["reason_code"] for letter in letters_of(dlq_hub, marker)] == [
        "already_sanctioned"
    ]
    assert (len(letters_of(dlq_hub, other)), len(letters_of(dlq_hub, same))) == (1, 1)

    # Sent anyway, a second decree comes back refused, one more letter each time: what the
    # counts above would show had replay sent it.
    assert main(["dlq", "replay", "--reason", "already_sanctioned", "--include-permanent"]) == 0
    assert len(letters_of(dlq_hub, other, at_least=2)) == 2


@pytest.mark.usefixtures("dlq_cli")
def test_a_sanction_before_its_recommendation_is_replayed_and_recorded_once_it_came(
    dlq_hub: RunningHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    case_id = dlq_hub.open_case()
    early = sanction(case_id)
    dlq_hub.publish("SanctionImposed", early)
    [letter] = letters_of(dlq_hub, early)
    assert letter["reason_code"] == "illegal_transition"
    dlq_hub.step("RecommendationIssued", recommendation(case_id))

    code = main(["dlq", "replay", "--reason", "illegal_transition"])

    assert code == EXIT_OK
    assert capsys.readouterr().out.splitlines()[0].startswith("replayed 1,")
    rows = dlq_hub.wait_trail(case_id, 6)
    assert rows[-1].event_id == early["envelope"]["event_id"]
