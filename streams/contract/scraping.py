"""Prometheus Operator's resources for the hub: what it scrapes, and the rules it evaluates.

The worker and the sink are scraped over HTTPS, their certificate verified against the CA of
the TLS Secret ``kawal-web-tls`` for the name of their Service; the connectors, which serve
only their metrics, over HTTP, and so does Alertmanager, whose failed notifications are alerted
on (``KawalNotificationsFailing``).

Example:
    >>> [m["metadata"]["name"] for m in service_monitors()]
    ['kawal-worker', 'kawal-sink', 'kawal-connector', 'kawal-alertmanager']
"""

from __future__ import annotations

from typing import Any

from streams.contract.workloads import HUB_PORTS, PART_OF, WEB_TLS_SECRET, component_labels

Json = dict[str, Any]


def service_monitors() -> list[Json]:
    """Prometheus Operator's scrapes of ``/metrics``, one ServiceMonitor per Service of the hub.

    The worker and the sink over HTTPS, their certificate verified against the CA of
    ``kawal-web-tls`` for the name of their Service (each its own monitor, since a monitor's
    endpoint has one ``serverName``); the connectors and Alertmanager (its port ``web``) over
    HTTP.
    """
    hub = [_monitor(component, _https_endpoint(f"kawal-{component}")) for component in HUB_PORTS]
    plain = {"port": "http", "path": "/metrics", "interval": "15s", "scheme": "http"}
    return [*hub, _monitor("connector", plain), _monitor("alertmanager", {**plain, "port": "web"})]


def _https_endpoint(server_name: str) -> Json:
    ca = {"secret": {"name": WEB_TLS_SECRET, "key": "ca.crt"}}
    return {
        "port": "https",
        "path": "/metrics",
        "interval": "15s",
        "scheme": "https",
        "tlsConfig": {"ca": ca, "serverName": server_name},
    }


def _monitor(component: str, endpoint: Json) -> Json:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": f"kawal-{component}", "labels": PART_OF},
        "spec": {"selector": {"matchLabels": component_labels(component)}, "endpoints": [endpoint]},
    }


def prometheus_rule(rules: Json) -> Json:
    """Prometheus Operator's copy of the hub's recording and alerting rules (``rules.yml``).

    Args:
        rules: ``monitoring/prometheus/rules.yml`` as loaded, whose groups it carries unchanged.
    """
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "kawal", "labels": PART_OF},
        "spec": {"groups": rules["groups"]},
    }
