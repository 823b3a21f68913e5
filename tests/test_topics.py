"""The topic table: names and partition counts."""

from __future__ import annotations

from streams.domain.institutions import load_institutions
from streams.topics import (
    HEADS,
    all_topics,
    changelog_topic,
    inbound_topic,
    institution_of_inbound,
)


def test_every_case_topic_shares_one_partition_count() -> None:
    specs = all_topics(load_institutions(), 6)
    by_name = {spec.name: spec.partitions for spec in specs}

    assert by_name[inbound_topic("bkn")] == 6
    assert by_name[changelog_topic("case-state")] == 6
    assert by_name["kawal.case.audit"] == 6
    assert institution_of_inbound(inbound_topic("ppk.3374")) == "ppk.3374"


def test_signed_heads_are_one_ordered_sequence_kept_forever() -> None:
    by_name = {spec.name: spec for spec in all_topics((), 6, replication=3)}
    heads = by_name[HEADS]
    assert heads.partitions == 1
    assert heads.configs == {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "min.insync.replicas": "2",
    }
    assert "keeps" in heads.reason
