"""Human labels of coded values, kept as data beside the schemas.

The ``kawal.ViolationCategory`` enum carries only codes, so it can grow compatibly; what each
code means, in Indonesian and English, lives in ``data/violation_labels.toml``. Other coded
values (sanction kinds and levels, lifecycle phases, ...) have label files of the same shape,
read with :func:`load_labels`.

Example:
    >>> labels = load_violation_labels()
    >>> labels["DISCIPLINE_USE_OF_OFFICE_FACILITIES"].english
    'Taking part in a campaign using state facilities'
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import KawalError

DEFAULT_VIOLATION_LABELS = Path(__file__).parent / "data" / "violation_labels.toml"
_KEYS = ("id", "en", "source")


class LabelDataError(KawalError):
    """A labels file cannot be read, or an entry lacks a label."""


@dataclass(frozen=True)
class Label:
    """What a code means.

    Attributes:
        code: the coded value (an enum symbol, a phase).
        indonesian: the label in Indonesian.
        english: the label in English.
        source: the legal text the code stands for.
    """

    code: str
    indonesian: str
    english: str
    source: str


def load_violation_labels(path: Path | None = None) -> dict[str, Label]:
    """Reads the labels of the violation codes, by code.

    Args:
        path: a labels file; the bundled ``data/violation_labels.toml`` by default.

    Raises:
        LabelDataError: the file is missing or not TOML, or a code lacks a label.
    """
    return load_labels(path or DEFAULT_VIOLATION_LABELS)


def load_labels(path: Path) -> dict[str, Label]:
    """Reads a labels file (one ``[CODE]`` table of ``id``, ``en``, ``source`` per code).

    Raises:
        LabelDataError: the file is missing or not TOML, or a code lacks a label.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LabelDataError(
            f"cannot read labels {path}: {exc}; restore the file from the repository"
        ) from exc
    return {code: _label(path, code, entry) for code, entry in data.items()}


def _label(path: Path, code: str, entry: Any) -> Label:
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(key), str) and entry[key] for key in _KEYS
    ):
        raise LabelDataError(
            f"{path.name}: [{code}] needs non-empty strings {', '.join(_KEYS)} "
            "(Indonesian label, English label, legal source)"
        )
    return Label(code, entry["id"], entry["en"], entry["source"])
