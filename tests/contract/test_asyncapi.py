"""The generated AsyncAPI document and event docs: complete, current, and valid per AsyncAPI.

Validity is judged by the official AsyncAPI tooling (tools/asyncapi/validate.mjs: @asyncapi/parser
with the @asyncapi/specs JSON Schema and @asyncapi/avro-schema-parser), run once per module on
the committed document, a generated one with tricky schemas, and deliberately broken copies that
must fail.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastavro.schema import parse_schema, to_parsing_canonical_form

from schemas.catalog import DEFAULT_DIRECTORY, SchemaCatalog, default_catalog
from streams.contract import asyncapi
from streams.contract.asyncapi import (
    AVRO_SCHEMA_FORMAT,
    DOCS_PATH,
    POLICY_PATH,
    YAML_PATH,
    build_document,
)
from streams.contract.channels import (
    REGENERATE_COMMAND,
    ROLE_LABELS,
    AsyncApiError,
    channel_messages,
)
from streams.contract.eventdocs import build_markdown
from streams.contract.generated_files import PROJECT_ROOT
from streams.contract.rendering import avro_payload, render_yaml
from streams.domain.institutions import load_institutions
from streams.topics import APP_ID, all_topics

TOOLS = PROJECT_ROOT / "tools" / "asyncapi"
INSTALL_HINT = "npm ci --ignore-scripts --prefix tools/asyncapi"
# The only diagnostic tolerated: 3.0.0 is the version this project targets on purpose.
TOLERATED = {"asyncapi-latest-version"}

TEST_EVENT = {
    "type": "record",
    "name": "TwiceLevelled",
    "namespace": "kawal.events",
    "doc": "Test event that uses one named type twice. Only the hub emits it.",
    "kawal.emitted_by": ["hub"],
    "kawal.consumed_by": ["ppk", "appeals_body"],
    "fields": [
        {"name": "envelope", "type": "kawal.Envelope", "doc": "Event metadata."},
        {"name": "first", "type": "kawal.SanctionLevel", "doc": "A level."},
        {"name": "second", "type": ["null", "kawal.SanctionLevel"], "default": None},
        {"name": "secret", "type": "string", "doc": "Private.", "kawal.personal_data": True},
    ],
}


def committed_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / YAML_PATH).read_text("utf-8"))
    return loaded


def write_catalog(directory: Path, *extra: dict[str, Any]) -> SchemaCatalog:
    """A catalogue of the real schemas plus ``extra`` records, in ``directory``."""
    directory.mkdir()
    for path in DEFAULT_DIRECTORY.glob("*.avsc"):
        shutil.copy(path, directory / path.name)
    for schema in extra:
        name = f"{schema['namespace']}.{schema['name']}"
        (directory / f"{name}.avsc").write_text(json.dumps(schema), "utf-8")
    return SchemaCatalog(directory)


@pytest.fixture(scope="module")
def test_catalog(tmp_path_factory: pytest.TempPathFactory) -> SchemaCatalog:
    return write_catalog(tmp_path_factory.mktemp("catalog") / "avro", TEST_EVENT)


def broken_documents() -> dict[str, dict[str, Any]]:
    """Copies of the committed document, each with one defect the validator must report."""
    document = committed_document()
    missing_info = copy.deepcopy(document)
    del missing_info["info"]
    bad_avro = copy.deepcopy(document)
    payload = bad_avro["components"]["messages"]["DeadLetter"]["payload"]["schema"]
    payload["fields"][0]["type"] = "kawal.NoSuchType"
    foreign_message = copy.deepcopy(document)
    foreign_message["operations"]["sendDeadLetters"]["messages"] = [
        {"$ref": "#/channels/caseAudit/messages/AuditEntry"}
    ]
    undeclared_parameter = copy.deepcopy(document)
    parameters = undeclared_parameter["channels"]["inbound"]["parameters"]
    parameters["inst"] = parameters.pop("institution")
    return {
        "missing_info": missing_info,
        "bad_avro": bad_avro,
        "foreign_message": foreign_message,
        "undeclared_parameter": undeclared_parameter,
    }


@pytest.fixture(scope="module")
def validations(
    tmp_path_factory: pytest.TempPathFactory, test_catalog: SchemaCatalog
) -> dict[str, dict[str, Any]]:
    """Validator results keyed by case: "committed", "generated", and each broken document."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(f"the AsyncAPI tooling is not installed: needs node 20+ and `{INSTALL_HINT}`")
    directory = tmp_path_factory.mktemp("asyncapi")
    cases = {"committed": PROJECT_ROOT / YAML_PATH}
    generated = build_document(test_catalog, load_institutions(), "0.0.0")
    for name, document in {"generated": generated, **broken_documents()}.items():
        cases[name] = directory / f"{name}.yaml"
        cases[name].write_text(render_yaml(document), "utf-8")
    result = subprocess.run(
        [node, str(TOOLS / "validate.mjs"), *(str(path) for path in cases.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), f"validator crashed: {result.stderr}"
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    return dict(zip(cases, outputs, strict=True))


def problems(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in output["diagnostics"] if d["code"] not in TOLERATED]


@pytest.mark.parametrize("case", ["committed", "generated"])
def test_document_is_valid_asyncapi(validations: dict[str, dict[str, Any]], case: str) -> None:
    assert validations[case]["valid"], problems(validations[case])
    assert problems(validations[case]) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing_info", 'required property "info"'),
        ("bad_avro", "undefined type name: kawal.NoSuchType"),
        ("foreign_message", "does not belong to the specified channel"),
        ("undeclared_parameter", "Missed: institution"),
    ],
)
def test_broken_document_fails_validation(
    validations: dict[str, dict[str, Any]], case: str, expected: str
) -> None:
    output = validations[case]
    assert not output["valid"]
    errors = [d["message"] for d in output["diagnostics"] if d["severity"] == "error"]
    assert any(expected in message for message in errors), errors


def test_committed_files_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    status = asyncapi.main(["--check"])
    assert status == 0, capsys.readouterr().err


def test_check_names_stale_files_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert asyncapi.main(["--root", str(tmp_path)]) == 0
    assert asyncapi.main(["--check", "--root", str(tmp_path)]) == 0
    (tmp_path / DOCS_PATH).write_text("# edited by hand\n", "utf-8")
    (tmp_path / YAML_PATH).unlink()
    (tmp_path / POLICY_PATH).write_text("# edited by hand\n", "utf-8")
    capsys.readouterr()
    assert asyncapi.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{DOCS_PATH} is stale" in err
    assert f"{YAML_PATH} is stale" in err
    assert f"{POLICY_PATH} is stale" in err
    assert REGENERATE_COMMAND in err


def test_every_message_and_event_type_is_a_message() -> None:
    catalog = default_catalog()
    messages = committed_document()["components"]["messages"]
    for event_type in catalog.event_types():
        headers = messages[event_type]["headers"]["properties"]
        assert headers["ce_type"]["const"] == f"id.kawal.{event_type}"
    assert sorted(messages) == sorted(name.rsplit(".", 1)[-1] for name in catalog.names())


def test_payloads_are_the_catalog_schemas() -> None:
    catalog = default_catalog()
    messages = committed_document()["components"]["messages"]
    for name in catalog.names():
        payload = messages[name.rsplit(".", 1)[-1]]["payload"]
        assert payload["schemaFormat"] == AVRO_SCHEMA_FORMAT
        # Same Parsing Canonical Form, hence the same fingerprint on the wire.
        parsed = to_parsing_canonical_form(parse_schema(payload["schema"]))
        assert parsed == catalog.canonical_form(name)


def test_every_public_topic_is_a_channel() -> None:
    document = committed_document()
    patterns = [
        re.compile(re.escape(channel["address"]).replace(r"\{institution\}", "(?P<inst>.+)"))
        for channel in document["channels"].values()
    ]
    institutions = load_institutions()
    # Faust's own changelog and leader topics are internal, not part of the contract.
    public = [t.name for t in all_topics(institutions, 1) if not t.name.startswith(APP_ID + "-")]
    # case events, audit, DLQ, heads and the shared inbound topic; two per institution.
    assert len(public) == 5 + 2 * len(institutions)
    registered = {inst.id for inst in institutions}
    for topic in public:
        matches = [m for p in patterns if (m := p.fullmatch(topic))]
        assert len(matches) == 1, topic
        assert matches[0].groupdict().get("inst", "bawaslu") in registered


def test_hub_receives_inbound_and_sends_everywhere_else() -> None:
    document = committed_document()
    actions = {
        op["channel"]["$ref"].rsplit("/", 1)[-1]: op["action"]
        for op in document["operations"].values()
    }
    assert actions == {
        "inbound": "receive",
        "sharedInbound": "receive",
        "caseEvents": "send",
        "caseAudit": "send",
        "outbound": "send",
        "dlq": "send",
        "heads": "send",
    }


def test_messages_say_who_emits_and_consumes() -> None:
    for message in committed_document()["components"]["messages"].values():
        assert "Emitted by: " in message["description"]
        assert "Consumed by: " in message["description"]


def test_declared_roles_reach_descriptions_and_routing(test_catalog: SchemaCatalog) -> None:
    document = build_document(test_catalog, load_institutions(), "0.0.0")
    description = document["components"]["messages"]["TwiceLevelled"]["description"]
    assert "Emitted by: the hub itself: kawal." in description
    assert "PPK (head of the employing agency or region): ppk.3374" in description
    assert "appeals body" in description
    assert "Personal data (kawal.personal_data; redacted" in description
    routing = channel_messages(test_catalog)
    # The hub publishes its own events on kawal.inbound.kawal, so one ingress sees them all.
    assert "kawal.events.TwiceLevelled" in routing["inbound"]
    assert "kawal.events.TwiceLevelled" in routing["caseEvents"]


def test_repeated_named_type_is_defined_once(test_catalog: SchemaCatalog) -> None:
    schema = avro_payload(test_catalog, "TwiceLevelled")
    types = {field["name"]: field["type"] for field in schema["fields"]}
    assert types["first"]["name"] == "SanctionLevel"
    assert types["first"]["namespace"] == "kawal"
    assert types["second"] == ["null", "kawal.SanctionLevel"]


def test_docs_flag_personal_data() -> None:
    catalog = default_catalog()
    markdown = (PROJECT_ROOT / DOCS_PATH).read_text("utf-8")
    assert "## Personal data and redaction" in markdown
    for name in catalog.names():
        section = markdown.split(f"\n### {name.rsplit('.', 1)[-1]}\n", 1)[1].split("\n### ")[0]
        for path in catalog.personal_data_fields(name):
            assert f"`{path}`" in section
            if "." not in path:  # nested ones are flagged in their own type's table
                row = next(line for line in section.splitlines() if line.startswith(f"| `{path}`"))
                assert row.endswith("| **personal data** |")


def test_docs_list_every_topic_and_event() -> None:
    markdown = (PROJECT_ROOT / DOCS_PATH).read_text("utf-8")
    for address in ("inbound.<institution>", "case.events", "case.audit", "outbound.", "dlq"):
        assert f"| `kawal.{address}" in markdown
    for event_type in default_catalog().event_types():
        assert f"\n### {event_type}\n" in markdown
        assert f"`id.kawal.{event_type}`" in markdown


def test_output_is_deterministic_and_plain_yaml() -> None:
    catalog, institutions = default_catalog(), load_institutions()
    first = render_yaml(build_document(catalog, institutions, "1.0.0"))
    assert first == render_yaml(build_document(catalog, institutions, "1.0.0"))
    assert build_markdown(catalog, institutions) == build_markdown(catalog, institutions)
    assert not re.search(r"[&*]id\d+", first), "no YAML anchors or aliases"


def test_message_without_a_channel_is_an_error(tmp_path: Path) -> None:
    stray = {"type": "record", "name": "Stray", "namespace": "kawal", "fields": []}
    catalog = write_catalog(tmp_path / "avro", stray)
    with pytest.raises(AsyncApiError, match=r"kawal\.Stray travels on no channel"):
        channel_messages(catalog)


def test_event_without_roles_is_an_error(tmp_path: Path) -> None:
    silent = {key: value for key, value in TEST_EVENT.items() if key != "kawal.consumed_by"}
    catalog = write_catalog(tmp_path / "avro", silent)
    with pytest.raises(AsyncApiError, match=r"TwiceLevelled declares no kawal\.consumed_by"):
        build_document(catalog, load_institutions(), "0.0.0")


def test_every_role_reads_well() -> None:
    symbols = default_catalog().schema("kawal.InstitutionRole")["symbols"]
    roles = {symbol.lower() for symbol in symbols} - {"unknown"}
    assert roles <= set(ROLE_LABELS)
