"""Who answers for a deadline clock: the party its rule names, and which institution that is.

A rule (``responsible`` in ``data/deadlines.toml``) names a party of the case:

- ``supervisor``: the Bawaslu office that registers and verifies the report
  (:attr:`~streams.domain.lifecycle.CaseLifecycle.supervisor`, chosen once for the case by
  :func:`streams.domain.parties.supervisor_of`: the reporting office, or for a report an
  inspectorate or BKN's portal filed, the Bawaslu office of its region). Only a supervisor
  registers a report (DOMAIN.md), so the reporter of such a report answers for nothing.
- ``employing_agency``: the PPK the report names.
- ``authority``: the body holding the recommending authority, the new holder after a hand-over.

``reporter`` is read as ``supervisor``: rule files written before the party had this name said
``reporter`` (a ``KAWAL_DEADLINES_FILE`` of a deployment may still), and meant the office that
registers the report, which then always was its reporter.

A supervisor's clock keeps the office it was started for (``responsible``, an institution id),
so a regency office registered later takes over no clock already running, and a clock whose
breach the hub recorded names the institution that breach named. A clock stored before clocks
kept it answered to the case's reporter, as the hub then said, and still does: its breach, if
recorded, named that reporter.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.domain.lifecycle import CaseLifecycle

#: The party that registers and verifies a report: a Bawaslu office.
SUPERVISOR = "supervisor"
#: Who answers for a clock, and the InstitutionRole symbol of that party.
RESPONSIBLE_ROLES = {
    SUPERVISOR: "ELECTION_SUPERVISOR",
    "employing_agency": "PPK",
    "authority": "RECOMMENDING_AUTHORITY",
}
#: Earlier names of a party, still read in rule files: ``reporter`` meant the supervisor.
RESPONSIBLE_ALIASES = {"reporter": SUPERVISOR}


def responsible_party(name: str) -> str:
    """The party a rule file's ``responsible`` names, under its current name.

    Raises:
        ValueError: ``name`` is no party (the message lists them).

    Example:
        >>> responsible_party("reporter"), responsible_party("employing_agency")
        ('supervisor', 'employing_agency')
    """
    party = RESPONSIBLE_ALIASES.get(name, name)
    if party not in RESPONSIBLE_ROLES:
        raise ValueError(
            f"responsible must be one of {sorted(RESPONSIBLE_ROLES)} "
            f"({', '.join(f'{old} is read as {new}' for old, new in RESPONSIBLE_ALIASES.items())})"
        )
    return party


def party_institution(case: CaseLifecycle, party: str) -> str:
    """The institution that answers now for a clock of ``party`` (a clock starting now).

    A case that does not know its supervisor yet (kept before the hub chose one, and not
    touched since) answers with its reporter, as the hub did then.
    """
    return {
        SUPERVISOR: case.supervisor or case.reporter,
        "employing_agency": case.employing_agency,
        "authority": case.authority,
    }[party]


def clock_institution(case: CaseLifecycle, clock: Mapping[str, object], party: str) -> str:
    """The institution that answers for ``clock``, a clock of ``party`` on ``case``.

    The supervisor a clock keeps; a supervisor's clock stored before clocks kept it, the
    case's reporter (what the hub said of it then); any other party's, as it is now.
    """
    kept = clock.get("responsible")
    if isinstance(kept, str):
        return kept
    if party == SUPERVISOR:
        return case.reporter
    return party_institution(case, party)
