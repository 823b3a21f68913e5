"""Identifying metadata removed from evidence files before they are hashed and encrypted.

A phone's photo carries EXIF: where it was taken (often the reporter's home), the phone's make,
model and serial number, and when. A phone's video carries location atoms, a PDF its author.
An institution opening the evidence of an anonymous report must not learn who sent it, so each
accepted file is cleaned before it is hashed and stored:

- photos (JPEG, PNG, WebP, HEIC) and videos (MP4, QuickTime): exiftool (Debian's
  ``libimage-exiftool-perl``, ``make system-deps``) deletes every metadata group (EXIF and its
  GPS and maker notes, XMP, IPTC, comments, PNG text chunks, QuickTime user data, keys and item
  lists) and zeroes the QuickTime creation and modification dates it cannot delete. It rewrites
  the container only: the image and video data are copied byte for byte, never re-encoded. Kept:
  the colour profile and the Adobe colour transform (without them colours would change) and the
  EXIF orientation (without it a portrait photo shows on its side); none of them names anyone.
- PDF documents: :mod:`connectors.lapor.pdf_metadata` (pikepdf), since exiftool's PDF edits
  leave the old metadata in the file.
- text files: kept as they are (a chat log holds no metadata; its words are the evidence).

Each tool runs as a child process, without a shell, bounded by :data:`TIMEOUT_SECONDS`. A file
it cannot clean is refused (:class:`MetadataRefusedError`), never stored with its metadata; a
tool missing from the machine is the operator's fault (:class:`MetadataUnavailableError`).
What is not removed (a face in a photo, text in a PDF) is listed in docs/lapor.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from connectors.errors import ConnectorError
from connectors.lapor.media import sniff
from connectors.lapor.pdf_metadata import LOCKED

#: Seconds one file may take to clean: a 10 MB photo or video takes well under one.
TIMEOUT_SECONDS = 30.0
EXIFTOOL = "exiftool"
#: Delete every tag (but the colour profile and Adobe segment), zero QuickTime's dates, put the
#: EXIF orientation back; standard input to standard output.
EXIFTOOL_ARGS = (
    "-all=",
    "--ICC_Profile:all",
    "--Adobe:all",
    "-Time:all=",
    "-tagsFromFile",
    "@",
    "-EXIF:Orientation",
    "-",
)
_BY_EXIFTOOL = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "video/mp4", "video/quicktime"}
)
_PDF = "application/pdf"
#: Types kept as they are: they hold no metadata apart from their content.
KEPT_AS_IS = frozenset({"text/plain"})


class MetadataRefusedError(ValueError):
    """The file's metadata cannot be removed: it is not to be stored (names no file content)."""


class LockedPdfError(MetadataRefusedError):
    """A PDF locked with a password to open it: nothing of it can be read, nor cleaned."""


class MetadataUnavailableError(ConnectorError):
    """A tool that removes metadata cannot be run on this machine: nothing can be accepted."""


def strip(data: bytes, media_type: str, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """``data`` of sniffed ``media_type`` without its identifying metadata.

    Raises:
        MetadataRefusedError: the tool could not read or rewrite the file, took longer than
            ``timeout``, or gave back something that is no longer of ``media_type``.
        MetadataUnavailableError: the tool is not installed or cannot be started.
    """
    if media_type in KEPT_AS_IS:
        return data
    if media_type in _BY_EXIFTOOL:
        command = [EXIFTOOL, *EXIFTOOL_ARGS]
    elif media_type == _PDF:
        command = [sys.executable, "-m", "connectors.lapor.pdf_metadata"]
    else:
        raise MetadataRefusedError(f"no way to remove the metadata of {media_type}")
    try:
        done = subprocess.run(  # no shell: a fixed command, the file on standard input
            command, input=data, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise MetadataRefusedError(
            f"removing the metadata of a {media_type} file took over {timeout:g} s"
        ) from None
    except OSError as exc:
        raise MetadataUnavailableError(
            f"{command[0]} cannot be run ({type(exc).__name__}): {install_hint()}"
        ) from None
    if media_type == _PDF and done.returncode == LOCKED:
        raise LockedPdfError("the PDF is locked with a password to open it")
    if done.returncode != 0 or not done.stdout:
        raise MetadataRefusedError(
            f"the metadata of a {media_type} file could not be removed (exit {done.returncode})"
        )
    if sniff(done.stdout) != media_type:
        raise MetadataRefusedError(f"a {media_type} file was no longer one once cleaned")
    return done.stdout


def check_tools() -> None:
    """Make sure the tools are there, so that a portal without them does not start.

    Raises:
        MetadataUnavailableError: exiftool is missing, saying what to install.
    """
    if shutil.which(EXIFTOOL) is None:
        raise MetadataUnavailableError(f"exiftool is not installed: {install_hint()}")


def install_hint() -> str:
    """What to do when exiftool is missing."""
    return (
        "the portal removes the location and camera of evidence photos and videos with it; "
        "install it (Debian: apt-get install libimage-exiftool-perl, or `make system-deps`)"
    )
