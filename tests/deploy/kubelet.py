"""A pod's volumes as the kubelet lays them out, in folders here, to run its init containers.

A Secret, ConfigMap or projected volume is written the way the kubelet's atomic writer writes
it: the files in a timestamped folder, ``..data`` a link to that folder, and each key a link into
``..data`` (``kek.toml -> ..data/kek.toml``). With the pod's ``fsGroup`` the kubelet also lets
the group read every file, whatever ``defaultMode`` says (kubernetes/kubernetes#57923), so a
file of ``defaultMode: 0400`` is 0440. An ``emptyDir``, and a StatefulSet's claim, is an empty
folder. A container's path is found on the volume mounted there; a path on no volume is
refused.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Json = dict[str, Any]
#: Per Secret (or ConfigMap) name, its keys and their bytes.
Contents = Mapping[str, Mapping[str, bytes]]

#: What the kubelet names the folder of one version of a volume's files.
STAMP = "..2026_12_05_03_00_00.000000001"
#: Bits the kubelet adds to a read-only volume's files for the pod's fsGroup.
FS_GROUP_BITS = 0o440


def atomic_volume(folder: Path, files: Mapping[str, bytes], mode: int) -> None:
    """Write ``files`` into ``folder`` as the kubelet writes a Secret or ConfigMap volume."""
    stamp = folder / STAMP
    stamp.mkdir(parents=True)
    for key, content in files.items():
        (stamp / key).write_bytes(content)
        (stamp / key).chmod(mode | FS_GROUP_BITS)
    (folder / "..data").symlink_to(STAMP)
    for key in files:
        (folder / key).symlink_to(f"..data/{key}")


def update_atomic_volume(folder: Path, files: Mapping[str, bytes], mode: int, stamp: str) -> None:
    """Write a new version of ``folder``'s files as the kubelet does when its Secret changes.

    The new files go into a folder ``stamp`` of their own, then ``..data`` is swapped to it in
    one rename: the keys' links stay, and now lead to the new files.
    """
    (folder / stamp).mkdir()
    for key, content in files.items():
        (folder / stamp / key).write_bytes(content)
        (folder / stamp / key).chmod(mode | FS_GROUP_BITS)
    (folder / "..data_tmp").symlink_to(stamp)
    os.replace(folder / "..data_tmp", folder / "..data")


def _projected(projected: Json, config_maps: Contents) -> dict[str, bytes]:
    """A projected volume's files: every ConfigMap source's keys, an absent optional one none."""
    files: dict[str, bytes] = {}
    for source in projected["sources"]:
        config_map = source["configMap"]
        if config_map["name"] in config_maps:
            files.update(config_maps[config_map["name"]])
        else:
            assert config_map.get("optional"), f"no ConfigMap {config_map['name']}"
    return files


class Pod:
    """The volumes of one pod as folders under a root, and its init containers run there."""

    def __init__(
        self, root: Path, workload: Json, secrets: Contents, config_maps: Contents
    ) -> None:
        """Lay out the volumes of ``workload``'s pods with these Secrets and ConfigMaps."""
        self.spec: Json = workload["spec"]["template"]["spec"]
        self.secrets = secrets
        self.volumes: dict[str, Path] = {}
        for claim in workload["spec"].get("volumeClaimTemplates", []):
            folder = self.volumes[claim["metadata"]["name"]] = root / claim["metadata"]["name"]
            folder.mkdir(parents=True)
        for volume in self.spec["volumes"]:
            folder = self.volumes[volume["name"]] = root / volume["name"]
            if "secret" in volume:
                source = volume["secret"]
                atomic_volume(folder, secrets[source["secretName"]], source["defaultMode"])
            elif "configMap" in volume:
                atomic_volume(folder, config_maps[volume["configMap"]["name"]], 0o644)
            elif "projected" in volume:
                atomic_volume(folder, _projected(volume["projected"], config_maps), 0o644)
            else:
                assert "emptyDir" in volume, volume
                folder.mkdir(parents=True)

    def host_path(self, container: Json, path: str | Path) -> Path:
        """Where the container's ``path`` is here, on the volume mounted over it."""
        path = str(path)
        mounts = sorted(container["volumeMounts"], key=lambda m: len(m["mountPath"]), reverse=True)
        for mount in mounts:
            point = mount["mountPath"]
            if path == point or path.startswith(point + "/"):
                return self.volumes[mount["name"]] / path[len(point) :].lstrip("/")
        raise AssertionError(f"{path} is on no volume of the container {container['name']}")

    def run_init_containers(self) -> None:
        """Run each init container's ``/bin/sh -c`` script with its mounts and variables here."""
        for init in self.spec.get("initContainers", []):
            shell, flag, script = init["command"]
            assert (shell, flag) == ("/bin/sh", "-c"), init["command"]
            for mount in sorted(init["volumeMounts"], key=lambda m: -len(m["mountPath"])):
                script = script.replace(mount["mountPath"], str(self.volumes[mount["name"]]))
            env = {"PATH": os.environ["PATH"], **self._variables(init)}
            done = subprocess.run(
                ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr

    def _variables(self, container: Json) -> dict[str, str]:
        found = {}
        for variable in container.get("env", []):
            if "value" in variable:
                found[variable["name"]] = variable["value"]
            else:
                ref = variable["valueFrom"]["secretKeyRef"]
                found[variable["name"]] = self.secrets[ref["name"]][ref["key"]].decode()
        return found
