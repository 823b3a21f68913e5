"""The evidence store: report files, encrypted, content-addressed in any S3.

An evidence file is personal data (a photo or a chat log can show the reporter), so it never
reaches S3 in clear. Each file is encrypted with AES-256-GCM under its own data key, derived
from the portal's evidence key and the file's SHA-256 (HMAC-SHA256, context
``kawal.evidence.v1``). One key encrypts one plaintext only, so its nonce is derived too: the same
file always gives the same object, an upload repeated after a crash writes the same bytes, and
a file sent with two reports is stored once. The object's name is ``sha256/<hex of the
plaintext>`` (its content address) and the hash is also the GCM associated data: an object
swapped for another file's does not open.

The event carries, for each file, the hash, the sniffed media type, the size and the object's
reference (``s3://bucket/sha256/<hex>``); the data keys travel sealed in the event's
``evidence_keys`` (a personal-data field), so the hub routes them only to the institutions
the disclosure policy entitles (Bawaslu, the authority). A reader fetches the object with its
own read access to the store, decrypts it with the key and checks the hash
(:meth:`EvidenceStore.read`); a missing object or a hash that does not match is a clear error.
See docs/lapor.md, "Evidence".

Object layout: ``KEV1`` ‖ 12-byte nonce ‖ ciphertext and tag.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from minio import Minio
from minio.error import MinioException, S3Error

from connectors.errors import ConnectorError

CONTEXT = b"kawal.evidence.v1"
MAGIC = b"KEV1"
NONCE_BYTES = 12
KEY_BYTES = 32
_SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceError(ConnectorError):
    """Evidence cannot be stored or read (the message names the file by hash, never more)."""


class EvidenceUnavailableError(EvidenceError):
    """The store cannot be reached or refused the request: try again later."""


class EvidenceMissingError(EvidenceError):
    """No object is stored under the reference."""


class EvidenceTamperedError(EvidenceError):
    """The object does not open with its key, or its plaintext does not have its hash."""


@dataclass(frozen=True)
class S3Location:
    """Where the evidence store is and how to sign in to it.

    Attributes:
        endpoint: URL of the S3 API (``http://127.0.0.1:8333``, ``https://s3.example.id``).
        bucket: the bucket holding the evidence (it must exist).
        access_key: S3 access key.
        secret_key: S3 secret key.
        region: the bucket's region (asked of the store when None).
    """

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str | None = "us-east-1"

    def __repr__(self) -> str:
        return f"S3Location({self.endpoint}, bucket {self.bucket})"  # no credentials


@dataclass(frozen=True)
class StoredEvidence:
    """One file in the store: what the event carries and the key only entitled readers get.

    Attributes:
        sha256: hex SHA-256 of the plaintext.
        media_type: the sniffed media type.
        size_bytes: bytes of the plaintext.
        storage_ref: ``s3://<bucket>/sha256/<hex>``.
        key: the file's AES-256-GCM data key (personal data: it opens the file).
    """

    sha256: str
    media_type: str
    size_bytes: int
    storage_ref: str
    key: bytes

    def reference(self) -> dict[str, object]:
        """The ``kawal.EvidenceReference`` record of the file (no key)."""
        return {
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size_bytes": self.size_bytes,
            "storage_ref": self.storage_ref,
        }


def object_name(sha256: str) -> str:
    """The object name of the file whose plaintext has hex SHA-256 ``sha256``."""
    return f"sha256/{sha256}"


def held_name(place: str, sha256: str) -> str:
    """The object name of a file held for a form's confirmation (:mod:`.holding`)."""
    return f"held/{place}/{sha256}"


def encrypt(key: bytes, sha256: str, plaintext: bytes) -> bytes:
    """The stored form of ``plaintext`` under its data ``key`` (one key, one file, one form)."""
    nonce = hmac.new(key, b"nonce", hashlib.sha256).digest()[:NONCE_BYTES]
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(sha256))


def decrypt(key: bytes, sha256: str, stored: bytes) -> bytes:
    """The plaintext of a stored object, checked against its content address ``sha256``.

    Raises:
        EvidenceTamperedError: not an evidence object, the wrong key or object, altered, or
            its plaintext does not have the hash ``sha256``.
    """
    if len(key) != KEY_BYTES or not stored.startswith(MAGIC):
        raise EvidenceTamperedError(
            f"evidence {sha256[:16]}: the stored object is not evidence encrypted for this key"
        )
    nonce = stored[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        plain = AESGCM(key).decrypt(nonce, stored[len(MAGIC) + NONCE_BYTES :], _aad(sha256))
    except InvalidTag:
        raise EvidenceTamperedError(
            f"evidence {sha256[:16]}: the stored object does not open with its key; it was "
            "altered or replaced"
        ) from None
    if not hmac.compare_digest(hashlib.sha256(plain).hexdigest(), sha256):
        raise EvidenceTamperedError(f"evidence {sha256[:16]}: the file does not have its hash")
    return plain


def _aad(sha256: str) -> bytes:
    return CONTEXT + b"\x00" + sha256.encode()


class EvidenceStore:
    """Puts and reads evidence objects of one bucket.

    Args:
        location: the S3 endpoint, bucket and credentials.
        evidence_key: the portal's key the data keys derive from (None: read only, as an
            institution reading evidence with keys it was disclosed).
        timeout: seconds to wait for the store per request.
    """

    def __init__(
        self, location: S3Location, evidence_key: bytes | None = None, timeout: float = 10.0
    ) -> None:
        self.location = location
        self._evidence_key = evidence_key
        parts = urlsplit(location.endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EvidenceError(
                f"evidence store endpoint {location.endpoint!r} is not an http(s) URL"
            )
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
        )
        self._http = http
        self._client = Minio(
            parts.netloc,
            access_key=location.access_key,
            secret_key=location.secret_key,
            secure=parts.scheme == "https",
            region=location.region,
            http_client=http,
        )

    def close(self) -> None:
        """Close the connections kept to the store."""
        self._http.clear()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def data_key(self, sha256: str) -> bytes:
        """The data key of the file with hex SHA-256 ``sha256``."""
        if self._evidence_key is None:
            raise EvidenceError("this evidence store is read only: it has no evidence key")
        return hmac.new(self._evidence_key, _aad(sha256), hashlib.sha256).digest()

    def put(self, plaintext: bytes, media_type: str) -> StoredEvidence:
        """Encrypt and store one file (a no-op when it is stored already).

        Raises:
            EvidenceUnavailableError: the store cannot be reached or refused the upload.
        """
        sha256 = hashlib.sha256(plaintext).hexdigest()
        self._write(object_name(sha256), sha256, encrypt(self.data_key(sha256), sha256, plaintext))
        return self._stored(sha256, media_type, len(plaintext))

    def hold(self, place: str, plaintext: bytes) -> str:
        """Encrypt and store one file held for a form's confirmation; its hex SHA-256.

        The object is the one :meth:`put` would write (same key, same bytes), under
        ``held/<place>/`` rather than its content address: deleting it when it expires
        can never delete the evidence of a report that carries the same file.

        Raises:
            EvidenceUnavailableError: the store cannot be reached or refused the upload.
        """
        sha256 = hashlib.sha256(plaintext).hexdigest()
        stored = encrypt(self.data_key(sha256), sha256, plaintext)
        self._write(held_name(place, sha256), sha256, stored)
        return sha256

    def promote(self, place: str, sha256: str, media_type: str, size: int) -> StoredEvidence:
        """Store the file held under ``place`` as evidence, after opening and checking it.

        Raises:
            EvidenceMissingError: nothing is held under that name (deleted when it expired).
            EvidenceTamperedError: the held object does not open, or has another hash or size.
            EvidenceUnavailableError: the store cannot be reached.
        """
        stored = self._fetch(sha256, held_name(place, sha256))
        if len(decrypt(self.data_key(sha256), sha256, stored)) != size:
            raise EvidenceTamperedError(f"evidence {sha256[:16]}: the held file has another size")
        self._write(object_name(sha256), sha256, stored)
        return self._stored(sha256, media_type, size)

    def discard(self, place: str, sha256: str) -> None:
        """Delete the file held under ``place`` (a no-op when it is gone already).

        Raises:
            EvidenceUnavailableError: the store cannot be reached or refused the deletion.
        """
        try:
            self._client.remove_object(self.location.bucket, held_name(place, sha256))
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise EvidenceUnavailableError(
                f"held evidence {sha256[:16]} could not be deleted ({_why(exc)}); try again later"
            ) from exc

    def _write(self, name: str, sha256: str, stored: bytes) -> None:
        try:
            self._client.put_object(
                self.location.bucket,
                name,
                io.BytesIO(stored),
                len(stored),
                content_type="application/octet-stream",  # the media type is in the event only
            )
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise EvidenceUnavailableError(
                f"evidence {sha256[:16]} could not be stored in bucket {self.location.bucket} "
                f"({_why(exc)}); try again later"
            ) from exc

    def _stored(self, sha256: str, media_type: str, size: int) -> StoredEvidence:
        return StoredEvidence(
            sha256=sha256,
            media_type=media_type,
            size_bytes=size,
            storage_ref=f"s3://{self.location.bucket}/{object_name(sha256)}",
            key=self.data_key(sha256),
        )

    def read(self, reference: dict[str, object], key: bytes) -> bytes:
        """The plaintext of the file ``reference`` names, opened with ``key`` and hash-checked.

        Args:
            reference: a ``kawal.EvidenceReference`` record from a ``ReportReceived``.
            key: the file's data key, from the event's disclosed ``evidence_keys``.

        Raises:
            EvidenceMissingError: no object under the reference.
            EvidenceTamperedError: the object does not open, or has another hash or size.
            EvidenceUnavailableError: the store cannot be reached.
        """
        sha256 = str(reference["sha256"])
        if not _SHA256.fullmatch(sha256):
            raise EvidenceTamperedError("the evidence reference holds no SHA-256 hex digest")
        expected_ref = f"s3://{self.location.bucket}/{object_name(sha256)}"
        if reference["storage_ref"] != expected_ref:
            raise EvidenceTamperedError(
                f"evidence {sha256[:16]}: its reference does not name its content address in "
                f"bucket {self.location.bucket}"
            )
        plain = decrypt(key, sha256, self._fetch(sha256))
        if len(plain) != reference["size_bytes"]:
            raise EvidenceTamperedError(f"evidence {sha256[:16]}: the file has another size")
        return plain

    def _fetch(self, sha256: str, name: str | None = None) -> bytes:
        try:
            response = self._client.get_object(self.location.bucket, name or object_name(sha256))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise EvidenceMissingError(
                    f"evidence {sha256[:16]} is not in bucket {self.location.bucket}"
                ) from None
            raise EvidenceUnavailableError(
                f"evidence {sha256[:16]} could not be read ({_why(exc)})"
            ) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise EvidenceUnavailableError(
                f"evidence {sha256[:16]} could not be read ({_why(exc)}); try again later"
            ) from exc
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()


def _why(exc: Exception) -> str:
    if isinstance(exc, S3Error):
        return f"S3 error {exc.code}"
    return type(exc).__name__


def evidence_keys(files: list[tuple[StoredEvidence, str]]) -> str | None:
    """The ``evidence_keys`` value of a report's files, each with its original file name.

    A JSON object by SHA-256: ``{"<hex>": {"key": "<base64 data key>", "name": "<file name>"}}``;
    None when the report has no evidence.
    """
    if not files:
        return None
    keys = {
        stored.sha256: {"key": base64.b64encode(stored.key).decode(), "name": name}
        for stored, name in files
    }
    return json.dumps(keys, sort_keys=True, ensure_ascii=False)


def parse_evidence_keys(value: str) -> dict[str, tuple[bytes, str]]:
    """The data key and file name of each file, by SHA-256, from a disclosed ``evidence_keys``.

    Raises:
        EvidenceError: the value is not such a JSON object.
    """
    try:
        raw = json.loads(value)
        return {
            sha256: (base64.b64decode(entry["key"], validate=True), str(entry["name"]))
            for sha256, entry in raw.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        raise EvidenceError(
            "evidence_keys is not a JSON object of {key, name} by SHA-256 (was it disclosed, "
            "or is it still a commitment?)"
        ) from None
