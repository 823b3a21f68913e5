"""``kawal connector new NAME``: a new connector package, ready to install and test.

The package is a working pair of connectors (inbound and outbound) over a file exchange, with
a simulator of the institution's system and the contract tests; an integrator replaces the
exchange with the real system and keeps the tests green.
"""

from __future__ import annotations

import re
from pathlib import Path

from connectors.errors import ConnectorError

TEMPLATE = Path(__file__).parent / "template" / "package"
#: Placeholder of the template's Python package directory.
PACKAGE_PLACEHOLDER = "connector_pkg"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class ScaffoldError(ConnectorError):
    """The connector cannot be created (bad name, directory exists)."""


def new_connector(name: str, parent: Path) -> Path:
    """Create ``kawal-connector-NAME/`` in ``parent``; return its path.

    Raises:
        ScaffoldError: the name is not lowercase words joined by hyphens, or the directory
            exists.
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"connector name {name!r} must be lowercase letters and digits, words joined by "
            "hyphens (e.g. 'siasn' or 'inspektorat-jateng')"
        )
    target = parent / f"kawal-connector-{name}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or remove it")
    package = "kawal_connector_" + name.replace("-", "_")
    tokens = {"%%name%%": name, "%%package%%": package, "%%title%%": name}
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE).as_posix().replace(PACKAGE_PLACEHOLDER, package)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        for token, value in tokens.items():
            text = text.replace(token, value)
        destination.write_text(text)
    return target
