"""The disclosure policy's page, ``docs/disclosure-policy.md``: the table written for people.

It is generated from the bundled ``streams/data/disclosure.toml`` (through
:mod:`streams.domain.disclosure_policy`, so the page shows exactly what the hub applies): a
matrix of event types and roles with the fields each role may see, then every row's reason, role by
role, then the roles and readers shown nothing. ``python -m streams.contract.asyncapi`` writes
it with the other contract files; ``--check`` fails when the committed page is stale.

Example:
    >>> from schemas.catalog import default_catalog
    >>> from streams.domain.disclosure_policy import load_disclosure_policy
    >>> catalog = default_catalog()
    >>> page = build_policy_markdown(load_disclosure_policy(None, catalog), catalog)
    >>> page.splitlines()[0]
    '# Disclosure policy'
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.catalog import SchemaCatalog
from streams.contract.channels import REGENERATE_COMMAND, ROLE_LABELS
from streams.domain.disclosure_policy import READERS_WITHOUT_ROLE, DisclosurePolicy
from streams.domain.institutions import institution_roles

#: Events in the order of DOMAIN.md's lifecycle table; any event not listed follows, sorted.
LIFECYCLE_ORDER = (
    "ReportReceived",
    "ReportRegistered",
    "ReportRejected",
    "VerificationCompleted",
    "ReferralForwarded",
    "ClarificationRequested",
    "ClarificationReceived",
    "RecommendationIssued",
    "ExaminationHeld",
    "SanctionImposed",
    "DeadlineBreached",
    "PersonnelDataBlocked",
    "PersonnelDataUnblocked",
    "ObjectionFiled",
    "AppealFiled",
    "AppealDecided",
    "CaseClosed",
    "PersonalDataErased",
)
#: How the readers without an institution role read.
READER_LABELS = {"operator": "operators of the hub", "public": "the public (no credential)"}


def build_policy_markdown(policy: DisclosurePolicy, catalog: SchemaCatalog) -> str:
    """Returns docs/disclosure-policy.md: the matrix, the reasons, and who sees nothing."""
    events = lifecycle_order(catalog.event_types())
    granted = [role for role in institution_roles(catalog) if _grants_of(policy, role)]
    sections = [
        _intro(),
        _matrix(policy, catalog, events, granted),
        _reasons(policy, events, granted),
        _nothing(policy, catalog, granted),
    ]
    return "\n".join(sections).rstrip("\n") + "\n"


def lifecycle_order(event_types: Sequence[str]) -> list[str]:
    """``event_types`` in lifecycle order, those the order does not know last, sorted."""
    known = [event for event in LIFECYCLE_ORDER if event in event_types]
    return known + sorted(set(event_types) - set(known))


def _grants_of(policy: DisclosurePolicy, role: str) -> bool:
    return any(grant.role == role for grant in policy.grants)


def _intro() -> str:
    return f"""\
# Disclosure policy

<!-- Generated from streams/data/disclosure.toml by `{REGENERATE_COMMAND}`; edit that file. -->

Which personal-data field (schema attribute `kawal.personal_data`, Law 27/2022) of which event
each role may see. This one table drives the outbound feeds (`streams/hub/router.py`), the trail
views (`kawal case trail --as`, `GET /cases/{{case_id}}/trail`) and the page
(`streams/domain/disclosure_policy.py` applies it). It denies by default: a field no row grants
is withheld, as a salted commitment that still verifies against the same hash chain.

- An institution sees what any of its roles in the case may see. BKN, the personnel agency, is
  also the recommending authority of the cases it holds since the transfer of KASN's functions
  (Law 20/2023; Perpres 91 and 92/2024): those reported after it, and KASN's cases still open,
  handed to BKN with their first event dated after it ([web.md](web.md#who-sees-a-case)). It
  sees the authority's fields of those cases only, and of a case handed over all of them,
  earlier entries included, as the authority now deciding and following it up.
- The table is per event type, not per case state: a grant on an event type holds whenever its
  holder reads such an entry, in its feed (if its role consumes the event) or in a trail view.
- A deployment may replace the file (`KAWAL_DISCLOSURE_FILE`). The hub refuses a file naming an
  unknown role or event type, a field that is not personal data of its event, or a grant to the
  operator or the public, and names the row.
"""


def _matrix(
    policy: DisclosurePolicy, catalog: SchemaCatalog, events: Sequence[str], roles: Sequence[str]
) -> str:
    rows = [
        "| event | personal data | " + " | ".join(f"`{role}`" for role in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    plain = []
    for event in events:
        personal = catalog.personal_data_fields(event)
        if not personal:
            plain.append(event)
            continue
        cells = [_fields(policy.visible([role], event, personal)) for role in roles]
        rows.append(f"| {event} | {_fields(personal)} | " + " | ".join(cells) + " |")
    return "\n".join(
        [
            "## Who sees what\n",
            "Each cell lists the fields that role may see of that event; — is none.\n",
            *rows,
            "",
            "Events without personal data, shown whole to every party that reads them: "
            + ", ".join(plain)
            + ".\n",
        ]
    )


def _reasons(policy: DisclosurePolicy, events: Sequence[str], roles: Sequence[str]) -> str:
    lines = ["## Why, role by role\n"]
    for role in roles:
        lines.append(f"### `{role}`: {ROLE_LABELS.get(role, role.replace('_', ' '))}\n")
        rows = [grant for grant in policy.grants if grant.role == role]
        rows.sort(key=lambda grant: min(events.index(event) for event in grant.events))
        for grant in rows:
            shown = ", ".join(grant.events)
            lines.append(f"- **{shown}**: {_fields(grant.fields)}. {grant.why}")
        lines.append("")
    return "\n".join(lines)


def _nothing(policy: DisclosurePolicy, catalog: SchemaCatalog, granted: Sequence[str]) -> str:
    lines = ["## Shown nothing\n"]
    reasons = {row.role: row.why for row in policy.sees_nothing}
    for role in (*institution_roles(catalog), *READERS_WITHOUT_ROLE):
        if role in granted:
            continue
        label = READER_LABELS.get(role) or ROLE_LABELS.get(role, role.replace("_", " "))
        why = reasons.get(role, "No row grants it anything: withheld by default.")
        lines.append(f"- `{role}`, {label}: {why}")
    return "\n".join([*lines, ""])


def _fields(fields: Sequence[str]) -> str:
    return ", ".join(f"`{field}`" for field in fields) or "—"
