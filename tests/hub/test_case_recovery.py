"""A worker on an empty data directory rebuilds the case table and the index from their changelogs.

In process (:mod:`tests.hub.tabletools`): the changelog records a worker sent are written into
new tables as Faust's recovery writes them. The rebuilt worker refuses an old duplicate and
gives a redelivery its entry again; and when only some records of the last batch reached the
broker (the worker died between them), the redelivered batch still gives the same entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faust
import pytest

from streams.hub.pipeline import Outgoing
from tests.disclosure_case import clarified, reported
from tests.hub.steptools import step_pipeline
from tests.hub.tabletools import Change, Inbound, TableWorker, decoded, entry_of, reasons, recovered


@dataclass
class Worked:
    """A worker that took a case's six events, a batch each."""

    worker: TableWorker
    inbound: Inbound
    #: Each event's record and what it produced.
    taken: list[tuple[faust.types.Message, list[Outgoing]]]
    #: The changelog records of every batch but the last.
    before: list[Change]

    def rebuilt(self, home: Path, but: str | None = None) -> TableWorker:
        """A worker rebuilt from the changelogs, but the last batch's records on ``but``."""
        last = self.worker.changelogs.sent[len(self.before) :]
        landed = self.before + [change for change in last if change[0] != but]
        return recovered(self.worker.step, home, landed)


@pytest.fixture
def worked(tmp_path: Path) -> Worked:
    step = step_pipeline(tmp_path)
    done = Worked(TableWorker.on(step, tmp_path / "first"), Inbound(step), [], [])
    events = reported()
    events += clarified(events[0][1]["envelope"]["case_id"])
    for event_type, record in events:
        done.before = list(done.worker.changelogs.sent)
        message = done.inbound.message(event_type, record)
        done.taken.append((message, done.worker.batch(message)))
    return done


def test_a_rebuilt_worker_refuses_an_old_duplicate_and_redelivers_an_old_event(
    worked: Worked, tmp_path: Path
) -> None:
    message, first = worked.taken[0]

    rebuilt = worked.rebuilt(tmp_path / "rebuilt")
    step = rebuilt.step

    # Five saves later, the first event is only in the index.
    assert reasons(step, rebuilt.batch(worked.inbound.again(message))) == ["duplicate_event"]
    assert decoded(step, rebuilt.batch(message)) == decoded(step, first)


def test_index_values_without_their_case_value_give_the_same_entry_again(
    worked: Worked, tmp_path: Path
) -> None:
    message, last = worked.taken[-1]
    case_log = worked.worker.step.table.changelog_topic.get_topic_name()

    rebuilt = worked.rebuilt(tmp_path / "rebuilt", but=case_log)
    again = rebuilt.batch(message)

    assert decoded(rebuilt.step, again) == decoded(rebuilt.step, last)
    assert entry_of(rebuilt.step, again)[0] == 6
    value = rebuilt.case_value(message.key.decode() if message.key else "")
    assert value is not None
    assert value["chain"]["seq"] == 6


def test_a_case_value_without_its_index_values_still_knows_its_latest_events(
    worked: Worked, tmp_path: Path
) -> None:
    message, last = worked.taken[-1]
    index_log = worked.worker.step.index.changelog_topic.get_topic_name()

    rebuilt = worked.rebuilt(tmp_path / "rebuilt", but=index_log)
    again = rebuilt.batch(message)
    copy = rebuilt.batch(worked.inbound.again(message))

    assert decoded(rebuilt.step, again) == decoded(rebuilt.step, last)
    assert reasons(rebuilt.step, copy) == ["duplicate_event"]
