"""What ``make run`` shows a newcomer: ``kawal up --demo`` on its durable default storage.

The hub's pages with the demo cases, the public reporting portal, and a report sent through
the portal whose tracking page the hub's announcement links to: each answered as a browser
would get it, in Indonesian.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator

import pytest

from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from tests.hubtools import UpProcess, http_get, start_up, up_env

pytestmark = pytest.mark.slow

#: A durable first start: storage, broker, topics, hub, demo waves, connectors, portal.
READY_SECONDS = 240.0


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    home = tmp_path_factory.mktemp("make-run") / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    up = start_up(home, env, "--demo")
    try:
        up.wait_healthy(READY_SECONDS)
        yield up
    finally:
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()


def announced(up: UpProcess, pattern: str) -> re.Match[str]:
    deadline = time.monotonic() + READY_SECONDS
    while (found := re.search(pattern, up.text())) is None:
        assert time.monotonic() < deadline, up.text()[-3000:]
        assert up.process.poll() is None, up.text()[-3000:]
        time.sleep(0.5)
    return found


def test_a_tracking_page_follows_the_demo_report(made_run: UpProcess) -> None:
    url = announced(made_run, r"follow a demo report at (http://\S+)").group(1)
    # The page shows the step once the hub has recorded the report and fed it back to Bawaslu.
    deadline = time.monotonic() + READY_SECONDS
    while True:
        status, body = http_get(url)
        page = body.decode()
        if "Laporan diterima" in page or time.monotonic() > deadline:
            break
        time.sleep(1)

    assert status == 200
    assert '<html lang="id"' in page
    assert "Laporan diterima" in page
    assert "Demo Subject" not in page  # the reporter sees steps, never the people


def test_the_portal_form_answers_in_indonesian(made_run: UpProcess) -> None:
    url = announced(made_run, r"follow a demo report at (http://127\.0\.0\.1:\d+)/").group(1)

    status, body = http_get(f"{url}/")

    assert status == 200
    assert '<html lang="id"' in body.decode()
    assert "<form" in body.decode()


def test_the_dashboard_shows_the_demo_cases(made_run: UpProcess) -> None:
    announced(made_run, r"published \d+ more demo cases for the dashboard")
    with urllib.request.urlopen(f"{made_run.base_url}/dashboard/figures.json", timeout=30) as r:
        figures = json.loads(r.read())
    status, page = http_get(f"{made_run.base_url}/dashboard")

    assert status == 200
    assert "<svg" in page.decode()
    assert figures["counts"]["received"] >= 31, figures["counts"]


def test_the_announcement_links_every_page_the_readme_opens(made_run: UpProcess) -> None:
    # On other ports than the README's, this line is where a newcomer finds the pages.
    links = json.loads(announced(made_run, r"kawal: hub is up (\{.*\})").group(1))
    portal = announced(made_run, r"follow a demo report at (http://127\.0\.0\.1:\d+)/").group(1)

    assert links["pages"] == f"{made_run.base_url}/"
    assert links["dashboard"] == f"{made_run.base_url}/dashboard"
    assert links["ready"] == f"{made_run.base_url}/readyz"
    assert links["portal"] == f"{portal}/"


def test_the_demo_lists_its_invented_cases_to_everyone(made_run: UpProcess) -> None:
    # The README's front page: `--demo` turns KAWAL_PUBLIC_CASES on for its invented cases.
    announced(made_run, r"published \d+ more demo cases for the dashboard")
    status, body = http_get(f"{made_run.base_url}/")
    listed = re.findall(r'data-case="([0-9a-f-]{36})"', body.decode())

    assert status == 200
    assert listed
    # A case is listed once accepted; its page is 503 "being recorded" until the sink stored it.
    deadline = time.monotonic() + READY_SECONDS
    status, _ = http_get(f"{made_run.base_url}/cases/{listed[0]}")
    while status == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, _ = http_get(f"{made_run.base_url}/cases/{listed[0]}")
    assert status == 200
