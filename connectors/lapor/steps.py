"""The steps of a case a reporter is shown, derived from entries of Bawaslu's feed.

Each step is data (``data/steps.toml``: its title and what comes next, in Indonesian and
English); which step an entry stands for is decided here, from its type and, for a
verification, its verdict. Entries that are no step for the reporter (an erasure) give None.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError

STEPS_FILE = Path(__file__).parent / "data" / "steps.toml"
#: The step of a report the hub refused (from its rejection receipt, not from an entry).
NOT_FORWARDED = "not_forwarded"


class StepDataError(ConnectorError):
    """The steps file cannot be read or lacks a text."""


@dataclass(frozen=True)
class StepText:
    """What the reporter reads of one step in one language."""

    title: str
    next: str


@dataclass(frozen=True)
class Step:
    """One step: its code, the event it comes from and its texts by language."""

    code: str
    event: str
    texts: dict[str, StepText]

    def text(self, locale: str) -> StepText:
        """The texts in ``locale`` (``id`` or ``en``)."""
        return self.texts["en" if locale == "en" else "id"]


@cache
def load_steps(path: Path = STEPS_FILE) -> dict[str, Step]:
    """The steps by code, in the order a case goes through them.

    Raises:
        StepDataError: the file is missing, not TOML, or a step lacks a text.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StepDataError(f"cannot read the reporter's steps {path}: {exc}") from exc
    return {code: _step(path, code, entry) for code, entry in data.items()}


def _step(path: Path, code: str, entry: Any) -> Step:
    try:
        texts = {
            locale: StepText(str(entry[locale]["title"]), str(entry[locale]["next"]))
            for locale in ("id", "en")
        }
        return Step(code, str(entry["event"]), texts)
    except (KeyError, TypeError):
        raise StepDataError(
            f"{path.name}: [{code}] needs event, id.title, id.next, en.title and en.next"
        ) from None


def step_of(event_type: str, event: dict[str, Any]) -> str | None:
    """The step code an event stands for, or None when it is no step for the reporter."""
    if event_type == "VerificationCompleted":
        verdict = event.get("verdict")
        if verdict == "PROVEN":
            return "proven"
        return "not_proven" if verdict == "NOT_PROVEN" else None
    if event_type == "RecommendationIssued":
        # Only a proven one asks the PPK for a sanction; telling that of the other misleads.
        return "recommendation_issued" if event.get("proven") else "not_recommended"
    if event_type == "CaseClosed" and event.get("closing_reason") == "MERGED_INTO_ANOTHER_CASE":
        return "merged"  # not "finished": the facts are handled in another case
    for step in load_steps().values():
        if step.event == event_type:
            return step.code
    return None
