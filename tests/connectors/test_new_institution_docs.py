"""docs/connectors.md tells an integrator how to register a new institution, as the hub reads it."""

from __future__ import annotations

import re
from pathlib import Path

from streams.domain.institutions import INSPECTORATE_PREFIX, load_institutions
from tests.connectors.guide import section

BUNDLED = Path(__file__).parents[2] / "streams" / "data" / "institutions.toml"


def test_the_documented_registry_table_added_to_a_copy_is_read_by_the_hub(tmp_path: Path) -> None:
    text = section("### A new institution")
    [table] = re.findall(r"```toml\n(.*?)```", text, re.DOTALL)
    registry = tmp_path / "institutions.toml"
    registry.write_text(BUNDLED.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")

    added = {inst.id: inst for inst in load_institutions(registry)}["inspektorat.3201"]

    assert added.id.startswith(INSPECTORATE_PREFIX)
    assert added.role == "regional_inspectorate"
    for needed in ("KAWAL_INSTITUTIONS_FILE", "restart", "--valid-from", "kawal token issue"):
        assert needed in text, needed
