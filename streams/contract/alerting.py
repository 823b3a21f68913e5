"""Alertmanager on Kubernetes: the workload that turns the hub's alerts into pages and tickets.

The routing (:func:`monitoring.alerting.alertmanager_config`) is the ConfigMap
``kawal-alertmanager``, generated and reviewed like every manifest; the receivers' webhook URLs
are the site's, in the Secret ``kawal-alertmanager-receivers`` (keys ``oncall-url``,
``ticket-url`` and ``heartbeat-url``), which the operator creates and these manifests never
overwrite. An init container writes the configuration with those URLs into memory when the
pod starts: without the Secret the pod does not start (``CreateContainerConfigError``), with a
value that is not an http(s) URL the init container exits naming the key, so no alert is ever
routed to a placeholder and silently lost. The site's Prometheus is told where to send alerts
in its own ``Prometheus`` resource (docs/operations.md, "How alerts reach people"); it scrapes
Alertmanager through the ServiceMonitor ``kawal-alertmanager``
(:mod:`streams.contract.scraping`).
Compose runs the same template and script (:mod:`streams.contract.compose`).

Example:
    >>> [r["kind"] for r in alertmanager_resources()]
    ['ConfigMap', 'StatefulSet', 'Service']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from monitoring.alerting import alertmanager_config
from streams.contract.workloads import PART_OF, component_labels

Json = dict[str, Any]

#: The official image, pinned like the Compose file's ``prom/prometheus:v2.53.0``; the
#: configuration is checked by ``amtool`` 0.25 (Debian's) and written with only the fields both
#: 0.25 and 0.27 read alike (:mod:`monitoring.alerting`).
IMAGE = "prom/alertmanager:v0.27.0"
NAME = "kawal-alertmanager"
#: The site's Secret holding the receivers' webhook URLs.
RECEIVERS_SECRET = "kawal-alertmanager-receivers"  # noqa: S105 (a Secret's name, no secret)
#: Per Secret key, the variable the init container reads it from and the token it replaces.
RECEIVER_KEYS = {
    "oncall-url": ("ONCALL_URL", "__KAWAL_ONCALL_URL__"),
    "ticket-url": ("TICKET_URL", "__KAWAL_TICKET_URL__"),
    "heartbeat-url": ("HEARTBEAT_URL", "__KAWAL_HEARTBEAT_URL__"),
}
PORT = 9093
TEMPLATE_DIR = "/etc/alertmanager/template"
CONFIG_DIR = "/etc/alertmanager/config"
CONFIG_FILE = f"{CONFIG_DIR}/alertmanager.yml"
#: The image's user (``nobody``).
RUN_AS = 65534
_COMPONENT = "alertmanager"


def alertmanager_resources() -> list[Json]:
    """The ConfigMap of the routing, the StatefulSet of Alertmanager and its Service."""
    labels = {**component_labels(_COMPONENT), **PART_OF}
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, "labels": labels},
        "data": {"alertmanager.yml": config_template()},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "selector": component_labels(_COMPONENT),
            "ports": [{"name": "web", "port": PORT, "targetPort": "web"}],
        },
    }
    return [config_map, _statefulset(), service]


def config_template() -> str:
    """The routing as YAML, each receiver's URL a token :func:`render_script` replaces."""
    oncall, ticket, heartbeat = (token for _, token in RECEIVER_KEYS.values())
    return yaml.safe_dump(alertmanager_config(oncall, ticket, heartbeat), sort_keys=False)


def render_script(names: Mapping[str, str] | None = None) -> str:
    """The init container's script: checks each URL, then writes the configuration with them.

    POSIX shell (the image's busybox). A URL is never printed: it may carry a token.

    Args:
        names: per key of :data:`RECEIVER_KEYS`, how an error names where its URL comes from
            (no quote in it); by default the Secret's key.
    """
    named = names or {key: f"{RECEIVERS_SECRET}: key {key}" for key in RECEIVER_KEYS}
    checks = "".join(
        f'check "{named[key]}" "${{{variable}:-}}"\n'
        for key, (variable, _) in RECEIVER_KEYS.items()
    )
    cases = "".join(
        f'    *{token}*) line="${{line%%{token}*}}${variable}${{line#*{token}}}" ;;\n'
        for variable, token in RECEIVER_KEYS.values()
    )
    return (
        "set -eu\n"
        "check() {\n"
        '  case "$2" in\n'
        "    http://?*|https://?*) ;;\n"
        '    *) echo "$1 is not an http:// or https:// URL;'
        ' set it (docs/operations.md, How alerts reach people)" >&2; exit 1 ;;\n'
        "  esac\n"
        '  case "$2" in\n'
        "    *[\\'\\ ]*) echo \"$1 holds a quote or a space;"
        ' percent-encode it" >&2; exit 1 ;;\n'
        "  esac\n"
        "}\n"
        f"{checks}"
        'while IFS= read -r line || [ -n "$line" ]; do\n'
        '  case "$line" in\n'
        f"{cases}"
        "  esac\n"
        "  printf '%s\\n' \"$line\"\n"
        f"done < {TEMPLATE_DIR}/alertmanager.yml > {CONFIG_FILE}\n"
    )


def _statefulset() -> Json:
    env = [
        {"name": variable, "valueFrom": {"secretKeyRef": {"name": RECEIVERS_SECRET, "key": key}}}
        for key, (variable, _) in RECEIVER_KEYS.items()
    ]
    guarded = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}
    init = {
        "name": "config",
        "image": IMAGE,
        "command": ["/bin/sh", "-c", render_script()],
        "env": env,
        "volumeMounts": [
            {"name": "template", "mountPath": TEMPLATE_DIR, "readOnly": True},
            {"name": "config", "mountPath": CONFIG_DIR},
        ],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": guarded,
    }
    labels = component_labels(_COMPONENT)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": NAME, "labels": {**labels, **PART_OF}},
        "spec": {
            "serviceName": NAME,
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "fsGroup": RUN_AS,
                    },
                    "initContainers": [init],
                    "containers": [_container(guarded)],
                    "volumes": [
                        {"name": "template", "configMap": {"name": NAME}},
                        # The rendered file holds the receivers' URLs: in memory only.
                        {"name": "config", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    ],
                },
            },
            # Silences and the notification log: kept across restarts, so a restart neither
            # forgets a silence nor pages again for what it already sent.
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }


def _container(guarded: Json) -> Json:
    def probe(path: str) -> Json:
        return {"httpGet": {"path": path, "port": "web"}, "periodSeconds": 10}

    return {
        "name": "alertmanager",
        "image": IMAGE,
        "args": [
            f"--config.file={CONFIG_FILE}",
            "--storage.path=/alertmanager",
            f"--web.listen-address=:{PORT}",
            # One replica: no gossip port for peers that do not exist.
            "--cluster.listen-address=",
        ],
        "ports": [{"name": "web", "containerPort": PORT}],
        "readinessProbe": probe("/-/ready"),
        "livenessProbe": probe("/-/healthy"),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "data", "mountPath": "/alertmanager"},
        ],
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": guarded,
    }
