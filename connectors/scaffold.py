"""``kawal connector new NAME``: a new connector package, ready to install and test.

The package is a working pair of connectors (inbound and outbound) over a file exchange, with
a simulator of the institution's system and the contract tests; an integrator replaces the
exchange with the real system and keeps the tests green. It speaks for one institution of the
registry in force (``--institution``), with the example mapping its role emits
(:mod:`connectors.scaffold_institution`).
"""

from __future__ import annotations

import re
from pathlib import Path

from connectors.scaffold_institution import (
    DEFAULT_INSTITUTION,
    ScaffoldError,
    ScaffoldTarget,
    scaffold_target,
)
from streams.settings import Settings

TEMPLATE = Path(__file__).parent / "template" / "package"
#: The example mappings, one folder each, copied over :data:`TEMPLATE`.
FLAVOURS = Path(__file__).parent / "template" / "flavours"
#: Placeholder of the template's Python package directory.
PACKAGE_PLACEHOLDER = "connector_pkg"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

__all__ = ["ScaffoldError", "new_connector"]


def new_connector(
    name: str,
    parent: Path,
    institution: str = DEFAULT_INSTITUTION,
    settings: Settings | None = None,
) -> Path:
    """Create ``kawal-connector-NAME/`` in ``parent`` for ``institution``; return its path.

    ``institution`` must be an id of the registry of ``settings`` (default: the environment's,
    ``KAWAL_INSTITUTIONS_FILE``).

    Raises:
        ScaffoldError: the name is not lowercase words joined by hyphens, the institution is
            malformed, unregistered or of a role no example fits, or the directory exists.
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"connector name {name!r} must be lowercase letters and digits, words joined by "
            "hyphens (e.g. 'siasn' or 'inspektorat-jateng')"
        )
    target = parent / f"kawal-connector-{name}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or remove it")
    chosen = scaffold_target(institution, settings or Settings())
    tokens = _tokens(name, chosen)
    for root in (TEMPLATE, FLAVOURS / chosen.flavour.name):
        _copy(root, target, tokens)
    return target


def _tokens(name: str, chosen: ScaffoldTarget) -> dict[str, str]:
    """What each placeholder of the template becomes."""
    return {
        "%%name%%": name,
        "%%package%%": "kawal_connector_" + name.replace("-", "_"),
        "%%title%%": name,
        "%%institution%%": chosen.institution,
        "%%role%%": chosen.role,
        "%%event_type%%": chosen.flavour.event_type,
        "%%records%%": chosen.flavour.records,
        "%%region%%": chosen.region,
    }


def _copy(root: Path, target: Path, tokens: dict[str, str]) -> None:
    """Copy the files under ``root`` into ``target``, placeholders replaced."""
    package = tokens["%%package%%"]
    for source in sorted(root.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(root).as_posix().replace(PACKAGE_PLACEHOLDER, package)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        for token, value in tokens.items():
            text = text.replace(token, value)
        destination.write_text(text)
