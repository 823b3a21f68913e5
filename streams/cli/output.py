"""What every ``--json`` command shares: an error is JSON on stdout as well as a line on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from schemas.errors import KawalError
from streams.cli.exits import EXIT_ERROR, EXIT_UNKNOWN_CASE
from streams.settings import Settings


def reporting_errors(command: Callable[[], int], *, as_json: bool) -> int:
    """Run ``command``; with ``--json`` its error is printed as ``{"error": ...}`` too.

    Raises:
        KawalError: without ``--json``, for :func:`streams.cli.main` to print.
    """
    try:
        return command()
    except KawalError as exc:
        if not as_json:
            raise
        print(json.dumps({"error": str(exc)}))
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_ERROR


def unknown_case(case_id: str, settings: Settings, *, as_json: bool, outcome: str = "") -> int:
    """Exit 3 for a case the audit store does not hold, saying where the cases are listed.

    With ``--json`` the error is ``{"error": ...}`` on stdout too, as :func:`reporting_errors`
    prints it: a typo in a case id must not read as an empty answer. ``outcome`` says what the
    command therefore did not do.
    """
    message = (
        f"no case {case_id} in the audit store at {settings.audit_url}; "
        f"{outcome + '; ' if outcome else ''}`kawal case list` shows the cases it holds"
    )
    if as_json:
        print(json.dumps({"error": message}))
    print(f"kawal: {message}", file=sys.stderr)
    return EXIT_UNKNOWN_CASE
