"""A ``KAWAL_*`` variable that nothing reads stops the process, naming the setting it resembles.

pydantic-settings reads the variables of its fields and passes over every other one, so a
misspelt setting was ignored without a word: ``KAWAL_WEBPORT=8099`` served on 6066,
``KAWAL_AUDIT_DB_UR=postgresql://...`` stored the trail in SQLite, a misspelt broker password
connected without one. Every ``kawal`` process now refuses such an environment before it starts
anything. A variable's value is never repeated: it may be a password.

The known variables are the settings' (:class:`streams.settings.Settings`, monitoring's
included), those read outside them (below), and what ``KAWAL_TOLERATED_VARIABLES`` names: a
setting another version of kawal reads, during a rollback or a rolling upgrade.

Example:
    >>> unknown_variables({"KAWAL_WEBPORT": "8099", "KAWAL_HOME": "/srv/kawal"}, frozenset())
    ['KAWAL_WEBPORT']
    >>> closest_known("KAWAL_AUDIT_DB_UR")
    'KAWAL_AUDIT_DB_URL'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

from schemas.errors import KawalError
from streams.settings import SECRETS_DIR_VARIABLE, Settings

PREFIX = "KAWAL_"
#: The setting that names variables to let pass.
TOLERATED_SETTING = "KAWAL_TOLERATED_VARIABLES"
#: Read by the product outside :class:`Settings`, each where it is read.
READ_ELSEWHERE = {
    SECRETS_DIR_VARIABLE: "streams/settings.py: the folder of secret files, read before them",
    "KAWAL_TEST_PORTS": "streams/local/processes.py: the ports of the demo's simulators",
    "KAWAL_LAPOR_PORT": "streams/local/demo_portal.py, connectors/lapor/demo.py: demo portal",
    "KAWAL_EVIDENCE_S3": "connectors/lapor/demo.py: the demo portal's evidence store",
    "KAWAL_EVIDENCE_S3_ACCESS_KEY": "connectors/lapor/demo.py: its access key",
    "KAWAL_EVIDENCE_S3_SECRET_KEY": "connectors/lapor/demo.py: its secret key",
    "KAWAL_BUILD_REVISION": "monitoring/build.py: the revision deploy/Dockerfile bakes in",
}
#: Set by the project's own tooling (Makefile, bench/, tests/) in environments where ``kawal``
#: processes run: the test suite's and the benchmarks' children would otherwise refuse them.
TOOLING = {
    "KAWAL_FUZZ_EXAMPLES": "tests/fuzzing.py (make battery): random examples per fuzz test",
    "KAWAL_SCREENSHOT_DIR": "tests/browser.py: where page tests copy their screenshots",
    "KAWAL_TEST_FAILING_BATCH": "tests/failing_process.py: the batch a test worker fails on",
    "KAWAL_BENCH_EVENTS": "bench/__main__.py: events of a benchmark run",
    "KAWAL_BENCH_CASES": "bench/case_memory.py: cases of the memory benchmark",
    "KAWAL_BENCH_BACKLOG": "bench/backlog.py: events of the backlog benchmark",
    "KAWAL_BENCH_PUBLIC_CASES": "bench/public_pages.py: cases of the public pages benchmark",
}
#: At least this alike (difflib's ratio, over the names without their prefix) to be suggested.
SUGGESTION_CUTOFF = 0.6


class UnknownVariableError(KawalError):
    """The environment or the secrets folder holds a ``KAWAL_*`` name that no setting reads."""


def setting_variables() -> frozenset[str]:
    """The variables of :class:`Settings`' fields (``web_port`` → ``KAWAL_WEB_PORT``)."""
    return frozenset(PREFIX + name.upper() for name in Settings.model_fields)


def known_variables() -> frozenset[str]:
    """Every ``KAWAL_*`` variable the product or its tooling reads."""
    return setting_variables() | READ_ELSEWHERE.keys() | TOOLING.keys()


def unknown_variables(environ: Mapping[str, str], tolerated: Iterable[str]) -> list[str]:
    """The ``KAWAL_*`` names in ``environ`` that are neither known nor ``tolerated``, sorted.

    In any case, as pydantic-settings reads them: ``kawal_web_port`` sets the web port.
    """
    known = known_variables() | frozenset(tolerated)
    return sorted(
        name for name in environ if name.upper().startswith(PREFIX) and name.upper() not in known
    )


def unknown_secret_files(folder: Path | None, tolerated: Iterable[str]) -> list[str]:
    """The files ``kawal_*`` in the secrets ``folder`` named after no setting, sorted."""
    if folder is None or not folder.is_dir():
        return []
    known = setting_variables() | frozenset(tolerated)
    return sorted(
        path.name
        for path in folder.iterdir()
        if path.name.upper().startswith(PREFIX) and path.name.upper() not in known
    )


def closest_known(name: str) -> str | None:
    """The known variable ``name`` most resembles, or None when none comes close."""
    upper = name.upper()
    # A name cut short is the start of the one meant, which difflib ranks below a shorter
    # neighbour (KAWAL_BROKER_USER nearer KAWAL_BROKER_URL than KAWAL_BROKER_USERNAME).
    if started := sorted((k for k in known_variables() if k.startswith(upper)), key=_shortest):
        return started[0]
    stems = {known.removeprefix(PREFIX): known for known in known_variables()}
    match = difflib.get_close_matches(
        upper.removeprefix(PREFIX), stems, n=1, cutoff=SUGGESTION_CUTOFF
    )
    return stems[match[0]] if match else None


def refuse_unknown(environ: Mapping[str, str], settings: Settings, secrets: Path | None) -> None:
    """Stop unless every ``KAWAL_*`` variable and secret file is read by some setting.

    Raises:
        UnknownVariableError: naming each unknown name and its closest known one, never a value.
    """
    tolerated = settings.tolerated_variables
    named = [_named(name, "variable") for name in unknown_variables(environ, tolerated)]
    named += [_named(name, "secret file") for name in unknown_secret_files(secrets, tolerated)]
    if named:
        raise UnknownVariableError(
            f"no setting of kawal reads {', '.join(named)}; correct or remove it (every setting "
            f"is in docs/configuration.md), or, for a setting of another version of kawal, name "
            f"it in {TOLERATED_SETTING}"
        )


def _named(name: str, kind: str) -> str:
    closest = closest_known(name)
    if closest is None:
        return f"the {kind} {name} (no known variable is close)"
    if kind != "variable":
        closest = closest.lower()
    return f"the {kind} {name} (did you mean {closest}?)"


def _shortest(name: str) -> tuple[int, str]:
    return len(name), name
