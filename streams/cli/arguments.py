"""Argument types the commands share."""

from __future__ import annotations

import argparse

from schemas.identity import canonical_case_id
from streams.domain.free_text import NAMES_SOMEONE, names_someone


def case_uuid(text: str) -> str:
    """A case id in the hub's spelling, from any spelling of its UUID (upper case, braces).

    Raises:
        argparse.ArgumentTypeError: ``text`` is no UUID (a usage error).
    """
    found = canonical_case_id(text)
    if found is None:
        raise argparse.ArgumentTypeError("a case id is a UUID, as `kawal case list` shows it")
    return found


def positive_seconds(text: str) -> float:
    """A duration in seconds greater than zero, as ``--wait`` takes it.

    Raises:
        argparse.ArgumentTypeError: not a finite number greater than 0 (a usage error).
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds greater than 0")
    return seconds


def positive_count(text: str) -> int:
    """A whole number from 1 up (a sequence number, a size, a byte count).

    Raises:
        argparse.ArgumentTypeError: not a whole number of 1 or more (a usage error).
    """
    if not (text.isascii() and text.isdecimal()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def one_line(text: str) -> str:
    """Text for one line of a listing (a reason), without its spaces at the ends.

    Raises:
        argparse.ArgumentTypeError: empty, or holding a line break or another control
            character (a usage error).
    """
    stripped = text.strip()
    if not stripped or not stripped.isprintable():
        raise argparse.ArgumentTypeError(
            "give it on one line, without line breaks or other control characters"
        )
    return stripped


def reason_naming_no_one(text: str) -> str:
    """A reason on one line that holds no NIP, NIK, telephone number or e-mail address.

    Raises:
        argparse.ArgumentTypeError: not one line, or it looks like it names someone: it is
            kept and shown to whoever lists what it explains (a usage error).
    """
    stripped = one_line(text)
    if names_someone(stripped):
        raise argparse.ArgumentTypeError(
            f"{NAMES_SOMEONE}; it is kept and shown to whoever lists it, so say why without "
            "naming anyone (e.g. an incident number)"
        )
    return stripped
