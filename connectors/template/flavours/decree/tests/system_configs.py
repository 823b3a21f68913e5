"""The connectors' configurations the tests of %%title%% use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from %%package%%.simulator import FileExchangeSystem

#: The institution the connectors speak for: an id of the registry in force.
INSTITUTION = "%%institution%%"


def inbound_config(system: FileExchangeSystem, tmp_path: Path) -> dict[str, Any]:
    """The inbound connector's configuration."""
    return {"institution": INSTITUTION, "share": str(system.share)}
