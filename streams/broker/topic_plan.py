"""What bringing the broker's topics in line with the topic table takes: pure, no broker here.

:func:`plan_topics` compares the wanted topics (:func:`streams.topics.all_topics`) with what
the broker describes (partition counts, configuration) and says which topics to create, which
configuration entries to change and which topics have a partition count nothing can fix.
Only the keys the topic table names are compared; the broker keeps the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streams.topics import TopicSpec

#: Keys whose value is a comma-separated set (``compact,delete`` is ``delete,compact``).
LIST_KEYS = frozenset({"cleanup.policy"})


@dataclass(frozen=True)
class ConfigChange:
    """One configuration entry of an existing topic that differs from the topic table.

    Attributes:
        topic: The topic.
        key: The configuration key.
        current: Its value on the broker; ``None`` when the broker does not report the key
            (tansu 0.6.0 reports only keys set on the topic, never its defaults).
        wanted: The value the topic table wants.
    """

    topic: str
    key: str
    current: str | None
    wanted: str


@dataclass(frozen=True)
class PartitionMismatch:
    """An existing topic whose partition count is not the hub's (never changed automatically)."""

    topic: str
    actual: int
    wanted: int


@dataclass(frozen=True)
class TopicPlan:
    """Topics to create, configuration to change, and partition counts that block both."""

    create: tuple[TopicSpec, ...]
    changes: tuple[ConfigChange, ...]
    mismatches: tuple[PartitionMismatch, ...]

    @property
    def nothing_to_do(self) -> bool:
        """True when every topic exists with its partition count and configuration."""
        return not (self.create or self.changes or self.mismatches)


def plan_topics(
    specs: Iterable[TopicSpec],
    partitions: Mapping[str, int],
    configs: Mapping[str, Mapping[str, str | None]],
) -> TopicPlan:
    """Compare the wanted topics with the broker's.

    Args:
        specs: The wanted topics.
        partitions: Partition count of every topic the broker has.
        configs: Described configuration of existing topics (key to value); a topic absent
            here is compared as if the broker reported none of its keys.

    Returns:
        The plan; topics with a partition mismatch get no configuration changes.
    """
    create: list[TopicSpec] = []
    changes: list[ConfigChange] = []
    mismatches: list[PartitionMismatch] = []
    for spec in specs:
        actual = partitions.get(spec.name)
        if actual is None:
            create.append(spec)
        elif actual != spec.partitions and not spec.keeps_partitions:
            mismatches.append(PartitionMismatch(spec.name, actual, spec.partitions))
        else:
            changes += config_changes(spec, configs.get(spec.name, {}))
    return TopicPlan(tuple(create), tuple(changes), tuple(mismatches))


def config_changes(spec: TopicSpec, described: Mapping[str, str | None]) -> list[ConfigChange]:
    """The entries of ``spec.configs`` whose described value differs (or is not reported)."""
    return [
        ConfigChange(spec.name, key, described.get(key), wanted)
        for key, wanted in spec.configs.items()
        if not same_value(key, described.get(key), wanted)
    ]


def same_value(key: str, current: str | None, wanted: str) -> bool:
    """Whether the broker's ``current`` value of ``key`` is the ``wanted`` one."""
    if current is None:
        return False
    if key in LIST_KEYS:
        return _items(current) == _items(wanted)
    return current.strip() == wanted


def changes_by_topic(changes: Iterable[ConfigChange]) -> dict[str, dict[str, str]]:
    """The wanted values of ``changes``, grouped by topic (one alter request entry each)."""
    grouped: dict[str, dict[str, str]] = {}
    for change in changes:
        grouped.setdefault(change.topic, {})[change.key] = change.wanted
    return grouped


def describe_change(change: ConfigChange) -> str:
    """``topic key: current -> wanted``, naming a value the broker does not report."""
    current = "(not reported)" if change.current is None else change.current
    return f"{change.topic} {change.key}: {current} -> {change.wanted}"


def _items(value: str) -> frozenset[str]:
    return frozenset(item.strip() for item in value.split(",") if item.strip())
