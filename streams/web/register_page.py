"""``GET /register``: the public register of final sanctions, when the operator enables it.

Off by default: the answer is then a 404 saying how to enable it. With
``KAWAL_PUBLIC_REGISTER=agencies`` it lists agency, region, violation, sanction and closing
day; with ``names`` also the sanctioned civil servant's name, under the legal basis the operator
documented, which the page shows. HTML in Indonesian unless English is asked for;
``?format=json`` and ``?format=csv`` export it. Public: no credential is needed, and a
credential that is sent must still be good.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
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
from streams.web.locales import Locale, negotiate
from streams.web.problems import format_problem, problem_response
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

    def rows(self) -> list[RegisterRow]:
        """The register now (blocking: call it off the event loop)."""
        return named(self.store, self.closed.value(), self.names)


def register(app: faust.App, sources: RegisterSources) -> None:
    """Attach ``GET /register`` to the worker's app."""

    @app.page("/register", name="kawal-register")
    class Register(web.View):
        """Final sanctions per agency."""

        async def get(self, request: web.Request) -> web.Response:
            wanted = request.query.get("format")
            refused = format_problem(self, wanted, ("json", "csv"))
            if refused is not None:
                return refused
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, principal)
            if sources.mode is RegisterMode.OFF:
                return problem_response(self, 404, "register_disabled", DISABLED)
            try:
                rows = await asyncio.to_thread(sources.rows)
            except StoreError:
                return problem_response(self, 503, "store_unavailable", UNAVAILABLE)
            except VaultError:  # names are opened with the cases' data keys
                return vault_unavailable(self)
            if wanted == "json":
                return self.json(register_json(sources, rows))
            if wanted == "csv":
                return self.text(
                    register_csv(rows, sources.mode).decode(),
                    content_type="text/csv",
                    headers={"Content-Disposition": register_disposition(datetime.now(UTC))},
                )
            locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
            return self.html(register_page(sources, rows, locale))


DISABLED = (
    "the public register is not enabled on this hub; the operator enables it with "
    "KAWAL_PUBLIC_REGISTER=agencies (or names, with KAWAL_PUBLIC_REGISTER_LEGAL_BASIS)"
)
UNAVAILABLE = "the audit store cannot be read; try again later"


def register_json(sources: RegisterSources, rows: list[RegisterRow]) -> dict[str, Any]:
    """The register as JSON, with what it publishes and on which basis."""
    return {
        "mode": sources.mode.value,
        "legal_basis": sources.legal_basis if sources.mode is RegisterMode.NAMES else None,
        "generated_at": datetime.now(UTC).isoformat(),
        "sanctions": [_plain(row, sources.mode) for row in rows],
    }


def register_disposition(now: datetime) -> str:
    """The CSV download's name: the register and the Jakarta day it was read.

    aiohttp adds ``charset=utf-8`` to a text answer, so a spreadsheet reads the senders'
    names and elections as UTF-8; the name tells when the file was made once saved, as the
    dashboard's downloads do (:func:`streams.audit.figures.export.export_file_name`).
    """
    return f'attachment; filename="kawal-register-{jakarta_day(now).isoformat()}.csv"'


def register_csv(rows: list[RegisterRow], mode: RegisterMode) -> bytes:
    """The register as CSV (UTF-8, a header row); a name column only in ``names`` mode.

    Names and elections are the senders' text: a cell a spreadsheet would run as a formula is
    written with a leading apostrophe (``defusedcsv``).
    """
    columns = [c for c in COLUMNS if c != "name" or mode is RegisterMode.NAMES]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(_plain(row, mode))
    return out.getvalue().encode()


def register_page(sources: RegisterSources, rows: list[RegisterRow], locale: Locale) -> str:
    """The register as HTML."""
    return templates().render(
        "register.html",
        locale,
        rows=rows,
        names=sources.mode is RegisterMode.NAMES,
        legal_basis=sources.legal_basis or "",
        now=datetime.now(UTC),
        home_link=True,
    )


def _plain(row: RegisterRow, mode: RegisterMode) -> dict[str, Any]:
    found = asdict(row) | {"closed_on": row.closed_on.isoformat()}
    if mode is not RegisterMode.NAMES:
        found.pop("name")
    return found
