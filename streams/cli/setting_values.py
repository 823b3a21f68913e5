"""The settings of a command, or one line naming each setting whose value cannot be taken.

pydantic reports a bad value with a traceback and the value itself; an operator needs the
variable to fix and what it takes, and a value may be a password, so it is never repeated.
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from schemas.errors import KawalError
from streams.settings import SECRETS_DIR, Settings
from streams.unknown_variables import refuse_unknown

#: Where a setting comes from, so the operator knows where to look.
WHERE = "fix it in the environment, or in its secret file (KAWAL_SECRETS_DIR)"


class SettingError(KawalError):
    """A ``KAWAL_*`` setting has a value it cannot take."""


def load_settings() -> Settings:
    """The hub's settings, read from the environment and secret files.

    Raises:
        SettingError: a setting's value is not one it takes; the message names the variable.
        UnknownVariableError: a ``KAWAL_*`` variable or secret file that no setting reads.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SettingError(_described(exc)) from None
    refuse_unknown(os.environ, settings, SECRETS_DIR)
    return settings


def _described(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        # A whole-model check (a combination of settings) has no field of its own.
        name = f"KAWAL_{field.upper()}" if field else "the settings"
        # A check of the hub's own says what is wrong in its words, naming the variable.
        said = str(error["msg"]).removeprefix("Value error, ")
        problems.append(said if said.startswith(name) else f"{name} is not valid: {said}")
    return "; ".join(problems) + f"; {WHERE}"
