"""A case's trail as people and scripts read it: decoded, verified, personal data withheld.

Used by ``kawal case trail``, ``GET /cases/{case_id}/trail`` and the page. Which personal-data
values a view shows is the disclosure policy's answer for each entry's event type
(:mod:`streams.domain.disclosure_policy`), the same the router applies to the feeds: an
institution's view (``--as``, or over HTTP the bearer credential's) shows what its roles in the
case may see, each value checked against the commitment in the signed bytes; the public view
(and an operator's) shows none, since the policy grants the public nothing.
Every view verifies the same chain and each entry's signatures, the sender's and the hub's
(:mod:`streams.domain.entries`), and carries what a reader needs to check them without the hub:
the signed bytes, key ids and signatures, and for each value an institution's view shows, the
sender's disclosure (field, salt, value) that opens its commitment in those bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec, CodecError
from schemas.errors import KawalError
from streams.audit.case_check import check_stored_case
from streams.audit.row_shapes import clear_disclosures, shape_problem
from streams.audit.store import AuditRow, AuditStore, CaseSummary
from streams.domain.authority import AuthorityMap
from streams.domain.chain import ChainBreak, verify_chain
from streams.domain.commitments import reveal
from streams.domain.disclosure_policy import PUBLIC, DisclosurePolicy
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.institutions import MAX_ID_LENGTH, Institution, resembling
from streams.domain.keys import KeyRegistry
from streams.domain.parties import BREACH_EVENT, case_roles, handed_over, parties_of_report
from streams.vault.entries import CaseKeys, DataKey, unvault

WITHHELD = "[withheld: personal data]"

#: Why a view shows none of a case's kept personal values although the vault was asked.
KEY_MISSING = (
    "the vault holds no data key for this case, so none of its personal values can be shown "
    "(they appear withheld); restore the vault (KAWAL_VAULT_URL) from a backup taken after "
    "the case began, then read the trail again"
)


#: Why a ministry is not party to a case: none of its deadlines was breached (yet).
NOT_BREACHED = (
    ": a ministry is party to a case only once one of its deadlines was breached "
    f"({BREACH_EVENT}), and reads it from then on"
)


class NotEntitledError(KawalError):
    """An institution asked for the view of a case it is not party to, or is unknown."""


class UnknownViewerError(NotEntitledError):
    """The view was asked for as an institution the registry does not list."""


@dataclass(frozen=True)
class Viewer:
    """An institution reading a case, with the roles it acts in for that case."""

    institution_id: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Directory:
    """What resolving a viewer needs: the registered institutions and the authority map."""

    institutions: Sequence[Institution]
    authority_map: AuthorityMap

    def not_party(self, institution_id: str, case_id: str) -> str:
        """Why ``institution_id`` may not read ``case_id``: not party to it (a ministry: yet)."""
        return f"{institution_id} is not party to case {case_id}" + self.until_breached(
            institution_id
        )

    def until_breached(self, institution_id: str) -> str:
        """:data:`NOT_BREACHED` if ``institution_id`` is a ministry, else nothing."""
        ministry = any(i.id == institution_id and i.role == "ministry" for i in self.institutions)
        return NOT_BREACHED if ministry else ""

    def institution(self, institution_id: str) -> Institution | None:
        """The registered institution ``institution_id``, or None."""
        return next((i for i in self.institutions if i.id == institution_id), None)


def viewer_for(
    institution_id: str, rows: Sequence[AuditRow], codec: AvroCodec, directory: Directory
) -> Viewer:
    """The viewer ``institution_id`` of the case whose trail is ``rows``.

    Raises:
        UnknownViewerError: the institution is not registered.
        NotEntitledError: it is not party to the case.
    """
    known = {inst.id: inst for inst in directory.institutions}
    institution = known.get(institution_id)
    if institution is None:
        raise UnknownViewerError(
            f"{institution_id[:MAX_ID_LENGTH]!r} is not in the institutions registry"
            f"{resembling(institution_id, known)}; give a registered institution id"
        )
    roles = None
    if rows and rows[0].event_type == "ReportReceived":
        report = codec.decode(rows[0].event).record
        parties = handed_over(
            directory.authority_map,
            parties_of_report(directory.authority_map, report),
            report["envelope"]["event_time"],
            _event_times(rows[1:], codec),
        )
        breached = any(row.event_type == BREACH_EVENT for row in rows)
        roles = case_roles(institution, replace(parties, breached=breached))
    if roles is None:
        raise NotEntitledError(directory.not_party(institution_id, rows[0].case_id))
    return Viewer(institution_id, roles)


def _event_times(rows: Sequence[AuditRow], codec: AvroCodec) -> Iterator[datetime]:
    """The event times of ``rows``; a row that cannot be read is the verification's to report."""
    for row in rows:
        try:
            yield codec.decode(row.event).record["envelope"]["event_time"]
        except (CodecError, KeyError, TypeError):
            continue


def trail_view(
    store: AuditStore,
    codec: AvroCodec,
    catalog: SchemaCatalog,
    policy: DisclosurePolicy,
    case_id: str,
    viewer: str | None = None,
    directory: Directory | None = None,
    keys: KeyRegistry | None = None,
    case_keys: CaseKeys | None = None,
) -> dict[str, Any] | None:
    """The case's trail with its verification result, or None if the case is unknown.

    Args:
        store: The audit store.
        codec: Decodes the stored events.
        catalog: Tells which fields are personal data.
        policy: Which of them each role may see, per event type.
        case_id: The case.
        viewer: Institution whose view to show; None for the public view.
        directory: Institutions and authority map; needed with ``viewer``.
        keys: The key registry the signatures are checked with; None checks the chain only.
        case_keys: The vault of the cases' data keys, which opens the disclosures for a
            ``viewer`` (and for checking them); None shows and checks no disclosure.

    Raises:
        NotEntitledError: ``viewer`` is unknown or not party to the case.
    """
    # The head first: the sink stores a case's entries with its head, so every entry up to it
    # is there once it is read, and newer entries may follow without a snapshot.
    head = store.case_head(case_id)
    rows = store.trail(case_id)
    if not rows:
        return None
    rows, case_break = check_stored_case(store, case_id, head, rows)
    reader = None
    if viewer is not None:
        reader = viewer_for(viewer, rows, codec, directory or _no_directory())
    data_key = case_keys.keys_for([case_id], create=False).get(case_id) if case_keys else None
    opened = Disclosed(catalog, data_key)
    # The case's check covers every row's shape and the chain up to the head; the rest of the
    # chain and the signatures cover what the sink stored after it.
    chain_break = (
        case_break
        or verify_chain(rows)
        or (verify_signatures(rows, codec, keys, opened) if keys else None)
    )
    return {
        "case_id": case_id,
        "view": viewer or "public",
        "verified": chain_break is None,
        "first_bad_seq": chain_break.seq if chain_break else None,
        "problem": chain_break.reason if chain_break else None,
        "values_problem": _values_problem(rows, case_keys, data_key),
        "entries": [present_entry(row, codec, catalog, policy, reader, opened) for row in rows],
    }


def _values_problem(
    rows: Sequence[AuditRow], case_keys: CaseKeys | None, data_key: DataKey
) -> str | None:
    """Why the case's kept values cannot be shown, when the vault was asked and lacks its key."""
    kept = any(
        isinstance(row.vaulted_disclosures, bytes) and row.vaulted_disclosures for row in rows
    )
    return KEY_MISSING if case_keys is not None and data_key is None and kept else None


@dataclass(frozen=True)
class Disclosed:
    """Opens the stored disclosures of one case's entries with the case's data key."""

    catalog: SchemaCatalog
    #: The case's data key; Erased once erased, None when the vault was not at hand.
    data_key: DataKey

    def of(self, row: AuditRow) -> list[dict[str, str]]:
        """The disclosures of ``row``: vaulted (format 2) or, for older entries, in clear.

        Raises:
            ValueError: the vaulted disclosures do not open with the case's key (tampered).
        """
        if row.vaulted_disclosures:
            try:
                return unvault(
                    self.catalog, self.data_key, row.case_id, row.hash, row.vaulted_disclosures
                )
            except KawalError as exc:
                raise ValueError(f"the disclosures of entry {row.seq} do not open: {exc}") from exc
        return clear_disclosures(row)


def verify_signatures(
    rows: Sequence[AuditRow], codec: AvroCodec, keys: KeyRegistry, opened: Disclosed | None = None
) -> ChainBreak | None:
    """The first entry whose signatures or disclosures do not hold, as a chain break.

    Without ``opened`` (no vault at hand), only the disclosures kept in clear are checked.
    """
    for row in rows:
        try:
            disclosures = opened.of(row) if opened else clear_disclosures(row)
            entry = entry_of(row)
        except ValueError as exc:
            return ChainBreak(row.seq, f"disclosure_unreadable: {exc}")
        checked = check_entry(codec, keys, entry, disclosures)
        if isinstance(checked, EntryProblem):
            return ChainBreak(row.seq, f"{checked.code}: {checked.detail}")
    return None


def entry_of(row: AuditRow) -> dict[str, Any]:
    """A stored row as the ``kawal.AuditEntry`` record it was written from (as stored)."""
    return {
        column: getattr(row, column)
        for column in (
            "case_id",
            "seq",
            "event_id",
            "event_type",
            "prev_hash",
            "hash",
            "event",
            "recorded_at",
            "source_topic",
            "source_partition",
            "source_offset",
            "key_id",
            "signature",
            "hub_key_id",
            "hub_signature",
            "vaulted_disclosures",
        )
    } | {"disclosures": clear_disclosures(row)}


def _no_directory() -> Directory:
    raise NotEntitledError("an institution's view needs the registered institutions")


def present_entry(
    row: AuditRow,
    codec: AvroCodec,
    catalog: SchemaCatalog,
    policy: DisclosurePolicy,
    viewer: Viewer | None = None,
    opened: Disclosed | None = None,
) -> dict[str, Any]:
    """One trail entry: chain fields, committed bytes, envelope and the fields ``viewer`` sees."""
    misshapen = shape_problem(row)
    if misshapen is not None:
        # Its columns may hold anything (bytes, no value): only what the problem says is shown.
        return {"seq": row.seq if isinstance(row.seq, int) else None, "error": misshapen}
    entry: dict[str, Any] = {
        "seq": row.seq,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "recorded_at": row.recorded_at.isoformat(timespec="milliseconds"),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "accepted_from": f"{row.source_topic}:{row.source_partition}:{row.source_offset}",
        "committed_event": row.event.hex(),
        "key_id": row.key_id,
        "signature": row.signature.hex(),
        "hub_key_id": row.hub_key_id,
        "hub_signature": row.hub_signature.hex(),
    }
    try:
        decoded = codec.decode(row.event)
    except CodecError as exc:
        entry["error"] = str(exc)
        return entry
    # A personal-data field that holds no value (null) has nothing to withhold: the committed
    # bytes every view carries show it is null.
    personal = {
        name
        for name in catalog.personal_data_fields(decoded.full_name)
        if decoded.record.get(name) is not None
    }
    try:
        record, disclosed = _visible_record(decoded.record, row, policy, viewer, opened)
    except ValueError as exc:
        entry["error"] = str(exc)
        return entry
    personal -= {item["field"] for item in disclosed}
    entry["envelope"] = to_json(record["envelope"])
    entry["fields"] = {
        name: WITHHELD if name in personal else to_json(value)
        for name, value in record.items()
        if name != "envelope"
    }
    entry["disclosures"] = disclosed
    return entry


def _visible_record(
    record: dict[str, Any],
    row: AuditRow,
    policy: DisclosurePolicy,
    viewer: Viewer | None,
    opened: Disclosed | None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The record with the disclosures ``viewer`` may see revealed, and those disclosures.

    Each disclosure is the sender's ``{field, salt, value}``: with the salt a reader checks
    offline that the value shown is the one the sender committed to in the signed bytes.

    Raises:
        ValueError: a disclosure does not open or does not match its commitment (the store
            was tampered with).
    """
    if opened is None:
        return record, []
    roles = viewer.roles if viewer else frozenset({PUBLIC})
    stored = opened.of(row)
    shown = set(policy.visible(roles, row.event_type, [item["field"] for item in stored]))
    disclosures = [
        {"field": item["field"], "salt": item["salt"], "value": item["value"]}
        for item in stored
        if item["field"] in shown
    ]
    return reveal(record, disclosures), disclosures


def cases_view(store: AuditStore) -> list[dict[str, Any]]:
    """Every case with its entry count and newest event."""
    return [_case(summary) for summary in store.cases()]


def _case(summary: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": summary.case_id,
        "entries": summary.entries,
        "last_event_type": summary.last_event_type,
        "last_recorded_at": summary.last_recorded_at.isoformat(timespec="milliseconds"),
    }


def to_json(value: Any) -> Any:
    """Avro values as JSON: timestamps and dates in ISO 8601, bytes in hex.

    A timestamp has its whole milliseconds always (``.000`` included), as Avro keeps it and
    the docs give it: a fixed-pattern parser meets one form.
    """
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
