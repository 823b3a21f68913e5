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
