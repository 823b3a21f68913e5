"""The settings page, ``docs/configuration.md``: every ``KAWAL_*`` variable, default, meaning.

Generated from :class:`streams.settings.Settings`, so a setting added to the hub is on the page
the moment it exists, with the description its field carries. ``python -m
streams.contract.asyncapi`` writes it with the other contract files; ``--check`` fails when the
committed page is stale.

Example:
    >>> page = build_settings_markdown()
    >>> page.splitlines()[0]
    '# Configuration'
    >>> "| `KAWAL_WEB_PORT` | `6066` |" in page
    True
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from streams.contract.channels import REGENERATE_COMMAND
from streams.settings import SECRETS_DIR_VARIABLE, Settings

#: The prefix every setting's variable carries.
PREFIX = "KAWAL_"
#: Variables the demo's connectors read (``kawal up --demo``), not settings of the hub:
#: variable, default, meaning. ``connectors/lapor/demo.py`` and ``streams/local/demo_portal.py``
#: read ``KAWAL_LAPOR_PORT``; the tests hold them to this row.
DEMO_CONNECTOR_VARIABLES = (
    (
        "KAWAL_LAPOR_PORT",
        8090,
        "Port on 127.0.0.1 of the demo's reporting portal (`lapor-intake`'s `listen_port`), "
        "which runs on the embedded storage only (not with --ephemeral or KAWAL_BROKER_URL). "
        "A port taken stops `kawal up --demo` before anything starts, naming this variable.",
    ),
    (
        "KAWAL_TEST_PORTS",
        "2000-5999",
        "`LOW-HIGH`: the ports the simulators of the demo's institutions (and the test suite's "
        "servers) listen on, on 127.0.0.1, each free when taken; ports common servers use "
        "by default (PostgreSQL's 5432-5439, MySQL's 3306, AMQP's 5672, VNC's 5900-5910...) "
        "are passed over. Give another range to keep them apart from a machine's other "
        "servers.",
    ),
)


def build_settings_markdown() -> str:
    """Returns docs/configuration.md: how settings are read, then one row per setting."""
    rows = [_row(name, field) for name, field in Settings.model_fields.items()]
    return "\n".join(
        [
            "# Configuration",
            "",
            f"<!-- Generated from streams/settings.py by `{REGENERATE_COMMAND}`; do not edit. -->",
            "",
            "Every process of the hub (worker, sink, command line, `kawal up`) reads its settings "
            "from `KAWAL_*` environment variables, in one place (`streams/settings.py`). A value "
            "a setting cannot take stops the command before it starts anything (exit 1), with "
            "one line naming the variable and what it takes, never the value.",
            "",
            "In containers, a secret may come from a file instead: a file named like the "
            "variable in lower case (`kawal_broker_password`, `kawal_audit_db_url`) in "
            f"`/run/secrets`, or in the folder `{SECRETS_DIR_VARIABLE}` names, sets the "
            "setting unless the environment does.",
            "",
            "A `KAWAL_*` variable that no setting reads (nor the demo's connectors below, nor "
            "the project's own tooling: `KAWAL_FUZZ_EXAMPLES`, `KAWAL_SCREENSHOT_DIR`, "
            "`KAWAL_TEST_FAILING_BATCH`, bench/'s variables, `KAWAL_BUILD_REVISION` "
            "of the image), or a secret file `kawal_*` named after no setting, stops every "
            "process before it starts anything, exit 13: a misspelt setting would otherwise be "
            "ignored (a misspelt web port serving on the default one, a misspelt audit store URL "
            "storing the trail in SQLite, a misspelt password connecting without one). The message "
            "names the variable and the setting it most resembles, never its value. Correct or "
            "remove it; a setting of another version of kawal (a rollback to an image older "
            "than its manifests, a rolling upgrade) is let pass by naming it in "
            "`KAWAL_TOLERATED_VARIABLES` (`streams/unknown_variables.py` lists the known ones).",
            "",
            "| variable | default | meaning |",
            "|---|---|---|",
            *rows,
            "",
            "## The demo's connectors",
            "",
            "`kawal up --demo` runs the reference connectors against their simulators "
            "(`kawal connector demo`); they read these variables, which are not settings of "
            "the hub. Elsewhere a connector's settings are its configuration file "
            "([connectors.md](connectors.md#3-configuration)).",
            "",
            "| variable | default | meaning |",
            "|---|---|---|",
            *(
                f"| `{name}` | `{default}` | {meaning} |"
                for name, default, meaning in DEMO_CONNECTOR_VARIABLES
            ),
            "",
        ]
    )


def variable_of(name: str) -> str:
    """The environment variable of the setting ``name`` (``web_port`` → ``KAWAL_WEB_PORT``)."""
    return PREFIX + name.upper()


def _row(name: str, field: FieldInfo) -> str:
    meaning = (field.description or "").replace("|", "\\|")
    return f"| `{variable_of(name)}` | {_default(field.default)} | {meaning} |"


def _default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, Path):
        value = value.as_posix()
    if isinstance(value, frozenset):
        return f"`{','.join(sorted(value))}`" if value else "none"
    return f"`{value}`"
