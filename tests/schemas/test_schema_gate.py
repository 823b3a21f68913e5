"""The schema gate and the release command, on the real tree and on temporary copies of it."""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from schemas import gate
from schemas.catalog import DEFAULT_DIRECTORY, SchemaCatalog
from schemas.gate import ReleaseBlockedError, Severity, check, release
from schemas.release_store import ReleaseStore, contract_form
from streams import cli


@dataclass(frozen=True)
class Tree:
    """A copy of schemas/avro and a release store of it (every message at v1)."""

    avro: Path
    releases: Path

    def check(self) -> gate.GateReport:
        return check(self.avro, self.releases)

    def release(self) -> list[Any]:
        return release(self.avro, self.releases)

    def edit(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.avro / f"{name}.avsc"
        schema = json.loads(path.read_text())
        change(schema)
        path.write_text(json.dumps(schema, indent=2))


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    copy = Tree(tmp_path / "avro", tmp_path / "releases")
    shutil.copytree(DEFAULT_DIRECTORY, copy.avro)
    copy.release()
    return copy


def field_of(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def test_gate_passes_on_the_real_tree() -> None:
    report = check()
    assert report.ok, "\n".join(f.message for f in report.failures)


def test_every_released_message_is_still_in_the_catalogue() -> None:
    report = check()
    assert report.releases >= len(ReleaseStore().names())
    assert not [f for f in report.findings if f.kind == "deleted"]


def test_kawal_schema_check_exits_0_on_the_real_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_fresh_release_passes_with_golden_records(tree: Tree) -> None:
    report = tree.check()
    assert report.findings == []
    assert report.golden_records == 2 * 3 * report.schemas  # .avro and .json, 3 records each


def test_release_is_idempotent(tree: Tree) -> None:
    assert tree.release() == []


def test_breaking_change_names_schema_versions_direction_and_field(tree: Tree) -> None:
    tree.edit("kawal.Envelope", lambda s: field_of(s, "source").update(type="int"))
    report = tree.check()
    assert not report.ok
    messages = [f.message for f in report.failures]
    assert (
        "kawal.events.ReportReceived v2 (current) cannot read v1: "
        "field envelope.source: writer type string, reader type int"
    ) in messages
    assert (
        "kawal.events.ReportReceived v1 cannot read v2 (current): "
        "field envelope.source: writer type int, reader type string"
    ) in messages
    backward = next(
        f
        for f in report.failures
        if f.schema == "kawal.events.ReportReceived" and f.direction == "backward"
    )
    assert (backward.reader_version, backward.writer_version) == (2, 1)
    assert backward.path == "envelope.source"


def test_compatible_change_warns_until_released_as_next_version(tree: Tree) -> None:
    def add_optional_field(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "retry_of", "type": ["null", "string"], "default": None})

    tree.edit("kawal.DeadLetter", add_optional_field)
    [warning] = tree.check().findings
    assert warning.severity is Severity.WARNING
    assert warning.kind == "changed"
    assert "run `python -m schemas.gate release` to release it as v2" in warning.message
    [written] = tree.release()
    assert (written.full_name, written.version) == ("kawal.DeadLetter", 2)
    assert written.golden_avro.exists()
    assert written.golden_json.exists()
    assert tree.check().findings == []


def test_doc_change_is_no_new_version(tree: Tree) -> None:
    tree.edit("kawal.DeadLetter", lambda s: s.update(doc="Reworded."))
    assert tree.check().findings == []
    assert tree.release() == []


def test_release_refuses_a_breaking_change_and_writes_nothing(tree: Tree) -> None:
    tree.edit("kawal.DeadLetter", lambda s: field_of(s, "stage").update(type="int"))
    with pytest.raises(ReleaseBlockedError, match=r"kawal\.DeadLetter v2 \(current\) cannot read"):
        tree.release()
    assert [r.version for r in ReleaseStore(tree.releases).releases("kawal.DeadLetter")] == [1]


def test_deleted_schema_fails(tree: Tree) -> None:
    (tree.avro / "kawal.DeadLetter.avsc").unlink()
    [failure] = tree.check().failures
    assert failure.kind == "deleted"
    assert failure.message.startswith("kawal.DeadLetter was released (v1) but")


def test_unreleased_schema_only_warns(tree: Tree) -> None:
    shutil.rmtree(tree.releases / "kawal.DeadLetter")
    report = tree.check()
    assert report.ok
    [warning] = report.warnings
    assert warning.kind == "unreleased"
    assert "python -m schemas.gate release" in warning.message


def test_golden_records_catch_what_the_static_check_allows(tree: Tree) -> None:
    # bytes -> string is a legal promotion by the specification, but only for UTF-8 bytes.
    tree.edit("kawal.DeadLetter", lambda s: field_of(s, "payload").update(type="string"))
    failures = tree.check().failures
    assert {f.kind for f in failures} == {"golden"}
    assert any(
        f.message.startswith("kawal.DeadLetter v2 (current) cannot read v1: golden records")
        for f in failures
    )


def test_edited_release_is_noticed(tree: Tree) -> None:
    path = tree.releases / "kawal.DeadLetter" / "v1.avsc"
    released = json.loads(path.read_text())
    field_of(released, "source_offset").update(type="int")
    path.write_text(json.dumps(released))
    kinds = {f.kind for f in tree.check().failures}
    assert "altered_release" in kinds


def test_json_report_and_exit_status(tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    tree.edit("kawal.DeadLetter", lambda s: field_of(s, "stage").update(type="int"))
    arguments = ["--schemas", str(tree.avro), "--releases", str(tree.releases)]
    assert gate.main(["check", "--json", *arguments]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["mode"] == "FULL_TRANSITIVE"
    failure = report["failures"][0]
    assert failure["schema"] == "kawal.DeadLetter"
    assert failure["path"] == "stage"
    assert failure["direction"] in ("backward", "forward")


def test_release_command_prints_what_it_released(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--schemas", str(tree.avro), "--releases", str(tree.releases)]
    assert gate.main(["release", *arguments]) == 0
    assert "nothing to release" in capsys.readouterr().out


def test_released_schema_is_self_contained_and_keeps_the_contract(tree: Tree) -> None:
    [release] = ReleaseStore(tree.releases).releases("kawal.events.ReportReceived")
    text = release.schema_path.read_text()
    assert '"name": "kawal.Envelope"' in text  # inlined, not a reference to another file
    current = json.loads((tree.avro / "kawal.events.ReportReceived.avsc").read_text())
    assert current["fields"][0]["type"] == "kawal.Envelope"
    parsed = SchemaCatalog(tree.avro).schema("kawal.events.ReportReceived")
    assert contract_form(release.schema) == contract_form(parsed)
