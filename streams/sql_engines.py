"""Why SQLAlchemy cannot make an engine for a database URL, in words for an operator.

The audit store and the vault each name their own URL setting; the reason is the same.
"""

from __future__ import annotations

from sqlalchemy.exc import NoSuchModuleError


def why_unusable(exc: Exception, dialect: str) -> str:
    """The reason ``create_engine`` raised ``exc`` for a URL of ``dialect``.

    ``exc`` is what it raises for a URL it cannot use: ``NoSuchModuleError`` (an unknown
    dialect), ``ImportError`` (a known dialect whose driver is not installed) or another
    ``ArgumentError``, named by its type only (its text can repeat the URL).
    """
    if isinstance(exc, NoSuchModuleError):
        return f"no database dialect {dialect!r}"
    if isinstance(exc, ImportError):
        return f"the driver {exc.name or dialect} of {dialect} is not installed"
    return f"SQLAlchemy refuses it ({type(exc).__name__})"
