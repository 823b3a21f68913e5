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


#: Data-source fields Grafana's provisioning requires ("Provision Grafana", Data sources).
_DATASOURCE_REQUIRED = ("name", "type", "access", "url", "uid")


def datasource_file_problems(document: Any) -> list[str]:
    """Why a data-source provisioning file would not give the dashboards their data source.

    Grafana reads ``apiVersion: 1`` and a ``datasources`` list, each entry with a name, a type,
    an access mode (``proxy``: Grafana's server asks, the browser never reaches Prometheus) and
    the URL; the dashboards find it by ``uid`` (at most 40 letters, digits, - or _).
    """
    if not isinstance(document, dict) or document.get("apiVersion") != 1:
        return ["a provisioning file is a mapping with apiVersion: 1"]
    sources = document.get("datasources")
    if not isinstance(sources, list) or not sources:
        return ["no datasources list"]
    problems = []
    for source in sources:
        missing = [key for key in _DATASOURCE_REQUIRED if not source.get(key)]
        if missing:
            problems.append(f"data source {source.get('name')!r} lacks {', '.join(missing)}")
        if source.get("access") not in (None, "proxy", "direct"):
            problems.append(f"access {source.get('access')!r} is neither proxy nor direct")
        if not UID.match(str(source.get("uid", ""))):
            problems.append(f"uid {source.get('uid')!r} is not 1-40 letters, digits, - or _")
    return problems


def provider_file_problems(document: Any) -> list[str]:
    """Why a dashboard provisioning file would not load the dashboards read-only.

    Grafana reads ``apiVersion: 1`` and a ``providers`` list; a ``type: file`` provider loads
    the JSON files under ``options.path``. Read-only: ``allowUiUpdates`` false and
    ``disableDeletion`` true, so the files stay what the dashboards are.
    """
    if not isinstance(document, dict) or document.get("apiVersion") != 1:
        return ["a provisioning file is a mapping with apiVersion: 1"]
    providers = document.get("providers")
    if not isinstance(providers, list) or not providers:
        return ["no providers list"]
    problems = []
    for provider in providers:
        if not provider.get("name") or provider.get("type") != "file":
            problems.append("a provider needs a name and type: file")
        if not str((provider.get("options") or {}).get("path", "")).startswith("/"):
            problems.append("a file provider needs an absolute options.path")
        if (
            provider.get("allowUiUpdates") is not False
            or provider.get("disableDeletion") is not True
        ):
            problems.append(
                "dashboards must be read-only: allowUiUpdates false, disableDeletion true"
            )
    return problems
