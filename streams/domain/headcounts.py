"""Civil servants per agency (``data/headcounts.toml``), for violations per 1,000 of them.

Each row names the agency (its institution id, e.g. ``ppk.3374``), how many civil servants it
employs, on which day that was counted and where the number comes from. The dashboard divides
an agency's proven cases by its headcount only where a row exists, and shows the source beside
the ratio. Every problem of the file is listed at once, with what to fix.

Pure domain code: no Faust, Kafka, SQL or metrics here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.domain.data_files import read_toml

#: Keys of one ``[[agency]]`` row.
KEYS = frozenset({"institution", "civil_servants", "as_of", "source"})


class HeadcountError(KawalError):
    """The headcount file cannot be read or a row is not usable."""


@dataclass(frozen=True)
class Headcount:
    """The civil servants one agency employs, as counted on a day, with the count's source."""

    institution: str
    civil_servants: int
    as_of: date
    source: str


def load_headcounts(path: Path | None = None) -> dict[str, Headcount]:
    """The headcounts by institution id, from ``path`` or the bundled ``data/headcounts.toml``.

    Raises:
        HeadcountError: the file cannot be read, or rows need fixing (each one is named).
    """
    where = str(path) if path else "the bundled streams/data/headcounts.toml"
    try:
        data = read_toml(path, "headcounts.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise HeadcountError(
            f"cannot read the headcounts {where}: {exc}; fix the TOML, or point "
            "KAWAL_HEADCOUNTS_FILE at a readable file"
        ) from exc
    reader = _Reader()
    rows = reader.rows(data)
    if reader.problems:
        listed = "".join(f"\n  - {problem}" for problem in reader.problems)
        raise HeadcountError(f"the headcounts {where} need fixing:{listed}")
    return {row.institution: row for row in rows}


@dataclass
class _Reader:
    """Reads the rows, collecting every problem so that one run lists them all."""

    problems: list[str] = field(default_factory=list)

    def rows(self, data: dict[str, Any]) -> list[Headcount]:
        for table in sorted(set(data) - {"agency"}):
            self.problems.append(f"[{table}] is not read: the file has [[agency]] rows only")
        value = data.get("agency", [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problems.append("agency must be an array of tables: begin each row [[agency]]")
            return []
        rows = [self.row(f"[[agency]] #{n}", entry) for n, entry in enumerate(value, start=1)]
        seen: set[str] = set()
        for row in rows:
            if row.institution in seen:
                self.problems.append(f"{row.institution} has two rows: keep one")
            seen.add(row.institution)
        return rows

    def row(self, label: str, entry: dict[str, Any]) -> Headcount:
        for key in sorted(set(entry) - KEYS):
            self.problems.append(f"{label}: {key} is not a known key ({', '.join(sorted(KEYS))})")
        institution = self.text(label, entry, "institution", "the agency's institution id")
        count = entry.get("civil_servants")
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            self.problems.append(
                f"{label}: civil_servants must be a whole number above 0, such as 8123"
            )
            count = 0
        as_of = entry.get("as_of")
        if not isinstance(as_of, date) or isinstance(as_of, datetime):
            self.problems.append(f"{label}: as_of must be a TOML date without quotes: 2024-06-30")
            as_of = date.min
        source = self.text(label, entry, "source", "the publication the number comes from")
        return Headcount(institution, count, as_of, source)

    def text(self, label: str, entry: dict[str, Any], key: str, what: str) -> str:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problems.append(f"{label}: {key} must be a non-empty text: {what}")
        return ""
