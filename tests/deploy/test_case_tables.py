"""The worker keeps its case tables on a volume of its pod, sized for a national case count.

Faust's RocksDB tables live in the process's data directory (:func:`streams.app.data_dir`,
under ``KAWAL_HOME``). On the container's writable layer, every restart of the container would
rebuild them from the changelogs, and a pod that writes more than it asked for is the first the
kubelet evicts when the node runs short of disk. The data directory, as the hub computes it
from the container's variables (:func:`tests.deploy.manifests.settings_of`), must lie on an
``emptyDir`` of bounded size, inside it (the kubelet makes the mount point root's, and the
process makes its data directory 0700 itself), and the container must ask for that disk.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest

from streams.app import Role, data_dir
from streams.contract.workloads import CASE_BYTES_ON_DISK, NATIONAL_CASES, TABLES_HEADROOM
from streams.private_files import private_dir
from tests.deploy.kubelet import Pod
from tests.deploy.manifests import ROOT, of_kind, pod_spec, settings_of

Json = dict[str, Any]
ROLES = {"kawal-worker": Role.WORKER, "kawal-sink": Role.SINK}
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def _bytes(quantity: str) -> int:
    """A Kubernetes quantity of binary units (``2048Mi``) in bytes."""
    match = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|Ti)", quantity)
    assert match, quantity
    return int(match[1]) * _UNITS[match[2]]


def _workload(name: str) -> Json:
    (found,) = [w for w in of_kind("Deployment") if w["metadata"]["name"] == name]
    return found


def _data_volume(name: str) -> tuple[Json, Json, Path]:
    """The container, the volume its data directory lies on, and that directory."""
    spec = pod_spec(_workload(name))
    (container,) = spec["containers"]
    folder = data_dir(settings_of(container), ROLES[name])
    mounts = sorted(container["volumeMounts"], key=lambda m: -len(m["mountPath"]))
    found = [m for m in mounts if str(folder).startswith(m["mountPath"] + "/")]
    assert found, f"{name}'s data directory {folder} is on the container's writable layer"
    mount = found[0]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    return container, volume, folder


@pytest.mark.parametrize("name", ROLES)
def test_the_data_directory_lies_on_an_empty_dir_the_container_asks_disk_for(name: str) -> None:
    container, volume, _ = _data_volume(name)
    empty_dir = volume["emptyDir"]
    assert "medium" not in empty_dir, "the tables belong on disk, not in the pod's memory"
    size = _bytes(empty_dir["sizeLimit"])
    resources = container["resources"]
    for kind in ("requests", "limits"):
        # The volume counts against the pod's ephemeral storage, with the writable layer.
        assert _bytes(resources[kind]["ephemeral-storage"]) > size, (name, kind)


def test_the_workers_tables_fit_a_national_case_count() -> None:
    _, volume, _ = _data_volume("kawal-worker")
    tables = NATIONAL_CASES * CASE_BYTES_ON_DISK * TABLES_HEADROOM
    assert _bytes(volume["emptyDir"]["sizeLimit"]) >= tables
    scale = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8").replace("\n", " ")
    assert f"({CASE_BYTES_ON_DISK} bytes on disk" in scale, "docs/scale.md measured another size"
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"{NATIONAL_CASES:,} cases" in operations.replace("\n", " ")


@pytest.mark.parametrize("name", ROLES)
def test_the_process_makes_its_data_directory_inside_the_volume(tmp_path: Path, name: str) -> None:
    workload = _workload(name)
    spec = pod_spec(workload)
    secrets: dict[str, dict[str, bytes]] = {
        v["secret"]["secretName"]: {} for v in spec["volumes"] if "secret" in v
    }
    maps: dict[str, dict[str, bytes]] = {
        v["configMap"]["name"]: {} for v in spec["volumes"] if "configMap" in v
    }
    pod = Pod(tmp_path / "pod", workload, secrets, maps)
    container, volume, folder = _data_volume(name)
    host = pod.host_path(container, folder)
    assert host.is_relative_to(pod.volumes[volume["name"]])
    assert host != pod.volumes[volume["name"]], "the mount point is the kubelet's, not ours"
    private_dir(host)  # what the worker does before Faust opens its tables
    assert stat.S_IMODE(host.stat().st_mode) == 0o700
