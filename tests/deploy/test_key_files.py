"""Every process of the manifests reads its private keys as Kubernetes hands them over.

Kubernetes mounts a Secret's keys as symbolic links to group-readable files, and a Secret's
keys hold no ``/``; the hub reads its key-encryption keys only from a regular file no one else
may read, and private keys only at ``KAWAL_HOME/keys/<institution>/<id>.pem`` and
``.../encryption/<id>.pem``. Each pod is laid out here as the kubelet lays it out
(:mod:`tests.deploy.kubelet`), its init container run, and the hub's own code then reads the
keys where the settings of the process's container say (:func:`tests.deploy.manifests.settings_of`).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyUse, NewKey, load_key_registry, new_key_pair_for
from streams.local.key_split import split_registry
from streams.settings import Settings
from streams.vault.kek import KekError
from streams.vault.kek_source import add_kek, load_kek_ring
from tests.deploy.kubelet import Pod, atomic_volume
from tests.deploy.manifests import kawal_workloads, of_kind, pod_spec, settings_of

Json = dict[str, Any]
VALID_FROM = datetime(2026, 12, 1, tzinfo=UTC)
#: The institution a connector's Secret names (its KafkaUser's name, ``username``).
CONNECTOR_INSTITUTION = "bkn"


@dataclass(frozen=True)
class Keys:
    """The private keys an institution (or the hub) hands over, and its registry entries."""

    signing: NewKey
    encryption: NewKey

    @classmethod
    def of(cls, institution: str) -> Keys:
        return cls(*(new_key_pair_for(use, institution, VALID_FROM) for use in KeyUse))

    def secrets(self, prefix: str) -> dict[str, dict[str, bytes]]:
        """``<prefix>keys`` and ``<prefix>encryption-keys``, flat as `kubectl create` makes them."""
        return {
            f"{prefix}keys": {_file_name(self.signing): self.signing.private_pem},
            f"{prefix}encryption-keys": {_file_name(self.encryption): self.encryption.private_pem},
        }

    def registry(self) -> bytes:
        return "\n".join(key.registry_text() for key in (self.signing, self.encryption)).encode()


def _config_maps(keys: Keys, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    """The key registry of ``keys`` in pieces, and the ConfigMaps the manifests themselves hold.

    The registry is split as ``kawal keys split`` does, one entry a piece, and each piece is a
    ConfigMap ``kawal-key-registry-<n>`` as the operations guide creates them.
    """
    whole = tmp_path / "registry" / "keys.toml"
    whole.parent.mkdir()
    whole.write_bytes(keys.registry())
    pieces = split_registry(whole, tmp_path / "registry" / "pieces", max_bytes=700)
    assert len(pieces) == 2
    found = {
        f"kawal-key-registry-{number}": {piece.path.name: piece.path.read_bytes()}
        for number, piece in enumerate(pieces, start=1)
    }
    for config_map in of_kind("ConfigMap"):
        data = {key: text.encode() for key, text in config_map["data"].items()}
        found[config_map["metadata"]["name"]] = data
    return found


def _read_institutions(pod: Pod, container: Json) -> None:
    """The hub's code reads the registry where the settings say, through the kubelet's links."""
    path = settings_of(container).institutions_file
    assert path is not None
    assert HUB_INSTITUTION in {i.id for i in load_institutions(pod.host_path(container, path))}


def _file_name(key: NewKey) -> str:
    return key.path_in(Path("keys")).name


def _kek_file(tmp_path: Path) -> bytes:
    path = tmp_path / "made" / "kek.toml"
    add_kek(Settings(kek_file=path))
    return path.read_bytes()


def _workload(kind: str, name: str) -> Json:
    (found,) = [w for w in kawal_workloads() if (w["kind"], w["metadata"]["name"]) == (kind, name)]
    return found


def _connector_names() -> list[str]:
    return [w["metadata"]["name"] for w in kawal_workloads() if w["kind"] == "StatefulSet"]


def _read_keys(pod: Pod, container: Json, institution: str, keys: Keys) -> None:
    """The hub's code reads both private keys where the container's settings say."""
    settings = settings_of(container)
    assert settings.key_registry_file is not None
    registry = load_key_registry(pod.host_path(container, settings.key_registry_file))
    ring = KeyRing(pod.host_path(container, settings.key_dir), registry)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    assert ring.signing_key(institution, now).key_id == keys.signing.key_id
    assert ring.decryption_key(institution, keys.encryption.key_id) is not None
    _all_private(pod.host_path(container, settings.key_dir))


def _all_private(folder: Path) -> None:
    """No link, and nothing anyone but the owner may open, under the key folder."""
    for path in folder.rglob("*"):
        mode = os.lstat(path).st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), path
        assert stat.S_IMODE(mode) == (0o700 if stat.S_ISDIR(mode) else 0o400), path


@pytest.mark.parametrize("name", ["kawal-worker", "kawal-sink"])
def test_the_hub_reads_its_kek_and_keys_from_the_secrets_it_mounts(
    tmp_path: Path, name: str
) -> None:
    workload = _workload("Deployment", name)
    spec = pod_spec(workload)
    keys = Keys.of(HUB_INSTITUTION)
    secrets = {"kawal-kek": {"kek.toml": _kek_file(tmp_path)}, **keys.secrets("kawal-")}
    secrets["kawal-cluster-ca-cert"] = {"ca.crt": b"-----BEGIN CERTIFICATE-----\n"}
    secrets["kawal-web-tls"] = {name: b"" for name in ("tls.crt", "tls.key", "ca.crt")}
    pod = Pod(tmp_path / "pod", workload, secrets, _config_maps(keys, tmp_path))

    pod.run_init_containers()

    (container,) = spec["containers"]
    kek_file = settings_of(container).effective_kek_file
    assert load_kek_ring(Settings(kek_file=pod.host_path(container, kek_file))).ids
    _read_keys(pod, container, HUB_INSTITUTION, keys)
    _read_institutions(pod, container)


@pytest.mark.parametrize("name", _connector_names())
def test_each_connector_reads_its_institutions_keys_from_the_secrets_it_mounts(
    tmp_path: Path, name: str
) -> None:
    workload = _workload("StatefulSet", name)
    spec = pod_spec(workload)
    keys = Keys.of(CONNECTOR_INSTITUTION)
    secrets: dict[str, dict[str, bytes]] = {
        name: {"connector.toml": b"", "username": CONNECTOR_INSTITUTION.encode(), "password": b"x"},
        "kawal-cluster-ca-cert": {"ca.crt": b"-----BEGIN CERTIFICATE-----\n"},
        **keys.secrets(f"{name}-"),
    }
    pod = Pod(tmp_path / "pod", workload, secrets, _config_maps(keys, tmp_path))

    pod.run_init_containers()

    (container,) = spec["containers"]
    _read_keys(pod, container, CONNECTOR_INSTITUTION, keys)
    _read_institutions(pod, container)


def test_no_process_mounts_a_secret_where_it_reads_private_keys() -> None:
    for workload in kawal_workloads():
        spec = pod_spec(workload)
        (container,) = spec["containers"]
        settings = settings_of(container)
        private = [str(settings.key_dir), str(settings.effective_kek_file)]
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
        for point, mount in mounts.items():
            over = [path for path in private if path == point or path.startswith(point + "/")]
            # A claim (a connector's state) is no Secret: not among the pod's volumes.
            assert not (over and "secret" in volumes.get(mount["name"], {})), (point, over)
        # The key folder: memory that the init container fills, read-only for the process.
        keys = mounts[str(settings.key_dir)]
        assert volumes[keys["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}
        assert keys["readOnly"] is True
        # The init container reads the Secrets' files as a member of the pod's group.
        context = spec["securityContext"]
        assert context["runAsNonRoot"]
        assert context["fsGroup"] == context["runAsUser"]


def test_a_secret_file_as_kubernetes_mounts_it_is_refused_as_a_kek_file(tmp_path: Path) -> None:
    atomic_volume(tmp_path / "kek", {"kek.toml": _kek_file(tmp_path)}, 0o400)
    linked = tmp_path / "kek" / "kek.toml"
    with pytest.raises(KekError, match="symbolic link"):
        load_kek_ring(Settings(kek_file=linked))
    # What a subPath mount shows: the file itself, with the group's read bit.
    with pytest.raises(KekError, match="read or written by others"):
        load_kek_ring(Settings(kek_file=linked.resolve()))
