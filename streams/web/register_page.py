"""``GET /register``: the public register of final sanctions, when the operator enables it.

Off by default: the answer is then a 404 saying how to enable it. With
``KAWAL_PUBLIC_REGISTER=agencies`` it lists agency, region, violation, sanction and closing
day; with ``names`` also the sanctioned civil servant's name, under the legal basis the operator
documented, which the page shows. HTML in Indonesian unless English is asked for;
``?format=json`` and ``?format=csv`` export it. Public: no credential is needed, and a
credential that is sent must still be good.

The "as of" of the page, of ``generated_at`` in JSON and of each CSV row is when the store was
read (the read is reused while the store has not grown: :mod:`streams.audit.read_cache`), not
when the register was asked for. The exports carry an ETag and Last-Modified
(:mod:`streams.web.citable`); only the register without names may be kept by a cache, so that
an erased name leaves every copy at once.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import faust
from defusedcsv import csv
from faust import web

from streams.audit.public_register import NameSource, RegisterMode, RegisterRow, named
from streams.audit.read_cache import StoreReadCache
from streams.audit.store import AuditStore, StoreError
from streams.domain.principals import AccessRefusal
from streams.domain.working_time import jakarta_day
from streams.vault.data_keys import VaultError
from streams.web.auth import Authenticator
from streams.web.citable import BOM, validated
from streams.web.locales import Locale, negotiate
from streams.web.problems import format_problem, problem_response
from streams.web.query import repeated, repeated_detail
from streams.web.render import templates
from streams.web.views import vault_unavailable

#: Columns of the exports, in order.
COLUMNS = tuple(RegisterRow.__dataclass_fields__)


@dataclass(frozen=True)
class RegisterSources:
    """What the register reads, and what it may publish."""

    mode: RegisterMode
    legal_basis: str | None
    store: AuditStore
    #: The final sanctions without names, read again at a bounded rate.
    closed: StoreReadCache[list[tuple[str, RegisterRow]]]
    auth: Authenticator
    #: Opens names; None unless the mode is ``names``.
    names: NameSource | None = None

    def rows(self) -> tuple[list[RegisterRow], datetime]:
        """The register now and when the store was read (blocking: call it off the event loop).

        Names are opened now, so an erased name goes at once; the rows are of the read.
        """
        read = self.closed.latest()
        return named(self.store, read.value, self.names), read.read_at


def register(app: faust.App, sources: RegisterSources) -> None:
    """Attach ``GET /register`` to the worker's app."""

    @app.page("/register", name="kawal-register")
    class Register(web.View):
        """Final sanctions per agency."""

        async def get(self, request: web.Request) -> web.Response:
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, request, principal)
            unread = _unread_parameter(request)
            if unread is not None:
                return problem_response(self, 400, "bad_query", unread)
            wanted = request.query.get("format")
            refused = format_problem(self, wanted, ("json", "csv"))
            if refused is not None:
                return refused
            if sources.mode is RegisterMode.OFF:
                return problem_response(self, 404, "register_disabled", DISABLED)
            try:
                rows, read_at = await asyncio.to_thread(sources.rows)
            except StoreError:
                return problem_response(self, 503, "store_unavailable", UNAVAILABLE)
            except VaultError:  # names are opened with the cases' data keys
                return vault_unavailable(self)
            if wanted is None:
                locale = negotiate(
                    request.query.get("lang"), request.headers.get("Accept-Language")
                )
                return self.html(register_page(sources, rows, locale, read_at))
            if wanted == "json":
                response = self.json(register_json(sources, rows, read_at))
            else:
                response = self.text(
                    BOM + register_csv(rows, sources.mode, read_at).decode(),
                    content_type="text/csv",
                    headers={"Content-Disposition": register_disposition(read_at)},
                )
            # Names are personal data: no cache keeps them, so an erasure reaches every copy.
            public = sources.mode is not RegisterMode.NAMES
            return validated(self, request, response, read_at, cacheable=public)


#: The query parameters the register reads; it has no filters.
PARAMETERS = ("format", "lang")


def _unread_parameter(request: web.Request) -> str | None:
    """Why the query cannot be answered as asked, or None.

    A parameter the register does not read (``?election=``) would be answered with every
    sanction, which a script would take for the ones it asked for; one given twice would be
    answered for its first value.
    """
    if set(request.query) - set(PARAMETERS):
        return (
            "the register takes only format (json or csv) and lang: it has no filters and "
            "lists every final sanction; filter the export instead"
        )
    twice = repeated(request.query, PARAMETERS)
    return None if twice is None else repeated_detail(twice)


DISABLED = (
    "the public register is not enabled on this hub; the operator enables it with "
    "KAWAL_PUBLIC_REGISTER=agencies (or names, with KAWAL_PUBLIC_REGISTER_LEGAL_BASIS)"
)
UNAVAILABLE = "the audit store cannot be read; try again later"


def register_json(
    sources: RegisterSources, rows: list[RegisterRow], read_at: datetime
) -> dict[str, Any]:
    """The register as JSON, with what it publishes, on which basis and when it was read."""
    return {
        "mode": sources.mode.value,
        "legal_basis": sources.legal_basis if sources.mode is RegisterMode.NAMES else None,
        "generated_at": read_at.isoformat(),
        "sanctions": [_plain(row, sources.mode) for row in rows],
    }


def register_disposition(now: datetime) -> str:
    """The CSV download's name: the register and the Jakarta day it was read.

    aiohttp adds ``charset=utf-8`` to a text answer, so a spreadsheet reads the senders'
    names and elections as UTF-8; the name tells when the file was made once saved, as the
    dashboard's downloads do (:func:`streams.audit.figures.export.export_file_name`).
    """
    return f'attachment; filename="kawal-register-{jakarta_day(now).isoformat()}.csv"'


def register_csv(rows: list[RegisterRow], mode: RegisterMode, read_at: datetime) -> bytes:
    """The register as CSV (UTF-8, a header row); a name column only in ``names`` mode.

    Each row ends with ``generated_at``, when the store was read, so a row copied on keeps its
    "as of". Names and elections are the senders' text: a cell a spreadsheet would run as a
    formula is written with a leading apostrophe (``defusedcsv``).
    """
    columns = [c for c in COLUMNS if c != "name" or mode is RegisterMode.NAMES]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*columns, "generated_at"])
    writer.writeheader()
    for row in rows:
        writer.writerow(_plain(row, mode) | {"generated_at": read_at.isoformat()})
    return out.getvalue().encode()


def register_page(
    sources: RegisterSources, rows: list[RegisterRow], locale: Locale, read_at: datetime
) -> str:
    """The register as HTML, "as of" ``read_at``, when the store was read."""
    return templates().render(
        "register.html",
        locale,
        rows=rows,
        names=sources.mode is RegisterMode.NAMES,
        legal_basis=sources.legal_basis or "",
        now=read_at,
        home_link=True,
    )


def _plain(row: RegisterRow, mode: RegisterMode) -> dict[str, Any]:
    found = asdict(row) | {"closed_on": row.closed_on.isoformat()}
    if mode is not RegisterMode.NAMES:
        found.pop("name")
    return found
