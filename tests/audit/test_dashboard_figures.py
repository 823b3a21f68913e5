"""The dashboard's figures equal independent computations from the raw trail.

A generated mix of cases (several agencies, regions and elections, steps across the holidays
of 2024) is written through the real store code; the test then reads the stored entries back
with plain SQL, decodes them, and computes every figure itself: working days from the joint
decree's list of 2024 holidays written out below (not from the project's calendar), the Jakarta
day as UTC+7, percentiles by sorting. The projection must agree on every figure, for every
filter.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.command import run_figures
from streams.audit.figures.filters import Filters
from streams.audit.figures.named import with_names
from streams.audit.figures.view import dashboard_view
from streams.audit.public_names import public_names
from streams.audit.store import AuditStore
from streams.audit.suppression import withheld
from streams.domain.calendar import load_calendar
from streams.domain.headcounts import load_headcounts
from streams.domain.institutions import load_institutions
from streams.settings import Settings
from tests.dashboard_mix import breached, closed, generate, write
from tests.storetools import open_store

#: Weekdays off from April 2024 to January 2025: the national holidays and cuti bersama of the
#: joint decree (SKB 3 Menteri) on 2024's holidays, the regional election day of 27 November
#: 2024, and those of 2025's decree up to the end of January.
DAYS_OFF = {
    date(2024, 3, 29), date(2024, 4, 8), date(2024, 4, 9), date(2024, 4, 10),
    date(2024, 4, 11), date(2024, 4, 12), date(2024, 4, 15), date(2024, 5, 1),
    date(2024, 5, 9), date(2024, 5, 10), date(2024, 5, 23), date(2024, 5, 24),
    date(2024, 6, 17), date(2024, 6, 18), date(2024, 9, 16), date(2024, 11, 27),
    date(2024, 12, 25), date(2024, 12, 26), date(2025, 1, 1), date(2025, 1, 27),
    date(2025, 1, 28), date(2025, 1, 29),
}  # fmt: skip
WIB = timezone(timedelta(hours=7))
HEADCOUNTS = """
[[agency]]
institution = "ppk.3374"
civil_servants = 8000
as_of = 2024-06-30
source = "test figure"

[[agency]]
institution = "ppk.7371"
civil_servants = 1234
as_of = 2024-06-30
source = "test figure, second"
"""
#: Stage -> (from, to) as docs/dashboard.md defines them.
STAGES = {
    "registration": ("ReportReceived", "ReportRegistered"),
    "verification": ("ReportRegistered", "VerificationCompleted"),
    "recommendation": ("VerificationCompleted", "RecommendationIssued"),
    "follow_up": ("RecommendationIssued", "SanctionImposed"),
    "end_to_end": ("ReportReceived", "SanctionImposed"),
}
#: The names the figures give the two ends of each stage (docs/dashboard.md).
ENDS = {
    "registration": ("received", "registered"),
    "verification": ("registered", "verified"),
    "recommendation": ("verified", "recommended"),
    "follow_up": ("recommended", "followed_up"),
    "end_to_end": ("received", "followed_up"),
}
#: The headcounts of HEADCOUNTS: civil servants and source.
HEADS = {"ppk.3374": (8000, "test figure"), "ppk.7371": (1234, "test figure, second")}
FILTERS = [
    Filters(),
    Filters(election="pilkada-2024"),
    Filters(region="33"),
    Filters(region="9471", election="pemilu-2024"),
    Filters(agency="ppk.3374"),
    Filters(date_from=date(2024, 4, 1), date_to=date(2024, 6, 30)),
    Filters(election="pilkada-2024", date_from=date(2024, 12, 21), date_to=date(2025, 1, 31)),
]


def working_days(start: datetime, end: datetime) -> int:
    """Weekdays not in DAYS_OFF after start's Jakarta day, up to and including end's."""
    first, last = start.astimezone(WIB).date(), end.astimezone(WIB).date()
    between = (first + timedelta(days=n) for n in range(1, (last - first).days + 1))
    return len([day for day in between if day.weekday() < 5 and day not in DAYS_OFF])


def raw_trail(store: AuditStore, codec: AvroCodec) -> dict[str, list[dict[str, Any]]]:
    """Every case's decoded events in trail order, read with plain SQL."""
    query = text("SELECT case_id, event FROM audit_entries ORDER BY case_id, seq")
    trails: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with store.engine.connect() as conn:
        for case_id, event in conn.execute(query):
            trails[case_id].append(codec.decode(bytes(event)).record)
    return trails


def case_summary(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the expectations need of one case.

    Times are those of the first event of each type; a case verified twice (not proven, then
    proven on more information) is proven by its last verdict and was proven on the day of its
    first PROVEN one.
    """
    first_of: dict[str, dict[str, Any]] = {}
    for record in events:
        first_of.setdefault(record["envelope"]["event_type"], record)
    verdicts = [
        record for record in events if record["envelope"]["event_type"] == "VerificationCompleted"
    ]
    proven_on = [record for record in verdicts if record["verdict"] == "PROVEN"]
    issued = first_of.get("RecommendationIssued")
    recommended = issued is not None and issued["proven"]
    times = {kind: record["envelope"]["event_time"] for kind, record in first_of.items()}
    if proven_on:
        times["proven"] = proven_on[0]["envelope"]["event_time"]
    report = first_of["ReportReceived"]
    return {
        "election": report["election"],
        "region": report["region_code"],
        "agency": report["employing_agency"],
        "times": times,
        "proven": bool(verdicts) and verdicts[-1]["verdict"] == "PROVEN",
        "recommended": recommended,
        "followed_up": recommended and "SanctionImposed" in first_of,
        "sanctioned": "SanctionImposed" in first_of and "AppealDecided" not in first_of,
        "follow_up_breached": recommended
        and any(
            record["envelope"]["event_type"] == "DeadlineBreached"
            and record["rule_id"] == "recommendation_follow_up"
            for record in events
        ),
        # Closed with no sanction before it: nothing is accepted on a closed case.
        "closed_unfollowed": recommended
        and "CaseClosed" in first_of
        and "SanctionImposed" not in first_of,
    }


def of_place(case: dict[str, Any], filters: Filters) -> bool:
    return (
        filters.election in (None, case["election"])
        and filters.agency in (None, case["agency"])
        and (filters.region is None or case["region"].startswith(filters.region))
    )


def within(day: date, filters: Filters) -> bool:
    return (filters.date_from or date.min) <= day <= (filters.date_to or date.max)


def expected_figures(cases: list[dict[str, Any]], filters: Filters) -> dict[str, Any]:
    chosen = [
        case
        for case in cases
        if of_place(case, filters)
        and within(case["times"]["ReportReceived"].astimezone(WIB).date(), filters)
    ]
    return {
        "counts": {
            "received": len(chosen),
            "proven": sum(case["proven"] for case in chosen),
            "recommended": sum(case["recommended"] for case in chosen),
            "followed_up": sum(case["followed_up"] for case in chosen),
            "sanctioned": sum(case["sanctioned"] for case in chosen),
        },
        "handling_times": [expected_stage(stage, chosen) for stage in STAGES],
        "violation_ratio": expected_ratio(chosen),
        "follow_up": expected_follow_up(chosen),
        "catatan_merah": expected_red_marks(cases, filters),
    }


def expected_stage(stage: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    start, end = STAGES[stage]
    days = sorted(
        working_days(case["times"][start], case["times"][end])
        for case in cases
        if start in case["times"]
        and end in case["times"]
        and (end != "RecommendationIssued" or case["recommended"])
        and (end != "SanctionImposed" or case["followed_up"])
    )
    return {
        "stage": stage,
        "from": ENDS[stage][0],
        "to": ENDS[stage][1],
        "cases": len(days),
        "median_working_days": float(statistics.median(days)) if days else None,
        "p90_working_days": days[math.ceil(round(len(days) * 0.9, 9)) - 1] if days else None,
        "provisional": 0,
    }


def expected_ratio(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reported = Counter(case["agency"] for case in cases)
    proven = Counter(case["agency"] for case in cases if case["proven"])
    rows = []
    for agency in reported:
        count, source = HEADS.get(agency, (None, None))
        rows.append(
            {
                "agency": agency,
                "reported": reported[agency],
                "proven": proven[agency],
                "civil_servants": count,
                "proven_per_1000": round(proven[agency] / count * 1000, 3) if count else None,
                "headcount_as_of": "2024-06-30" if count else None,
                "headcount_source": source,
            }
        )
    return sorted(rows, key=lambda row: (-row["proven"], row["agency"]))


def expected_follow_up(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    recommended = Counter(case["agency"] for case in cases if case["recommended"])
    followed = Counter(case["agency"] for case in cases if case["followed_up"])
    closed = Counter(case["agency"] for case in cases if case["closed_unfollowed"])
    # A case closed after its deadline's breach was closed without follow-up, not overdue.
    ignored = Counter(
        case["agency"]
        for case in cases
        if case["follow_up_breached"] and not case["followed_up"] and not case["closed_unfollowed"]
    )
    rows = [
        {
            "agency": agency,
            "recommended": n,
            "followed_up": followed[agency],
            "not_followed_up": n - followed[agency],
            "pending": n - followed[agency] - ignored[agency] - closed[agency],
            "overdue": ignored[agency],
            "closed_without_follow_up": closed[agency],
            "follow_up_rate": round(followed[agency] / n, 4),
        }
        for agency, n in recommended.items()
    ]
    return sorted(rows, key=lambda row: (row["follow_up_rate"], -row["recommended"], row["agency"]))


def expected_red_marks(cases: list[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    days: dict[str, list[date]] = defaultdict(list)
    for case in cases:
        if case["proven"] and of_place(case, filters):
            day = case["times"]["proven"].astimezone(WIB).date()
            if within(day, filters):
                days[case["agency"]].append(day)
    rows = [
        {
            "agency": agency,
            "proven": len(found),
            "first_proven_on": min(found).isoformat(),
            "last_proven_on": max(found).isoformat(),
        }
        for agency, found in days.items()
    ]
    return sorted(rows, key=lambda row: (-row["proven"], row["agency"]))


#: K of the suppression rule in the tests of withheld values.
K = 3
#: The per-agency tables and the column naming their rows.
AGENCY_TABLES = (
    ("violation_ratio", "agency"),
    ("follow_up", "agency"),
    ("catatan_merah", "agency"),
)
#: Figure -> (the count of its row's group, the counts in it, the values computed from them).
GROUPS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "counts": ("received", ("received", "proven", "recommended", "followed_up", "sanctioned"), ()),
    "handling_times": (
        "cases",
        ("cases", "provisional"),
        ("median_working_days", "p90_working_days"),
    ),
    "violation_ratio": ("reported", ("reported", "proven"), ("proven_per_1000",)),
    "follow_up": (
        "recommended",
        (
            "recommended",
            "followed_up",
            "not_followed_up",
            "pending",
            "overdue",
            "closed_without_follow_up",
        ),
        ("follow_up_rate",),
    ),
    "catatan_merah": ("proven", ("proven",), ("first_proven_on", "last_proven_on")),
}


def rows_of(value: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else value


def row_of(
    value: dict[str, Any] | list[dict[str, Any]], key: str, want: dict[str, Any]
) -> dict[str, Any]:
    """The view's row of ``want`` (by stage or agency); a table of a selection below K has one."""
    rows = rows_of(value)
    if not key:
        return rows[0]
    found = [row for row in rows if row[key] == want[key]]
    return found[0] if found else rows[0] | {"anonymous": True}


def small_cells(row: dict[str, Any], figure: str) -> set[str]:
    """What docs/dashboard.md says must be withheld of ``row`` whatever else is, for K."""
    base, counts, details = GROUPS[figure]
    if 0 < row[base] < K:
        return {*counts, *details}
    small = {column for column in counts if 0 < row[column] < K}
    if figure == "violation_ratio" and "proven" in small:
        small.add("proven_per_1000")
    if figure == "follow_up" and small:
        small |= {*counts, *details}
    return small


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mixed_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditStore]:
    """The mix in a store of each dialect, written once: the tests only read it."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    store = open_store(request.param, tmp_path_factory.mktemp("mixed"), server)
    codec = AvroCodec(default_catalog())
    write(store, codec, generate(seed=16, count=90))
    write(store, codec, breached(seed=16, count=12))
    write(store, codec, closed(seed=16, count=9))
    yield store
    store.close()


def test_the_working_days_of_the_test_match_the_decree() -> None:
    # Friday 5 April 2024 to Tuesday 16 April: a week of Idul Fitri and cuti bersama between.
    friday = datetime(2024, 4, 5, 3, tzinfo=WIB)
    assert working_days(friday, datetime(2024, 4, 16, 9, tzinfo=WIB)) == 1
    # 17:30 UTC on Thursday 26 December is Friday 27 December in Jakarta; between Monday 23
    # and then, Christmas and its cuti bersama are off: Tuesday and Friday count.
    monday = datetime(2024, 12, 23, 10, tzinfo=WIB)
    assert working_days(monday, datetime(2024, 12, 26, 17, 30, tzinfo=UTC)) == 2


def shown_and_computed(
    store: AuditStore, filters: Filters, tmp_path: Path, min_cases: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard's view of ``store`` under ``filters``, and the figures computed apart."""
    codec = AvroCodec(default_catalog())
    heads_file = tmp_path / "headcounts.toml"
    heads_file.write_text(HEADCOUNTS, encoding="utf-8")
    cases = [case_summary(events) for events in raw_trail(store, codec).values()]
    heads = load_headcounts(heads_file)
    view = dashboard_view(store, codec, load_calendar(), heads, filters, min_cases=min_cases)
    return view, expected_figures(cases, filters)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f.as_dict()))
def test_figures_equal_an_independent_computation_from_the_raw_trail(
    mixed_store: AuditStore, filters: Filters, tmp_path: Path
) -> None:
    # K of 1 withholds nothing: every value is compared.
    view, expected = shown_and_computed(mixed_store, filters, tmp_path, min_cases=1)

    assert {figure: view[figure] for figure in expected} == expected
    assert view["skipped_entries"] == 0
    assert view["filters"] == filters.as_dict()


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f.as_dict()))
def test_with_k_every_shown_value_is_the_computed_one_and_every_small_one_is_withheld(
    mixed_store: AuditStore, filters: Filters, tmp_path: Path
) -> None:
    view, expected = shown_and_computed(mixed_store, filters, tmp_path, min_cases=K)

    assert 0 < expected["counts"]["received"] < K or view["counts"]["received"] is not None
    for figure, key in (("counts", ""), ("handling_times", "stage"), *AGENCY_TABLES):
        for want in rows_of(expected[figure]):
            got = row_of(view[figure], key, want)
            small = small_cells(want, figure)
            for column, value in want.items():
                if column in small:
                    assert got[column] is None, (figure, want, column)
                    assert column in withheld(got)
                elif column not in withheld(got):
                    assert got[column] == value, (figure, want, column)
    assert view["suppression"]["min_cases"] == K


def test_the_mix_reaches_every_figure(mixed_store: AuditStore) -> None:
    """Guards the comparison above against a mix too thin to test anything."""
    codec = AvroCodec(default_catalog())
    view = dashboard_view(mixed_store, codec, load_calendar(), {}, Filters(), min_cases=1)

    assert all(view["counts"][column] > 0 for column in view["counts"])
    assert all(row["cases"] >= 5 for row in view["handling_times"])
    assert len(view["violation_ratio"]) == 4
    assert len(view["follow_up"]) >= 3
    assert {row["follow_up_rate"] for row in view["follow_up"]} != {1.0}
    # Recommendations not followed up both within their deadline and past it, unanswered.
    assert sum(row["pending"] for row in view["follow_up"]) > 0
    assert sum(row["overdue"] for row in view["follow_up"]) > 0
    # And closed before any sanction, some after their deadline's breach.
    assert sum(row["closed_without_follow_up"] for row in view["follow_up"]) > 0
    assert view["catatan_merah"]


def test_kawal_stats_prints_the_same_figures(
    mixed_store: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    codec = AvroCodec(default_catalog())
    filters = Filters(election="pilkada-2024", region="33")
    view = dashboard_view(mixed_store, codec, load_calendar(), {}, filters, min_cases=3)
    settings = Settings(audit_db_url=mixed_store.url)

    assert run_figures(settings, filters, "json", None) == 0
    printed = json.loads(capsys.readouterr().out)

    # kawal stats names each agency beside its id, as the HTTP exports do.
    named = with_names(view, public_names(load_institutions(None)))
    for figure in ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah"):
        assert printed[figure] == named[figure]
