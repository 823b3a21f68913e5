"""Words for codes on the pages: violation categories, sanctions, phases, ... from data.

Each kind of code has a labels file (``id``, ``en`` and the ``source`` of each code, read by
:func:`schemas.labels.load_labels`); a new kind is one more entry in :data:`LABEL_FILES`. A code
the file does not know (written by a newer sender) is shown as the code itself rather than
hidden; the tests check that every code the hub knows has its words.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import schemas
import streams
from schemas.labels import Label, load_labels
from streams.web.locales import Locale

_SCHEMA_DATA = Path(schemas.__file__).parent / "data"
_STREAMS_DATA = Path(streams.__file__).parent / "data"

#: The labels file of each kind of code.
LABEL_FILES: dict[str, Path] = {
    "violation": _SCHEMA_DATA / "violation_labels.toml",
    "sanction": _SCHEMA_DATA / "sanction_labels.toml",
    "channel": _SCHEMA_DATA / "channel_labels.toml",
    "phase": _STREAMS_DATA / "phase_labels.toml",
    "event": _STREAMS_DATA / "event_labels.toml",
    "deadline": _STREAMS_DATA / "deadline_labels.toml",
    "severity": _STREAMS_DATA / "severity_labels.toml",
    "election": _STREAMS_DATA / "election_labels.toml",
}


@cache
def labels(kind: str) -> dict[str, Label]:
    """Every label of a kind of code, by code.

    Raises:
        KeyError: no labels file for ``kind`` (a programming error).
        schemas.labels.LabelDataError: the file is unreadable or incomplete.
    """
    return load_labels(LABEL_FILES[kind])


def label_text(kind: str, code: str, locale: Locale) -> str:
    """The words for ``code`` in ``locale``; the code itself when the data does not know it."""
    found = labels(kind).get(code)
    if found is None:
        return code
    return found.indonesian if locale == "id" else found.english
