"""Retention rules as data (``data/retention.toml``): how long a case's personal data is kept.

Law 27/2022 on personal data protection requires personal data to be erased once its retention
period has ended or the purpose it was processed for has been met. Each ``[[rule]]`` of the
file (or of ``KAWAL_RETENTION_FILE``) keeps a case's personal data for a period after a moment
of its life (``after``: ``closed`` or ``reported``), with its legal source and reason beside
it. The worker's retention timer (:mod:`streams.hub.retention_timer`) asks :func:`due_rule`,
which is pure, for every case, and erases the cases whose period ran out
(:mod:`streams.domain.erasure`).

The file is checked when it is loaded: a missing or unknown key, an id used twice, an unknown
``after``, or a period that is not whole years and days is refused, naming the file and the
rule, with what to write instead.

Example:
    >>> rules = parse_rules(
    ...     {"rule": [{"id": "closed_case", "after": "closed", "years": 5,
    ...                "legal_source": "Law 27/2022", "why": "purpose met"}]},
    ...     "(example)",
    ... )
    >>> rules[0].period
    '5 years'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from schemas.errors import KawalError
from streams.domain.data_files import read_toml
from streams.domain.erasure import REASON_MAX
from streams.domain.free_text import NAMES_SOMEONE, names_someone
from streams.domain.lifecycle import CaseLifecycle

#: The moments a period may start from, and the lifecycle field that records each.
ANCHORS = {"closed": "closed_at", "reported": "reported_at"}
#: Keys every ``[[rule]]`` needs, and the period's keys (at least one of them).
REQUIRED_KEYS = ("id", "after", "legal_source", "why")
PERIOD_KEYS = ("years", "days")
#: A rule id: lower-case letters, digits and underscores, a letter first (it travels in
#: PersonalDataErased.retention_rule and in logs).
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_FIX = "fix the file or unset KAWAL_RETENTION_FILE"


class RetentionRulesError(KawalError):
    """The retention rules cannot be read, or a rule of them is wrong."""


@dataclass(frozen=True)
class RetentionRule:
    """Keep a case's personal data ``years`` and ``days`` after it was ``after``, then erase it."""

    id: str
    #: ``closed`` or ``reported`` (:data:`ANCHORS`).
    after: str
    years: int
    days: int
    legal_source: str
    why: str

    @property
    def period(self) -> str:
        """The period in words, e.g. ``5 years`` or ``1 year and 30 days``."""
        parts = [_count(self.years, "year")] if self.years else []
        if self.days or not parts:
            parts.append(_count(self.days, "day"))
        return " and ".join(parts)

    def due_at(self, case: CaseLifecycle) -> datetime | None:
        """When the period ends for ``case``; None when the case has no such moment yet."""
        anchor: str | None = getattr(case, ANCHORS[self.after])
        return None if anchor is None else self.ends_after(datetime.fromisoformat(anchor))

    def ends_after(self, start: datetime) -> datetime:
        """When the period that began at ``start`` (a naive moment is UTC) ends."""
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        return _plus_years(start, self.years) + timedelta(days=self.days)


def next_due(
    rules: Sequence[RetentionRule], moments: Mapping[str, datetime | None]
) -> tuple[RetentionRule, datetime] | None:
    """The rule whose period ends first for a case, and when; None if no rule can start yet.

    ``moments`` holds the case's moments by ``after`` (``closed``, ``reported``), None for one
    that has not happened. The rule and moment are those the retention timer will erase the
    case by (:func:`due_rule`): the earliest end, the first rule in the file on a tie.
    """
    ends = [
        (rule.ends_after(start), position)
        for position, rule in enumerate(rules)
        if (start := moments.get(rule.after)) is not None
    ]
    if not ends:
        return None
    moment, position = min(ends)
    return rules[position], moment


def due_rule(
    rules: Sequence[RetentionRule], case: CaseLifecycle, now: datetime
) -> RetentionRule | None:
    """The rule whose period ended first for ``case`` by ``now``; None if none did.

    An erased case is never due again. Of two rules due at the same moment, the first in the
    file wins.
    """
    if case.erased_at is not None:
        return None
    due = []
    for position, rule in enumerate(rules):
        ends = rule.due_at(case)
        if ends is not None and ends <= now:
            due.append((ends, position))
    return rules[min(due)[1]] if due else None


def erasure_reason(rule: RetentionRule) -> str:
    """The reason an erasure by ``rule`` records (no personal data: the rule says it all)."""
    reason = (
        f"retention period ended: rule {rule.id} keeps personal data {rule.period} after the "
        f"case was {rule.after}; source: {rule.legal_source}"
    )
    # The vault keeps a reason of at most REASON_MAX characters; the rule's id says the rest.
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


def load_retention_rules(path: Path | None = None) -> tuple[RetentionRule, ...]:
    """The rules at ``path``, or the bundled ``data/retention.toml``, checked.

    Raises:
        RetentionRulesError: the file is unreadable, or a rule is wrong; the message names the
            file and the rule.
    """
    source = str(path or "(bundled retention.toml)")
    try:
        document = read_toml(path, "retention.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RetentionRulesError(
            f"cannot read the retention rules {source}: {exc}; {_FIX}"
        ) from exc
    return parse_rules(document, source)


def parse_rules(document: Mapping[str, Any], source: str) -> tuple[RetentionRule, ...]:
    """The rules of a parsed TOML ``document``, checked; ``source`` names it in errors.

    Raises:
        RetentionRulesError: as :func:`load_retention_rules`.
    """
    unknown = sorted(set(document) - {"rule"})
    if unknown:
        _fail(source, f"unknown table {', '.join(unknown)}; the file holds [[rule]] tables only")
    rows = document.get("rule", [])
    if not isinstance(rows, list):
        _fail(source, "rule must be an array of tables, written [[rule]]")
    rules = tuple(_rule(row, f"{source}: [[rule]] {n}") for n, row in enumerate(rows, start=1))
    seen: set[str] = set()
    for number, rule in enumerate(rules, start=1):
        if rule.id in seen:
            _fail(source, f"[[rule]] {number} repeats the id {rule.id!r}; give each rule its own")
        seen.add(rule.id)
    return rules


def _rule(row: Any, where: str) -> RetentionRule:
    if not isinstance(row, dict):
        _fail(where, "not a table; write each rule as [[rule]] followed by its keys")
    keys = f"a rule has {', '.join(REQUIRED_KEYS)} and a period in years and/or days"
    missing = [key for key in REQUIRED_KEYS if key not in row]
    if missing:
        _fail(where, f"lacks {', '.join(missing)}; {keys}")
    extra = sorted(set(row) - {*REQUIRED_KEYS, *PERIOD_KEYS})
    if extra:
        _fail(where, f"has unknown keys {', '.join(extra)}; {keys}")
    rule_id = _text(row, "id", where)
    where = f"{where} (id {rule_id!r})"
    if not _ID.fullmatch(rule_id):
        _fail(where, "the id takes 1 to 64 lower-case letters, digits and _, a letter first")
    if row["after"] not in ANCHORS:
        _fail(where, f"after must be one of: {', '.join(ANCHORS)}")
    years, days = _period(row, where)
    if names_someone(_text(row, "legal_source", where)):
        _fail(
            where,
            f"legal_source {NAMES_SOMEONE}; every erasure the rule makes quotes it to every "
            "party for good, so name the law or decision, not who approved it",
        )
    return RetentionRule(
        id=rule_id,
        after=row["after"],
        years=years,
        days=days,
        legal_source=_text(row, "legal_source", where),
        why=" ".join(_text(row, "why", where).split()),
    )


def _period(row: Mapping[str, Any], where: str) -> tuple[int, int]:
    if not any(key in row for key in PERIOD_KEYS):
        _fail(where, "needs a period: years = N and/or days = N")
    values = []
    for key in PERIOD_KEYS:
        value = row.get(key, 0)
        # bool is an int in Python; `years = true` is a slip, not a period.
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            _fail(where, f"{key} must be a whole number, 0 or more")
        values.append(value)
    return values[0], values[1]


def _text(row: Mapping[str, Any], key: str, where: str) -> str:
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        _fail(where, f"{key} must be a non-empty string")
    return value.strip()


def _fail(where: str, why: str) -> NoReturn:
    raise RetentionRulesError(f"retention rules {where}: {why}; {_FIX}")


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _plus_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        # 29 February in a year that has none: the period ends on the 28th.
        return moment.replace(year=moment.year + years, day=28)
