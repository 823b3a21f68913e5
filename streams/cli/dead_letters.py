"""``kawal dlq list|replay``: read the dead-letter topic, send records back where they came from.

Both select letters with the same filters (``--stage``, ``--reason``, ``--source-topic``); a
filter that selects nothing names the values the letters do have, so a mistyped one shows.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.credentials import BrokerCredentials
from streams.broker.dead_letter_replay import ReplayOutcome, replay_dead_letters
from streams.broker.dead_letters import (
    DeadLetterRecord,
    ReplayFilter,
    held_values,
    read_dead_letters,
)
from streams.broker.endpoint import parse_broker_url
from streams.broker.replay_memory import Migration
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from streams.cli.terminal import one_row
from streams.domain.reasons import Reason
from streams.local.keyring import keyring_of
from streams.settings import Settings

#: The option of each field a filter selects on.
FILTER_OPTIONS = {"stage": "--stage", "reason_code": "--reason", "source_topic": "--source-topic"}
#: Letters of events the hub holds already, sent again (a re-read, a restart): no action.
ALREADY_HELD = Reason.DUPLICATE.value
#: What needs saying of them, in the listing and the replay.
HELD_MEANING = (
    "the hub holds each of these events already and answered a copy sent again (a connector's "
    "re-read or restart, or a decree it holds entered again under another event id); nothing "
    "was lost and nothing needs doing: leave them to expire"
)
#: Letters of a second decree for a case already sanctioned: no replay records it.
SECOND_DECREE = Reason.ALREADY_SANCTIONED.value
#: What needs saying of them: what to do instead of replaying.
SECOND_DECREE_MEANING = (
    "each case has its decree already and takes no second one, replayed or not: ask the PPK "
    "which decree stands for the case (each letter's reason says whether the hub holds another "
    "decree_number); a sanction changed on objection or appeal comes as AppealDecided. Replay "
    "skips them: leave them to expire"
)
#: Letters of events their case is past (streams.domain.phases): no replay records them.
PAST_STEP = Reason.CASE_PAST_STEP.value
#: What needs saying of them: what to do instead of replaying.
PAST_STEP_MEANING = (
    "each event needs a state its case has moved past for good (a step the case took "
    "already, a report it has, a decree other than its own), replayed or not: have each "
    "sender check its records against the case's trail (each letter's reason says what the "
    "case holds). Replay skips them: leave them to expire"
)
#: Letters of events whose own fields break a rule (a follow-up period of 0 days, a remedy
#: addressed to the wrong body): no replay records them, whatever the case's state.
TO_CORRECT = Reason.INVALID_CONTENT.value
#: What needs saying of them: what to do instead of replaying.
TO_CORRECT_MEANING = (
    "each event's own fields break a rule that holds whatever its case's state (each letter's "
    "reason names the field and the rule), replayed or not: the sender must send a corrected "
    "event. Replay skips them: leave them to expire"
)
#: The letters told apart, each with how the replay names them and what they mean; every
#: other letter skipped as refused for good is fixed by its sender.
TOLD_APART = {
    ALREADY_HELD: ("already held", HELD_MEANING),
    SECOND_DECREE: ("already sanctioned", SECOND_DECREE_MEANING),
    PAST_STEP: ("past their step", PAST_STEP_MEANING),
    TO_CORRECT: ("to be corrected by their sender", TO_CORRECT_MEANING),
}


def add_parsers(commands: Any) -> None:
    """Add ``dlq list`` and ``dlq replay``."""
    dlq = commands.add_parser("dlq", help="the dead-letter topic kawal.dlq")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = actions.add_parser(
        "list",
        help="dead letters, oldest first: when, where in kawal.dlq, stage, reason code, source "
        "topic:partition:offset (what --redeliver-from takes) and reason; payloads not shown",
    )
    _add_filters(listing)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_list)
    replay = actions.add_parser(
        "replay",
        help="send dead letters back to their inbound topics (only those), each once, even "
        "across a replay stopped partway or a kawal.dlq made again (a letter is remembered by "
        "what it is, not its place); letters refused for a reason no fix mends (bad_magic, "
        "bad_signature, already_sanctioned, case_past_step, invalid_content, ...) are skipped "
        "and counted, duplicate_event ones (events the hub holds already) as needing "
        "nothing; exit 1 when no selected letter is replayed and some needed it (each line "
        "says what to do instead)",
    )
    _add_filters(replay)
    replay.add_argument(
        "--include-permanent",
        action="store_true",
        help="send also the letters refused for a reason no fix mends; they are refused again "
        "(a record its topic's institution did not sign is never sent)",
    )
    replay.set_defaults(run=_replay)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", help="only this stage (ingress, connector, ...)")
    parser.add_argument("--reason", dest="reason_code", help="only this reason code")
    parser.add_argument("--source-topic", help="only records from this topic")


def _bootstrap(settings: Settings) -> list[str]:
    return list(parse_broker_url(settings.effective_broker_url).bootstrap)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    selection = ReplayFilter(args.stage, args.reason_code, args.source_topic)
    codec = AvroCodec(default_catalog())
    credentials = BrokerCredentials.from_settings(settings)
    wait = settings.broker_wait_seconds
    records = list(read_dead_letters(_bootstrap(settings), codec, credentials, wait))
    selected = sorted(
        (record for record in records if selection.matches(record)),
        key=lambda record: (record.letter["rejected_at"], record.partition, record.offset),
    )
    if args.json:
        print(json.dumps([record.summary() for record in selected], indent=2))
    else:
        _print_letters(selected)
    if selection.given() and not selected:
        print(_unmatched(held_values(records, selection)), file=sys.stderr)
    return EXIT_OK


def source_of(letter: Mapping[str, Any]) -> str:
    """Where a letter came from: ``topic:partition:offset``, or the system it was read from."""
    if letter["source_offset"] < 0:  # read from a system (``system:<connector>``), no position
        return str(letter["source_topic"])
    return f"{letter['source_topic']}:{letter['source_partition']}:{letter['source_offset']}"


def _print_letters(records: list[DeadLetterRecord]) -> None:
    rows = [
        (
            record.letter["rejected_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            record.position,
            str(record.letter["stage"]),
            str(record.letter["reason_code"]),
            source_of(record.letter),
        )
        for record in records
    ]
    header = ("REJECTED (UTC)", "DLQ", "STAGE", "REASON CODE", "SOURCE")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    if rows:
        names = "  ".join(name.ljust(width) for name, width in zip(header, widths, strict=True))
        print(f"{names}  REASON")
    for row, record in zip(rows, records, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(one_row(f"{cells}  {record.letter['reason']}"))
    print(f"{len(records)} dead letters")
    codes = Counter(str(record.letter["reason_code"]) for record in records)
    for code, (_label, meaning) in TOLD_APART.items():
        if codes[code]:
            print(f"{codes[code]} of them {code}: {meaning}")


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    selection = ReplayFilter(args.stage, args.reason_code, args.source_topic)
    codec = AvroCodec(default_catalog())
    outcome = replay_dead_letters(
        _bootstrap(settings),
        codec,
        settings.home,
        selection,
        keyring_of(settings),
        BrokerCredentials.from_settings(settings),
        settings.broker_wait_seconds,
        include_permanent=args.include_permanent,
    )
    print(
        f"replayed {outcome.replayed}, already replayed {outcome.already_replayed}, "
        f"not replayable {outcome.not_replayable}, permanent {outcome.skipped_permanent}"
    )
    if outcome.migrated is not None:
        print(_migrated(outcome.migrated))
    if outcome.copies:
        print(
            f"{outcome.copies} selected letters are copies of another one in kawal.dlq (the "
            "same letter written twice): each letter is sent once"
        )
    for position, reason in outcome.refusals:
        print(f"not replayed {position}: {reason}")
    if outcome.permanent:
        print(_permanent(outcome.permanent))
    if outcome.unmatched:
        print(_unmatched(outcome.unmatched), file=sys.stderr)
    return _replay_exit(outcome)


def _migrated(migrated: Migration) -> str:
    """What to tell of the places in kawal.dlq an earlier release remembered."""
    return (
        f"the places in kawal.dlq an earlier release remembered as replayed are now "
        f"remembered by their letters: {migrated.taken} letters found there are taken as "
        f"replayed, {migrated.gone} places hold no letter any more (expired, or the topic was "
        f"made again), {migrated.newer} letters there were rejected after the last replay (the "
        "topic was made again since) and are not taken as replayed"
    )


def _permanent(permanent: Mapping[str, int]) -> str:
    """What to tell of the letters skipped as refused for good, and what to do instead.

    A ``duplicate_event`` letter is told apart: its event stands, there is nothing to fix; so
    are ``already_sanctioned`` and ``case_past_step`` ones: their senders have nothing to fix
    in how they send, but records to check against the case's; and ``invalid_content`` ones,
    each of which its sender replaces with a corrected event.
    """
    lines = [
        f"not replayed, {label}: {code} ({permanent[code]}): {meaning}"
        for code, (label, meaning) in TOLD_APART.items()
        if permanent.get(code, 0)
    ]
    refused = sorted((code, n) for code, n in permanent.items() if code not in TOLD_APART)
    if refused:
        counts = ", ".join(f"{code} ({count})" for code, count in refused)
        lines.append(
            f"not replayed, refused for good: {counts}. Sent again they would only be refused "
            "again: have the institution that sent each fix its sender and publish the event "
            "anew (`kawal dlq list --reason CODE` shows each one's source topic); "
            "`--include-permanent` sends them anyway"
        )
    return "\n".join(lines)


def _replay_exit(outcome: ReplayOutcome) -> int:
    """1 when the replay selected letters and none of them is, or was, sent back.

    Letters of events the hub holds already need no sending: they alone make no failure.
    """
    held = outcome.permanent.get(ALREADY_HELD, 0)
    unsent = outcome.not_replayable + outcome.skipped_permanent - held
    if unsent and not (outcome.replayed or outcome.already_replayed):
        print(
            f"kawal: none of the {unsent} selected dead letters can be replayed; do what "
            "the `not replayed` lines say instead",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _unmatched(held: Mapping[str, Mapping[str, int]]) -> str:
    """What to tell of a filter that selected nothing: the values the letters do have."""
    lines = ["no dead letter matches the filter; the letters in kawal.dlq have:"]
    for name, values in held.items():
        found = ", ".join(f"{value} ({count})" for value, count in sorted(values.items()))
        lines.append(f"  {FILTER_OPTIONS[name]}: {found or 'none (kawal.dlq is empty)'}")
    return "\n".join(lines)
