"""Argument types the commands share."""

from __future__ import annotations

import argparse

from schemas.identity import canonical_case_id


def case_uuid(text: str) -> str:
    """A case id in the hub's spelling, from any spelling of its UUID (upper case, braces).

    Raises:
        argparse.ArgumentTypeError: ``text`` is no UUID (a usage error).
    """
    found = canonical_case_id(text)
    if found is None:
        raise argparse.ArgumentTypeError("a case id is a UUID, as `kawal case list` shows it")
    return found


def wait_seconds(text: str) -> float:
    """A wait, in seconds, above 0.

    Raises:
        argparse.ArgumentTypeError: ``text`` is no number above 0 (a usage error).
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"give the wait in seconds, above 0 (not {text!r})")
    return seconds
