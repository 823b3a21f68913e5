"""The Prometheus configuration that scrapes the hub and loads its rules.

One job per kind of process, named as the alert rules expect (``kawal-worker``,
``kawal-sink``, ``kawal-connectors``): ``KawalProcessDown`` watches ``up`` of every job whose
name starts with ``kawal-``. ``kawal up --monitoring`` and the monitoring tests write it for
the processes they run; a deployment lists its own targets the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

#: The alert and recording rules (monitoring/prometheus/rules.yml).
RULES_FILE = Path(__file__).resolve().parent / "prometheus" / "rules.yml"
#: The Grafana dashboards and their provisioning files.
GRAFANA_DIR = Path(__file__).resolve().parent / "grafana"
#: Scrape jobs by kind of process.
JOBS = ("kawal-worker", "kawal-sink", "kawal-connectors")


def prometheus_config(
    targets: Mapping[str, Sequence[str]],
    *,
    interval_seconds: float = 15.0,
    scheme: str = "http",
    rules: Path = RULES_FILE,
    verify_tls: bool = True,
) -> dict[str, Any]:
    """Prometheus's configuration scraping ``targets`` (``host:port``) by job, with the rules.

    Targets are scraped and the rules evaluated every ``interval_seconds``; ``verify_tls``
    False accepts any certificate (only for loopback targets started alongside).

    Raises:
        ValueError: a job that is not one of :data:`JOBS` (the alerts would not see it).
    """
    unknown = set(targets) - set(JOBS)
    if unknown:
        raise ValueError(f"unknown scrape jobs {sorted(unknown)}; use {', '.join(JOBS)}")
    every = f"{max(1, round(interval_seconds))}s"
    return {
        "global": {"scrape_interval": every, "evaluation_interval": every},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": job,
                "scheme": scheme,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": list(hosts)}],
                "tls_config": {"insecure_skip_verify": not verify_tls},
            }
            for job, hosts in targets.items()
            if hosts
        ],
    }


def write_prometheus_config(path: Path, config: Mapping[str, Any]) -> Path:
    """Write ``config`` as YAML to ``path``; return it."""
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path
