"""deploy/Dockerfile, read by Docker's own parser: two stages, no embedded broker, not root."""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path

import dockerfile
import pytest
import yaml
from packaging.utils import canonicalize_name

from tests.deploy.closure import runtime_closure

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"
COMPOSE = DOCKERFILE.parent / "compose.yaml"
CONSTRAINTS = DOCKERFILE.parent / "constraints.txt"


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


def _folders_made_for_kawal() -> set[str]:
    """The folders the runtime stage makes with ``install -d -o kawal -g kawal -m 0700``."""
    made: set[str] = set()
    for command in stages()["runtime"]:
        if command.cmd != "RUN":
            continue
        for step in " ".join(command.value).split("&&"):
            words = shlex.split(step)
            if words[:1] == ["install"] and "-d" in words:
                options = dict(itertools.pairwise(words))
                if (options.get("-o"), options.get("-g"), options.get("-m")) == (
                    "kawal",
                    "kawal",
                    "0700",
                ):
                    made |= {word for word in words if word.startswith("/")}
    return made


def test_every_folder_compose_mounts_a_volume_on_in_the_home_is_kawals_in_the_image() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    env: dict[str, str] = {}
    for command in stages()["runtime"]:
        if command.cmd == "ENV":  # the parser gives name, value, name, value...
            env |= dict(zip(command.value[::2], command.value[1::2], strict=True))
    home_dir = env["KAWAL_HOME"]
    targets = {
        volume.split(":")[1]
        for service in compose["services"].values()
        if "build" in service
        for volume in service.get("volumes", [])
        if volume.split(":")[1].startswith(home_dir)
    }
    assert targets, "compose mounts no volume in KAWAL_HOME"
    made = _folders_made_for_kawal()
    assert home_dir in made
    # Docker gives a new named volume the owner and mode of the image's folder: a folder the
    # image lacks is made root's, where the hub (uid 10001) cannot write its keys.
    assert targets <= made, targets - made


def test_the_image_installs_every_distribution_at_the_version_the_tests_ran_with() -> None:
    build = stages()["build"]
    copied = [c.value for c in build if c.cmd == "COPY"]
    assert ("deploy/constraints.txt", "./") in copied
    (wheel,) = [" ".join(c.value) for c in build if c.cmd == "RUN" and "pip wheel" in c.value[0]]
    assert "--constraint constraints.txt" in wheel
    pinned: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[canonicalize_name(name)] = version
    installed = runtime_closure()
    wrong = {name: version for name, version in installed.items() if pinned.get(name) != version}
    assert not wrong, f"pin these in {CONSTRAINTS.name}: {wrong}"
    assert "kawal" not in pinned
