"""The public register of final sanctions: agency, violation, sanction and date, names optional.

A projection of the audit store: a case is in the register once its recommending authority
closed it (``CaseClosed``) with a ``final_sanction``, the sanction that stands after objection
and appeal. Each row holds the employing agency, the region, the election, the violation the
authority decided on (the last ``RecommendationIssued``'s, else the verified one, else the
reported one), the final sanction's level and kind, and the closing day.

The register is off by default (``KAWAL_PUBLIC_REGISTER=off``). ``agencies`` publishes it
without any personal data; ``names`` adds the sanctioned civil servant's name, opened from the
case's vaulted disclosures and checked against the sender's commitment. Names need a legal basis
that the operator documents (``KAWAL_PUBLIC_REGISTER_LEGAL_BASIS``, shown on the register); a
case whose personal data was erased shows no name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.audit.decoding import EntryDecoder
from streams.audit.store import AuditStore
from streams.audit.trail import Disclosed, entry_of
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.keys import KeyRegistry
from streams.vault.data_keys import Erased
from streams.vault.entries import CaseKeys

log = logging.getLogger(__name__)

#: Event types the projection reads.
READ_TYPES = ("ReportReceived", "VerificationCompleted", "RecommendationIssued", "CaseClosed")


class RegisterMode(StrEnum):
    """What the register publishes."""

    OFF = "off"
    AGENCIES = "agencies"
    NAMES = "names"


class RegisterSetupError(KawalError):
    """The register is configured to publish names without a documented legal basis."""


@dataclass(frozen=True)
class RegisterRow:
    """One final sanction (``name`` only in ``names`` mode, and never for an erased case)."""

    agency: str
    region: str
    election: str
    violation: str
    sanction_level: str
    sanction_kind: str
    closed_on: date
    name: str | None = None


@dataclass(frozen=True)
class NameSource:
    """What opening a sanctioned civil servant's name needs: the vault and the senders' keys."""

    catalog: SchemaCatalog
    codec: AvroCodec
    keys: KeyRegistry
    case_keys: CaseKeys


def check_setup(mode: RegisterMode, legal_basis: str | None) -> None:
    """Refuses to publish names without a documented legal basis.

    Raises:
        RegisterSetupError: ``names`` mode without ``KAWAL_PUBLIC_REGISTER_LEGAL_BASIS``.
    """
    if mode is RegisterMode.NAMES and not (legal_basis or "").strip():
        raise RegisterSetupError(
            "KAWAL_PUBLIC_REGISTER=names publishes civil servants' names: set "
            "KAWAL_PUBLIC_REGISTER_LEGAL_BASIS to the legal basis (the regulation and article "
            "that allow it), or use KAWAL_PUBLIC_REGISTER=agencies"
        )


def read_register(
    store: AuditStore, codec: AvroCodec, names: NameSource | None = None
) -> list[RegisterRow]:
    """The register, newest closing first; with ``names``, each row's name where it opens.

    Raises:
        StoreError: the store cannot be read.
    """
    return named(store, closed_cases(store, codec), names)


def closed_cases(store: AuditStore, codec: AvroCodec) -> list[tuple[str, RegisterRow]]:
    """Every final sanction without a name, by case id, newest closing first.

    No personal data: what may be kept between requests (:mod:`streams.audit.read_cache`).

    Raises:
        StoreError: the store cannot be read.
    """
    return sorted(
        fold(store.events_of_types(READ_TYPES), codec),
        key=lambda r: (r[1].closed_on, r[0]),
        reverse=True,
    )


def named(
    store: AuditStore, rows: list[tuple[str, RegisterRow]], names: NameSource | None
) -> list[RegisterRow]:
    """``rows`` with each name where it opens now (with ``names``), else without names.

    Names are opened at each call, never kept: an erased case loses its name at once.
    """
    if names is None:
        return [row for _, row in rows]
    return [replace(row, name=_name(store, names, case_id)) for case_id, row in rows]


def fold(entries: Iterable[tuple[str, bytes]], codec: AvroCodec) -> list[tuple[str, RegisterRow]]:
    """``(case_id, event bytes)`` in trail order per case → the final sanctions, by case id."""
    facts: dict[str, dict[str, Any]] = {}
    for case_id, record in EntryDecoder(codec).records(entries):
        _note(facts.setdefault(case_id, {}), record)
    return [(case_id, row) for case_id, case in facts.items() if (row := _row(case)) is not None]


def _note(case: dict[str, Any], record: dict[str, Any]) -> None:
    event_type = record["envelope"]["event_type"]
    if event_type == "ReportReceived":
        case.update(
            agency=record["employing_agency"],
            region=record["region_code"],
            election=record["election"],
            violation=record["violation"],
        )
    elif event_type in ("VerificationCompleted", "RecommendationIssued"):
        case["violation"] = record["violation"]
    elif event_type == "CaseClosed":
        case["final"] = record["final_sanction"]
        case["closed_on"] = record["closed_on"]


def _row(case: dict[str, Any]) -> RegisterRow | None:
    final = case.get("final")
    if final is None or "agency" not in case:
        return None
    return RegisterRow(
        agency=case["agency"],
        region=case["region"],
        election=case["election"],
        violation=case["violation"],
        sanction_level=final["level"],
        sanction_kind=final["kind"],
        closed_on=case["closed_on"],
    )


def _name(store: AuditStore, names: NameSource, case_id: str) -> str | None:
    key = names.case_keys.keys_for([case_id], create=False).get(case_id)
    trail = store.trail(case_id)
    if key is None or isinstance(key, Erased) or not trail:
        return None
    report = trail[0]
    try:
        disclosures = Disclosed(names.catalog, key).of(report)
    except ValueError:
        disclosures = None
    revealed = (
        None
        if disclosures is None
        else check_entry(names.codec, names.keys, entry_of(report), disclosures)
    )
    if revealed is None or isinstance(revealed, EntryProblem):
        # A tampered entry names nobody; the operator runs `kawal audit verify` on it.
        log.warning(
            "public register: the report of case %s does not open or verify; no name shown",
            case_id,
        )
        return None
    name = revealed.get("subject_name")
    return name if isinstance(name, str) else None
