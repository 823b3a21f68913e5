"""The access log: who read which personal-data fields of which case, when, and through what.

Law 27/2022 asks a controller to keep a record of processing; each response that shows a
personal-data value appends one row before it is sent, so a read that could not be recorded is
not served. A row holds field names, never values. ``kawal access log`` reads it, and
``GET /access-log`` shows an institution who read the cases it is party to: of another
institution's reads, only the fields it may see itself (:func:`seen_by`), so a PPK does not
learn from the log that a report named its reporter, and not the credential, which may name a
member of that institution's staff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, false, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from schemas.errors import UnknownSchemaError
from streams.audit.access_chain import GENESIS, chained
from streams.audit.store import AuditStore
from streams.audit.store_errors import AccessLogError
from streams.audit.tables import AccessLogRow
from streams.audit.trail import WITHHELD, Directory, NotEntitledError, Viewer, viewer_for
from streams.domain.chain import whole_millis
from streams.domain.disclosure_policy import DisclosurePolicy
from streams.domain.principals import Principal
from streams.domain.read_period import ReadPeriod
from streams.domain.signing import SigningKey, SigningKeyError
from streams.sql_engines import driver_said

#: The hub's signing key at a moment (:meth:`streams.domain.hub_signer.HubSigner.key_at`).
HubKeyAt = Callable[[datetime], SigningKey]
#: Longest request path kept (the column's size); paths are short, this only guards the write.
PATH_CHARS = 512


@dataclass(frozen=True)
class AccessRecord:
    """One logged read of personal data."""

    read_at: datetime
    principal: str
    role: str
    #: The token id, OIDC subject or ``cli:<os user>`` it was read with; None where withheld.
    credential: str | None
    case_id: str
    fields: tuple[str, ...]
    path: str

    def as_json(self) -> dict[str, Any]:
        """The record as JSON (``kawal access log --json``, ``GET /access-log``)."""
        return {
            "read_at": self.read_at.isoformat(),
            "principal": self.principal,
            "role": self.role,
            "credential": self.credential,
            "case_id": self.case_id,
            "fields": list(self.fields),
            "path": self.path,
        }


#: Tries of an append that another writer's append beat to the same place in the chain.
APPEND_TRIES = 5
#: The PostgreSQL advisory lock appends to the chain take (any number no other lock uses).
APPEND_LOCK = 0x6B61_7761_6C61_6363  # "kawalacc"


class AccessLog:
    """The ``access_log`` table of the audit store, a chain the hub signs."""

    def __init__(self, engine: Engine, hub_key: HubKeyAt | None = None) -> None:
        """The log of the store behind ``engine``; ``hub_key`` signs what :meth:`record` adds."""
        self.engine = engine
        self._hub_key = hub_key

    def record(
        self,
        reader: Principal,
        case_id: str,
        fields: Iterable[str],
        path: str,
        now: datetime | None = None,
    ) -> None:
        """Append one read of ``fields`` of ``case_id`` by ``reader``.

        Raises:
            AccessLogError: the row cannot be written (the read must then not be served).
        """
        read_at = whole_millis(now or datetime.now(UTC))  # as the chain's hash covers it
        row = {
            "read_at": read_at,
            "principal": reader.name,
            "role": reader.role.value,
            "credential": reader.credential,
            "case_id": case_id,
            "fields": json.dumps(sorted(set(fields))),
            "path": path[:PATH_CHARS],
        }
        key = self._signing_key(read_at)
        for tries_left in reversed(range(APPEND_TRIES)):
            try:
                with self.engine.begin() as conn:
                    _take_append_lock(conn)
                    conn.execute(insert(AccessLogRow), chained(row, _last_hash(conn), key))
                return
            except IntegrityError as exc:
                # Another writer extended the same row first (one the lock does not hold back,
                # such as a hub of an older release): chain after its row instead.
                if tries_left == 0:
                    raise AccessLogError(
                        f"cannot write the access log: {driver_said(exc)}"
                    ) from exc
            except SQLAlchemyError as exc:
                raise AccessLogError(f"cannot write the access log: {driver_said(exc)}") from exc

    def _signing_key(self, moment: datetime) -> SigningKey:
        """The hub's key to sign a row read at ``moment``.

        Raises:
            AccessLogError: no hub key may sign now; the read must then not be served.
        """
        if self._hub_key is None:
            raise AccessLogError("this access log was opened to be read, not written")
        try:
            return self._hub_key(moment)
        except SigningKeyError as exc:
            raise AccessLogError(f"cannot sign the access log: {exc}") from exc

    def entries(
        self,
        case_ids: Sequence[str] | None = None,
        reader: str | None = None,
        period: ReadPeriod | None = None,
    ) -> list[AccessRecord]:
        """Logged reads, oldest first: of ``case_ids`` only, by ``reader`` only, in ``period``.

        ``reader`` is a principal (an institution, an operator) or a credential (a token's id,
        ``cli:<os user>`` for a read on the command line): a read matches either.
        """
        query = select(AccessLogRow).order_by(AccessLogRow.read_at, AccessLogRow.id)
        if period is not None and period.start is not None:
            query = query.where(AccessLogRow.read_at >= period.start)
        if period is not None and period.end is not None:
            query = query.where(AccessLogRow.read_at < period.end)
        if case_ids is not None:
            query = query.where(AccessLogRow.case_id.in_(case_ids))
        if reader is not None:
            query = query.where(
                or_(AccessLogRow.principal == reader, AccessLogRow.credential == reader)
            )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def case_ids(self) -> list[str]:
        """Every case someone read personal data of."""
        query = select(AccessLogRow.case_id).distinct().order_by(AccessLogRow.case_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())


def _take_append_lock(conn: Connection) -> None:
    """Hold back other appends to the chain until this transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: a write that changes nothing takes
    the database's write lock before the newest hash is read (a later writer waits out the
    busy timeout), where a read first would let two writers read the same newest row.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
    else:
        conn.execute(update(AccessLogRow).where(false()).values(path=""))


def _last_hash(conn: Connection) -> str:
    """The hash of the newest chained row, or the chain's genesis."""
    query = (
        select(AccessLogRow.hash)
        .where(AccessLogRow.hash.is_not(None))
        .order_by(AccessLogRow.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar() or GENESIS


def _record(row: RowMapping) -> AccessRecord:
    return AccessRecord(
        read_at=row["read_at"],
        principal=row["principal"],
        role=row["role"],
        credential=row["credential"],
        case_id=row["case_id"],
        fields=tuple(json.loads(row["fields"])),
        path=row["path"],
    )


def shown_personal_fields(view: dict[str, Any], catalog: SchemaCatalog) -> tuple[str, ...]:
    """Names of the personal-data fields whose value a trail view shows (sorted, unique).

    A field counts as shown unless the view withheld it or it holds no value (null), so a view
    that could show anything more is logged rather than missed.
    """
    shown: set[str] = set()
    for entry in view.get("entries", []):
        fields = entry.get("fields", {})
        try:
            personal = catalog.personal_data_fields(entry["event_type"])
        except UnknownSchemaError:
            # An entry the hub cannot decode has no "fields"; one it can always has a schema.
            personal = tuple(fields)
        shown |= {
            name for name in personal if name in fields and fields[name] not in (WITHHELD, None)
        }
    return tuple(sorted(shown))


def cases_party_to(
    institution: str,
    case_ids: Iterable[str],
    store: AuditStore,
    codec: AvroCodec,
    directory: Directory,
) -> list[str]:
    """The cases of ``case_ids`` that ``institution`` is party to (its cases)."""
    return list(viewers_of(institution, case_ids, store, codec, directory))


def viewers_of(
    institution: str,
    case_ids: Iterable[str],
    store: AuditStore,
    codec: AvroCodec,
    directory: Directory,
) -> dict[str, Viewer]:
    """``institution`` as the viewer of each case of ``case_ids`` it is party to, by case.

    Party as its trail view has it: the whole trail counts, since an event after a transfer
    of the recommending authority hands the case to the new holder and away from the former.
    """
    found = {}
    for case_id in case_ids:
        rows = store.trail(case_id)
        if not rows:
            continue
        try:
            found[case_id] = viewer_for(institution, rows, codec, directory)
        except NotEntitledError:
            continue
    return found


def seen_by(record: AccessRecord, viewer: Viewer, policy: DisclosurePolicy) -> AccessRecord:
    """``record`` as the institution ``viewer`` of its case sees it.

    Its own reads whole. Of another's, only the fields its own roles in the case may see:
    which fields another read showed would tell what the case holds (whether its report names
    its reporter). And not the credential, which may name a member of the other's staff.
    """
    if record.principal == viewer.institution_id:
        return record
    seen = policy.fields_seen_by(viewer.roles)
    return replace(
        record, credential=None, fields=tuple(field for field in record.fields if field in seen)
    )
