"""BKN's outbound feed → SIASN, BKN's national personnel system, over its REST API.

Which entries call for a SIASN write. ``PersonnelDataBlocked`` and ``PersonnelDataUnblocked``
are BKN's own events: ``kawal.consumed_by`` sends them to the PPK and the recommending
authority, never back to BKN, so they are not in this feed (they report a block SIASN already
holds; the ``siasn-blocks`` connector, :mod:`connectors.siasn.blocks`, publishes them from
SIASN's block log). What BKN does receive, and what SIASN
must record for it:

===================================== =========================== ===========================
feed entry                            SIASN write                 why
===================================== =========================== ===========================
``ReportReceived``                    ``POST /neutrality-cases``  links the hub's case to the
                                                                  civil servant's NIP; BKN
                                                                  receives it only as the
                                                                  case's recommending
                                                                  authority, and no later
                                                                  entry carries the NIP
``DeadlineBreached``                  ``POST /blocks``            the PPK ignored the
(``recommendation_follow_up``,                                    recommendation: the data is
``met_at`` null)                                                  blocked until it acts
``SanctionImposed``                   ``POST /sanctions``         the decree enters the
                                                                  discipline record; SIASN
                                                                  lifts the case's block
``AppealDecided`` (``AMENDED`` or     ``POST /sanctions/          the discipline record holds
``OVERTURNED``)                       decisions``                 the sanction that stands:
                                                                  amended, or annulled
``CaseClosed``                        ``POST /blocks/release``    a closed case keeps no block
===================================== =========================== ===========================

A follow-up breach with ``met_at`` reports a sanction that came after the due date: the PPK
acted, late, and nothing is blocked. A decision that upholds the sanction changes nothing in
SIASN. Every other entry (registration, verification, recommendation, other deadlines...) needs no
SIASN write and is passed over. Each write carries the event id as ``Idempotency-Key``; SIASN
answers 409 ``already_recorded`` to a repeat (delivered), and 409 with another code to a write
that contradicts what it holds (dead-lettered with the reason). The NIP travels only in the
request body: never in a URL, a log line or a reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import AnyHttpUrl, Field, SecretStr

from connectors.base import (
    ConnectorConfig,
    FeedEntry,
    OutboundConnector,
    PermanentError,
    TransientError,
)
from connectors.http import post_json
from schemas.field_formats import is_nip
from streams.domain.commitments import COMMITMENT_PREFIX
from streams.domain.lifecycle import FOLLOW_UP_RULE

#: What SIASN's conflict codes mean, in words a reason can carry (SIASN's own text is never
#: quoted: it may echo the civil servant's data).
CONFLICTS = {
    "case_conflict": "SIASN links this case to another civil servant; check the case's NIP",
    "decree_conflict": "SIASN holds this decree number for another case or with other content; "
    "check the decree with the PPK",
    "already_blocked": "SIASN holds an active block of this case under another reference",
    "idempotency_key_reused": "SIASN recorded another write under this event id",
    "no_sanction": "SIASN holds no sanction of this case for the decision to change; record "
    "the PPK's decree (its SanctionImposed) first, then redeliver",
}


class SiasnConfig(ConnectorConfig):
    """Where SIASN's API is and the bearer token BKN's integration account holds."""

    institution: str = Field(pattern=r"^bkn$")
    base_url: AnyHttpUrl
    """SIASN's API root, e.g. ``https://api-siasn.bkn.go.id/api/v1``."""
    token: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for SIASN's answer before the attempt counts as failed (retried)."""


@dataclass(frozen=True)
class Write:
    """One SIASN write standing for a feed entry."""

    action: str
    """What the write does, for log lines and reasons (``record the sanction``)."""
    path: str
    body: dict[str, Any]
    unknown_case_is_done: bool = False
    """Whether a case SIASN does not hold means there is nothing to do (releasing a block)."""


class Siasn(OutboundConnector[SiasnConfig]):
    """BKN's outbound feed → sanctions, blocks and releases in SIASN."""

    name = "siasn"

    def deliver(self, entry: FeedEntry) -> None:
        """Make the SIASN write ``entry`` calls for, if any (idempotent on the event id)."""
        write = write_for(entry)
        if write is None:
            return
        status, answer = self._post(write, entry.event_id)
        code = str(answer.get("error", ""))
        if status in (200, 201) or (status == 409 and code == "already_recorded"):
            self.context.log.info("SIASN: %s of case %s done", write.action, entry.case_id)
        elif status == 404 and code == "case_unknown":
            self._unknown_case(write, entry)
        elif status == 409:
            raise PermanentError(
                "siasn_conflict",
                f"SIASN refused to {write.action} of case {entry.case_id}: "
                f"{CONFLICTS.get(code, 'a conflicting write')}; resolve it in SIASN, then "
                "redeliver",
            )
        elif status in (401, 403):
            raise PermanentError(
                "siasn_unauthorized",
                f"SIASN refused the bearer token (HTTP {status}); renew `token` in the siasn "
                "configuration, then restart it with `--redeliver-from` this letter's source "
                "position",
            )
        elif status == 429 or status >= 500:
            raise TransientError(f"SIASN answered HTTP {status} to event {entry.event_id}")
        else:
            raise PermanentError(
                "siasn_rejected",
                f"SIASN rejected the request to {write.action} of case {entry.case_id} "
                f"(HTTP {status}, {_safe_code(code)}); check the API contract, then redeliver",
            )

    def _unknown_case(self, write: Write, entry: FeedEntry) -> None:
        if write.unknown_case_is_done:
            self.context.log.info("SIASN holds no case %s: nothing to release", entry.case_id)
            return
        raise PermanentError(
            "siasn_case_unknown",
            f"SIASN holds no neutrality case {entry.case_id}, so it cannot {write.action}: "
            "BKN's feed carried no report of it (cases before the transfer of KASN's functions "
            "reach BKN without the NIP); register the case in SIASN, then redeliver",
        )

    def _post(self, write: Write, event_id: str) -> tuple[int, dict[str, Any]]:
        url = str(self.config.base_url).rstrip("/") + write.path
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            "Idempotency-Key": event_id,
        }
        body = json.dumps(write.body).encode()
        return post_json(url, body, headers, self.config.timeout_seconds, system="SIASN")


def write_for(entry: FeedEntry) -> Write | None:
    """The SIASN write a feed entry calls for, or None.

    Raises:
        PermanentError: a report whose NIP is missing, withheld or malformed.
    """
    event, case = entry.event, entry.case_id
    if entry.event_type == "ReportReceived":
        return Write("register the case", "/neutrality-cases", _case_body(entry))
    if entry.event_type == "DeadlineBreached" and _ignored(event):
        body = {
            "case_ref": case,
            "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
            "responsible_agency": event["responsible_institution"],
            "breach_event_id": entry.event_id,
            "due_at": event["due_at"].isoformat(),
        }
        return Write("block the personnel data", "/blocks", body)
    if entry.event_type == "SanctionImposed":
        body = {
            "case_ref": case,
            "decree_number": event["decree_number"],
            "sanction_level": event["sanction_level"],
            "sanction_kind": event["sanction_kind"],
            "effective_on": event["effective_on"].isoformat(),
            "imposed_by": event["envelope"]["source"],
        }
        return Write("record the sanction", "/sanctions", body)
    if entry.event_type == "AppealDecided" and event["decision"] != "UPHELD":
        amended = event["amended_sanction"]
        body = {
            "case_ref": case,
            "decision": event["decision"],
            "decision_number": event["decision_number"],
            "decided_on": event["decided_on"].isoformat(),
            "decided_by": event["decided_by"],
            "sanction_level": amended["level"] if amended else None,
            "sanction_kind": amended["kind"] if amended else None,
        }
        return Write("record the appeal's decision", "/sanctions/decisions", body)
    if entry.event_type == "CaseClosed":
        body = {
            "case_ref": case,
            "reason": "CASE_CLOSED",
            "closing_reason": event["closing_reason"],
        }
        return Write("release the block", "/blocks/release", body, unknown_case_is_done=True)
    return None


def _ignored(breach: dict[str, Any]) -> bool:
    """Whether ``breach`` says the PPK has not followed up the recommendation (yet).

    A breach with ``met_at`` reports a sanction the hub recorded after the due date: the PPK
    acted, late, so there is nothing to block, and SIASN already holds the sanction.
    """
    return breach["rule_id"] == FOLLOW_UP_RULE and breach.get("met_at") is None


def _case_body(entry: FeedEntry) -> dict[str, Any]:
    event = entry.event
    nip = str(event.get("subject_nip", ""))
    if nip.startswith(COMMITMENT_PREFIX):
        raise PermanentError(
            "nip_withheld",
            f"the report of case {entry.case_id} reached BKN without its NIP disclosed: "
            "the hub's disclosure policy shows BKN a report's NIP only as the case's "
            "recommending authority (docs/disclosure-policy.md); check the policy file in "
            "force (KAWAL_DISCLOSURE_FILE)",
        )
    if not is_nip(nip):
        raise PermanentError(
            "invalid_nip",
            f"the report of case {entry.case_id} holds no 18-digit NIP; correct it at the "
            "reporting institution",
        )
    return {
        "case_ref": entry.case_id,
        "nip": nip,
        "case_number": event["case_number"],
        "reported_by": event["envelope"]["source"],
        "employing_agency": event["employing_agency"],
        "region_code": event["region_code"],
        "violation": event["violation"],
        "reported_at": event["envelope"]["event_time"].isoformat(),
    }


def _safe_code(code: str) -> str:
    return code if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", code) else "no readable error code"
