"""A national key registry after two rounds of rotations, delivered to a pod in ConfigMap pieces.

Every principal of the national registry (1,743 with the hub) rotates both keys twice, the
old keys kept to verify old events: about 10,460 entries, 2.2 MB, twice what one ConfigMap holds.
``kawal keys split`` cuts it into pieces under 1 MiB; each piece is one ConfigMap
``kawal-key-registry-<n>``, projected into the folder the worker's ``KAWAL_KEYS_FILE`` names (as
the kubelet lays it out), and the hub's own code reads it there and authenticates events signed
with the first, second and third key of an institution, each in its period. A piece not
delivered stops the reader, naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.cli import main
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import (
    KeyRegistry,
    KeyRegistryError,
    KeyUse,
    NewKey,
    load_key_registry,
    new_key_pair_for,
)
from streams.domain.reasons import Reason, Rejection
from streams.domain.signed_events import SIGNED_EVENT, authenticate, open_signed, sign_event
from streams.domain.signing import SigningKey, read_signing_key
from tests.deploy.kubelet import Pod
from tests.deploy.manifests import kawal_workloads, settings_of
from tests.deploy.test_kubernetes import CONFIG_MAP_LIMIT
from tests.hubtools import report

NATIONAL = Path(__file__).parents[1] / "data" / "national" / "institutions.toml"
SENDER = "bawaslu.33"
#: Each key's period: the first three years, each key kept a month past its successor's start.
ROUNDS = [
    (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
    (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    (datetime(2026, 1, 1, tzinfo=UTC), None),
]


def _national_registry(path: Path) -> list[NewKey]:
    """Write the registry after two rounds to ``path``; the sender's three signing keys."""
    principals = [HUB_INSTITUTION, *(i.id for i in load_institutions(NATIONAL))]
    made = [
        new_key_pair_for(use, principal, valid_from, valid_until)
        for valid_from, valid_until in ROUNDS
        for principal in dict.fromkeys(principals)
        for use in KeyUse
    ]
    path.write_text("\n".join(key.registry_text() for key in made), encoding="utf-8")
    return [k for k in made if k.entry["institution"] == SENDER and k.use is KeyUse.SIGNING]


def _signing_key(key: NewKey, folder: Path) -> SigningKey:
    path = folder / f"{key.key_id.replace('/', '-')}.pem"
    path.write_bytes(key.private_pem)
    return read_signing_key(path, SENDER)


def _verdict(registry: KeyRegistry, key: SigningKey, moment: datetime) -> Rejection | None:
    """What the hub's ingress says of a report signed by ``key`` at ``moment``."""
    codec = AvroCodec(default_catalog())
    record = report(SENDER)
    record["envelope"]["event_time"] = moment
    hub = hub_sealing_key(registry, moment)
    wrapper = sign_event(codec.catalog, codec, key, "ReportReceived", record, hub)
    signed = open_signed(codec, codec.decode(codec.encode(SIGNED_EVENT, wrapper)))
    assert not isinstance(signed, Rejection), signed
    return authenticate(registry, signed, moment)


def test_a_national_registry_after_two_rotations_reaches_the_worker_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "keys.toml"
    first, second, third = _national_registry(whole)
    assert whole.stat().st_size > 2 * CONFIG_MAP_LIMIT
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(whole))

    assert main(["keys", "split", "--out", str(tmp_path / "pieces")]) == 0

    pieces = sorted((tmp_path / "pieces").glob("keys-*.toml"))
    assert len(pieces) == 3
    assert all(piece.stat().st_size < CONFIG_MAP_LIMIT for piece in pieces)
    assert "kawal-key-registry-<n>" in capsys.readouterr().out
    config_maps: dict[str, dict[str, bytes]] = {
        f"kawal-key-registry-{number}": {piece.name: piece.read_bytes()}
        for number, piece in enumerate(pieces, start=1)
    }
    [worker] = [w for w in kawal_workloads() if w["metadata"]["name"] == "kawal-worker"]
    volumes = worker["spec"]["template"]["spec"]["volumes"]
    # Only the registry's ConfigMaps matter here: every other volume is laid out empty.
    secrets: dict[str, dict[str, bytes]] = {
        v["secret"]["secretName"]: {} for v in volumes if "secret" in v
    }
    config_maps |= {v["configMap"]["name"]: {} for v in volumes if "configMap" in v}
    pod = Pod(tmp_path / "pod", worker, secrets, config_maps)
    [container] = worker["spec"]["template"]["spec"]["containers"]
    path = settings_of(container).key_registry_file
    assert path is not None
    registry = load_key_registry(pod.host_path(container, path))

    assert len(registry) == len(load_key_registry(whole)) == 10_458  # 1,743 principals, 6 keys
    folder = tmp_path / "private"
    folder.mkdir()
    first_key, second_key, third_key = (_signing_key(k, folder) for k in (first, second, third))
    assert _verdict(registry, first_key, datetime(2024, 6, 1, tzinfo=UTC)) is None
    assert _verdict(registry, second_key, datetime(2025, 6, 1, tzinfo=UTC)) is None
    assert _verdict(registry, third_key, datetime(2026, 6, 1, tzinfo=UTC)) is None
    late = _verdict(registry, first_key, datetime(2026, 6, 1, tzinfo=UTC))
    assert late is not None
    assert late.reason is Reason.KEY_EXPIRED
    # A piece's ConfigMap not created: the pod still starts (each is optional), and the hub's
    # code refuses the registry, naming the piece, rather than take its keys as unknown.
    del config_maps["kawal-key-registry-2"]
    short = Pod(tmp_path / "short", worker, secrets, config_maps)
    with pytest.raises(KeyRegistryError, match="lacks piece 2 of 3"):
        load_key_registry(short.host_path(container, path))
