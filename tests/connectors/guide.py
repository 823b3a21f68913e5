"""The connectors guide (docs/connectors.md) as tests read it: one section at a time."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).parents[2] / "docs" / "connectors.md"


def section(heading: str) -> str:
    """The text under ``heading`` (a whole line of the guide), up to the next heading."""
    text = GUIDE.read_text(encoding="utf-8")
    assert heading in text, f"docs/connectors.md has no section {heading!r}"
    body = text.split(heading, 1)[1]
    return re.split(r"^#{2,3} ", body, flags=re.MULTILINE)[0]
