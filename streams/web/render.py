"""HTML of the hub's read-only pages: server-rendered, inline CSS, no script.

Pure functions from plain data to markup, so the pages can be checked without a worker. Every
value that comes from an event, a table or a metric passes :func:`esc`; the pages never show a
field the schemas mark as personal data (the trail view has already withheld those).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from monitoring.metrics import Outcome, Stage
from streams.audit.stats import COLUMNS, GROUPINGS
from streams.audit.trail import WITHHELD
from streams.domain.deadlines import is_provisional

#: Plain, readable, printable; no external fonts or images.
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #14365d; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 2px 0 0; opacity: .85; }
main { padding: 8px 24px 32px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 16px 0;
  padding: 8px 16px 14px; }
h2 { font-size: 17px; margin: 8px 0; }
h3 { font-size: 14px; margin: 12px 0 4px; }
table { border-collapse: collapse; width: 100%; }
.stats table { table-layout: fixed; }
.stats th:first-child { width: 28%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff2;
  vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, monospace; }
td a code { white-space: nowrap; }
.phase { padding: 1px 6px; border-radius: 3px; background: #e7ecf3; white-space: nowrap; }
.overdue { color: #a4161a; font-weight: 600; }
.ok { color: #1b7f3b; font-weight: 600; }
.bad { color: #a4161a; font-weight: 600; }
.muted { color: #6b7480; }
.withheld { color: #6b7480; font-style: italic; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid #14365d; }
ol.timeline li { margin: 0 0 12px 0; padding: 4px 12px; position: relative; }
ol.timeline li::before { content: ""; position: absolute; left: -8px; top: 10px; width: 13px;
  height: 13px; border-radius: 50%; background: #14365d; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 0; }
dt { color: #6b7480; }
dd { margin: 0; word-break: break-word; }
"""


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list (no personal data)."""

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


@dataclass(frozen=True)
class Overview:
    """Everything the front page shows."""

    now: datetime
    cases: list[CaseRow]
    total_cases: int
    stats: dict[str, Any]
    throughput: dict[tuple[str, str], float]
    rejections: list[tuple[str, str, float]]


def esc(value: object) -> str:
    """``value`` as text safe inside HTML content and quoted attributes."""
    return html.escape(str(value), quote=True)


def case_href(case_id: str) -> str:
    """Link to a case's page (escaped for an attribute)."""
    return esc(f"/cases/{quote(case_id, safe='')}")


def page(title: str, subtitle: str, body: Iterable[str], *, home_link: bool = False) -> str:
    """A whole HTML document with the hub's header and style."""
    link = ' · <a href="/" style="color:#fff">all cases</a>' if home_link else ""
    return "".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}{link}</p></header><main>",
            *body,
            "</main></body></html>",
        ]
    )


def overview_page(view: Overview) -> str:
    """The front page: cases with status and deadlines, statistics, throughput, rejects."""
    subtitle = f"ASN neutrality case hub · as of {view.now.strftime('%Y-%m-%d %H:%M:%S UTC')}"
    body = [
        _cases_section(view),
        _stats_section(view.stats),
        '<div class="grid">',
        _throughput_section(view.throughput),
        _rejects_section(view.rejections),
        "</div>",
    ]
    return page("Kawal hub", subtitle, body)


def _cases_section(view: Overview) -> str:
    overdue = sum(1 for case in view.cases if case.overdue_rules)
    breached = sum(1 for case in view.cases if case.follow_up_breached)
    shown = len(view.cases)
    summary = (
        f"{view.total_cases} cases; showing the {shown} most recent. "
        f"{overdue} with an overdue deadline, {breached} with a breached follow-up deadline."
    )
    head = _row(
        ["case", "status", "institution", "region", "entries", "last event", "deadlines"], "th"
    )
    rows = [_case_row(case, view.now) for case in view.cases] or [
        '<tr><td colspan="7" class="muted">no cases yet</td></tr>'
    ]
    return (
        f'<section id="cases"><h2>Cases</h2><p id="case-summary">{esc(summary)}</p>'
        f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _case_row(case: CaseRow, now: datetime) -> str:
    link = f'<a href="{case_href(case.case_id)}"><code>{esc(case.case_id)}</code></a>'
    entries = "" if case.entries is None else str(case.entries)
    last = f"{case.last_event_type} {_short_time(case.last_recorded_at)}".strip()
    return (
        f'<tr data-case="{esc(case.case_id)}"><td>{link}</td>'
        f'<td><span class="phase">{esc(case.phase)}</span></td>'
        f"<td>{esc(case.institution)}</td><td>{esc(case.region)}</td>"
        f'<td class="num">{esc(entries)}</td><td>{esc(last)}</td>'
        f"<td>{_deadlines(case, now)}</td></tr>"
    )


def _deadlines(case: CaseRow, now: datetime) -> str:
    parts = []
    for clock in case.clocks:
        due = f"{clock['rule_id']} due {_short_time(clock['due_at'])}"
        if is_provisional(clock):
            due += " (provisional: no holiday data, weekends only)"
        if clock["rule_id"] in case.overdue_rules:
            parts.append(f'<span class="overdue">OVERDUE: {esc(due)}</span>')
        else:
            parts.append(esc(due))
    if case.follow_up_breached:
        parts.append('<span class="overdue">follow-up deadline breached</span>')
    return "<br>".join(parts) or '<span class="muted">none running</span>'


def _stats_section(stats: dict[str, Any]) -> str:
    tables = [
        _stats_table(f"by {heading}", attribute, stats[key])
        for key, attribute, heading in GROUPINGS
    ]
    total = {"total": "all cases"} | stats["totals"]
    tables.append(_stats_table("totals", "total", [total]))
    notes = "".join(
        f"<dt>{esc(COLUMNS.get(name, name))}</dt><dd>{esc(text)}</dd>"
        for name, text in stats["definitions"].items()
    )
    return (
        '<section id="stats"><h2>Statistics</h2>'
        '<p class="muted">From the audit store; counts of cases, no personal data.</p>'
        f"{''.join(tables)}<h3>Definitions</h3><dl>{notes}</dl></section>"
    )


def _stats_table(heading: str, attribute: str, rows: list[dict[str, Any]]) -> str:
    head = _row([attribute, *COLUMNS.values()], "th", numeric_from=1)
    body = [
        f'<tr data-stats="{esc(attribute)}:{esc(row[attribute])}">'
        f"<td>{esc(row[attribute])}</td>"
        + "".join(f'<td class="num">{esc(row[column])}</td>' for column in COLUMNS)
        + "</tr>"
        for row in rows
    ] or [f'<tr><td colspan="{len(COLUMNS) + 1}" class="muted">no cases</td></tr>']
    table = f"<table><thead>{head}</thead>{''.join(body)}</table>"
    return f'<h3>{esc(heading)}</h3><div class="stats">{table}</div>'


def _throughput_section(throughput: dict[tuple[str, str], float]) -> str:
    outcomes = [outcome.value for outcome in Outcome]
    head = _row(["stage", *outcomes], "th", numeric_from=1)
    rows = [
        f'<tr data-stage="{esc(stage.value)}"><td>{esc(stage.value)}</td>'
        + "".join(
            f'<td class="num">{int(throughput.get((stage.value, outcome), 0))}</td>'
            for outcome in outcomes
        )
        + "</tr>"
        for stage in Stage
    ]
    return (
        '<section id="throughput"><h2>Throughput</h2>'
        '<p class="muted">Events per pipeline stage since this worker started.</p>'
        f"<table><thead>{head}</thead>{''.join(rows)}</table></section>"
    )


def _rejects_section(rejections: list[tuple[str, str, float]]) -> str:
    head = _row(["stage", "reason", "events"], "th", numeric_from=2)
    rows = [
        f'<tr data-reject="{esc(reason)}"><td>{esc(stage)}</td><td>{esc(reason)}</td>'
        f'<td class="num">{int(count)}</td></tr>'
        for stage, reason, count in rejections
    ] or ['<tr><td colspan="3" class="muted">no rejects</td></tr>']
    return (
        '<section id="rejects"><h2>Rejects</h2>'
        '<p class="muted">Events sent to kawal.dlq, by reason, since this worker started.</p>'
        f"<table><thead>{head}</thead>{''.join(rows)}</table></section>"
    )


def case_page(view: dict[str, Any], case: CaseRow | None, now: datetime) -> str:
    """A case's timeline from its verified trail (``streams.audit.trail.trail_view``)."""
    entries = view["entries"]
    if view["verified"]:
        status = f'<span class="ok">chain verified: {len(entries)} entries</span>'
    else:
        status = (
            f'<span class="bad">CHAIN BROKEN at seq {esc(view["first_bad_seq"])}: '
            f"{esc(view['problem'])}</span>"
        )
    body = [
        f'<section id="verification"><h2>Verification</h2><p>{status}</p>'
        "<p class=\"muted\">Each entry's hash is SHA-256 of the previous hash and the event's "
        "committed bytes; personal data is withheld.</p></section>",
        _case_state(case, now),
        '<section id="timeline"><h2>Timeline</h2><ol class="timeline">',
        *(_timeline_item(entry) for entry in entries),
        "</ol></section>",
    ]
    return page(f"Case {view['case_id']}", "Kawal hub", body, home_link=True)


def _case_state(case: CaseRow | None, now: datetime) -> str:
    if case is None:
        return (
            '<section id="state"><h2>Status</h2><p class="muted">'
            "This worker does not hold the case's lifecycle.</p></section>"
        )
    return (
        f'<section id="state"><h2>Status</h2><p>status <span class="phase">{esc(case.phase)}'
        f"</span> · institution {esc(case.institution)} · region {esc(case.region)}</p>"
        f"<p>deadlines: {_deadlines(case, now)}</p></section>"
    )


def _timeline_item(entry: dict[str, Any]) -> str:
    envelope = entry.get("envelope", {})
    head = (
        f"<strong>{esc(entry['seq'])}. {esc(entry['event_type'])}</strong> "
        f'<span class="muted">{esc(_short_time(envelope.get("event_time", "")))} from '
        f"{esc(envelope.get('source', '?'))}</span>"
    )
    facts = [
        ("recorded", _short_time(entry["recorded_at"])),
        ("event id", entry["event_id"]),
        ("hash", entry["hash"]),
        ("accepted from", entry["accepted_from"]),
    ]
    if "error" in entry:
        facts.append(("error", entry["error"]))
    fields = "".join(_field(name, value) for name, value in entry.get("fields", {}).items())
    details = "".join(f"<dt>{esc(name)}</dt><dd><code>{esc(v)}</code></dd>" for name, v in facts)
    return f'<li data-seq="{esc(entry["seq"])}">{head}<dl>{fields}{details}</dl></li>'


def _field(name: str, value: Any) -> str:
    if value == WITHHELD:
        return f'<dt>{esc(name)}</dt><dd class="withheld">{esc(value)}</dd>'
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"<dt>{esc(name)}</dt><dd>{esc(shown)}</dd>"


def not_found_page(case_id: str) -> str:
    """The page of a case the audit store does not know."""
    body = [
        f"<section><h2>Unknown case</h2><p>No case <code>{esc(case_id)}</code> in the audit "
        'store.</p><p><a href="/">All cases</a></p></section>'
    ]
    return page("Kawal hub", "case not found", body, home_link=True)


def _row(cells: list[str], tag: str, numeric_from: int | None = None) -> str:
    parts = []
    for index, cell in enumerate(cells):
        numeric = numeric_from is not None and index >= numeric_from
        css = ' class="num"' if numeric else ""
        parts.append(f"<{tag}{css}>{esc(cell)}</{tag}>")
    return f"<tr>{''.join(parts)}</tr>"


def _short_time(value: str) -> str:
    """An ISO 8601 timestamp shortened to minutes, in UTC as stored."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        # SQLite hands back the store's UTC timestamps without their offset.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
