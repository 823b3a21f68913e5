"""What every ``--json`` command shares: an error is JSON on stdout as well as a line on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from schemas.errors import KawalError
from streams.cli.exits import EXIT_ERROR


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
