r"""What a command prints shows control characters in stored text instead of obeying them.

Dead letters' reasons, elections, agency ids and trails hold text that institutions wrote. An
escape sequence among them would act on the operator's terminal: recolour or hide lines, move
the cursor, retitle the window, or set the clipboard (OSC 52). Standard output writes every C0
and C1 control character but tab, line feed and carriage return as ``\u00XX``: readable on a
terminal, and inside a JSON string the same character it stands for.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: What ends a line on a terminal or in a line-based tool.
_LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")


def shown(text: str) -> str:
    r"""``text`` with its control characters (but tab and line ends) written as ``\u00XX``."""
    return _CONTROL.sub(_escaped, text)


def one_row(text: str) -> str:
    r"""``text`` for a cell of a listing, its line breaks too written as ``\u00XX``.

    A stored value that holds a line feed (a letter's reason, a token's subject) would
    otherwise start a row of its own choosing in the listing.
    """
    return _LINE_BREAKS.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


class ShownControls:
    """A text stream that writes what it is given through :func:`shown`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` with its control characters shown; the length given, as print expects."""
        self._stream.write(shown(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        # flush, fileno, isatty, encoding...: those of the stream itself.
        return getattr(self._stream, name)
