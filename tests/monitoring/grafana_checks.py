"""What Grafana's file provisioning needs of a dashboard, checked without Grafana.

Grafana cannot be installed from the registries this project reaches, so these are the rules
its provisioning applies, from its documentation ("Provisioning Grafana", "JSON model"):
a dashboard file is one JSON object with a ``uid`` (at most 40 characters of letters, digits,
``-`` and ``_``; unique, it is what links and provisioning match on), a ``title`` unique in its
folder, an integer ``schemaVersion`` and no numeric ``id`` (the database assigns it; a copied id
clashes); every panel has a unique integer ``id``, a known ``type`` and a ``gridPos`` inside
the 24-column grid; every query names the provisioned data source by uid and has a ``refId``
and a PromQL ``expr``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: Panel types of Grafana's core plugins the dashboards use.
PANEL_TYPES = frozenset({"timeseries", "stat", "gauge", "bargauge", "table", "text"})
GRID_COLUMNS = 24


def dashboard_problems(board: Any, datasource_uid: str) -> list[str]:
    """Why ``board`` (a parsed dashboard file) would not provision as intended; [] if fine."""
    if not isinstance(board, dict):
        return ["a dashboard file must hold one JSON object"]
    problems = []
    if not isinstance(board.get("uid"), str) or not UID.match(board["uid"]):
        problems.append(f"uid {board.get('uid')!r} is not 1-40 letters, digits, - or _")
    if not isinstance(board.get("title"), str) or not board["title"].strip():
        problems.append("no title")
    if not isinstance(board.get("schemaVersion"), int):
        problems.append("schemaVersion must be an integer")
    if board.get("id") is not None:
        problems.append("a provisioned dashboard carries no id (null or absent)")
    panels = board.get("panels")
    if not isinstance(panels, list) or not panels:
        return [*problems, "no panels"]
    ids = [panel.get("id") for panel in panels]
    if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
        problems.append("panel ids must be unique integers")
    for panel in panels:
        problems += [f"panel {panel.get('id')}: {p}" for p in panel_problems(panel, datasource_uid)]
    return problems


def panel_problems(panel: dict[str, Any], datasource_uid: str) -> list[str]:
    """Why one panel would not show its data."""
    problems = []
    if panel.get("type") not in PANEL_TYPES:
        problems.append(f"unknown panel type {panel.get('type')!r}")
    grid = panel.get("gridPos", {})
    if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
        problems.append("gridPos needs integer h, w, x, y")
    elif grid["x"] < 0 or grid["w"] < 1 or grid["x"] + grid["w"] > GRID_COLUMNS:
        problems.append("gridPos outside the 24-column grid")
    targets = panel.get("targets")
    if not isinstance(targets, list) or not targets:
        return [*problems, "no query"]
    for target in targets:
        uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid")
        if uid != datasource_uid:
            problems.append(f"query names data source {uid!r}, not {datasource_uid!r}")
        if not target.get("refId") or not str(target.get("expr", "")).strip():
            problems.append("a query needs a refId and an expr")
    return problems


def duplicates(values: Iterable[str]) -> list[str]:
    """The values that occur more than once."""
    counted = Counter(values)
    return sorted(value for value, n in counted.items() if n > 1)
