"""What an evidence file is, judged from its bytes, and the limits it must keep.

A reporter's browser names a file's type from its extension, so a claim of ``image/jpeg`` says
nothing. The portal sniffs the type from the file's first bytes (``filetype``) and accepts only
the kinds evidence comes in: photos, videos, PDF documents and chat logs exported as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

#: Media types accepted as evidence: photos, screen recordings and videos, documents, chat logs.
ACCEPTED_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "video/mp4",
        "video/quicktime",
        "application/pdf",
        "text/plain",
    }
)
#: A control byte no chat export holds (tab and line ends aside).
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class EvidenceLimits:
    """How much evidence one report may carry.

    Attributes:
        max_files: files per report.
        max_file_bytes: bytes of one file.
        max_total_bytes: bytes of all of a report's files together.
    """

    max_files: int = 5
    max_file_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 25 * 1024 * 1024


class EvidenceRefusedError(ValueError):
    """An evidence file or set of files the portal does not accept.

    Attributes:
        code: machine-readable reason (``evidence_type``, ``evidence_too_large``...).
        index: position of the refused file in the report (0-based), None for the whole set.
    """

    def __init__(self, code: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.index = index


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` judged from its bytes, or None when it is none accepted."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = str(kind.mime)
        return mime if mime in ACCEPTED_MEDIA_TYPES else None
    return "text/plain" if _is_text(data) else None


def _is_text(data: bytes) -> bool:
    """Whether the whole of ``data`` is UTF-8 without control bytes: a chat log exported.

    All of it (at most a file's limit, scanned in C): judged on its start alone, a text
    header would carry any bytes after it, an executable among them, as text/plain.
    """
    if not data or _TEXT_CONTROL.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_files(files: list[bytes], limits: EvidenceLimits) -> list[str]:
    """The sniffed media type of each file, after checking count, sizes and types.

    Raises:
        EvidenceRefusedError: too many files, a file empty, too large or of a type not
            accepted, or all together too large.
    """
    check_set([len(data) for data in files], limits)
    return [check_file(index, data, limits) for index, data in enumerate(files)]


def check_set(sizes: list[int], limits: EvidenceLimits) -> None:
    """Check the count and the total of a report's files, given the size of each.

    Raises:
        EvidenceRefusedError: too many files, or all together too large.
    """
    if len(sizes) > limits.max_files:
        raise EvidenceRefusedError(
            "evidence_too_many", f"a report may carry at most {limits.max_files} files"
        )
    if sum(sizes) > limits.max_total_bytes:
        raise EvidenceRefusedError(
            "evidence_too_large",
            f"a report's files may have at most {limits.max_total_bytes} bytes together",
        )


def check_file(index: int, data: bytes, limits: EvidenceLimits) -> str:
    """The sniffed media type of the ``index``-th file (0-based), checked on its own.

    Raises:
        EvidenceRefusedError: the file is empty, too large or of a type not accepted.
    """
    if not data:
        raise EvidenceRefusedError("evidence_empty", f"file {index + 1} is empty", index)
    if len(data) > limits.max_file_bytes:
        raise EvidenceRefusedError(
            "evidence_too_large",
            f"file {index + 1} has more than {limits.max_file_bytes} bytes",
            index,
        )
    media_type = sniff(data)
    if media_type is None:
        accepted = ", ".join(sorted(ACCEPTED_MEDIA_TYPES))
        raise EvidenceRefusedError(
            "evidence_type",
            f"file {index + 1} is not a photo, video, PDF or text file (accepted: {accepted})",
            index,
        )
    return media_type
