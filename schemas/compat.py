"""Compatibility modes: a new schema version against earlier ones, in one or both directions.

Built on :func:`schemas.resolution.incompatibilities` (the Avro 1.11 schema resolution rules):
BACKWARD means the new schema reads what the earlier one wrote, FORWARD that the earlier schema
reads what the new one writes, FULL both. The plain modes compare with the latest earlier
version only; the ``*_TRANSITIVE`` modes with every earlier version, which is what institutions
that skip versions need.

Example:
    >>> old = {"type": "record", "name": "a.R", "fields": [{"name": "x", "type": "int"}]}
    >>> new = {"type": "record", "name": "a.R", "fields": [{"name": "x", "type": "long"}]}
    >>> check_compatibility(new, [old], Compatibility.BACKWARD)
    []
    >>> [str(v) for v in check_compatibility(new, [old], Compatibility.FULL)]
    ['forward against earlier version 1: R.x: writer type long, reader type int']
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.resolution import (
    Incompatibility,
    IncompatibilityKind,
    SchemaInputError,
    incompatibilities,
)

__all__ = [
    "Compatibility",
    "Direction",
    "Incompatibility",
    "IncompatibilityKind",
    "SchemaInputError",
    "Violation",
    "check_compatibility",
    "incompatibilities",
]


class Direction(StrEnum):
    """Which of two versions reads and which writes."""

    BACKWARD = "backward"  # the new schema reads data written with the earlier one
    FORWARD = "forward"  # the earlier schema reads data written with the new one


class Compatibility(StrEnum):
    """Compatibility modes, named as in Confluent's schema registry."""

    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    FULL = "FULL"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """Whether every earlier version is checked, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def directions(self) -> tuple[Direction, ...]:
        """The directions this mode checks."""
        base = self.value.removesuffix("_TRANSITIVE")
        if base == "FULL":
            return (Direction.BACKWARD, Direction.FORWARD)
        return (Direction(base.lower()),)


@dataclass(frozen=True)
class Violation:
    """An incompatibility between a new schema and one earlier version, in one direction.

    Attributes:
        direction: backward (the new schema reads the earlier one's data) or forward.
        earlier: index of the earlier version in the sequence given, oldest first (0-based).
        incompatibility: what is wrong, and where.
    """

    direction: Direction
    earlier: int
    incompatibility: Incompatibility

    def __str__(self) -> str:
        return (
            f"{self.direction} against earlier version {self.earlier + 1}: {self.incompatibility}"
        )


def check_compatibility(
    new: Any, earlier: Sequence[Any], mode: Compatibility = Compatibility.FULL_TRANSITIVE
) -> list[Violation]:
    """Checks a new schema version against earlier ones.

    Args:
        new: the new version (Avro JSON, or a schema parsed by fastavro).
        earlier: the earlier versions, oldest first. Non-transitive modes check only the last.
        mode: which directions, and whether against every earlier version.

    Returns:
        Every violation found; empty when the new version is compatible.

    Raises:
        SchemaInputError: a schema is not valid Avro.
    """
    indexes = range(len(earlier)) if mode.transitive else range(len(earlier))[-1:]
    violations = []
    for index in indexes:
        for direction in mode.directions:
            reader, writer = (
                (new, earlier[index]) if direction is Direction.BACKWARD else (earlier[index], new)
            )
            violations += [
                Violation(direction, index, found) for found in incompatibilities(reader, writer)
            ]
    return violations
