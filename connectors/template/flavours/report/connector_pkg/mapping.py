"""What the system sends, as Kawal events: each line of the outbox is a report.

A ``%%role%%`` such as %%institution%% sends the reports it receives or finds as
``ReportReceived``. The reporter never leaves as the system knows them: ``reporter_ref`` is
their per-case pseudonym under the key in ``pseudonym_key_file``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from %%package%%.exchange import ExchangeConfig
from %%package%%.fields import moment, nip, text
from connectors.base import Event
from connectors.ids import event_id_for
from connectors.pseudonyms import case_pseudonym, kept_key
from schemas.envelope import envelope
from schemas.identity import case_id_for


class InboundConfig(ExchangeConfig):
    """The exchange directory, and the key of reporters' pseudonyms."""

    pseudonym_key_file: Path
    """Key of reporters' per-case pseudonyms (64 hex digits, mode 0600), made on first start
    if missing. Keep it off the share and back it up: it finds a case's reporter again."""


class Mapping:
    """A report line → ``ReportReceived``."""

    def __init__(self, config: InboundConfig) -> None:
        self._pseudonyms = kept_key(config.pseudonym_key_file)

    def event(self, institution: str, report: dict[str, Any]) -> Event:
        """The ``ReportReceived`` of one report.

        Raises:
            connectors.base.PermanentError: a field the hub would refuse.
            KeyError: a field is missing (named by the connector).
        """
        case_id = case_id_for(institution, text(report, "case_number"))
        reported_at = moment(report, "reported_at")
        return Event(
            "ReportReceived",
            {
                "envelope": envelope(
                    event_id=event_id_for(institution, text(report, "id"), "ReportReceived"),
                    case_id=case_id,
                    event_type="ReportReceived",
                    event_time=reported_at,
                    source=institution,
                    actor_ref=f"system:{institution}",
                ),
                "case_number": report["case_number"],
                "election": report["election"],
                "region_code": report["region_code"],
                "employing_agency": report["employing_agency"],
                # Left to the hub's schema check: a symbol outside the enum is dead-lettered
                # as `schema_mismatch`, naming the field.
                "violation": report["violation"],
                "discovered_on": reported_at.date(),
                "summary": report["summary"],
                "subject_nip": nip(report, "subject_nip"),
                "subject_name": report["subject_name"],
                # Never the system's own reference of the person: one pseudonym per case.
                "reporter_ref": case_pseudonym(self._pseudonyms, case_id, text(report, "reporter")),
                "reporter_identity": None,
            },
        )
