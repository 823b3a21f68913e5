"""The hub's workloads on Kubernetes: worker, sink and connectors, their Services and budgets.

Core resources (``apps/v1``, ``v1``, ``policy/v1``); their scraping is
:mod:`streams.contract.scraping`. The worker and the sink are probed on ``/readyz`` (partitions
assigned, tables recovered, audit store answering) and ``/livez`` (the process answers and has not
crashed), so a rebalance or an outage of the store holds traffic back without restarting
anything; a connector is probed on ``/readyz`` (its broker answering) and ``/livez``, beside
``/metrics``, the pages it serves. The worker and
the sink serve HTTPS only (case trails, bearer tokens): their certificate and key come from the
TLS Secret ``kawal-web-tls``, mounted read-only, and Prometheus checks that certificate against
the Secret's CA and the Service's name. Their ``KAWAL_HOME`` is an ``emptyDir`` of bounded size,
which holds the worker's case tables (RocksDB) across restarts of its container, and the
container asks for the ephemeral storage it fills, so the kubelet neither evicts it for disk
nor makes it rebuild its tables from the changelogs after a crash. Each connector
is a StatefulSet whose claim holds its ``KAWAL_HOME`` (checkpoints, feed chains, kept heads),
so a restart resumes where it stopped. Private keys reach every process through an init
container that copies them from their Secrets into memory, as regular files only the
process's user reads (:mod:`streams.contract.key_files`). Secrets are referenced by name and
key, never written here; who creates which one is in docs/operations.md.

Example:
    >>> [d["metadata"]["name"] for d in hub_deployments()]
    ['kawal-worker', 'kawal-sink']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.contract.key_files import (
    INSTITUTION_VARIABLE,
    KEY_REGISTRY_DIR,
    connector_key_files,
    hub_key_files,
    key_volumes,
    registry_volume,
)
from streams.contract.strimzi import CLUSTER, PARTITIONS, REPLICATION, bootstrap_address

Json = dict[str, Any]

IMAGE = "kawal:0.1.0"
PART_OF = {"app.kubernetes.io/part-of": "kawal"}
#: Where Strimzi's Cluster Operator puts the cluster CA certificate the clients trust.
CLUSTER_CA_SECRET = f"{CLUSTER}-cluster-ca-cert"
AUDIT_DB = "kawal-audit-db"
#: The Secret (same name as the database) with its ``password`` and the hub's ``url``, which
#: is both the audit store's and the data-key vault's.
AUDIT_DB_SECRET = AUDIT_DB
#: The image's user (deploy/Dockerfile).
RUN_AS = 10001
_HOME = "/var/lib/kawal"
#: ``KAWAL_HOME/keys``: private keys and the KEK file, copied there from their Secrets.
_KEY_DIR = f"{_HOME}/keys"
_CA_DIR = "/etc/kawal/broker-ca"
#: What each connector keeps across restarts (checkpoints, feed chains, kept heads, spools).
CONNECTOR_STATE_SIZE = "5Gi"
#: The ConfigMap holding the institution registry the topics and users were generated from
#: (``institutions.toml``), and where every process reads it (``KAWAL_INSTITUTIONS_FILE``).
INSTITUTIONS = "kawal-institutions"
_INSTITUTIONS_DIR = "/etc/kawal/institutions"
INSTITUTIONS_FILE = f"{_INSTITUTIONS_DIR}/institutions.toml"
#: The TLS Secret of the worker's and the sink's HTTPS servers (``tls.crt``, ``tls.key`` and
#: ``ca.crt``, the CA that issued it), written by cert-manager or by the operator; its
#: certificate names each hub Service (``kawal-worker``, ``kawal-sink``).
WEB_TLS_SECRET = "kawal-web-tls"  # noqa: S105 (a Secret's name, no secret)
_WEB_TLS_DIR = "/etc/kawal/web-tls"
#: The HTTP port of each hub component.
HUB_PORTS = {"worker": 6066, "sink": 6067}
#: Bytes on disk per open case, case table and accepted-event index (docs/scale.md, `make bench`
#: at 100,000 cases).
CASE_BYTES_ON_DISK = 616
#: The cases a worker's tables are sized for: years of national reports and backlog imports,
#: hundreds of times the 2,034 reports of the 2020 regional elections. A worker keeps a standby
#: copy of the other workers' partitions, so each holds every case.
NATIONAL_CASES = 1_000_000
#: RocksDB's room beyond the live data: a compaction writes a level anew before it drops the
#: old one, and each of the 24 databases (2 tables, 12 partitions) has its log and manifest.
TABLES_HEADROOM = 2
#: What a container writes besides its data directory: its writable layer and its logs.
_CONTAINER_DISK_MIB = 1024
#: The sink's data directory: Faust's small state, no case table.
_SINK_DATA_MIB = 256


def component_labels(component: str) -> dict[str, str]:
    """The labels of ``component``'s pods and Service, which its selectors match."""
    return {"app.kubernetes.io/name": "kawal", "app.kubernetes.io/component": component}


def _secret_env(name: str, secret: str, key: str) -> Json:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _broker_env(user_secret: str, username: Json) -> list[Json]:
    return [
        {"name": "KAWAL_BROKER_URL", "value": f"kafka://{bootstrap_address()}"},
        {"name": "KAWAL_BROKER_SECURITY_PROTOCOL", "value": "SASL_SSL"},
        {"name": "KAWAL_BROKER_SASL_MECHANISM", "value": "SCRAM-SHA-512"},
        username,
        _secret_env("KAWAL_BROKER_PASSWORD", user_secret, "password"),
        {"name": "KAWAL_BROKER_CA_FILE", "value": f"{_CA_DIR}/ca.crt"},
        # In its pod the HTTP server listens on every interface, or no probe reaches it.
        {"name": "KAWAL_WEB_HOST", "value": "0.0.0.0"},  # noqa: S104
        {"name": "KAWAL_LOG_FORMAT", "value": "json"},
        {"name": "KAWAL_HOME", "value": _HOME},
        # The registry of the topics and users: the worker reads each own-lane inbound topic
        # and takes shared-lane events of the institutions it lists, a connector finds its lane.
        {"name": "KAWAL_INSTITUTIONS_FILE", "value": INSTITUTIONS_FILE},
    ]


def _hub_env() -> list[Json]:
    """The hub's settings: its KafkaUser ``kawal``, the audit store, the vault and its keys.

    The data-key vault lives in the audit store's PostgreSQL (its own table and version
    table): every worker and the sink open the same data keys, and none is lost with a pod.
    """
    return [
        *_broker_env(CLUSTER, {"name": "KAWAL_BROKER_USERNAME", "value": "kawal"}),
        {"name": "KAWAL_PARTITIONS", "value": str(PARTITIONS)},
        {"name": "KAWAL_REPLICATION", "value": str(REPLICATION)},
        {"name": "KAWAL_SESSION_TIMEOUT", "value": "30"},
        {"name": "KAWAL_KEK_FILE", "value": f"{_KEY_DIR}/kek.toml"},
        {"name": "KAWAL_KEYS_FILE", "value": KEY_REGISTRY_DIR},
        _secret_env("KAWAL_AUDIT_DB_URL", AUDIT_DB_SECRET, "url"),
        _secret_env("KAWAL_VAULT_URL", AUDIT_DB_SECRET, "url"),
        {"name": "KAWAL_WEB_TLS_CERT", "value": f"{_WEB_TLS_DIR}/tls.crt"},
        {"name": "KAWAL_WEB_TLS_KEY", "value": f"{_WEB_TLS_DIR}/tls.key"},
    ]


def institutions_config_map(registry: str) -> Json:
    """The ConfigMap of the institution registry, ``registry`` being its TOML text."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": INSTITUTIONS, "labels": PART_OF},
        "data": {"institutions.toml": registry},
    }


def _institutions_volume() -> tuple[Json, Json]:
    volume = {"name": "institutions", "configMap": {"name": INSTITUTIONS}}
    return volume, {"name": "institutions", "mountPath": _INSTITUTIONS_DIR, "readOnly": True}


def _secret_volume(name: str, secret: str, path: str) -> tuple[Json, Json]:
    volume = {"name": name, "secret": {"secretName": secret, "defaultMode": 0o400}}
    return volume, {"name": name, "mountPath": path, "readOnly": True}


def _probe(path: str, port: str, initial_delay: int) -> Json:
    scheme = "HTTPS" if port == "https" else "HTTP"
    return {
        "httpGet": {"path": path, "port": port, "scheme": scheme},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def _workload(
    kind: str,
    name: str,
    component: str,
    containers: tuple[Json, Json],
    volumes: Sequence[Json],
    replicas: int = 1,
) -> Json:
    """A Deployment or StatefulSet; ``containers``: its init container and its process."""
    labels = component_labels(component)
    init, container = containers
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": {**labels, **PART_OF}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": {**labels, **PART_OF}},
                "spec": {
                    # fsGroup: the init container reads the Secrets' files as a group member;
                    # OnRootMismatch: a volume's files keep their modes on later mounts.
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "fsGroup": RUN_AS,
                        "fsGroupChangePolicy": "OnRootMismatch",
                    },
                    "initContainers": [init],
                    "containers": [container],
                    "volumes": list(volumes),
                },
            },
        },
    }


def _container(
    args: list[str], port_name: str, port: int, probes: tuple[str, str], env: list[Json]
) -> Json:
    """A container; ``probes``: the paths of its readiness and liveness probes."""
    ready, live = probes
    return {
        "name": "kawal",
        "image": IMAGE,
        "args": args,
        "env": env,
        "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}],
        "readinessProbe": _probe(ready, port_name, 10),
        "livenessProbe": _probe(live, port_name, 60),
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"memory": "1Gi"},
        },
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False},
    }


def data_size_mib(component: str) -> int:
    """The ``sizeLimit`` of ``component``'s ``KAWAL_HOME`` volume, in MiB (whole GiB for tables).

    Example:
        >>> data_size_mib("worker"), data_size_mib("sink")
        (2048, 256)
    """
    if component != "worker":
        return _SINK_DATA_MIB
    tables = NATIONAL_CASES * CASE_BYTES_ON_DISK * TABLES_HEADROOM
    return -(-tables // 2**30) * 1024


def _home_volume(component: str, container: Json) -> tuple[Json, Json]:
    """``KAWAL_HOME`` on an ``emptyDir``, and the container's ephemeral storage to match.

    The data directory (``KAWAL_HOME/worker``) lies inside the volume, not on its mount point,
    which the kubelet makes root's: the process makes it itself, mode 0700.
    """
    size = data_size_mib(component)
    disk = f"{size + _CONTAINER_DISK_MIB}Mi"
    container["resources"]["requests"]["ephemeral-storage"] = disk
    container["resources"]["limits"]["ephemeral-storage"] = disk
    volume = {"name": "home", "emptyDir": {"sizeLimit": f"{size}Mi"}}
    return volume, {"name": "home", "mountPath": _HOME}


def _hub_deployment(component: str, replicas: int) -> Json:
    ca = _secret_volume("broker-ca", CLUSTER_CA_SECRET, _CA_DIR)
    web_tls = _secret_volume("web-tls", WEB_TLS_SECRET, _WEB_TLS_DIR)
    registry = registry_volume()
    institutions = _institutions_volume()
    init, keys, keys_mount = key_volumes(hub_key_files(), _KEY_DIR, IMAGE)
    port = HUB_PORTS[component]
    container = _container([component], "https", port, ("/readyz", "/livez"), _hub_env())
    home = _home_volume(component, container)
    mounts = [home[1], ca[1], web_tls[1], registry[1], institutions[1], keys_mount]
    container["volumeMounts"] = mounts
    name = f"kawal-{component}"
    volumes = [home[0], ca[0], web_tls[0], registry[0], institutions[0], *keys]
    return _workload("Deployment", name, component, (init, container), volumes, replicas)


def hub_deployments() -> list[Json]:
    """The worker (two replicas, scaling out by partitions) and the audit sink."""
    return [_hub_deployment("worker", 2), _hub_deployment("sink", 1)]


def connector_statefulset(name: str) -> Json:
    """A StatefulSet running ``kawal connector run <name>``, its state on a volume of its own.

    The Secret ``kawal-connector-<name>`` holds ``connector.toml`` and the broker credential of
    the connector's institution (``username``, its KafkaUser's name, which is the institution's
    id, and ``password``, copied from its KafkaUser's Secret); ``kawal-connector-<name>-keys``
    and ``kawal-connector-<name>-encryption-keys`` hold that institution's private keys, which
    go to ``KAWAL_HOME/keys/<username>/``. ``KAWAL_HOME`` is the claim ``state``.
    """
    secret = f"kawal-connector-{name}"
    config = _secret_volume("config", secret, "/etc/kawal/connector")
    ca = _secret_volume("broker-ca", CLUSTER_CA_SECRET, _CA_DIR)
    registry = registry_volume()
    institutions = _institutions_volume()
    institution = _secret_env(INSTITUTION_VARIABLE, secret, "username")
    init, keys, keys_mount = key_volumes(connector_key_files(name), _KEY_DIR, IMAGE, [institution])
    container = _connector_container(name, secret)
    state = {"name": "state", "mountPath": _HOME}
    container["volumeMounts"] = [state, config[1], ca[1], registry[1], institutions[1], keys_mount]
    volumes = [config[0], ca[0], registry[0], institutions[0], *keys]
    workload = _workload("StatefulSet", secret, "connector", (init, container), volumes)
    workload["spec"]["volumeClaimTemplates"] = [_claim("state", CONNECTOR_STATE_SIZE)]
    for labels in (
        workload["metadata"]["labels"],
        workload["spec"]["selector"]["matchLabels"],
        workload["spec"]["template"]["metadata"]["labels"],
    ):
        labels["kawal/connector"] = name
    return workload


def _connector_container(name: str, secret: str) -> Json:
    """The connector's process, with its institution's credential and the key registry."""
    username = _secret_env("KAWAL_BROKER_USERNAME", secret, "username")
    env = [*_broker_env(secret, username), {"name": "KAWAL_KEYS_FILE", "value": KEY_REGISTRY_DIR}]
    args = ["connector", "run", name, "--config", "/etc/kawal/connector/connector.toml"]
    return _container(args, "http", 6068, ("/readyz", "/livez"), env)


def _claim(name: str, size: str) -> Json:
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def services() -> list[Json]:
    """A Service per component, naming the port its ServiceMonitor scrapes.

    The worker's and the sink's port is ``https``; a connector's, which serves only its
    metrics, ``http``.
    """
    ports = {**{c: ("https", p) for c, p in HUB_PORTS.items()}, "connector": ("http", 6068)}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": f"kawal-{component}",
                "labels": {**component_labels(component), **PART_OF},
            },
            "spec": {
                "selector": component_labels(component),
                "ports": [{"name": name, "port": port, "targetPort": name, "protocol": "TCP"}],
            },
        }
        for component, (name, port) in ports.items()
    ]


def disruption_budgets() -> list[Json]:
    """Keep a worker up through node drains; the sink alone may pause (it resumes from Kafka)."""
    return [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "kawal-worker", "labels": PART_OF},
            "spec": {
                "minAvailable": 1,
                "selector": {"matchLabels": component_labels("worker")},
            },
        }
    ]
