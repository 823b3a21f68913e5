"""Shared pieces of the reporting channel's tests: a real SeaweedFS S3 and sample files."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pikepdf

from connectors.lapor.evidence import S3Location
from connectors.lapor.filing import jakarta_today
from connectors.lapor.pdf_metadata import clean
from streams.local.storage import EmbeddedStorage, free_storage_base_port

BUCKET = "kawal-evidence"


@contextmanager
def seaweed_s3(directory: Path, bucket: str = BUCKET) -> Iterator[S3Location]:
    """A SeaweedFS S3 serving ``bucket`` (the evidence bucket), for one test module."""
    storage = EmbeddedStorage(
        directory / "data",
        directory / "logs",
        base_port=free_storage_base_port(),
        bucket=bucket,
        access_key="lapor",
        secret_key="lapor-test-secret",
    )
    storage.start()
    try:
        yield S3Location(storage.s3_endpoint, bucket, "lapor", "lapor-test-secret")
    finally:
        storage.stop()


def png(width: int = 8, height: int = 8, shade: int = 0) -> bytes:
    """A valid PNG image of one colour (``shade`` varies its bytes and so its hash)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((200, shade % 256, 40)) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    """A one-page PDF as the portal stores it: without metadata, so stored as it is."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(200, 200))
        out = io.BytesIO()
        pdf.save(out)
        return clean(out.getvalue())


PDF = _pdf()
CHAT_LOG = b"[09.12] Pak Kepala: ayo semua hadir di kampanye calon nomor 2 besok\n"
#: A Windows program: not evidence, whatever its name says.
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body as a browser sends it, and its content type."""
    boundary = "----kawal-test-boundary-7d1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def report_fields(**changes: str) -> dict[str, str]:
    """The fields of a complete anonymous report of Semarang city."""
    fields = {
        "anonymous": "true",
        "subject_name": "Budi Canary-Subject",
        "subject_nip": "198501012010011001",
        "employing_agency": "ppk.3374",
        "region_code": "3374",
        "election": "pilkada-2024",
        "violation": "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
        # Today: a report sent the day its reporter learnt of it is in time whatever the day.
        "discovered_on": jakarta_today(datetime.now(UTC)).isoformat(),
        "summary": "Memakai mobil dinas untuk kampanye calon nomor 2 di Tembalang.",
    }
    return fields | changes
