"""The PPK's decree registry as the ``ppk-decrees`` connector sees it, and how to reach it.

The registry owns ``decrees``; the connector only reads it, and only the columns in
:data:`READ_COLUMNS` (never the civil servant's name or NIP, which the registry also keeps).
``change_seq`` is the registry's change sequence: every insert or update of a decree takes the
next value of the ``change_counter`` row inside the same transaction (see
:mod:`connectors.ppk.connector` for why the connector needs exactly that). Every timestamp is
UTC; SQLite keeps none of a zone, so a naive value read back is taken as UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
)

#: Decree statuses: a draft is not final, a signed decree is, a revoked one no longer holds.
DRAFT, SIGNED, REVOKED = "DRAFT", "SIGNED", "REVOKED"

METADATA = MetaData()

DECREES = Table(
    "decrees",
    METADATA,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("decree_number", String(64), unique=True, doc="Assigned when the PPK signs."),
    Column("reported_by", String(64), doc="Case reference: institution that first reported it."),
    Column("case_number", String(128), doc="Case reference: that institution's case number."),
    Column("subject_nip", String(18), nullable=False, doc="Personal data; never read."),
    Column("subject_name", String(128), nullable=False, doc="Personal data; never read."),
    Column("sanction_level", String(32), doc="kawal.SanctionLevel symbol (PP 94/2021 Art. 8)."),
    Column("sanction_kind", String(64), doc="kawal.SanctionKind symbol."),
    Column("effective_on", Date),
    Column("status", String(16), nullable=False, doc="DRAFT, SIGNED or REVOKED."),
    Column("signed_at", DateTime(timezone=True)),
    Column("signed_by", String(64), doc="Internal user id of the signing official."),
    Column("change_seq", BigInteger, nullable=False, unique=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

CHANGE_COUNTER = Table(
    "change_counter",
    METADATA,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: What the connector reads of a decree: enough for the event and for its reasons.
READ_COLUMNS = tuple(
    DECREES.c[name]
    for name in (
        "id",
        "decree_number",
        "reported_by",
        "case_number",
        "sanction_level",
        "sanction_kind",
        "effective_on",
        "status",
        "signed_at",
        "signed_by",
        "change_seq",
    )
)
