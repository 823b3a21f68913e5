"""The schema compatibility gate (``kawal schema check``) and the release command.

Institutions upgrade on their own timetables, so every message schema in ``schemas/avro`` must
stay FULL_TRANSITIVE compatible with every version ever released (``schemas/releases``): the
current schema reads what any earlier version wrote, and any earlier version reads what the
current one writes. The gate checks that three ways:

1. statically, by Avro schema resolution (:mod:`schemas.compat`), in both directions against
   every release;
2. by reading every release's golden records (``.golden.avro`` and ``.golden.json``) with the
   current schema as reader;
3. by reading records generated from the current schema with every release as reader.

The static check follows the specification; the record checks catch what fastavro actually
does (for instance a ``bytes`` to ``string`` promotion of bytes that are not UTF-8).

A released message missing from ``schemas/avro`` fails the gate. A message never released, or
changed compatibly since its latest release, is a warning until the release command snapshots
it::

    python -m schemas.gate release      # next version of every new or changed message
    python -m schemas.gate check --json # same as `kawal schema check --json`

Exit status: 0 when the gate passes (warnings allowed), 1 with failures or on an error.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastavro.schema import to_parsing_canonical_form

from schemas import golden
from schemas.catalog import DEFAULT_DIRECTORY, SchemaCatalog
from schemas.compat import Compatibility, Direction, Violation, check_compatibility
from schemas.errors import KawalError
from schemas.release_store import Release, ReleaseStore, contract_form

MODE = Compatibility.FULL_TRANSITIVE
RELEASE_COMMAND = "python -m schemas.gate release"


class ReleaseBlockedError(KawalError):
    """The release command refuses to snapshot a schema that fails the gate."""


class Severity(StrEnum):
    """A failure fails the gate; a warning is printed and passes."""

    FAILURE = "failure"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One result of the gate, with a message naming schema, versions, direction and field.

    Attributes:
        severity: failure or warning.
        schema: full name of the message.
        kind: ``incompatible``, ``golden``, ``altered_release``, ``deleted``, ``unreleased`` or
            ``changed``.
        message: the whole sentence, e.g. ``kawal.events.ReportReceived v2 (current) cannot
            read v1: field envelope.source: writer type string, reader type int``.
        reader_version: version of the reading schema, when one reads another.
        writer_version: version of the writing schema, when one reads another.
        direction: ``backward`` (current reads a release) or ``forward`` (a release reads
            current).
        path: the offending field, dotted from the message (``envelope.source``).
    """

    severity: Severity
    schema: str
    kind: str
    message: str
    reader_version: int | None = None
    writer_version: int | None = None
    direction: str | None = None
    path: str | None = None


@dataclass
class GateReport:
    """Everything the gate found, and how much it checked."""

    findings: list[Finding] = field(default_factory=list)
    schemas: int = 0
    releases: int = 0
    golden_records: int = 0

    @property
    def ok(self) -> bool:
        """Whether the gate passes: no failures (warnings allowed)."""
        return not self.failures

    @property
    def failures(self) -> list[Finding]:
        """The findings that fail the gate."""
        return [f for f in self.findings if f.severity is Severity.FAILURE]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that only warn."""
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data, for ``--json``."""
        return {
            "ok": self.ok,
            "mode": str(MODE),
            "schemas": self.schemas,
            "releases": self.releases,
            "golden_records": self.golden_records,
            "failures": [asdict(f) for f in self.failures],
            "warnings": [asdict(f) for f in self.warnings],
        }

    def lines(self) -> list[str]:
        """The report as text, one finding a line, then a summary."""
        marks = {Severity.FAILURE: "FAIL", Severity.WARNING: "WARN"}
        summary = (
            f"schema gate ({MODE}): {self.schemas} message schemas against {self.releases} "
            f"releases, {self.golden_records} golden records read: "
            f"{len(self.failures)} failures, {len(self.warnings)} warnings"
        )
        return [f"{marks[f.severity]}  {f.message}" for f in self.findings] + [summary]


def check(avro_directory: Path | None = None, releases_directory: Path | None = None) -> GateReport:
    """Runs the gate over a schema directory and a release store.

    Args:
        avro_directory: the current ``.avsc`` files; ``schemas/avro`` by default.
        releases_directory: the release store; ``schemas/releases`` by default.

    Raises:
        SchemaLoadError: a current schema cannot be loaded.
        ReleaseStoreError: a released schema cannot be loaded.
    """
    catalog = SchemaCatalog(avro_directory)
    store = ReleaseStore(releases_directory)
    report = GateReport(schemas=len(catalog.names()))
    for name in sorted(set(store.names()) - set(catalog.names())):
        report.findings.append(_deleted(name, store.releases(name), avro_directory))
    for name in catalog.names():
        releases = store.releases(name)
        report.releases += len(releases)
        if releases:
            _SchemaCheck(name, catalog.schema(name), releases, report).run()
        else:
            report.findings.append(_unreleased(name))
    return report


def release(
    avro_directory: Path | None = None, releases_directory: Path | None = None
) -> list[Release]:
    """Releases, as its next version, every message new or changed since its latest release.

    Idempotent: a message whose contract form equals its latest release gets no new version.

    Returns:
        The releases written, in name order.

    Raises:
        ReleaseBlockedError: a schema to release fails the gate; nothing is written.
    """
    catalog = SchemaCatalog(avro_directory)
    store = ReleaseStore(releases_directory)
    pending = [name for name in catalog.names() if _changed(catalog.schema(name), store, name)]
    blocking = [
        f for f in check(avro_directory, releases_directory).failures if f.schema in pending
    ]
    if blocking:
        raise ReleaseBlockedError(
            "not releasing: these schemas fail the gate, and a release is forever:\n  "
            + "\n  ".join(f.message for f in blocking)
            + "\nmake the change compatible (defaults, aliases, a new field instead of a changed "
            "one), then release again"
        )
    return [_release_one(store, name, catalog.schema(name)) for name in pending]


def run_check(
    *,
    as_json: bool = False,
    avro_directory: Path | None = None,
    releases_directory: Path | None = None,
) -> int:
    """Runs the gate, prints its report to stdout, and returns the exit status (0 or 1)."""
    report = check(avro_directory, releases_directory)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m schemas.gate``."""
    parser = argparse.ArgumentParser(prog="python -m schemas.gate", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("command", choices=("check", "release"))
    parser.add_argument("--json", action="store_true", help="machine-readable report (check)")
    parser.add_argument("--schemas", type=Path, help="directory of .avsc files")
    parser.add_argument("--releases", type=Path, help="directory of the release store")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return run_check(
                as_json=args.json, avro_directory=args.schemas, releases_directory=args.releases
            )
        written = release(args.schemas, args.releases)
        for one in written:
            print(f"released {one.full_name} {one.label} -> {one.schema_path}")
        if not written:
            print("nothing to release: every message schema matches its latest release")
        return 0
    except KawalError as exc:
        print(f"schemas.gate: {exc}", file=sys.stderr)
        return 1


class _SchemaCheck:
    """The gate for one current message schema against its releases."""

    def __init__(
        self, name: str, schema: Any, releases: tuple[Release, ...], report: GateReport
    ) -> None:
        self.name, self.schema, self.releases, self.report = name, schema, releases, report
        latest = releases[-1]
        self.changed = contract_form(schema) != contract_form(latest.schema)
        # The version the current schema would be released as.
        self.version = latest.version + 1 if self.changed else latest.version
        self.current = f"v{self.version} (current)"

    def run(self) -> None:
        failures_before = len(self.report.failures)
        earlier = [r.schema for r in self.releases]
        for violation in check_compatibility(self.schema, earlier, MODE):
            self._violation(violation)
        forward_records = golden.generate(self.schema)
        for release in self.releases:
            self._golden(release)
            self._forward(release, forward_records)
        # Suggest releasing only a change that would pass; the release command refuses others.
        if self.changed and len(self.report.failures) == failures_before:
            self._add(
                Severity.WARNING,
                "changed",
                f"{self.name} changed compatibly since {self.releases[-1].label}; run "
                f"`{RELEASE_COMMAND}` to release it as v{self.version}",
            )

    def _add(self, severity: Severity, kind: str, message: str, **details: Any) -> None:
        self.report.findings.append(Finding(severity, self.name, kind, message, **details))

    def _violation(self, violation: Violation) -> None:
        release = self.releases[violation.earlier]
        found = violation.incompatibility
        backward = violation.direction is Direction.BACKWARD
        reader, writer = (
            (self.current, release.label) if backward else (release.label, self.current)
        )
        where = f"field {found.field_path}" if found.field_path else "message type"
        self._add(
            Severity.FAILURE,
            "incompatible",
            f"{self.name} {reader} cannot read {writer}: {where}: {found.message}",
            reader_version=self.version if backward else release.version,
            writer_version=release.version if backward else self.version,
            direction=str(violation.direction),
            path=found.field_path,
        )

    def _golden(self, release: Release) -> None:
        """Reads the release's golden records with the current schema as reader."""
        try:
            embedded, records = golden.read_avro(release.golden_avro, self.schema)
        except golden.GoldenRecordError as exc:
            self._golden_failure(release, Direction.BACKWARD, f"golden records: {exc}")
        else:
            self.report.golden_records += len(records)
            self._check_unaltered(release, embedded)
        try:
            records = golden.read_json(release.golden_json, release.schema, self.schema)
        except golden.GoldenRecordError as exc:
            self._golden_failure(release, Direction.BACKWARD, f"golden records: {exc}")
        else:
            self.report.golden_records += len(records)

    def _check_unaltered(self, release: Release, embedded: Any) -> None:
        """The container file embeds the schema it was written with: a second copy of vN."""
        if to_parsing_canonical_form(embedded) != to_parsing_canonical_form(release.schema):
            self._add(
                Severity.FAILURE,
                "altered_release",
                f"{self.name} {release.label}: {release.schema_path.name} differs from the "
                f"schema {release.golden_avro.name} was written with; released versions are "
                "immutable, restore the file from version control",
                writer_version=release.version,
            )

    def _forward(self, release: Release, records: list[Any]) -> None:
        """Reads records written with the current schema with the release as reader."""
        try:
            golden.roundtrip(self.schema, release.schema, records)
        except golden.GoldenRecordError as exc:
            self._golden_failure(release, Direction.FORWARD, f"records generated from it: {exc}")

    def _golden_failure(self, release: Release, direction: Direction, problem: str) -> None:
        backward = direction is Direction.BACKWARD
        reader, writer = (
            (self.current, release.label) if backward else (release.label, self.current)
        )
        self._add(
            Severity.FAILURE,
            "golden",
            f"{self.name} {reader} cannot read {writer}: {problem}",
            reader_version=self.version if backward else release.version,
            writer_version=release.version if backward else self.version,
            direction=str(direction),
        )


def _deleted(name: str, releases: tuple[Release, ...], avro_directory: Path | None) -> Finding:
    directory = avro_directory or DEFAULT_DIRECTORY
    return Finding(
        Severity.FAILURE,
        name,
        "deleted",
        f"{name} was released ({', '.join(r.label for r in releases)}) but {name}.avsc is gone "
        f"from {directory}; institutions may still write and read it: restore the file (to "
        f"retire the message on purpose, remove its release directory in the same change)",
        writer_version=releases[-1].version if releases else None,
    )


def _unreleased(name: str) -> Finding:
    return Finding(
        Severity.WARNING,
        name,
        "unreleased",
        f"{name} is unreleased (no version in the release store); run `{RELEASE_COMMAND}` "
        "to release it as v1",
    )


def _changed(schema: Any, store: ReleaseStore, name: str) -> bool:
    latest = store.latest(name)
    return latest is None or contract_form(schema) != contract_form(latest.schema)


def _release_one(store: ReleaseStore, name: str, schema: Any) -> Release:
    records = golden.generate(schema)  # first, so a schema it cannot handle writes nothing
    written = store.add(name, schema)
    golden.write_avro(written.golden_avro, written.schema, records)
    golden.write_json(written.golden_json, written.schema, records)
    return written


if __name__ == "__main__":
    sys.exit(main())
