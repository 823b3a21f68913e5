"""``kawal topics apply|acls|strays``: the topic table on a cluster, its ACLs, stray topics.

``apply`` creates and configures every topic of the topic table. Exit codes: 0 every topic
exists as configured (now, or already), 1 an error (the message says what to do; nothing is
changed when a partition count is wrong), 6 ``--dry-run`` found topics to create or
configuration entries to change.

``strays`` lists the inbound topics holding records the pipeline does not read
(:mod:`streams.broker.strays`) and deletes them on request. Exit codes: 0 none holds any (or
the named ones were deleted), 1 an error, 6 stray topics hold records.

``acls`` prints the Kafka ACL bindings of the hub and of every registered institution
(:mod:`streams.broker.acls`), for the cluster's manifests; it reads no broker.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from schemas.errors import KawalError
from streams.broker.acls import AclBinding, acl_matrix
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.broker.provision import ApplyResult, apply_topics
from streams.broker.strays import delete_strays, read_strays, stray_remedy
from streams.broker.topic_plan import ConfigChange
from streams.cli.arguments import positive_seconds
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_PENDING
from streams.domain.institutions import load_institutions
from streams.settings import Settings
from streams.topics import TopicSpec, all_topics, inbound_topics

DESCRIPTION = """\
Create the missing topics of the topic table (streams/topics.py) with their partition count
and configuration, and correct the configuration of existing topics. Partition counts are
checked, never changed.

exit codes: 0 every topic exists as configured (now, or already); 1 an error, the message
says what to do (a wrong partition count changes nothing); 6 --dry-run found topics to
create or configuration entries to change."""

ACLS_DESCRIPTION = """\
The Kafka ACL bindings, derived from the institution registry and the topic table: each
institution writes its inbound topic and its connectors' dead letters to kawal.dlq, reads only
its feed, the heads and its own connectors' consumer groups; only the hub writes the case,
audit, feed and head topics, and only the hub reads kawal.dlq.
Every binding allows; anything none allows is denied. Reads no broker.

exit codes: 0 printed; 1 an error (the registry cannot be read or holds an unusable id)."""

STRAYS_DESCRIPTION = """\
List the inbound topics holding records that the pipeline does not read, with what to do: a
sender's misspelt institution id, an institution of the shared lane publishing to a topic of
its own, one missing from the registry (KAWAL_INSTITUTIONS_FILE). Their records are not
processed and their senders get no receipt. Once the records were published again to the right
topic, --delete deletes the stray topics named; it refuses any topic the pipeline reads.

exit codes: 0 no stray topic holds records, or the named ones were deleted; 1 an error, the
message says what to do (nothing is deleted); 6 stray topics hold records."""

#: Footnote of a dry run whose broker describes no value for some key.
NOT_REPORTED = (
    "(not reported): the broker describes no value for the key on that topic; tansu 0.6.0, "
    "for one, reports only the keys set on a topic, never the defaults it falls back to"
)


def add_parsers(commands: Any) -> None:
    """Add ``topics apply`` to the subcommands of ``kawal``."""
    topics = commands.add_parser("topics", help="the hub's topics on the broker")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True)
    apply = topic_commands.add_parser(
        "apply",
        help="create missing topics and correct topic configurations (KAWAL_BROKER_URL)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    apply.add_argument(
        "--dry-run", action="store_true", help="only list what would be created and changed"
    )
    apply.add_argument("--json", action="store_true", help="machine-readable output")
    apply.add_argument(
        "--wait",
        type=positive_seconds,
        metavar="SECONDS",
        help="how long to wait for the broker to answer (default KAWAL_BROKER_WAIT_SECONDS)",
    )
    apply.set_defaults(run=run_topics_apply)
    acls = topic_commands.add_parser(
        "acls",
        help="the Kafka ACLs of the hub and of every institution (KAWAL_INSTITUTIONS_FILE)",
        description=ACLS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    acls.add_argument("--json", action="store_true", help="machine-readable output")
    acls.set_defaults(run=run_topics_acls)
    strays = topic_commands.add_parser(
        "strays",
        help="inbound topics holding records the pipeline does not read (KAWAL_BROKER_URL)",
        description=STRAYS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    strays.add_argument(
        "--delete", nargs="+", metavar="TOPIC", help="delete these stray topics, and only them"
    )
    strays.add_argument("--json", action="store_true", help="machine-readable output")
    strays.set_defaults(run=run_topics_strays)


def run_topics_strays(args: argparse.Namespace, settings: Settings) -> int:
    """List the stray inbound topics of the configured broker, or delete the named ones."""
    endpoint = parse_broker_url(settings.effective_broker_url)
    institutions = load_institutions(settings.institutions_file)
    read = inbound_topics(institutions)
    security = BrokerCredentials.from_settings(settings).client_kwargs()
    if args.delete:
        delete_strays(endpoint, args.delete, read, security, settings.broker_wait_seconds)
        print(f"deleted {', '.join(sorted(set(args.delete)))}")
        return EXIT_OK
    by_id = {institution.id: institution for institution in institutions}
    found = [
        {"topic": topic, "records": records, "remedy": stray_remedy(topic, by_id)}
        for topic, records in read_strays(
            endpoint, read, security, settings.broker_wait_seconds
        ).items()
    ]
    if args.json:
        print(json.dumps({"strays": found}, indent=2))
    for stray in [] if args.json else found:
        print(f"{stray['topic']}: {stray['records']} records not processed; {stray['remedy']}")
    if not found and not args.json:
        print("no inbound topic holds records the pipeline does not read")
    return EXIT_PENDING if found else EXIT_OK


def run_topics_acls(args: argparse.Namespace, settings: Settings) -> int:
    """Print the ACL matrix of the registry of ``settings``."""
    bindings = acl_matrix(load_institutions(settings.institutions_file))
    if args.json:
        print(json.dumps({"bindings": [binding.as_dict() for binding in bindings]}, indent=2))
    else:
        _print_acls(bindings)
    return EXIT_OK


def _print_acls(bindings: list[AclBinding]) -> None:
    rows = [("PRINCIPAL", "OPERATION", "RESOURCE", "PATTERN", "NAME")]
    rows += [
        (b.principal, b.operation, b.resource_type, b.pattern_type, b.resource_name)
        for b in bindings
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for *padded, name in rows:
        cells = [cell.ljust(width) for cell, width in zip(padded, widths, strict=True)]
        print("  ".join([*cells, name]))
    principals = len({binding.principal for binding in bindings})
    print(
        f"{len(bindings)} ALLOW bindings for {principals} principals; whatever none allows is "
        "denied. tansu, the embedded broker, enforces no ACL: apply these on Kafka"
    )


def run_topics_apply(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the topic table to the configured broker; print what was (or would be) done.

    Raises:
        KawalError: without ``--json``; with it, the error is printed as JSON instead.
    """
    dry_run, as_json = args.dry_run, args.json
    try:
        wait = settings.broker_wait_seconds if args.wait is None else args.wait
        result = _apply(settings, settings.effective_broker_url, dry_run=dry_run, wait=wait)
    except KawalError as exc:
        if not as_json:
            raise
        print(json.dumps({"error": str(exc)}))
        return EXIT_ERROR
    if as_json:
        print(json.dumps(_as_json(result), indent=2))
    else:
        _print(result)
    return EXIT_PENDING if dry_run and not result.nothing_to_do else EXIT_OK


def _apply(settings: Settings, broker_url: str, *, dry_run: bool, wait: float) -> ApplyResult:
    bootstrap = parse_broker_url(broker_url).bootstrap
    institutions = load_institutions(settings.institutions_file)
    specs = all_topics(institutions, settings.partitions, settings.replication)
    return apply_topics(
        bootstrap,
        specs,
        settings.replication,
        dry_run=dry_run,
        wait_seconds=wait,
        credentials=BrokerCredentials.from_settings(settings),
    )


def _as_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "create": [
            {"topic": s.name, "partitions": s.partitions, "configs": s.configs}
            for s in result.created
        ],
        "changes": [vars(change) for change in result.changes],
    }


def _print(result: ApplyResult) -> None:
    verb = "would create" if result.dry_run else "created"
    for spec in result.created:
        print(f"{verb} {spec.name} ({spec.partitions} partitions): {_configs(spec)}")
    if result.changes:
        _print_changes(result.changes)
    print(_summary(result))


def _configs(spec: TopicSpec) -> str:
    return " ".join(f"{key}={value}" for key, value in spec.configs.items())


def _print_changes(changes: tuple[ConfigChange, ...]) -> None:
    rows = [("TOPIC", "KEY", "CURRENT", "WANTED")]
    rows += [(c.topic, c.key, _current(c), c.wanted) for c in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for *padded, wanted in rows:
        cells = [cell.ljust(width) for cell, width in zip(padded, widths, strict=True)]
        print("  ".join([*cells, wanted]))
    if any(change.current is None for change in changes):
        print(NOT_REPORTED)


def _current(change: ConfigChange) -> str:
    return "(not reported)" if change.current is None else change.current


def _summary(result: ApplyResult) -> str:
    if result.nothing_to_do:
        return "every topic exists with its configuration: nothing to change"
    created, changed = len(result.created), len(result.changes)
    topics = len({change.topic for change in result.changes})
    if result.dry_run:
        return (
            f"dry run: {created} topics to create, {changed} configuration entries of "
            f"{topics} topics to change; nothing changed (run without --dry-run to apply)"
        )
    return f"created {created} topics, changed {changed} configuration entries of {topics} topics"
