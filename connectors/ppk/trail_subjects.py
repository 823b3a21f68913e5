"""Whom a case is about, read from the case's trail at the hub as the PPK: ``ppk-inbox``.

The hub discloses the subject (``subject_nip``, ``subject_name``) to the PPK in the case's
``ReportReceived``, which it does not route to the PPK's feed (:mod:`connectors.ppk.subjects`).
So ``ppk-inbox`` reads the trail (``GET /cases/{case_id}/trail``) with the PPK's own bearer
token: an entitled read, which the hub writes to its access log. What it takes it believes only
as any reader of a trail view may (``docs/signing.md``, Checking a trail view): the entry is
rebuilt from the view and checked with the very code that checks the feed's entries
(:func:`streams.domain.entries.check_entry`: its hash, the hub's signature, the sender's
signature, and that each disclosure opens its commitment in the signed event). The values come
from the disclosures so checked, never from the hub's reading beside them.

Every failure is a :class:`TrailReadError` with a code and what to do, never a value of the
trail nor the hub's answer, which could quote one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import AnyHttpUrl

from connectors.errors import ConnectorError, TransientError
from connectors.http import get_json
from connectors.ppk.subjects import Subject, disclosed_subject
from schemas.codec import AvroCodec
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.keys import KeyRegistry

#: Codes of a failed read: each says what the hub or its answer was.
UNREACHABLE, TOKEN_UNREADABLE, TOKEN_REFUSED, NOT_ENTITLED = (
    "hub_unreachable",
    "token_unreadable",
    "token_refused",
    "not_entitled",
)
NOT_OWN_VIEW, CASE_NOT_FOUND, HUB_ERROR, UNREADABLE_TRAIL, NO_REPORT = (
    "not_own_view",
    "case_not_found",
    "hub_error",
    "unreadable_trail",
    "report_not_in_trail",
)
#: Failures of the hub or of the credential, not of one case: no other case reads better.
HUB_WIDE = frozenset({UNREACHABLE, TOKEN_UNREADABLE, TOKEN_REFUSED, NOT_OWN_VIEW, HUB_ERROR})


class TrailReadError(ConnectorError):
    """The subject could not be read from the trail: ``code`` and what to do."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class TrailSubjects:
    """Reads a case's subject from its trail at the hub, as the PPK, and checks it.

    Args:
        hub_url: The hub's web address (``http://127.0.0.1:6066``).
        token_file: The file holding the PPK's bearer token; read at each call, so a token
            renewed in it is used without a restart.
        timeout: Seconds to wait for the hub's answer.
        institution: The PPK the token must be of, for the messages.
    """

    def __init__(
        self, hub_url: AnyHttpUrl, token_file: Path, timeout: float, institution: str
    ) -> None:
        self.base = str(hub_url).rstrip("/")
        self.token_file = token_file
        self.timeout = timeout
        self.institution = institution

    def subject(self, case_id: str, codec: AvroCodec, keys: KeyRegistry) -> tuple[str, Subject]:
        """The id of the case's ``ReportReceived`` and the subject it discloses to the PPK.

        A field the PPK's view withholds (an erased case) is None in the subject.

        Raises:
            TrailReadError: the hub cannot be reached or refused, or its answer does not hold.
        """
        view = self._view(case_id)
        entry = _report_entry(view)
        statement, disclosures = _statement(case_id, entry), _disclosures(entry)
        try:
            event = check_entry(codec, keys, statement, disclosures)
        except (KeyError, TypeError, ValueError):
            # A view whose values are not of their kind (a key id that is no string...).
            raise TrailReadError(
                UNREADABLE_TRAIL, "the case's ReportReceived is malformed"
            ) from None
        if isinstance(event, EntryProblem):
            raise TrailReadError(
                event.code,
                f"the case's ReportReceived in the hub's trail is not believed ({event.detail}); "
                "nothing of it is kept",
            )
        return str(entry["event_id"]), disclosed_subject(event) or Subject(None, None)

    def _view(self, case_id: str) -> dict[str, Any]:
        url = f"{self.base}/cases/{quote(case_id, safe='')}/trail"
        headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
        try:
            status, answer = get_json(url, headers, self.timeout, system="the hub")
        except TransientError as exc:
            raise TrailReadError(UNREACHABLE, f"{exc}; check hub_url") from exc
        if status != 200:
            raise _refusal(status, self.institution)
        if answer.get("view") != self.institution:
            # Another institution's view (a token of the authority's) may show what the PPK
            # must never see: nothing of it is kept.
            raise TrailReadError(
                NOT_OWN_VIEW,
                f"the hub answered with a view that is not {self.institution}'s: the token is "
                f"another principal's; use a token of {self.institution}",
            )
        return answer

    def _token(self) -> str:
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise TrailReadError(
                TOKEN_UNREADABLE,
                f"token_file {self.token_file} cannot be read ({type(exc).__name__}); write the "
                f"token of `kawal token issue {self.institution} --expires 90d` into it",
            ) from None
        if not token or any(c.isspace() for c in token):
            raise TrailReadError(
                TOKEN_UNREADABLE,
                f"token_file {self.token_file} holds no token (one line, no spaces); write the "
                f"token of `kawal token issue {self.institution} --expires 90d` into it",
            )
        return token


def _refusal(status: int, institution: str) -> TrailReadError:
    """What the hub's answer ``status`` (not 200) to a trail read means, and what to do."""
    renew = (
        f"issue a new one (kawal token issue {institution} --expires 90d) and write it into "
        "token_file"
    )
    if status == 401:
        return TrailReadError(
            TOKEN_REFUSED,
            f"the hub refused the token (HTTP 401: expired, revoked or unknown); {renew}",
        )
    if status == 403:
        return TrailReadError(
            NOT_ENTITLED,
            f"the hub answered HTTP 403: the token is not {institution}'s, {institution} is "
            "not party to the case, or the hub's audit store does not hold the case yet (the "
            "hub refuses an unknown case as another's; it is read again at the next catch-up); "
            f"use a token of {institution}",
        )
    if status == 404:
        return TrailReadError(
            CASE_NOT_FOUND, "the hub's audit store does not hold the case yet (HTTP 404)"
        )
    return TrailReadError(HUB_ERROR, f"the hub answered HTTP {status} to the trail read")


def _report_entry(view: dict[str, Any]) -> dict[str, Any]:
    """The view's ``ReportReceived`` entry (the case's first)."""
    entries = view.get("entries")
    if not isinstance(entries, list):
        raise TrailReadError(UNREADABLE_TRAIL, "the hub's answer is no trail view")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("event_type") == "ReportReceived":
            return entry
    raise TrailReadError(NO_REPORT, "the hub's trail of the case holds no ReportReceived yet")


def _statement(case_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as :func:`check_entry` takes it, rebuilt from its view (``docs/signing.md``).

    The case id is the one asked for, not the view's: an entry of another case fails its hash.
    """
    try:
        topic, partition, offset = str(entry["accepted_from"]).rsplit(":", 2)
        return {
            "case_id": case_id,
            "seq": int(entry["seq"]),
            "event_id": entry["event_id"],
            "event_type": entry["event_type"],
            "prev_hash": entry["prev_hash"],
            "hash": entry["hash"],
            "recorded_at": datetime.fromisoformat(entry["recorded_at"]),
            "source_topic": topic,
            "source_partition": int(partition),
            "source_offset": int(offset),
            "key_id": entry["key_id"],
            "signature": bytes.fromhex(entry["signature"]),
            "event": bytes.fromhex(entry["committed_event"]),
            "hub_key_id": entry["hub_key_id"],
            "hub_signature": bytes.fromhex(entry["hub_signature"]),
        }
    except (KeyError, TypeError, ValueError):
        raise TrailReadError(
            UNREADABLE_TRAIL, "the case's ReportReceived in the hub's answer lacks a field"
        ) from None


def _disclosures(entry: dict[str, Any]) -> list[dict[str, str]]:
    """The view's disclosures of the entry, each a ``{field, salt, value}`` of strings."""
    found = entry.get("disclosures", [])
    if not isinstance(found, list) or not all(
        isinstance(item, dict)
        and all(isinstance(item.get(key), str) for key in ("field", "salt", "value"))
        for item in found
    ):
        raise TrailReadError(UNREADABLE_TRAIL, "the entry's disclosures are not readable")
    return [{key: item[key] for key in ("field", "salt", "value")} for item in found]
