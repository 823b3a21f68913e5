"""The rules' data files: a file the settings name, or the one bundled in ``streams/data/``."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any


def read_toml(path: Path | None, bundled: str) -> dict[str, Any]:
    """The TOML document at ``path``, or the bundled ``data/<bundled>`` when ``path`` is None.

    Raises:
        OSError, UnicodeDecodeError, tomllib.TOMLDecodeError: the caller says what to fix.
    """
    if path is None:
        text = resources.files("streams").joinpath(f"data/{bundled}").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return tomllib.loads(text)
