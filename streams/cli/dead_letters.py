"""``kawal dlq list|replay``: read the dead-letter topic, send records back where they came from."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.credentials import BrokerCredentials
from streams.broker.dead_letters import ReplayFilter, read_dead_letters, replay_dead_letters
from streams.broker.endpoint import parse_broker_url
from streams.cli.exits import EXIT_OK
from streams.local.keyring import keyring_of
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``dlq list`` and ``dlq replay``."""
    dlq = commands.add_parser("dlq", help="the dead-letter topic kawal.dlq")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = actions.add_parser("list", help="every dead letter (payloads not shown)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_list)
    replay = actions.add_parser(
        "replay", help="send dead letters back to their inbound topics (only those)"
    )
    replay.add_argument("--stage", help="only this stage (ingress, connector, ...)")
    replay.add_argument("--reason", dest="reason_code", help="only this reason code")
    replay.add_argument("--source-topic", help="only records from this topic")
    replay.set_defaults(run=_replay)


def _bootstrap(settings: Settings) -> list[str]:
    return list(parse_broker_url(settings.effective_broker_url).bootstrap)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    codec = AvroCodec(default_catalog())
    credentials = BrokerCredentials.from_settings(settings)
    records = read_dead_letters(_bootstrap(settings), codec, credentials)
    letters = [record.summary() for record in records]
    if args.json:
        print(json.dumps(letters, indent=2))
        return EXIT_OK
    for letter in letters:
        print(
            f"{letter['dlq_position']:<10} {letter['stage']:<10} {letter['reason_code']:<22} "
            f"{letter['source_topic']}: {letter['reason']}"
        )
    print(f"{len(letters)} dead letters")
    return EXIT_OK


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
    )
    print(
        f"replayed {outcome.replayed}, already replayed {outcome.already_replayed}, "
        f"not replayable {outcome.not_replayable}"
    )
    for position, reason in outcome.refusals:
        print(f"not replayed {position}: {reason}")
    if outcome.unmatched:
        print(_unmatched(outcome.unmatched), file=sys.stderr)
    return EXIT_OK


#: The option of each field a replay selects on.
FILTER_OPTIONS = {"stage": "--stage", "reason_code": "--reason", "source_topic": "--source-topic"}


def _unmatched(held: Mapping[str, Mapping[str, int]]) -> str:
    """What to tell of a filter that selected nothing: the values the letters do have."""
    lines = ["no dead letter matches the filter; the letters in kawal.dlq have:"]
    for name, values in held.items():
        found = ", ".join(f"{value} ({count})" for value, count in sorted(values.items()))
        lines.append(f"  {FILTER_OPTIONS[name]}: {found or 'none (kawal.dlq is empty)'}")
    return "\n".join(lines)
