"""The ACL matrix: each institution writes its inbound topic and its connectors' dead letters,
reads its feed and the heads; only the hub writes the hub's other topics and reads the dead
letters. Checked the way Kafka's authorizer decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.broker.acls import (
    AclBinding,
    AclError,
    Operation,
    ResourceType,
    acl_matrix,
    permits,
    principal,
)
from streams.broker.lag import hub_group
from streams.cli import main
from streams.cli.topics import ACLS_DESCRIPTION
from streams.domain.institutions import HUB_INSTITUTION, Institution, load_institutions
from streams.topics import (
    APP_ID,
    CASE_AUDIT,
    CASE_EVENTS,
    DLQ,
    HEADS,
    SHARED_INBOUND,
    SINK_APP_ID,
    all_topics,
    connector_group,
    inbound_topic,
    inbound_topic_of,
    outbound_topic,
)
from tests.national import NATIONAL_REGISTRY

HUB = principal(HUB_INSTITUTION)
TOPIC, GROUP = ResourceType.TOPIC, ResourceType.GROUP
READ, WRITE, DESCRIBE = Operation.READ, Operation.WRITE, Operation.DESCRIBE

#: Ids whose topic names start with one another's: a prefix rule would leak between them.
OVERLAPPING = ("ppk", "ppk.33", "ppk.3374", "bawaslu", "bawaslu.33", "kawal")


def _registry(*ids: str) -> tuple[Institution, ...]:
    return tuple(Institution(i, "ppk", i) for i in ids)


def _topics(institutions: tuple[Institution, ...]) -> list[str]:
    """Every topic of the hub (the tree heads among them)."""
    return [spec.name for spec in all_topics(institutions, 4)]


def _institutions(institutions: tuple[Institution, ...]) -> list[str]:
    return [inst.id for inst in institutions if inst.id != HUB_INSTITUTION]


def _lanes(institutions: tuple[Institution, ...]) -> dict[str, str]:
    return {inst.id: inbound_topic_of(inst) for inst in institutions}


def _allowed(
    bindings: list[AclBinding], who: str, operation: Operation, names: list[str]
) -> set[str]:
    return {name for name in names if permits(bindings, who, operation, TOPIC, name)}


def _check_institutions(
    institutions: tuple[Institution, ...], only: tuple[str, ...] | None = None
) -> None:
    bindings = acl_matrix(institutions)
    lanes = _lanes(institutions)
    checked = only or _institutions(institutions)
    # Every topic of the checked institutions and of the hub, and the shared one.
    topics = [
        name
        for name in _topics(institutions)
        if not name.startswith(("kawal.inbound.", "kawal.outbound."))
        or name.rsplit(".", 1)[0] in ("kawal.inbound", "kawal.outbound")
        or any(name in (inbound_topic(i), outbound_topic(i)) for i in checked)
    ]
    for inst in checked:
        who = principal(inst)
        writes = [b for b in bindings if b.principal == who and b.operation is WRITE]

        assert {(b.resource_type, b.resource_name) for b in writes} == {
            (TOPIC, lanes[inst]),
            (TOPIC, DLQ),
        }
        assert _allowed(bindings, who, WRITE, topics) == {lanes[inst], DLQ}
        assert _allowed(bindings, who, READ, topics) == {outbound_topic(inst), HEADS}
        assert _allowed(bindings, who, DESCRIBE, topics) == {
            lanes[inst],
            outbound_topic(inst),
            HEADS,
            DLQ,
        }
        for other in checked:
            own = other == inst
            assert permits(bindings, who, READ, GROUP, connector_group(other, "siasn")) is own
        assert not permits(bindings, who, READ, GROUP, APP_ID)


def test_each_institution_writes_its_inbound_topic_and_reads_its_feed_only() -> None:
    _check_institutions(load_institutions())
    _check_institutions(_registry(*OVERLAPPING))


def test_the_shared_lane_writes_only_the_shared_topic_and_reads_only_its_feed() -> None:
    national = load_institutions(NATIONAL_REGISTRY)
    _check_institutions(national, ("bawaslu.33", "bawaslu.3301", "ppk.3301", "ppk.3302", "bkn"))
    bindings = acl_matrix(national)
    regency = principal("ppk.3301")

    assert permits(bindings, regency, WRITE, TOPIC, SHARED_INBOUND)
    assert not permits(bindings, regency, WRITE, TOPIC, inbound_topic("ppk.3301"))
    assert not permits(bindings, principal("bawaslu.33"), WRITE, TOPIC, SHARED_INBOUND)
    assert permits(bindings, HUB, READ, TOPIC, SHARED_INBOUND)
    assert not permits(bindings, regency, READ, TOPIC, SHARED_INBOUND)


# No deadline: one registry's matrix is checked in about 15 ms alone and took 300 ms on a busy
# two-core machine, where the default 200 ms deadline failed a correct matrix.
@settings(deadline=None)
@given(
    st.lists(
        st.from_regex(r"[a-z]{1,4}(\.[0-9]{1,4}){0,2}", fullmatch=True),
        min_size=1,
        max_size=8,
        unique=True,
    )
)
def test_no_registry_lets_an_institution_reach_another_ones_topics(ids: list[str]) -> None:
    _check_institutions(_registry(*ids))


def test_only_the_hub_writes_the_hubs_topics() -> None:
    institutions = load_institutions()
    bindings = acl_matrix(institutions)
    hub_topics = [CASE_EVENTS, CASE_AUDIT, HEADS] + [
        outbound_topic(inst.id) for inst in institutions
    ]
    principals = {binding.principal for binding in bindings}

    for topic in hub_topics:
        writers = {who for who in principals if permits(bindings, who, WRITE, TOPIC, topic)}
        assert writers == {HUB}, topic


def test_every_institution_writes_dead_letters_and_only_the_hub_reads_them() -> None:
    institutions = load_institutions()
    bindings = acl_matrix(institutions)
    principals = {binding.principal for binding in bindings}

    writers = {who for who in principals if permits(bindings, who, WRITE, TOPIC, DLQ)}
    readers = {who for who in principals if permits(bindings, who, READ, TOPIC, DLQ)}
    assert writers == {principal(inst.id) for inst in institutions} | {HUB}
    assert readers == {HUB}


def test_the_hub_reads_every_inbound_topic_and_no_feed() -> None:
    institutions = load_institutions()
    bindings = acl_matrix(institutions)

    for inst in institutions:
        assert permits(bindings, HUB, READ, TOPIC, inbound_topic(inst.id))
        assert not permits(bindings, HUB, READ, TOPIC, outbound_topic(inst.id))
    assert permits(bindings, HUB, WRITE, TOPIC, inbound_topic(HUB_INSTITUTION))  # deadline timer
    assert permits(bindings, HUB, READ, GROUP, APP_ID)
    assert permits(bindings, HUB, READ, GROUP, SINK_APP_ID)
    for topic in _topics(institutions):
        assert permits(bindings, HUB, Operation.CREATE, TOPIC, topic), topic


def test_every_binding_allows_and_has_a_reason() -> None:
    bindings = acl_matrix(load_institutions())

    assert all(b.permission == "ALLOW" and b.host == "*" and b.reason for b in bindings)
    assert len(set(bindings)) == len(bindings)


@pytest.mark.parametrize("bad", ["bkn:x", "dinas kesehatan", ""])
def test_an_id_kafka_cannot_name_is_refused(bad: str) -> None:
    with pytest.raises(AclError, match="characters Kafka refuses"):
        acl_matrix(_registry("bkn", bad))


def test_kawal_topics_acls_prints_the_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "acls", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["bindings"]
    assert main(["topics", "acls"]) == 0
    table = capsys.readouterr().out.splitlines()

    expected = acl_matrix(load_institutions())
    assert printed == [binding.as_dict() for binding in expected]
    assert table[0].split() == ["PRINCIPAL", "OPERATION", "RESOURCE", "PATTERN", "NAME"]
    assert table[1:-1] == [line for line in table[1:-1] if len(line.split()) == 5]
    assert len(table) == len(expected) + 2
    assert "enforces no ACL" in table[-1]


def test_the_help_and_the_readme_name_every_topic_an_institution_writes() -> None:
    institutions = load_institutions()
    written = {
        binding.resource_name
        for binding in acl_matrix(institutions)
        if binding.principal != principal(HUB_INSTITUTION)
        and binding.resource_type is ResourceType.TOPIC
        and binding.operation is Operation.WRITE
        and not binding.resource_name.startswith("kawal.inbound")
    }
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    acls_row = next(line for line in readme.splitlines() if "kawal topics acls" in line)

    assert written == {DLQ}
    for text in (ACLS_DESCRIPTION, acls_row):
        assert DLQ in text
        assert "writes only its inbound topic" not in text


def test_the_hub_may_describe_every_group_whose_lag_it_reads() -> None:
    institutions = load_institutions()
    bindings = acl_matrix(institutions)
    groups = [APP_ID, SINK_APP_ID, *(connector_group(i.id, "siasn") for i in institutions)]
    for group in groups:
        assert hub_group(group)
        # Kafka's ListGroups lists, and OffsetFetch answers for, only the groups the principal
        # may describe: without it a connector's lag would be missing from every reading.
        assert permits(bindings, HUB, DESCRIBE, GROUP, group), group
    for inst in institutions:
        # Describing is all: the hub joins no connector's group.
        assert not permits(bindings, HUB, READ, GROUP, connector_group(inst.id, "siasn"))
