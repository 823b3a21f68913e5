"""HTML of the hub's read-only pages: templates in ``templates/``, Indonesian first, no script.

Pure functions from plain data to markup, so the pages can be checked without a worker. The
templates escape every value; the pages never show a field the schemas mark as personal data
(the trail view has already withheld those). Times are shown in the case's region's zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from monitoring.metrics import Outcome, Stage
from streams.audit.stats import COLUMNS, GROUPINGS
from streams.audit.suppression import reasons, withheld
from streams.audit.trail import WITHHELD
from streams.audit.withheld_words import noted, page_words
from streams.web.labels import label_text
from streams.web.locales import Locale
from streams.web.templating import Templates

#: Fields whose values are codes with words in data, and the kind of code each holds.
_CODED_FIELDS = {
    "violation": "violation",
    "sanction_level": "sanction",
    "sanction_kind": "sanction",
    "channel": "channel",
    "election": "election",
}


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list (no personal data).

    ``phase`` is the lifecycle phase's code, empty when another worker holds the case.
    """

    case_id: str
    phase: str
    institution: str = ""
    region: str = ""
    entries: int | None = None
    last_event_type: str = ""
    last_recorded_at: str = ""
    clocks: list[dict[str, Any]] = field(default_factory=list)
    overdue_rules: frozenset[str] = frozenset()
    follow_up_breached: bool = False
    #: Working days left (today included) of each running clock not yet due, by rule id.
    days_left: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Overview:
    """Everything the front page shows."""

    now: datetime
    cases: list[CaseRow]
    total_cases: int
    stats: dict[str, Any]
    throughput: dict[tuple[str, str], float]
    rejections: list[tuple[str, str, float]]
    #: Whether the reader is shown cases (:mod:`streams.web.case_audience`); if not, ``cases``
    #: is empty and the page says who may see them.
    cases_shown: bool = True
    #: The institution whose cases ``cases`` are, when the reader sees only those it is party
    #: to (None: every case is listed, up to the most recent ``considered``).
    party_of: str | None = None
    #: How many of the most recent cases were looked at before keeping the reader's own.
    considered: int = 0


@cache
def templates() -> Templates:
    """The hub pages' templates, loaded once."""
    return Templates("streams.web")


def overview_page(view: Overview, locale: Locale) -> str:
    """The front page: cases with status and deadlines, statistics, throughput, rejects."""
    total = {"total": "-"} | view.stats["totals"]
    groups = [(key, attribute, view.stats[key]) for key, attribute, _ in GROUPINGS]
    return templates().render(
        "overview.html",
        locale,
        now=view.now,
        cases=view.cases,
        cases_shown=view.cases_shown,
        total_cases=view.total_cases,
        party_of=view.party_of,
        # Of every case, or of the most recent only: then the reader's list may miss older ones.
        truncated=view.considered < view.total_cases,
        considered=view.considered,
        overdue=sum(1 for case in view.cases if case.overdue_rules),
        breached=sum(1 for case in view.cases if case.follow_up_breached),
        stat_groups=[*groups, ("totals", "total", [total])],
        hidden=withheld,
        because=reasons,
        withheld_stats=noted([total, *(row for _, _, rows in groups for row in rows)]),
        withheld_words=page_words(locale, view.stats.get("min_cases", 0)),
        columns=list(COLUMNS),
        throughput=view.throughput,
        # The audit sink counts its own stage, in its own process (its /metrics).
        stages=[stage.value for stage in Stage if stage is not Stage.SINK],
        outcomes=[outcome.value for outcome in Outcome],
        rejections=view.rejections,
    )


def case_page(view: dict[str, Any], case: CaseRow | None, now: datetime, locale: Locale) -> str:
    """A case's timeline from its verified trail (``streams.audit.trail.trail_view``)."""
    return templates().render(
        "case.html",
        locale,
        home_link=True,
        view=view,
        case=case,
        now=now,
        region=case.region or None if case else None,
        withheld=WITHHELD,
        shown=lambda name, value: _shown(name, value, locale),
    )


def not_found_page(case_id: str, locale: Locale, *, recording: bool = False) -> str:
    """The page of a case the audit store does not know.

    ``recording``: the hub has accepted the case, and its trail is not stored yet.
    """
    return templates().render(
        "not_found.html", locale, home_link=True, case_id=case_id, recording=recording
    )


def _shown(name: str, value: Any, locale: Locale) -> str:
    kind = _CODED_FIELDS.get(name)
    if kind is not None and isinstance(value, str):
        return label_text(kind, value, locale)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
