"""The demo PPK's registry holds the decrees the demo's history says the PPK signed.

``kawal up --demo`` publishes a history of cases (:mod:`streams.local.demo`,
:mod:`streams.local.demo_mix`) before its connectors start; the cases of ``ppk.3374`` it
takes to a sanction carry that PPK's ``SanctionImposed``. Those decrees are the PPK's, so its
registry holds them too, signed, under the same numbers. Without them the office would draft
a decree for each of those cases once ``ppk-inbox`` delivered their recommendations, and the
hub would refuse every such second decree (``already_sanctioned``): seven at every fresh demo.

The history reported them to the hub already, so ``ppk-decrees`` starts after them, as a
connector put in place after those decrees were reported would: its checkpoint is set past
them. Only a registry that holds no decree yet gets them, so a restarted demo, or one whose
office has already worked, is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.ppk.connector import Decrees
from connectors.ppk.simulator import DecreeRegistry
from streams.broker.checkpoints import CheckpointStore
from streams.local.demo import demo_waves
from streams.local.demo_mix import mix_waves

#: Who signs the history's decrees: an internal user id, as the office's PPK signs.
SIGNED_BY = "u-0001"


def history_decrees(institution: str) -> Iterator[dict[str, Any]]:
    """The decrees ``institution`` signed in the demo's history, as rows of ``decrees``."""
    waves = [*demo_waves(), *mix_waves()]
    reports = {
        record["envelope"]["case_id"]: record
        for wave in waves
        for event_type, record in wave
        if event_type == "ReportReceived"
    }
    for wave in waves:
        for event_type, record in wave:
            envelope = record["envelope"]
            if event_type != "SanctionImposed" or envelope["source"] != institution:
                continue
            report = reports[envelope["case_id"]]
            yield {
                "decree_number": record["decree_number"],
                "case_id": envelope["case_id"],
                "subject_nip": report["subject_nip"],
                "subject_name": report["subject_name"],
                "sanction_level": record["sanction_level"],
                "sanction_kind": record["sanction_kind"],
                "effective_on": record["effective_on"],
                "signed_at": envelope["event_time"],
                "signed_by": SIGNED_BY,
            }


def record_history(registry: DecreeRegistry, institution: str, home: Path) -> int:
    """Write the history's decrees into a registry without any; return how many were written.

    ``ppk-decrees``'s checkpoint under ``home`` is then set past them: the history published
    them already.
    """
    if registry.holds_decrees():
        return 0
    last, written = None, 0
    for decree in history_decrees(institution):
        last = registry.record_signed(decree)
        written += 1
    if last is not None:
        # Where connectors.host keeps the checkpoints of the connectors it runs.
        checkpoints = CheckpointStore(home / "connectors" / "checkpoints.db")
        try:
            checkpoints.put(Decrees.name, str(last))
        finally:
            checkpoints.close()
    return written
