"""Files the contract generators write: which of them no longer match what would be written."""

from __future__ import annotations

from pathlib import Path


def stale_files(root: Path, files: dict[Path, str]) -> list[Path]:
    """The files under ``root`` that are missing or differ from the generated text."""
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
