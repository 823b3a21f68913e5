"""The one exception root of Kawal.

Every error the hub raises on purpose derives from :class:`KawalError`, and its message says
what to do next. Third-party errors are translated at the boundary with ``raise ... from exc``.
Messages never carry personal data (names, NIK/NIP, reporter identity).
"""


class KawalError(Exception):
    """Root of every error raised by Kawal."""


class SchemaLoadError(KawalError):
    """An ``.avsc`` file in the schema catalogue cannot be read or parsed."""


class CodecError(KawalError):
    """A record cannot be encoded to, or decoded from, Kawal's Avro wire formats."""


class UnknownSchemaError(CodecError):
    """A schema name, fingerprint or registry id is not in the catalogue."""


class BadMagicError(CodecError):
    """The bytes start with neither single-object (0xC3 0x01) nor Confluent (0x00) framing."""


class TruncatedMessageError(CodecError):
    """The bytes end before the header or the Avro body is complete."""


class SchemaMismatchError(CodecError):
    """A record does not fit its schema, or a body does not decode exactly with it."""


class NaiveTimeError(SchemaMismatchError):
    """A time without a UTC offset: no instant, so it cannot be signed, dated or encoded."""


class InvalidIdentifierError(KawalError):
    """An institution id or case number cannot form a case identity."""
