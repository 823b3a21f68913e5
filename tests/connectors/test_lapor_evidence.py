"""The evidence store against a real SeaweedFS S3: encrypted, content-addressed, checked."""

from __future__ import annotations

import hashlib
import io

import pytest
from minio import Minio

from connectors.lapor.evidence import (
    EvidenceError,
    EvidenceMissingError,
    EvidenceStore,
    EvidenceTamperedError,
    EvidenceUnavailableError,
    S3Location,
    evidence_keys,
    object_name,
    parse_evidence_keys,
)
from streams.local.processes import free_port
from tests.lapor_support import BUCKET, CHAT_LOG, png

EVIDENCE_KEY = b"k" * 32


@pytest.fixture
def store(location: S3Location) -> EvidenceStore:
    return EvidenceStore(location, EVIDENCE_KEY)


def raw_client(location: S3Location) -> Minio:
    return Minio(
        location.endpoint.removeprefix("http://"),
        access_key=location.access_key,
        secret_key=location.secret_key,
        secure=False,
        region="us-east-1",
    )


def raw_object(location: S3Location, sha256: str) -> bytes:
    response = raw_client(location).get_object(BUCKET, object_name(sha256))
    try:
        return bytes(response.read())
    finally:
        response.close()
        response.release_conn()


def replace_object(location: S3Location, sha256: str, data: bytes) -> None:
    raw_client(location).put_object(BUCKET, object_name(sha256), io.BytesIO(data), len(data))


def test_a_stored_file_reads_back_and_verifies(store: EvidenceStore) -> None:
    photo = png(shade=1)

    stored = store.put(photo, "image/png")

    assert stored.sha256 == hashlib.sha256(photo).hexdigest()
    assert stored.storage_ref == f"s3://{BUCKET}/sha256/{stored.sha256}"
    assert stored.reference() == {
        "sha256": stored.sha256,
        "media_type": "image/png",
        "size_bytes": len(photo),
        "storage_ref": stored.storage_ref,
    }
    reader = EvidenceStore(store.location)  # an institution's: no evidence key
    assert reader.read(stored.reference(), stored.key) == photo


def test_the_store_holds_ciphertext_only(store: EvidenceStore, location: S3Location) -> None:
    stored = store.put(CHAT_LOG, "text/plain")

    held = raw_object(location, stored.sha256)

    assert CHAT_LOG not in held
    assert b"kampanye" not in held
    assert held.startswith(b"KEV1")


def test_the_same_file_is_stored_once_under_its_hash(
    store: EvidenceStore, location: S3Location
) -> None:
    photo = png(shade=2)

    first = store.put(photo, "image/png")
    object_before = raw_object(location, first.sha256)
    second = store.put(photo, "image/png")

    assert second == first
    assert raw_object(location, first.sha256) == object_before


def test_a_missing_object_is_a_clear_error(store: EvidenceStore) -> None:
    stored = store.put(png(shade=3), "image/png")
    absent = stored.reference() | {
        "sha256": "0" * 64,
        "storage_ref": f"s3://{BUCKET}/sha256/{'0' * 64}",
    }

    with pytest.raises(EvidenceMissingError, match="evidence 0000000000000000 is not in bucket"):
        store.read(absent, store.data_key("0" * 64))


def test_an_altered_object_is_detected(store: EvidenceStore, location: S3Location) -> None:
    stored = store.put(png(shade=4), "image/png")
    held = bytearray(raw_object(location, stored.sha256))
    held[-20] ^= 0x01
    replace_object(location, stored.sha256, bytes(held))

    with pytest.raises(EvidenceTamperedError, match="altered or replaced"):
        store.read(stored.reference(), stored.key)


def test_another_files_object_under_the_name_is_detected(
    store: EvidenceStore, location: S3Location
) -> None:
    genuine = store.put(png(shade=5), "image/png")
    other = store.put(png(shade=6), "image/png")
    replace_object(location, genuine.sha256, raw_object(location, other.sha256))

    with pytest.raises(EvidenceTamperedError):
        store.read(genuine.reference(), genuine.key)


def test_a_plain_file_put_in_place_of_the_object_is_detected(
    store: EvidenceStore, location: S3Location
) -> None:
    stored = store.put(png(shade=7), "image/png")
    replace_object(location, stored.sha256, png(shade=7))

    with pytest.raises(EvidenceTamperedError, match="not evidence encrypted for this key"):
        store.read(stored.reference(), stored.key)


def test_the_wrong_key_does_not_open_a_file(store: EvidenceStore) -> None:
    stored = store.put(png(shade=8), "image/png")

    with pytest.raises(EvidenceTamperedError, match="does not open with its key"):
        store.read(stored.reference(), b"x" * 32)


def test_a_reference_with_another_size_is_refused(store: EvidenceStore) -> None:
    stored = store.put(png(shade=9), "image/png")

    with pytest.raises(EvidenceTamperedError, match="another size"):
        store.read(stored.reference() | {"size_bytes": 1}, stored.key)


def test_a_reference_naming_another_object_is_refused(store: EvidenceStore) -> None:
    stored = store.put(png(shade=10), "image/png")
    moved = stored.reference() | {"storage_ref": f"s3://{BUCKET}/elsewhere"}

    with pytest.raises(EvidenceTamperedError, match="does not name its content address"):
        store.read(moved, stored.key)


def test_a_reference_without_a_hash_is_refused(store: EvidenceStore) -> None:
    stored = store.put(png(shade=11), "image/png")

    with pytest.raises(EvidenceTamperedError, match="no SHA-256"):
        store.read(stored.reference() | {"sha256": "../etc/passwd"}, stored.key)


def test_an_unreachable_store_is_reported_as_unavailable() -> None:
    location = S3Location(f"http://127.0.0.1:{free_port()}", BUCKET, "lapor", "x")
    store = EvidenceStore(location, EVIDENCE_KEY, timeout=2.0)

    with pytest.raises(EvidenceUnavailableError, match="could not be stored") as info:
        store.put(png(shade=12), "image/png")

    assert "try again later" in str(info.value)


def test_wrong_credentials_are_refused(location: S3Location) -> None:
    wrong = S3Location(location.endpoint, BUCKET, "lapor", "not-the-secret")

    with pytest.raises(EvidenceUnavailableError, match="S3 error"):
        EvidenceStore(wrong, EVIDENCE_KEY).put(png(shade=13), "image/png")


def test_a_read_only_store_cannot_derive_keys(location: S3Location) -> None:
    with pytest.raises(EvidenceError, match="read only"):
        EvidenceStore(location).put(png(shade=14), "image/png")


def test_an_endpoint_that_is_no_url_is_refused() -> None:
    with pytest.raises(EvidenceError, match="is not an http"):
        EvidenceStore(S3Location("s3.example.id", BUCKET, "a", "b"))


def test_credentials_are_not_shown() -> None:
    location = S3Location("http://127.0.0.1:1", BUCKET, "lapor", "very-secret-key")

    assert "very-secret-key" not in repr(location)


def test_evidence_keys_carry_each_files_key_and_name(store: EvidenceStore) -> None:
    photo, chat = store.put(png(shade=15), "image/png"), store.put(CHAT_LOG, "text/plain")

    value = evidence_keys([(photo, "spanduk.png"), (chat, "grup-wa.txt")])

    assert value is not None
    assert parse_evidence_keys(value) == {
        photo.sha256: (photo.key, "spanduk.png"),
        chat.sha256: (chat.key, "grup-wa.txt"),
    }
    assert evidence_keys([]) is None


@pytest.mark.parametrize("value", ["sha256:" + "a" * 64, "[]", '{"ab": {"name": "x"}}'])
def test_evidence_keys_that_are_not_disclosed_are_refused(value: str) -> None:
    with pytest.raises(EvidenceError, match="is not a JSON object"):
        parse_evidence_keys(value)
