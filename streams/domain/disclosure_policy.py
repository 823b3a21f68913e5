"""Minimal disclosure as data: which role may see which personal-data field of which event.

The sender commits every personal-data field before signing (:mod:`streams.domain.commitments`)
and the values travel beside the entry as disclosures. Which disclosures a reader gets is this
one table (``data/disclosure.toml``, or ``KAWAL_DISCLOSURE_FILE``): the router's outbound feeds,
the trail views and the page all ask it. Each ``[[allow]]`` row grants one role the listed
fields of the listed event types, with the reason; every (role, event type, field) no row
lists is withheld. ``[[sees_nothing]]`` rows record, with their reason, the roles and readers
deliberately granted nothing; the operator and the public are readers, never roles, and are
only ever named there. The entry's hash and the sender's signature cover the committed bytes,
so the full view and every redacted one verify alike.

The file is checked against the schema catalogue when it is loaded: an unknown role or event
type, or a field that is not a personal-data field of its event, is refused naming the row.

Example:
    >>> from schemas.catalog import default_catalog
    >>> policy = load_disclosure_policy(None, default_catalog())
    >>> policy.visible(["ppk"], "ReportReceived", ["subject_name", "reporter_identity"])
    ('subject_name',)
    >>> policy.may_see("personnel_agency", "ReportReceived", "subject_nip")
    False
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from schemas.catalog import SchemaCatalog
from schemas.errors import KawalError
from streams.domain.data_files import read_toml
from streams.domain.institutions import institution_roles
from streams.domain.principals import PrincipalRole

#: Readers that hold no institution role: the public view, and operators, who run the hub.
PUBLIC = "public"
OPERATOR = PrincipalRole.OPERATOR.value
READERS_WITHOUT_ROLE = (OPERATOR, PUBLIC)

#: Grants no policy file may make, whatever it says: the reporter must be safe from
#: retaliation, and the PPK is often the reported official's own superior; the personnel
#: agency needs the NIP for SIASN, never the reporter (DOMAIN.md, "Personal data").
FORBIDDEN: dict[tuple[str, str], str] = {
    ("ppk", "reporter_identity"): "the PPK is often the reported official's superior",
    ("personnel_agency", "reporter_identity"): "it needs the NIP for SIASN, not who reported",
}

#: The keys each kind of row has, all of them required.
_ALLOW_KEYS = ("role", "events", "fields", "why")
_NOTHING_KEYS = ("role", "why")
_FIX = "fix the file or unset KAWAL_DISCLOSURE_FILE"


class DisclosurePolicyError(KawalError):
    """The disclosure policy cannot be read, or a row of it is wrong."""


@dataclass(frozen=True)
class Grant:
    """One ``[[allow]]`` row: ``role`` may see ``fields`` of each of ``events``, and why."""

    role: str
    events: tuple[str, ...]
    fields: tuple[str, ...]
    why: str

    def triples(self) -> Iterator[tuple[str, str, str]]:
        """``(role, event type, field)`` for every combination the row grants."""
        for event_type in self.events:
            for field in self.fields:
                yield self.role, event_type, field


@dataclass(frozen=True)
class NoGrant:
    """One ``[[sees_nothing]]`` row: ``role`` (or reader) is deliberately shown nothing."""

    role: str
    why: str


class DisclosurePolicy:
    """The (role, event type, personal-data field) combinations a reader may see."""

    def __init__(self, grants: Sequence[Grant], nothing: Sequence[NoGrant] = ()) -> None:
        """A policy of ``grants`` (checked by :func:`load_disclosure_policy`) and ``nothing``."""
        self.grants = tuple(grants)
        self.sees_nothing = tuple(nothing)
        # Asked for every disclosure of every entry routed: the roles per (event, field) once.
        seers: dict[tuple[str, str], set[str]] = {}
        for grant in self.grants:
            for role, event_type, field in grant.triples():
                seers.setdefault((event_type, field), set()).add(role)
        self._seers = {key: frozenset(roles) for key, roles in seers.items()}

    def may_see(self, role: str, event_type: str, field: str) -> bool:
        """Whether ``role`` may see ``field`` of an ``event_type`` (False unless a row says so)."""
        return role in self._seers.get((event_type, field), ())

    def fields_seen_by(self, roles: Iterable[str]) -> frozenset[str]:
        """Every field any of ``roles`` may see in some event type."""
        acting = frozenset(roles)
        return frozenset(
            field for (_, field), seers in self._seers.items() if not acting.isdisjoint(seers)
        )

    def visible(
        self, roles: Iterable[str], event_type: str, fields: Iterable[str]
    ) -> tuple[str, ...]:
        """Those of ``fields``, in their order, that any of ``roles`` may see in ``event_type``."""
        acting = frozenset(roles)
        return tuple(
            field
            for field in fields
            if not acting.isdisjoint(self._seers.get((event_type, field), ()))
        )


def load_disclosure_policy(path: Path | None, catalog: SchemaCatalog) -> DisclosurePolicy:
    """The policy at ``path`` (None: the bundled one), checked against ``catalog``.

    Raises:
        DisclosurePolicyError: the file is unreadable, or a row is incomplete, names an unknown
            role or event type, or a field that is not personal data of its event; the message
            names the file and the row.
    """
    source = str(path or "(bundled)")
    try:
        document = read_toml(path, "disclosure.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DisclosurePolicyError(
            f"cannot read the disclosure policy {source}: {exc}; {_FIX}"
        ) from exc
    return parse_policy(document, catalog, source)


def parse_policy(
    document: Mapping[str, Any], catalog: SchemaCatalog, source: str
) -> DisclosurePolicy:
    """The policy of a parsed TOML ``document``, checked against ``catalog``.

    Raises:
        DisclosurePolicyError: as :func:`load_disclosure_policy`; ``source`` names the file.
    """
    unknown = sorted(set(document) - {"allow", "sees_nothing"})
    if unknown:
        raise DisclosurePolicyError(
            f"disclosure policy {source}: unknown table {', '.join(unknown)}; the file holds "
            "[[allow]] and [[sees_nothing]] rows only"
        )
    checker = _Checker(catalog, source)
    grants = [checker.grant(row, number) for number, row in _rows(document, "allow", source)]
    checker.no_duplicates(grants)
    nothing = [checker.no_grant(row, n) for n, row in _rows(document, "sees_nothing", source)]
    checker.nothing_is_nothing(nothing, grants)
    return DisclosurePolicy(grants, nothing)


def _rows(document: Mapping[str, Any], table: str, source: str) -> Iterator[tuple[int, Any]]:
    rows = document.get(table, [])
    if not isinstance(rows, list):
        raise DisclosurePolicyError(
            f"disclosure policy {source}: {table} must be an array of tables, written "
            f"[[{table}]]; {_FIX}"
        )
    return enumerate(rows, start=1)


def _one_line(text: str) -> str:
    # A reason is shown in one table cell of the generated page: one line, single spaces.
    return " ".join(text.split())


class _Checker:
    """Checks rows against the catalogue, naming each bad row in its error."""

    def __init__(self, catalog: SchemaCatalog, source: str) -> None:
        self._catalog = catalog
        self._source = source
        self._roles = institution_roles(catalog)
        self._events = catalog.event_types()

    def grant(self, row: Any, number: int) -> Grant:
        """The ``[[allow]]`` row ``number``, checked."""
        where = f"[[allow]] row {number}"
        self._keys(row, where, _ALLOW_KEYS)
        grant = Grant(
            role=self._text(row, "role", where),
            events=self._names(row, "events", where),
            fields=self._names(row, "fields", where),
            why=_one_line(self._text(row, "why", where)),
        )
        where = f"{where} (role {grant.role!r})"
        if grant.role in READERS_WITHOUT_ROLE:
            self._fail(
                where,
                f"{grant.role!r} is a reader without an institution role and may never be "
                "granted personal data; name it under [[sees_nothing]]",
            )
        if grant.role not in self._roles:
            self._fail(where, f"unknown role; use one of: {', '.join(self._roles)}")
        for event_type in grant.events:
            self._event_fields(where, event_type, grant.fields)
        for field in grant.fields:
            why = FORBIDDEN.get((grant.role, field))
            if why is not None:
                self._fail(where, f"{field} may never be shown to {grant.role}: {why}")
        return grant

    def no_grant(self, row: Any, number: int) -> NoGrant:
        """The ``[[sees_nothing]]`` row ``number``, checked."""
        where = f"[[sees_nothing]] row {number}"
        self._keys(row, where, _NOTHING_KEYS)
        nothing = NoGrant(self._text(row, "role", where), _one_line(self._text(row, "why", where)))
        known = (*self._roles, *READERS_WITHOUT_ROLE)
        if nothing.role not in known:
            self._fail(
                f"{where} (role {nothing.role!r})", f"unknown role; use one of: {', '.join(known)}"
            )
        return nothing

    def no_duplicates(self, grants: Sequence[Grant]) -> None:
        """Refuse a (role, event, field) granted by two rows: each has one reason."""
        first: dict[tuple[str, str, str], int] = {}
        for number, grant in enumerate(grants, start=1):
            for triple in grant.triples():
                if triple in first:
                    role, event_type, field = triple
                    self._fail(
                        f"[[allow]] row {number} (role {role!r})",
                        f"{field} of {event_type} is already granted by [[allow]] row "
                        f"{first[triple]}; keep it in one row, with one reason",
                    )
                first[triple] = number

    def nothing_is_nothing(self, nothing: Sequence[NoGrant], grants: Sequence[Grant]) -> None:
        """Refuse a role both granted fields and said to see nothing, or said so twice."""
        granted = {grant.role for grant in grants}
        seen: set[str] = set()
        for number, row in enumerate(nothing, start=1):
            where = f"[[sees_nothing]] row {number} (role {row.role!r})"
            if row.role in granted:
                self._fail(where, "the role is granted fields by [[allow]] rows; drop one side")
            if row.role in seen:
                self._fail(where, "the role is named twice under [[sees_nothing]]")
            seen.add(row.role)

    def _event_fields(self, where: str, event_type: str, fields: tuple[str, ...]) -> None:
        if event_type not in self._events:
            self._fail(
                where, f"unknown event type {event_type!r}; use one of: {', '.join(self._events)}"
            )
        personal = self._catalog.personal_data_fields(event_type)
        for field in fields:
            if field not in personal:
                listed = ", ".join(personal) or "none"
                self._fail(
                    where,
                    f"{field!r} is not a personal-data field of {event_type} (kawal.personal_data"
                    f" in its schema); its personal-data fields: {listed}",
                )

    def _keys(self, row: Any, where: str, keys: tuple[str, ...]) -> None:
        if not isinstance(row, dict):
            self._fail(where, f"a row is a table with the keys {', '.join(keys)}")
        missing = [key for key in keys if key not in row]
        extra = sorted(set(row) - set(keys))
        if missing or extra:
            wrong = [f"lacks {', '.join(missing)}"] if missing else []
            wrong += [f"has unknown keys {', '.join(extra)}"] if extra else []
            self._fail(where, f"{' and '.join(wrong)}; a row has exactly {', '.join(keys)}")

    def _text(self, row: dict[str, Any], key: str, where: str) -> str:
        value = row[key]
        if not isinstance(value, str) or not value.strip():
            self._fail(where, f"{key} must be a non-empty string")
        return value

    def _names(self, row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = row[key]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) and item for item in value)
        ):
            self._fail(where, f'{key} must be a non-empty list of names, e.g. ["subject_nip"]')
        return tuple(value)

    def _fail(self, where: str, problem: str) -> NoReturn:
        raise DisclosurePolicyError(f"disclosure policy {self._source}: {where}: {problem}")
