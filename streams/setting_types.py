"""Value types of settings whose checks are more than a bound on one field (streams.settings)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_settings import NoDecode

#: A TCP port a process binds.
Port = Annotated[int, Field(ge=1, le=65535)]
#: Ports above 1023 that browsers refuse to open ("bad ports" of the WHATWG Fetch standard,
#: which Chromium and Firefox follow): pages served on one (5061, say) cannot be read.
BROWSER_REFUSED_PORTS = frozenset(
    {1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667}
    | {6668, 6669, 6679, 6697, 10080}
)


def _readable_in_browsers(port: int) -> int:
    if port in BROWSER_REFUSED_PORTS:
        raise ValueError(
            f"browsers refuse to open port {port} (a port of another protocol, Fetch standard "
            '"bad ports"), so the hub\'s pages could not be read there: choose another port'
        )
    return port


#: The port of a server whose pages people open in a browser.
PagePort = Annotated[Port, AfterValidator(_readable_in_browsers)]
#: A port, or 0 for none at all.
PortOrNone = Annotated[int, Field(ge=0, le=65535)]
#: The embedded storage's base port: its gRPC ports are the base + 10000..10004.
StorageBasePort = Annotated[int, Field(ge=1, le=65535 - 10004)]

#: K of the public figures' suppression rule (streams/audit/suppression.py): a group of one or
#: two cases is never published by default, and below 2 the rule would hold nothing back.
DEFAULT_STATS_MIN_CASES = 3
LEAST_STATS_MIN_CASES = 2


def _enough_cases(value: int) -> int:
    if value < LEAST_STATS_MIN_CASES:
        raise ValueError(
            f"KAWAL_STATS_MIN_CASES must be at least {LEAST_STATS_MIN_CASES}: with {value}, "
            "a figure of a single case would be published and identify that civil servant"
        )
    return value


#: K: at least :data:`LEAST_STATS_MIN_CASES`.
MinCases = Annotated[int, AfterValidator(_enough_cases)]


def _lower_case(value: object) -> object:
    # Operators write levels as Python prints them (INFO); Faust and logging take either.
    return value.lower() if isinstance(value, str) else value


#: A log level, in any case.
LogLevel = Annotated[
    Literal["debug", "info", "warning", "error", "critical"], BeforeValidator(_lower_case)
]


_VARIABLE_NAME = re.compile(r"KAWAL_[A-Z0-9_]+")


def _comma_separated(value: object) -> object:
    # One variable holding several names, as an operator writes them; not JSON, which
    # pydantic-settings would expect of a collection.
    if isinstance(value, str):
        return frozenset(name.strip() for name in value.split(",") if name.strip())
    return value


def _variable_names(names: frozenset[str]) -> frozenset[str]:
    if not all(_VARIABLE_NAME.fullmatch(name) for name in names):
        raise ValueError(
            "KAWAL_TOLERATED_VARIABLES takes names of KAWAL_* variables (capitals, digits and "
            "underscores) separated by commas, e.g. KAWAL_NEW_SETTING,KAWAL_OTHER_SETTING"
        )
    return names


#: Names of ``KAWAL_*`` variables, comma-separated in the environment.
VariableNames = Annotated[
    frozenset[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(_variable_names)
]
