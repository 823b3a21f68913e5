"""The alert and recording rules load in Prometheus and behave as their unit tests say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from monitoring.scrape import JOBS, prometheus_config, write_prometheus_config
from tests.monitoring.promtools import ROOT, RULE_TESTS, RULES, promtool


def test_the_rules_pass_promtool_check() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_every_alert_behaves_as_its_unit_tests_say() -> None:
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_and_a_runbook_section() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])}
    runbook = (RULES.parents[2] / "docs" / "operations.md").read_text()
    assert alerts - tested == set()
    assert [a for a in sorted(alerts) if f"### {a}" not in runbook] == []


def test_a_broken_rule_is_refused_by_promtool(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: sum(rate(x[5m])\n"
    )
    checked = promtool("check", "rules", str(broken))
    assert checked.returncode != 0
    assert "parse error" in (checked.stdout + checked.stderr)


def test_a_wrong_expectation_fails_the_rule_tests(tmp_path: Path) -> None:
    # The unit tests can fail: the same rules with an alert expected where none fires.
    case = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": 'kawal_audit_store_up{instance="s"}', "values": "1x5"}],
                "alert_rule_test": [
                    {
                        "eval_time": "4m",
                        "alertname": "KawalAuditStoreUnreachable",
                        "exp_alerts": [{"exp_labels": {"severity": "page"}}],
                    }
                ],
            }
        ],
    }
    wrong = tmp_path / "wrong_test.yml"
    wrong.write_text(yaml.safe_dump(case))
    tested = promtool("test", "rules", str(wrong))
    assert tested.returncode != 0
    assert "KawalAuditStoreUnreachable" in tested.stdout + tested.stderr


def test_the_scrape_configuration_passes_promtool_check(tmp_path: Path) -> None:
    config = prometheus_config(
        {"kawal-worker": ["127.0.0.1:6066"], "kawal-sink": ["127.0.0.1:6067"]}, scheme="https"
    )
    path = write_prometheus_config(tmp_path / "prometheus.yml", config)
    checked = promtool("check", "config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_scrape_job_the_alerts_would_not_see_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scrape jobs"):
        prometheus_config({"worker": ["127.0.0.1:6066"]})


def test_the_files_the_rules_cite_exist() -> None:
    comments = "".join(line for line in RULES.read_text().splitlines() if line.lstrip()[:1] == "#")
    cited = re.findall(r"[\w./-]+/[\w.-]+\.(?:yml|yaml|py|md)", comments)
    assert cited
    assert [path for path in cited if not (ROOT / path).is_file()] == []


def test_every_scrape_job_is_named_in_the_rules_and_watched_by_them() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    manifests = yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "50-hub.yaml").read_text())
    # The ServiceMonitor names each job after the Service it scrapes.
    services = [doc["metadata"]["name"] for doc in manifests if doc and doc["kind"] == "Service"]
    jobs = {*JOBS, *(job["job_name"] for job in compose["scrape_configs"]), *services}
    header = "".join(line for line in RULES.read_text().splitlines() if line.startswith("#"))
    assert [job for job in sorted(jobs) if not re.fullmatch(r"kawal-.+", job)] == []
    assert [job for job in sorted(jobs) if not re.search(rf"\b{job}\b", header)] == []
