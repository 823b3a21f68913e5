"""The README against the product: what a new engineer reads first must be what runs."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from prometheus_client import CollectorRegistry

from monitoring.metrics import HubMetrics
from streams.local import demo_mix
from tests.cli_parsers import leaf_commands, port_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_row(starts_with: str) -> str:
    """The README table row whose first cell starts with ``starts_with``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line.startswith("|")]
    found = [row for row in rows if row.removeprefix("| ").startswith(starts_with)]
    assert len(found) == 1, f"{len(found)} README rows start with {starts_with!r}"
    return found[0]


def exported_metric_names() -> set[str]:
    """Every series name the worker's metrics export (a counter as ``<name>_total``)."""
    names: set[str] = set()
    for family in HubMetrics(CollectorRegistry()).registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def test_the_metrics_row_names_each_exported_metric_once() -> None:
    row = readme_row("`http://127.0.0.1:6066/metrics`")
    named = re.findall(r"`(kawal_[a-z_]+)(?:\{[^}]*\})?`", row)

    assert named, "the metrics row names no metric"
    assert [name for name, count in Counter(named).items() if count > 1] == []
    assert set(named) <= exported_metric_names()


def readme_section(title: str) -> str:
    """The text of the README section ``## title`` (up to the next ``## ``)."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_configuration_names_every_port_make_run_listens_on() -> None:
    # Without them a second hub on the machine (or a taken 8090) cannot be moved aside.
    configuration = readme_section("Configuration")

    assert sorted(s for s in port_settings() if f"`{s}`" not in configuration) == []


def test_the_demo_cases_the_readme_counts_are_those_kawal_up_publishes() -> None:
    once_it_runs = readme_section("Once it runs")

    assert (
        f"publishes three demo cases and prints their ids, and {demo_mix.CASES} more"
        in " ".join(once_it_runs.split())
    )


def test_the_readme_shows_every_command_and_option_of_the_cli() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    missing: list[str] = []
    for path, parser in leaf_commands():
        # A command's lines: those naming `kawal <group>`; its later words may follow a `·`.
        about = [line for line in lines if f"kawal {path[0]}" in line]
        named = re.compile(rf"kawal {' '.join(path)}\b|· `{path[-1]}\b")
        if not any(named.search(line) for line in about):
            missing.append(" ".join(path))
        options = (o for a in parser._actions for o in a.option_strings if o.startswith("--"))
        missing += [
            f"{' '.join(path)} {o}"
            for o in options
            if o != "--help" and not any(o in line for line in about)
        ]
    assert missing == [], missing
