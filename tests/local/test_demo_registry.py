"""The demo cases against the registry in force: refused at once where it lacks their senders."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.errors import KawalError
from streams.domain.institutions import load_institutions
from streams.local.demo import check_demo_registry, demo_waves
from streams.local.demo_mix import mix_waves
from tests.national import NATIONAL_REGISTRY


def test_the_shipped_registry_has_every_institution_of_the_demo() -> None:
    shipped = load_institutions()

    check_demo_registry(demo_waves(), shipped)
    check_demo_registry(mix_waves(), shipped)


def test_a_registry_without_the_demo_agency_is_named_in_the_refusal() -> None:
    without = tuple(i for i in load_institutions() if i.id != "ppk.3374")

    with pytest.raises(KawalError, match=r"sent by ppk\.3374, which the registry in force"):
        check_demo_registry(demo_waves(), without)


def test_kawal_demo_on_the_national_registry_fails_at_once_saying_what_to_do(
    tmp_path: Path,
) -> None:
    # Before, it published, the hub refused the events, and it waited 60 s for nothing.
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAWAL_")}
    env.update(
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_INSTITUTIONS_FILE=str(NATIONAL_REGISTRY),
        KAWAL_BROKER_URL="tansu://127.0.0.1:9",  # never reached: the check comes first
    )

    demo = subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert demo.returncode == 1
    assert "ppk.3374" in demo.stderr
    assert "run the demo on the shipped registry" in demo.stderr


def test_the_demo_reports_name_their_reporters_as_the_schema_does() -> None:
    refs = [
        record["reporter_ref"]
        for wave in demo_waves()
        for event_type, record in wave
        if event_type == "ReportReceived"
    ]

    assert refs
    # 'reporter:' + 24 hex digits (kawal.events.ReportReceived), one per case.
    assert all(re.fullmatch(r"reporter:[0-9a-f]{24}", ref) for ref in refs)
    assert len(set(refs)) == len(refs)
