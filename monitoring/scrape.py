"""The Prometheus configuration that scrapes the hub and loads its rules.

One job per kind of process, named as the alert rules expect (``kawal-worker``,
``kawal-sink``, ``kawal-connectors``): ``KawalProcessDown`` watches ``up`` of every job whose
name starts with ``kawal-``. ``kawal up --monitoring`` and the monitoring tests write it for
the processes they run; a deployment lists its own targets the same way. With an Alertmanager,
it and Prometheus itself are scraped too (:data:`ALERTMANAGER_JOB`, :data:`PROMETHEUS_JOB`):
their own metrics are what says that notifications fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

#: The alert and recording rules (monitoring/prometheus/rules.yml).
RULES_FILE = Path(__file__).resolve().parent / "prometheus" / "rules.yml"
#: The Grafana dashboards and their provisioning files.
GRAFANA_DIR = Path(__file__).resolve().parent / "grafana"
#: Scrape jobs by kind of process.
JOBS = ("kawal-worker", "kawal-sink", "kawal-connectors")
#: Alertmanager's job: ``alertmanager_notifications_failed_total`` (KawalNotificationsFailing).
ALERTMANAGER_JOB = "kawal-alertmanager"
#: Prometheus's own job: ``prometheus_notifications_*`` (KawalAlertsUndelivered).
PROMETHEUS_JOB = "kawal-prometheus"
#: The external label carrying the runbooks' base URL: each alert's ``runbook_url`` annotation
#: is rendered from it (rules.yml), so notifications carry a link a person can open.
RUNBOOK_LABEL = "kawal_runbooks"


def prometheus_config(
    targets: Mapping[str, Sequence[str]],
    *,
    interval_seconds: float = 15.0,
    scheme: str = "http",
    rules: Path = RULES_FILE,
    verify_tls: bool = True,
    alertmanager: str | None = None,
    runbooks: str | None = None,
    itself: str | None = None,
) -> dict[str, Any]:
    """Prometheus's configuration scraping ``targets`` (``host:port``) by job, with the rules.

    Targets are scraped and the rules evaluated every ``interval_seconds``; ``verify_tls``
    False accepts any certificate (only for loopback targets started alongside). Firing
    alerts go to the Alertmanager at ``alertmanager`` (its base URL) when given; without it
    they are only shown on Prometheus's ``/alerts`` page. ``runbooks``, the base URL of the
    published docs, makes each alert's ``runbook_url`` absolute (:data:`RUNBOOK_LABEL`). With
    an Alertmanager, it is scraped, and so is Prometheus at ``itself`` (its ``host:port``) when
    given, so the alerts on failed notifications see their metrics.

    Raises:
        ValueError: a job that is not one of :data:`JOBS` (the alerts would not see it).
    """
    unknown = set(targets) - set(JOBS)
    if unknown:
        raise ValueError(f"unknown scrape jobs {sorted(unknown)}; use {', '.join(JOBS)}")
    every = f"{max(1, round(interval_seconds))}s"
    settings: dict[str, Any] = {"scrape_interval": every, "evaluation_interval": every}
    if runbooks:
        settings["external_labels"] = {RUNBOOK_LABEL: runbooks.rstrip("/")}
    hub = [
        {
            "job_name": job,
            "scheme": scheme,
            "metrics_path": "/metrics",
            "static_configs": [{"targets": list(hosts)}],
            "tls_config": {"insecure_skip_verify": not verify_tls},
        }
        for job, hosts in targets.items()
        if hosts
    ]
    return {
        "global": settings,
        **({"alerting": alerting_section(alertmanager)} if alertmanager else {}),
        "rule_files": [str(rules)],
        "scrape_configs": hub + (delivery_jobs(alertmanager, itself) if alertmanager else []),
    }


def delivery_jobs(alertmanager: str, itself: str | None) -> list[dict[str, Any]]:
    """Scrape jobs of the alert path: the Alertmanager at that URL, and Prometheus ``itself``.

    Example:
        >>> [job["job_name"] for job in delivery_jobs("http://127.0.0.1:9093", "127.0.0.1:9090")]
        ['kawal-alertmanager', 'kawal-prometheus']
    """
    parts = urlsplit(alertmanager)
    jobs: list[dict[str, Any]] = [
        {
            "job_name": ALERTMANAGER_JOB,
            "scheme": parts.scheme,
            # Under its route prefix, as the alerts are sent (alerting_section).
            "metrics_path": f"{parts.path.rstrip('/')}/metrics",
            "static_configs": [{"targets": [parts.netloc]}],
        }
    ]
    if itself:
        jobs.append({"job_name": PROMETHEUS_JOB, "static_configs": [{"targets": [itself]}]})
    return jobs


def alerting_section(alertmanager: str) -> dict[str, Any]:
    """Prometheus's ``alerting:`` section sending every alert to the Alertmanager at that URL.

    Example:
        >>> alerting_section("http://127.0.0.1:9093")["alertmanagers"][0]["static_configs"]
        [{'targets': ['127.0.0.1:9093']}]
    """
    parts = urlsplit(alertmanager)
    # The path prefix of an Alertmanager behind a reverse proxy (--web.route-prefix).
    prefix = parts.path.rstrip("/")
    return {
        "alertmanagers": [
            {
                "scheme": parts.scheme,
                **({"path_prefix": prefix} if prefix else {}),
                "api_version": "v2",
                "static_configs": [{"targets": [parts.netloc]}],
            }
        ]
    }


def write_prometheus_config(path: Path, config: Mapping[str, Any]) -> Path:
    """Write ``config`` as YAML to ``path``; return it."""
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path
