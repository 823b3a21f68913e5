"""The Grafana dashboards and provisioning files are what Grafana's provisioning needs.

Whether each panel's query returns data from a real hub is tested in test_monitoring.py; the
provisioning files of each deployment in tests/deploy/test_grafana.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from monitoring.scrape import GRAFANA_DIR
from streams.contract.grafana import COMPOSE_DIR
from streams.topics import DLQ, SHARED_INBOUND, inbound_topic
from tests.deploy.manifests import ROOT
from tests.monitoring.grafana_checks import dashboard_problems, duplicates
from tests.monitoring.promtools import promtool

DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))


def provisioned_datasource() -> dict[str, Any]:
    found = yaml.safe_load((ROOT / COMPOSE_DIR / "datasources" / "kawal.yaml").read_text())
    assert found["apiVersion"] == 1
    (source,) = found["datasources"]
    return dict(source)


def test_the_three_dashboards_provision_cleanly() -> None:
    source = provisioned_datasource()
    assert source["type"] == "prometheus"
    boards = [json.loads(path.read_text()) for path in DASHBOARDS]
    assert [path.stem for path in DASHBOARDS] == ["cases", "connectors", "pipeline"]
    for path, board in zip(DASHBOARDS, boards, strict=True):
        assert dashboard_problems(board, source["uid"]) == [], path.name
    assert duplicates(board["uid"] for board in boards) == []
    assert duplicates(board["title"] for board in boards) == []


def test_the_dashboard_provider_reads_files() -> None:
    found = yaml.safe_load((ROOT / COMPOSE_DIR / "dashboards" / "kawal.yaml").read_text())
    assert found["apiVersion"] == 1
    (provider,) = found["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]


def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses each query as a recording rule's expression.
    rules = [
        {"record": f"kawal:panel_{n}", "expr": target["expr"]}
        for n, target in enumerate(
            target
            for path in DASHBOARDS
            for panel in json.loads(path.read_text())["panels"]
            for target in panel["targets"]
        )
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_inbound_lag_panel_shows_the_shared_lane_and_own_topics(tmp_path: Path) -> None:
    board = json.loads((GRAFANA_DIR / "dashboards" / "connectors.json").read_text())
    [expr] = [
        target["expr"]
        for panel in board["panels"]
        if panel["title"] == "Inbound lag by topic"
        for target in panel["targets"]
    ]
    lag = {SHARED_INBOUND: 5, inbound_topic("bkn"): 7, DLQ: 11}
    series = [
        {"series": f'kawal:consumer_lag:max{{group="kawal", topic="{topic}"}}', "values": str(n)}
        for topic, n in lag.items()
    ]
    shown = [
        {"labels": f'{{topic="{topic}"}}', "value": lag[topic]}
        for topic in (SHARED_INBOUND, inbound_topic("bkn"))
    ]
    no_rules = tmp_path / "none.yml"
    no_rules.write_text(yaml.safe_dump({"groups": []}))
    case = {
        "rule_files": [str(no_rules)],
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [{"expr": expr, "eval_time": "0m", "exp_samples": shown}],
            }
        ],
    }
    path = tmp_path / "panel_test.yml"
    path.write_text(yaml.safe_dump(case))
    tested = promtool("test", "rules", str(path))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_dashboard_grafana_would_not_provision_is_refused() -> None:
    board = json.loads(DASHBOARDS[0].read_text())
    board["uid"] = "a uid with spaces"
    board["id"] = 7
    board["panels"][0]["gridPos"]["x"] = 20
    board["panels"][1]["id"] = board["panels"][0]["id"]
    board["panels"][2]["targets"][0]["datasource"] = {"uid": "elsewhere"}
    problems = dashboard_problems(board, "kawal-prometheus")
    assert any("uid" in p and "letters" in p for p in problems)
    assert any("no id" in p for p in problems)
    assert any("24-column" in p for p in problems)
    assert any("unique integers" in p for p in problems)
    assert any("'elsewhere'" in p for p in problems)
    assert dashboard_problems([], "kawal-prometheus") != []
