"""The topic table and the planning of `kawal topics apply`: wanted against described, pure."""

from __future__ import annotations

import pytest

from streams.broker.provision import TopicConfigError, check_kept
from streams.broker.topic_plan import (
    ConfigChange,
    PartitionMismatch,
    TopicPlan,
    changes_by_topic,
    describe_change,
    plan_topics,
    same_value,
)
from streams.domain.institutions import load_institutions
from streams.topics import (
    ACCEPTED_TABLE,
    CASE_AUDIT,
    CASE_EVENTS,
    CASE_TABLE,
    DAY_MS,
    DLQ,
    TopicSpec,
    all_topics,
    changelog_topic,
    inbound_topic,
    leader_topic,
    outbound_topic,
)

FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}


def _by_name(replication: int = 1) -> dict[str, TopicSpec]:
    return {spec.name: spec for spec in all_topics(load_institutions(), 4, replication)}


def test_the_trail_and_the_case_events_are_kept_forever() -> None:
    specs = _by_name()

    assert specs[CASE_AUDIT].configs == FOREVER
    assert specs[CASE_EVENTS].configs == FOREVER


@pytest.mark.parametrize("table", [CASE_TABLE, ACCEPTED_TABLE])
def test_the_case_tables_changelogs_are_compacted(table: str) -> None:
    spec = _by_name()[changelog_topic(table)]

    assert spec.configs == {"cleanup.policy": "compact"}
    # Co-partitioned with the cases: a case's index values move with it.
    assert spec.partitions == _by_name()[CASE_AUDIT].partitions


def test_transit_topics_are_bounded_by_age() -> None:
    specs = _by_name()
    bounded = {
        inbound_topic("bkn"): 30,
        outbound_topic("bkn"): 90,
        DLQ: 90,
        leader_topic("kawal"): 1,
        leader_topic("kawal-audit-sink"): 1,
    }

    for name, days in bounded.items():
        assert specs[name].configs["cleanup.policy"] == "delete", name
        assert int(specs[name].configs["retention.ms"]) == days * DAY_MS, name


def test_every_topic_has_a_reason_and_every_institution_its_two_topics() -> None:
    specs = _by_name()
    institutions = load_institutions()

    assert all(spec.reason for spec in specs.values())
    # The case, audit, DLQ, heads, shared inbound, two changelog and two leader topics.
    assert len(specs) == 9 + 2 * len(institutions)
    assert {inbound_topic(i.id) for i in institutions} <= specs.keys()
    assert {outbound_topic(i.id) for i in institutions} <= specs.keys()


def test_min_insync_replicas_is_wanted_only_from_three_replicas() -> None:
    assert all("min.insync.replicas" not in s.configs for s in _by_name(2).values())
    assert all(s.configs["min.insync.replicas"] == "2" for s in _by_name(3).values())


def test_a_missing_topic_is_created_and_a_matching_one_left_alone() -> None:
    audit = TopicSpec(CASE_AUDIT, 4, FOREVER)
    events = TopicSpec(CASE_EVENTS, 4, FOREVER)

    plan = plan_topics([audit, events], {CASE_EVENTS: 4}, {CASE_EVENTS: dict(FOREVER)})

    assert plan == TopicPlan(create=(audit,), changes=(), mismatches=())


def test_keys_the_broker_does_not_report_and_other_values_are_changed() -> None:
    audit = TopicSpec(CASE_AUDIT, 4, FOREVER)
    described = {CASE_AUDIT: {"retention.ms": "604800000", "cleanup.policy": "delete"}}

    plan = plan_topics([audit], {CASE_AUDIT: 4}, described)

    assert plan.changes == (
        ConfigChange(CASE_AUDIT, "retention.ms", "604800000", "-1"),
        ConfigChange(CASE_AUDIT, "retention.bytes", None, "-1"),
    )


def test_a_topic_without_described_configuration_has_every_key_changed() -> None:
    audit = TopicSpec(CASE_AUDIT, 4, FOREVER)

    plan = plan_topics([audit], {CASE_AUDIT: 4}, {})

    assert [(c.key, c.current) for c in plan.changes] == [(key, None) for key in FOREVER]


def test_keys_outside_the_table_are_not_compared() -> None:
    audit = TopicSpec(CASE_AUDIT, 4, FOREVER)
    described = {CASE_AUDIT: {**FOREVER, "segment.ms": "1000", "min.insync.replicas": "1"}}

    assert plan_topics([audit], {CASE_AUDIT: 4}, described).nothing_to_do


def test_a_wrong_partition_count_is_a_mismatch_and_nothing_else() -> None:
    audit = TopicSpec(CASE_AUDIT, 4, FOREVER)

    plan = plan_topics([audit], {CASE_AUDIT: 2}, {CASE_AUDIT: {}})

    assert plan == TopicPlan(
        create=(), changes=(), mismatches=(PartitionMismatch(CASE_AUDIT, 2, 4),)
    )


def test_a_feed_is_made_with_one_partition_and_an_older_feed_keeps_its_count() -> None:
    # Feeds of four partitions, from before, stay as they are: only their configuration is
    # compared; a case topic with another count is still refused.
    specs = _by_name()
    feed, audit = specs[outbound_topic("bkn")], specs[CASE_AUDIT]
    assert (feed.partitions, feed.keeps_partitions, audit.keeps_partitions) == (1, True, False)

    plan = plan_topics([feed, audit], {feed.name: 4, CASE_AUDIT: 2}, {feed.name: {}})

    assert plan.mismatches == (PartitionMismatch(CASE_AUDIT, 2, 4),)
    assert {change.topic for change in plan.changes} == {feed.name}
    assert plan_topics([feed], {}, {}).create == (feed,)


@pytest.mark.parametrize(
    ("key", "current", "wanted", "same"),
    [
        ("cleanup.policy", "delete,compact", "compact,delete", True),
        ("cleanup.policy", "compact, delete", "compact", False),
        ("cleanup.policy", "compact", "compact", True),
        ("retention.ms", "-1", "-1", True),
        ("retention.ms", "604800000", "-1", False),
        ("retention.ms", None, "-1", False),
        ("retention.ms", "", "-1", False),
    ],
)
def test_values_are_compared_as_the_broker_means_them(
    key: str, current: str | None, wanted: str, same: bool
) -> None:
    assert same_value(key, current, wanted) is same


def test_changes_are_grouped_per_topic_for_one_request_each() -> None:
    changes = [
        ConfigChange("a", "retention.ms", None, "-1"),
        ConfigChange("b", "cleanup.policy", "delete", "compact"),
        ConfigChange("a", "retention.bytes", "1", "-1"),
    ]

    assert changes_by_topic(changes) == {
        "a": {"retention.ms": "-1", "retention.bytes": "-1"},
        "b": {"cleanup.policy": "compact"},
    }


def test_a_change_reads_as_current_to_wanted() -> None:
    assert describe_change(ConfigChange("t", "k", None, "-1")) == "t k: (not reported) -> -1"
    assert describe_change(ConfigChange("t", "k", "7", "-1")) == "t k: 7 -> -1"


def test_configuration_the_broker_accepted_but_does_not_report_is_an_error() -> None:
    still = TopicPlan((), (ConfigChange(CASE_AUDIT, "retention.ms", "604800000", "-1"),), ())

    with pytest.raises(TopicConfigError, match=r"does not report.*retention.ms: 604800000 -> -1"):
        check_kept(still)
    check_kept(TopicPlan((), (), ()))


def test_a_long_list_of_unkept_entries_is_cut_short() -> None:
    changes = tuple(ConfigChange(f"topic-{n}", "retention.ms", None, "-1") for n in range(12))
    missing = TopicSpec(CASE_EVENTS, 4, FOREVER)

    with pytest.raises(TopicConfigError) as refused:
        check_kept(TopicPlan((missing,), changes, ()))

    assert "topic-9 retention.ms" in str(refused.value)
    assert "topic-10" not in str(refused.value)
    assert "and 2 more" in str(refused.value)
    assert f"topics missing: {CASE_EVENTS}" in str(refused.value)
