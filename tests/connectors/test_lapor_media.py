"""Evidence files are judged by their bytes, and limited in number and size."""

from __future__ import annotations

import pytest

from connectors.lapor.media import EvidenceLimits, EvidenceRefusedError, check_files, sniff
from tests.lapor_support import CHAT_LOG, EXECUTABLE, PDF, png

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (PDF, "application/pdf"),
        (CHAT_LOG, "text/plain"),
        ("Grup WA: dukung calon 2 🙏\r\n".encode(), "text/plain"),
        (("a" * 65_535 + "\U0001f64f\n").encode(), "text/plain"),
    ],
)
def test_accepted_kinds_are_recognised_from_their_bytes(data: bytes, media_type: str) -> None:
    assert sniff(data) == media_type


@pytest.mark.parametrize(
    "data",
    [
        EXECUTABLE,
        b"PK\x03\x04" + bytes(40),
        b"\x00\x01\x02binary",
        "caf\xe9".encode("latin-1"),
        # Text for its first 64 KiB, an executable after: before, only the start was judged.
        b"a" * 65_536 + EXECUTABLE,
        b"a" * 65_536 + "caf\xe9".encode("latin-1"),
    ],
    ids=["executable", "zip", "controls", "latin-1", "text-then-executable", "text-then-latin-1"],
)
def test_other_kinds_are_not_evidence(data: bytes) -> None:
    assert sniff(data) is None


def test_a_file_is_typed_by_its_bytes_whatever_its_name() -> None:
    assert check_files([png(), CHAT_LOG], EvidenceLimits()) == ["image/png", "text/plain"]


def test_a_file_of_another_kind_is_refused_by_position() -> None:
    with pytest.raises(EvidenceRefusedError, match="file 2 is not a photo") as info:
        check_files([png(), EXECUTABLE], EvidenceLimits())

    assert (info.value.code, info.value.index) == ("evidence_type", 1)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(EvidenceRefusedError, match="file 1 is empty"):
        check_files([b""], EvidenceLimits())


def test_a_file_too_large_is_refused() -> None:
    with pytest.raises(EvidenceRefusedError, match="more than 100 bytes") as info:
        check_files([png(64, 64)], EvidenceLimits(max_file_bytes=100))

    assert info.value.code == "evidence_too_large"


def test_too_many_files_are_refused() -> None:
    with pytest.raises(EvidenceRefusedError, match="at most 2 files") as info:
        check_files([png(), png(), png()], EvidenceLimits(max_files=2))

    assert info.value.code == "evidence_too_many"


def test_files_too_large_together_are_refused() -> None:
    limits = EvidenceLimits(max_file_bytes=1000, max_total_bytes=100)

    with pytest.raises(EvidenceRefusedError, match="at most 100 bytes together"):
        check_files([png(), png()], limits)
