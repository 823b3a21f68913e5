"""deploy/Dockerfile, read by Docker's own parser: two stages, no embedded broker, not root."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"


def commands() -> tuple[dockerfile.Command, ...]:
    parsed: tuple[dockerfile.Command, ...] = dockerfile.parse_file(str(DOCKERFILE))
    return parsed


def stages() -> dict[str, list[dockerfile.Command]]:
    found: dict[str, list[dockerfile.Command]] = {}
    current: list[dockerfile.Command] = []
    for command in commands():
        if command.cmd == "FROM":
            current = []
            found[command.value[-1]] = current
        current.append(command)
    return found


def test_it_builds_wheels_then_a_slim_runtime() -> None:
    built = stages()
    assert list(built) == ["build", "runtime"]
    assert all(stage[0].value[0] == "python:3.11-slim" for stage in built.values())
    copied = [c for c in built["runtime"] if c.cmd == "COPY"]
    assert any("--from=build" in c.flags for c in copied)


def test_the_runtime_leaves_the_embedded_broker_out_and_runs_as_kawal() -> None:
    runtime = stages()["runtime"]
    installs = " ".join(" ".join(c.value) for c in runtime if c.cmd == "RUN")
    assert "pip install" in installs
    assert "[embedded]" not in installs
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    assert users == ["kawal"]
    (entrypoint,) = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entrypoint.json
    assert entrypoint.value == ("kawal",)
    env = " ".join(" ".join(c.value) for c in runtime if c.cmd == "ENV")
    assert "KAWAL_WEB_HOST" in env
    assert "0.0.0.0" in env
    assert "KAWAL_BUILD_REVISION" in env


def test_a_broken_dockerfile_is_refused_by_the_parser(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python:3.11-slim\nRUN <<EOF\necho unterminated heredoc\n")
    with pytest.raises(dockerfile.GoParseError):
        dockerfile.parse_file(str(broken))
