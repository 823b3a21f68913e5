"""What the system sends, as Kawal events: each line of the outbox is a signed decree.

A PPK such as %%institution%% follows a recommendation up by decree, sent as
``SanctionImposed``. A decree names its case as the hub knows it: the institution that first
reported it (``reported_by``) and that institution's case number (``case_number``), from
which the case id derives. The hub checks that the sanction fits the violation and the
recommendation, and refuses what does not (a rejection receipt: ``Outbound.refused``).
"""

from __future__ import annotations

from typing import Any

from %%package%%.exchange import ExchangeConfig
from %%package%%.fields import day, invalid, moment, text
from connectors.base import Event
from connectors.ids import event_id_for
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.domain.institutions import INSTITUTION_ID


class InboundConfig(ExchangeConfig):
    """The exchange directory (a decree names no reporter: no pseudonym key)."""


class Mapping:
    """A decree line → ``SanctionImposed``."""

    def __init__(self, config: InboundConfig) -> None:
        self.config = config

    def event(self, institution: str, decree: dict[str, Any]) -> Event:
        """The ``SanctionImposed`` of one decree.

        Raises:
            connectors.base.PermanentError: a field the hub would refuse.
            KeyError: a field is missing (named by the connector).
        """
        reported_by = text(decree, "reported_by")
        if not INSTITUTION_ID.fullmatch(reported_by):
            raise invalid("reported_by", "is no institution id (such as bawaslu.33)")
        number = text(decree, "decree_number")
        return Event(
            "SanctionImposed",
            {
                "envelope": envelope(
                    event_id=event_id_for(institution, f"decree/{number}", "SanctionImposed"),
                    case_id=case_id_for(reported_by, text(decree, "case_number")),
                    event_type="SanctionImposed",
                    event_time=moment(decree, "signed_at"),
                    source=institution,
                    actor_ref=f"system:{institution}",
                ),
                "decree_number": number,
                # Left to the hub's schema check: a symbol outside the enums is dead-lettered
                # as `schema_mismatch`, naming the field; a kind of another level the hub
                # refuses as `unfit_sanction`.
                "sanction_level": decree["sanction_level"],
                "sanction_kind": decree["sanction_kind"],
                "effective_on": day(decree, "effective_on"),
            },
        )
