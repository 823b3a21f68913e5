"""Every dashboard panel reads metrics the product exports, from the provisioned data source.

A panel whose metric was renamed or dropped shows "No data" and nobody notices until an
incident; here each query's metric names are checked against what the hub's and connectors'
modules declare (tests/monitoring/exported_metrics.py). test_monitoring.py runs the same
queries against a real hub under load; this test needs neither and names the metric.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.contract.grafana import DASHBOARDS_DIR, DATASOURCE_UID
from tests.monitoring.exported_metrics import (
    declared_samples,
    exported_names,
    promql_metric_names,
    recorded_names,
)


def queries() -> list[tuple[str, str, Any]]:
    """(dashboard file: panel title, expr, data source) of every query of every panel."""
    found = []
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                source = target.get("datasource") or panel.get("datasource")
                found.append((f"{path.name}: {panel['title']}", target["expr"], source))
    return found


def unknown_metrics(expr: str, known: frozenset[str]) -> set[str]:
    """The metric names ``expr`` reads that nothing exports."""
    return promql_metric_names(expr) - known


@pytest.mark.parametrize(("panel", "expr", "source"), queries(), ids=[q[0] for q in queries()])
def test_every_panel_reads_exported_metrics_from_the_provisioned_source(
    panel: str, expr: str, source: Any
) -> None:
    assert promql_metric_names(expr), f"{panel}: no metric in {expr!r}"
    assert unknown_metrics(expr, exported_names()) == set(), panel
    assert source == {"type": "prometheus", "uid": DATASOURCE_UID}, panel


def test_the_names_found_are_the_products_own() -> None:
    declared = declared_samples()
    # A counter, a histogram's buckets, a collector's family and a connector's gauge.
    assert {
        "kawal_events_total",
        "kawal_event_processing_seconds_bucket",
        "kawal_deadline_clocks",
        "kawal_connector_up",
    } <= declared
    assert "kawal:consumer_lag:max" in recorded_names()


def test_a_panel_reading_a_metric_nobody_exports_is_refused() -> None:
    known = exported_names()
    renamed = 'sum by (stage) (rate(kawal_event_total{stage="ingress"}[5m]))'
    assert unknown_metrics(renamed, known) == {"kawal_event_total"}
    unrecorded = "kawal:consumer_lag:p99 > on(topic) group_left kawal_stray_inbound_records"
    assert unknown_metrics(unrecorded, known) == {"kawal:consumer_lag:p99"}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            "histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket[5m])))",
            {"a_seconds_bucket"},
        ),
        ('time() - b_timestamp{job=~"kawal-.+", x="rate(c)"} offset 5m', {"b_timestamp"}),
        ("d_total / ignoring(timer) clamp_min(e, 1e3) and on() f:g:h", {"d_total", "e", "f:g:h"}),
        ("count by (version) (info) unless absent(up) or vector(1)", {"info", "up"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert promql_metric_names(expr) == names
