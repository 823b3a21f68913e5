"""The distributions ``kawal`` runs with (its dependencies, theirs, and so on), as installed here.

What the tests ran with is what the image must install: ``deploy/constraints.txt`` pins each of
these to the version found here (:func:`runtime_closure`).
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def runtime_closure(root: str = "kawal") -> dict[str, str]:
    """Every distribution ``root`` needs without extras, by canonical name, with its version."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [
        Requirement(text)
        for text in metadata.distribution(root).requires or []
        if Requirement(text).marker is None
    ]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        distribution = metadata.distribution(name)
        found[name] = distribution.version
        for text in distribution.requires or []:
            needed = Requirement(text)
            extras = ["", *requirement.extras]
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                pending.append(needed)
    return found
