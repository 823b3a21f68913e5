"""The Kawal connector contract, for both directions of %%title%%, as %%institution%%.

The suite gives %%institution%% keys and topics if the registry in force lists it: run the
tests with KAWAL_INSTITUTIONS_FILE naming the registry it is registered in, as the hub and
`kawal connector run` are (the bundled registry needs none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from system_configs import INSTITUTION, inbound_config

from %%package%%.samples import UNFIT
from %%package%%.simulator import FileExchangeSystem
from connectors.contract import InboundContract, OutboundContract
from schemas.envelope import envelope
from schemas.identity import case_id_for


@contextmanager
def _system(tmp_path: Path) -> Iterator[FileExchangeSystem]:
    yield FileExchangeSystem(tmp_path / "system")


class TestInbound(InboundContract):
    connector_name = "%%name%%-inbound"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return _system(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return inbound_config(system, tmp_path)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            system.register_record()

    def add_malformed(self, system: Any) -> None:
        system.write_garbage()

    def add_unfit(self, system: Any) -> None:
        system.register_record(**UNFIT)

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


class TestOutbound(OutboundContract):
    connector_name = "%%name%%-outbound"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return _system(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return {"institution": INSTITUTION, "share": str(system.share)}

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        # A registration by the election supervisor, as the feed of a party to the case has it.
        case_id = case_id_for("bawaslu.33", f"LP/{uuid4().hex[:8]}")
        return [
            (
                "ReportRegistered",
                {
                    "envelope": envelope(
                        event_id=str(uuid4()),
                        case_id=case_id,
                        event_type="ReportRegistered",
                        event_time=datetime(2024, 11, 4, 9, 0, tzinfo=UTC),
                        source="bawaslu.33",
                        actor_ref="actor:test",
                    ),
                    "registration_number": "Reg/001",
                    "registered_on": date(2024, 11, 4),
                    "needed_more_information": False,
                },
            )
        ]

    def effects(self, system: Any, event_id: str) -> int:
        return system.status_updates(event_id)  # type: ignore[no-any-return]

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]
