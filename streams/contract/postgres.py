"""PostgreSQL, the audit store the worker and the sink write, as a StatefulSet with its Service.

One instance with a persistent volume; its password comes from the Secret
``kawal-audit-db`` (key ``password``), whose ``url`` key is the hub's ``KAWAL_AUDIT_DB_URL``
and ``KAWAL_VAULT_URL`` (``postgresql+psycopg://kawal:<password>@kawal-audit-db/kawal``): the
data-key vault keeps its table there too. A managed PostgreSQL serves as well: leave these two
resources out and point ``url`` at it.

Example:
    >>> [r["kind"] for r in audit_database()]
    ['Service', 'StatefulSet']
"""

from __future__ import annotations

from typing import Any

from streams.contract.workloads import AUDIT_DB, AUDIT_DB_SECRET, PART_OF

Json = dict[str, Any]

IMAGE = "postgres:16"
_LABELS = {"app.kubernetes.io/name": "kawal", "app.kubernetes.io/component": "audit-db"}
_READY = ["pg_isready", "-U", "kawal", "-d", "kawal"]


def audit_database() -> list[Json]:
    """The headless Service and the StatefulSet of the audit store."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": AUDIT_DB, "labels": {**_LABELS, **PART_OF}},
        "spec": {
            "clusterIP": "None",
            "selector": _LABELS,
            "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
        },
    }
    return [service, _statefulset()]


def _statefulset() -> Json:
    container = {
        "name": "postgres",
        "image": IMAGE,
        "env": [
            {"name": "POSTGRES_DB", "value": "kawal"},
            {"name": "POSTGRES_USER", "value": "kawal"},
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": AUDIT_DB_SECRET, "key": "password"}},
            },
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "ports": [{"name": "postgres", "containerPort": 5432}],
        "readinessProbe": {"exec": {"command": _READY}, "periodSeconds": 5},
        "livenessProbe": {"exec": {"command": _READY}, "periodSeconds": 10, "failureThreshold": 6},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    }
    claim = {
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "20Gi"}},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": AUDIT_DB, "labels": {**_LABELS, **PART_OF}},
        "spec": {
            "serviceName": AUDIT_DB,
            "replicas": 1,
            "selector": {"matchLabels": _LABELS},
            "template": {"metadata": {"labels": _LABELS}, "spec": {"containers": [container]}},
            "volumeClaimTemplates": [claim],
        },
    }
