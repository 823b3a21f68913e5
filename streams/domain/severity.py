"""How serious a reported violation is, for triage: data, in the law's order.

``data/severity.toml`` gives each violation category a level and lists the levels most urgent
first; its header says which legal texts the split follows. A report is triaged by its
category's level; a category the table does not know (a code newer than the data) is an error
when the table is loaded against the schema, never a silent "low".
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.domain.data_files import read_toml


class SeverityDataError(KawalError):
    """The severity table cannot be read or does not fit the violation categories."""


@dataclass(frozen=True)
class SeverityTable:
    """Violation category → severity level, and the levels most urgent first."""

    levels: tuple[str, ...]
    by_category: dict[str, str]

    def level_of(self, category: str) -> str:
        """The level of ``category``; the level of ``UNKNOWN`` for a code newer than the data."""
        return self.by_category.get(category, self.by_category["UNKNOWN"])

    def rank_of(self, category: str) -> int:
        """0 for the most urgent level, then 1, ...: the triage sort key."""
        return self.levels.index(self.level_of(category))


def load_severity(categories: Collection[str], path: Path | None = None) -> SeverityTable:
    """Reads the severity table and checks it against the violation categories.

    Args:
        categories: every ``kawal.ViolationCategory`` symbol.
        path: a table to use instead of the bundled ``data/severity.toml``.

    Raises:
        SeverityDataError: unreadable, a level not in the order, or categories missing or extra.
    """
    try:
        data = read_toml(path, "severity.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SeverityDataError(f"cannot read the severity table: {exc}") from exc
    levels = _levels(data)
    by_category = _categories(data, levels)
    missing, extra = set(categories) - set(by_category), set(by_category) - set(categories)
    if missing or extra:
        raise SeverityDataError(
            "severity.toml must give every violation category a level and name no other: "
            f"missing {sorted(missing)}, unknown {sorted(extra)}"
        )
    return SeverityTable(levels, by_category)


def _levels(data: dict[str, Any]) -> tuple[str, ...]:
    order = data.get("levels", {}).get("order")
    if not (isinstance(order, list) and order and all(isinstance(x, str) for x in order)):
        raise SeverityDataError('severity.toml needs [levels] order = ["most urgent", ...]')
    if len(set(order)) != len(order):
        raise SeverityDataError("severity.toml: [levels] order names a level twice")
    return tuple(order)


def _categories(data: dict[str, Any], levels: tuple[str, ...]) -> dict[str, str]:
    table = data.get("category")
    if not isinstance(table, dict):
        raise SeverityDataError("severity.toml needs a [category] table: CATEGORY = level")
    wrong = sorted(code for code, level in table.items() if level not in levels)
    if wrong:
        raise SeverityDataError(
            f"severity.toml: {', '.join(wrong)} name a level not in [levels] order {list(levels)}"
        )
    return dict(table)
