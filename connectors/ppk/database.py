"""The PPK's decree registry as its connectors see it, and how to reach it.

The registry owns ``decrees``; the ``ppk-decrees`` connector reads it, and only the columns in
:data:`READ_COLUMNS` and :data:`COMPARED_COLUMNS` (never the civil servant's name; the NIP
only to compare it with the recommendation's, never passing it on). The ``ppk-inbox``
connector writes what the hub tells the PPK into tables of their own, never into ``decrees``:
``recommendations`` (the in-tray the office drafts decrees from, with the civil servant it is
about once the hub disclosed them), ``case_subjects`` (the civil servant of each case, as the
hub disclosed them to the PPK) and ``hub_refusals`` (the hub's refusals of the PPK's
decrees). ``ppk-decrees`` writes its own refusals there too (``refused_by``), so the office
sees in one place every decree that did not count as a follow-up. A refusal is not a change
of the decree: it takes no ``change_seq``, so ``ppk-decrees`` does not read the decree again.
``change_seq`` is the registry's change sequence: every insert or update of a decree takes the
next value of the ``change_counter`` row inside the same transaction (see
:mod:`connectors.ppk.connector` for why the connector needs exactly that). Every timestamp is
UTC; SQLite keeps none of a zone, so a naive value read back is taken as UTC.

A registry made before a column was added is brought up to date by :func:`upgrade` (the
simulator calls it); the connectors write without a column the registry lacks and say which
to add (:func:`missing_ddl`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    DefaultClause,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.schema import CreateTable

#: Row ids: 64-bit, but SQLite's rowid alias must be declared INTEGER.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

#: Decree statuses: a draft is not final, a signed decree is, a revoked one no longer holds.
DRAFT, SIGNED, REVOKED = "DRAFT", "SIGNED", "REVOKED"

#: Who refused a decree (``hub_refusals.refused_by``): the hub, or ``ppk-decrees`` itself.
HUB, CONNECTOR = "hub", "connector"

METADATA = MetaData()

DECREES = Table(
    "decrees",
    METADATA,
    Column("id", _ROW_ID, primary_key=True),
    Column("decree_number", String(64), unique=True, doc="Assigned when the PPK signs."),
    Column("reported_by", String(64), doc="Case reference: institution that first reported it."),
    Column("case_number", String(128), doc="Case reference: that institution's case number."),
    Column("case_id", String(36), doc="Case reference instead: the hub's id, as recommended."),
    Column(
        "subject_nip",
        String(18),
        nullable=False,
        doc="Personal data: read only to compare, never passed on (COMPARED_COLUMNS).",
    ),
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
        "case_id",
        "sanction_level",
        "sanction_kind",
        "effective_on",
        "status",
        "signed_at",
        "signed_by",
        "change_seq",
    )
)

#: Read of a decree only to compare it with its recommendation's subject, then dropped: never
#: in a record's payload, so never in an event or a dead letter.
COMPARED_COLUMNS = (DECREES.c.subject_nip,)

#: Recommendation statuses: in the in-tray, a decree drafted for it, or nothing to impose (not
#: proven).
NEW, DRAFTED, NOTHING_TO_IMPOSE = "NEW", "DRAFTED", "NOTHING_TO_IMPOSE"

RECOMMENDATIONS = Table(
    "recommendations",
    METADATA,
    Column("id", _ROW_ID, primary_key=True),
    Column("event_id", String(36), nullable=False, doc="The hub's event id."),
    Column("case_id", String(36), nullable=False, doc="The hub's case id: the decree names it."),
    Column("authority", String(16), nullable=False, doc="kasn or bkn."),
    Column("proven", Boolean, nullable=False),
    Column("violation", String(64), nullable=False, doc="kawal.ViolationCategory symbol."),
    Column("sanction_level", String(32), doc="Recommended kawal.SanctionLevel; null if none."),
    Column("sanction_kind", String(64), doc="Recommended kawal.SanctionKind; null: the PPK's."),
    Column("follow_up_days", Integer, nullable=False, doc="Working days to act on it."),
    Column(
        "follow_up_due_on",
        Date,
        doc="Last working day to act on it, as the hub counts it; null when not proven.",
    ),
    Column("issued_at", DateTime(timezone=True), nullable=False, doc="The authority's time."),
    Column("recorded_at", DateTime(timezone=True), nullable=False, doc="The hub's: clock start."),
    Column("status", String(24), nullable=False, doc="NEW, DRAFTED or NOTHING_TO_IMPOSE."),
    Column("decree_id", ForeignKey("decrees.id"), doc="The decree drafted for it."),
    Column("subject_nip", String(18), doc="Personal data: whom it is about, once disclosed."),
    Column("subject_name", String(128), doc="Personal data: whom it is about, once disclosed."),
    # An event id is unique within its case only: the hub refuses it again there, not in
    # another case, where a sender's defect may reuse it.
    UniqueConstraint("case_id", "event_id"),
)

HUB_REFUSALS = Table(
    "hub_refusals",
    METADATA,
    Column("id", _ROW_ID, primary_key=True),
    Column("source", String(255), nullable=False, unique=True, doc="topic:partition:offset."),
    Column("decree_id", ForeignKey("decrees.id"), doc="Null: no decree of the registry matched."),
    Column("event_id", String(36), doc="The refused event's id, if the hub could read it."),
    Column("event_type", String(64)),
    Column("case_id", String(36)),
    Column("reason_code", String(64), nullable=False, doc="The hub's machine-readable code."),
    Column("reason", Text, nullable=False, doc="What to fix, in the hub's words."),
    Column("refused_at", DateTime(timezone=True), nullable=False, doc="When it was refused."),
    Column(
        "refused_by",
        String(16),
        nullable=False,
        server_default=HUB,
        doc="hub (the hub's receipt) or connector (ppk-decrees did not send the decree).",
    ),
)

CASE_SUBJECTS = Table(
    "case_subjects",
    METADATA,
    Column("case_id", String(36), primary_key=True, doc="The hub's case id."),
    Column("subject_nip", String(18), doc="Personal data, as the hub disclosed it to the PPK."),
    Column("subject_name", String(128), doc="Personal data, as the hub disclosed it to the PPK."),
    Column("event_id", String(36), nullable=False, doc="The feed entry that disclosed it."),
)

#: Tables added after registries were made without them.
ADDED_TABLES = (CASE_SUBJECTS,)

#: Columns added to tables after registries were made without them: (table, column).
ADDED_COLUMNS = (
    (RECOMMENDATIONS, "follow_up_due_on"),
    (RECOMMENDATIONS, "subject_nip"),
    (RECOMMENDATIONS, "subject_name"),
    (HUB_REFUSALS, "refused_by"),
)


def missing_columns(connection: Connection) -> list[tuple[Table, str]]:
    """The :data:`ADDED_COLUMNS` whose table exists in the registry without them."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    return [
        (table, column)
        for table, column in ADDED_COLUMNS
        if table.name in tables
        and column not in {found["name"] for found in inspector.get_columns(table.name)}
    ]


def add_column_sql(table: Table, column: str, dialect: Dialect) -> str:
    """The ``ALTER TABLE`` statement that adds ``column`` to ``table`` as defined here.

    Example:
        >>> from sqlalchemy.dialects import sqlite
        >>> add_column_sql(RECOMMENDATIONS, "subject_nip", sqlite.dialect())
        'ALTER TABLE recommendations ADD COLUMN subject_nip VARCHAR(18)'
    """
    defined = table.c[column]
    kind = defined.type.compile(dialect=dialect)
    sql = f"ALTER TABLE {table.name} ADD COLUMN {column} {kind}"
    if isinstance(defined.server_default, DefaultClause):
        # Every row the registry holds gets the default, so the column can be NOT NULL.
        sql += f" NOT NULL DEFAULT '{defined.server_default.arg}'"
    return sql


def missing_ddl(connection: Connection) -> dict[str, str]:
    """What the inbox writes that the registry lacks, by name, with the statement adding it.

    Names are ``table.column`` for a column of :data:`ADDED_COLUMNS`, the table's name for
    a table made after registries were (:data:`ADDED_TABLES`).
    """
    dialect = connection.dialect
    found = {
        f"{table.name}.{column}": add_column_sql(table, column, dialect)
        for table, column in missing_columns(connection)
    }
    for table in ADDED_TABLES:
        if not inspect(connection).has_table(table.name):
            created = str(CreateTable(table).compile(dialect=dialect))
            found[table.name] = " ".join(created.split())
    return found


def upgrade(engine: Engine) -> None:
    """Create the registry's missing tables, and add the columns its tables lack."""
    METADATA.create_all(engine)
    with engine.begin() as connection:
        for table, column in missing_columns(connection):
            connection.execute(text(add_column_sql(table, column, engine.dialect)))
