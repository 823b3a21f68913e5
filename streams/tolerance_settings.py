"""The setting that lets unknown ``KAWAL_*`` variables pass: ``KAWAL_TOLERATED_VARIABLES``.

Part of :class:`streams.settings.Settings` (read there, like every other ``KAWAL_*`` variable);
apart because it is about the other variables, which :mod:`streams.unknown_variables` checks.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from streams.setting_types import VariableNames


class ToleranceSettings(BaseModel):
    """Which ``KAWAL_*`` variables that no setting reads a process lets pass."""

    tolerated_variables: VariableNames = Field(
        default=frozenset(),
        description=(
            "KAWAL_* variables, separated by commas, that this process lets pass although no "
            "setting of it reads them (a setting of another version of kawal, during a rollback "
            "or a rolling upgrade); any other unknown KAWAL_* variable stops it (exit 13)."
        ),
    )
