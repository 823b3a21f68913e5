"""The direction of dependencies, read from the imports of every module.

``streams.domain`` holds the rules and imports nothing of the runtime; each room of ``streams``
imports only the rooms below it; ``schemas`` imports nothing of ``streams`` or ``connectors``,
and ``streams`` reaches ``connectors`` only through entry points (none of its modules imports
the SDK). ``docs/architecture.md`` draws the same picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What each part of ``streams`` may import of ``streams`` (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "setting_types": set(),
    "monitoring_settings": {"setting_types"},
    "tolerance_settings": {"setting_types"},
    "settings": {"setting_types", "monitoring_settings", "tolerance_settings"},
    # A KAWAL_* variable no setting reads stops the process: the settings' own names and others.
    "unknown_variables": {"settings"},
    # `kawal worker home=/path`: what ps shows of a serving process, and how it reads back.
    "process_title": set(),
    "headers": set(),
    # The temporary files of whole writes, and the leftovers of killed writers.
    "partial_files": set(),
    "private_files": {"partial_files"},
    # Who runs on a home: ``kawal up``, its worker and its sink each hold a lock there.
    "process_lock": {"private_files"},
    "home_locks": {"process_lock", "private_files"},
    "logs": set(),
    "sql_time": set(),
    "sql_engines": set(),
    # Threads for database calls that may never return, which no exit waits for.
    "daemon_pool": set(),
    "topics": {"domain"},
    "broker": {"domain", "topics", "headers", "settings", "private_files"},
    "vault": {"domain", "settings", "private_files", "sql_time", "sql_engines", "daemon_pool"},
    "audit": {
        "domain", "broker", "vault", "topics", "settings", "private_files", "sql_time",
        "sql_engines",
    },
    # Failures are logged by type and frames (streams.logs.frames), never by message.
    "hub": {"domain", "broker", "audit", "vault", "topics", "headers", "logs", "daemon_pool"},
    "web": {"domain", "audit", "vault", "hub"},
    # The Kubernetes manifests are generated from the broker's topic plan and ACL matrix.
    "contract": {"domain", "broker", "topics", "headers", "settings"},
    "local": {
        "domain", "broker", "audit", "vault", "topics", "headers", "settings", "setting_types",
        "private_files", "partial_files", "process_lock", "home_locks", "process_title",
    },
    # `kawal status` reads what the processes of a home expose, and the locks held on it.
    "status": {
        "broker", "audit", "settings", "local", "home_locks", "process_lock", "daemon_pool",
    },
    "app": {"domain", "broker", "audit", "vault", "hub", "web", "topics", "settings"},
    # Before it starts, a worker checks that the broker has the hub's topics.
    "worker": {"app", "broker", "settings", "private_files", "logs", "home_locks"},
    "cli": {
        "domain", "broker", "audit", "vault", "hub", "web", "local", "contract", "app",
        "worker", "topics", "headers", "settings", "private_files", "logs", "daemon_pool",
        "status", "process_lock", "home_locks", "process_title", "unknown_variables",
    },
}  # fmt: skip

#: Libraries of the runtime that the pure rules must not import.
RUNTIME_LIBRARIES = {
    "faust", "mode", "aiokafka", "kafka", "aiohttp", "sqlalchemy", "alembic",
    "prometheus_client", "uvloop", "psycopg", "monitoring",
}  # fmt: skip


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` of every import in ``path``, in functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                # `from streams import eager` imports the module streams.eager.
                yield node.lineno, f"{node.module}.{alias.name}"


def modules(package: str) -> list[Path]:
    """Every module of a top-level package, the connector template left out."""
    return sorted(
        path
        for path in (ROOT / package).rglob("*.py")
        if "template" not in path.relative_to(ROOT).parts
    )


def part_of_streams(module: str) -> str | None:
    """The room (or top-level module) of ``streams`` a dotted module name lies in."""
    parts = module.split(".")
    if parts[0] != "streams" or len(parts) < 2 or parts[1] == "data":
        return None
    return parts[1]


def violations(package: str, allowed: dict[str, set[str]] | None = None) -> list[str]:
    """Imports of ``package`` that break a rule, as ``file:line imports module``."""
    found = []
    for path in modules(package):
        relative = path.relative_to(ROOT)
        dotted = ".".join(relative.with_suffix("").parts)
        own = part_of_streams(dotted) if package == "streams" else None
        for line, imported in imports_of(path):
            reason = broken_rule(package, own, imported, allowed or ALLOWED)
            if reason:
                found.append(f"{relative}:{line} imports {imported} ({reason})")
    return found


def broken_rule(package: str, own: str | None, imported: str, allowed: dict[str, set[str]]) -> str:
    """Why importing ``imported`` from ``package`` (room ``own``) is not allowed, or ''."""
    top = imported.split(".")[0]
    if package == "schemas" and top in {"streams", "connectors"}:
        return "schemas is the shared base: it imports neither the hub nor the SDK"
    if package == "streams" and top == "connectors":
        return "the hub finds connectors through entry points, never by import"
    if package == "monitoring" and top in {"streams", "connectors"}:
        return "metric definitions import nothing of the hub"
    if own == "domain" and top in RUNTIME_LIBRARIES:
        return "the rules import nothing of the runtime"
    target = part_of_streams(imported)
    if own is None or target is None or target == own:
        return ""
    if own not in allowed:
        return f"streams.{own} is not placed in a room; add it to the architecture"
    if target not in allowed[own]:
        return f"streams.{own} may import only {sorted(allowed[own]) or 'nothing of streams'}"
    return ""


@pytest.mark.parametrize("package", ["streams", "schemas", "monitoring"])
def test_imports_follow_the_dependency_direction(package: str) -> None:
    assert violations(package) == []


def test_a_broken_direction_is_named_with_file_line_and_rule(tmp_path: Path) -> None:
    assert broken_rule("streams", "domain", "faust", ALLOWED) == (
        "the rules import nothing of the runtime"
    )
    assert broken_rule("streams", "domain", "streams.hub.pipeline", ALLOWED) == (
        "streams.domain may import only nothing of streams"
    )
    assert "entry points" in broken_rule("streams", "cli", "connectors.commands", ALLOWED)
    assert "shared base" in broken_rule("schemas", None, "streams.topics", ALLOWED)
    assert broken_rule("streams", "hub", "streams.domain.lifecycle", ALLOWED) == ""
    assert "not placed in a room" in broken_rule("streams", "newroom", "streams.hub.x", ALLOWED)


def test_imports_inside_functions_and_from_packages_are_seen(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("def f():\n    from streams import eager\n    import faust\n")
    assert list(imports_of(module)) == [(2, "streams"), (2, "streams.eager"), (3, "faust")]


def test_no_module_is_longer_than_400_lines() -> None:
    # Tests and the simulators of institutions' systems may be longer: they are scenarios.
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for package in ("streams", "schemas", "connectors", "monitoring", "bench")
        for path in modules(package)
        if "simulator" not in path.name
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert long == []
