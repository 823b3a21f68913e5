"""The committed Kubernetes manifests as data, and the settings each container of them gets.

:func:`settings_of` reads a container's ``KAWAL_*`` variables into the hub's own
:class:`~streams.settings.Settings`, so a test asks the code where it reads a file or a
database, rather than repeating its defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from streams.contract.kubernetes import DIRECTORY
from streams.settings import Settings

Json = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
#: What a ``secretKeyRef`` stands for when no value is given: its Secret and key.
SecretValue = Callable[[str, str], str]


def documents() -> list[Json]:
    """Every resource of ``deploy/kubernetes/``, in file order."""
    found: list[Json] = []
    for path in sorted((ROOT / DIRECTORY).glob("*.yaml")):
        found += [doc for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if doc]
    return found


def of_kind(kind: str) -> list[Json]:
    """The resources of one kind."""
    return [doc for doc in documents() if doc["kind"] == kind]


def workloads() -> list[Json]:
    """Every Deployment and StatefulSet."""
    return [doc for doc in documents() if doc["kind"] in {"Deployment", "StatefulSet"}]


def pod_spec(workload: Json) -> Json:
    """The pod template's spec of a Deployment or StatefulSet."""
    spec: Json = workload["spec"]["template"]["spec"]
    return spec


def containers() -> Iterator[Json]:
    """Every (main) container of every workload."""
    for workload in workloads():
        yield from pod_spec(workload)["containers"]


def kawal_workloads() -> list[Json]:
    """The workloads that run the hub's image: worker, sink and connectors."""
    return [w for w in workloads() if pod_spec(w)["containers"][0]["name"] == "kawal"]


def reference(secret: str, key: str) -> str:
    """A stand-in for the value of a Secret's key: ``<secret/key>``."""
    return f"<{secret}/{key}>"


def settings_of(container: Json, secret_value: SecretValue = reference) -> Settings:
    """The settings the hub reads in ``container``: its ``KAWAL_*`` variables as fields.

    A variable taken from a Secret gets ``secret_value(secret, key)``.
    """
    values: dict[str, Any] = {}
    for variable in container.get("env", []):
        field = variable["name"].removeprefix("KAWAL_").lower()
        if field not in Settings.model_fields:
            continue
        if "value" in variable:
            values[field] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            values[field] = secret_value(ref["name"], ref["key"])
    return Settings(**values)
