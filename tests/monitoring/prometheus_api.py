"""Reading a real Prometheus through its HTTP API (``/api/v1/...``)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

WAIT_SECONDS = 240.0


def query(base_url: str, expr: str) -> list[dict[str, Any]]:
    """The instant vector ``expr`` evaluates to now (its result list)."""
    url = f"{base_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def alerts(base_url: str) -> list[dict[str, Any]]:
    """The alerts Prometheus holds now, pending and firing."""
    with urllib.request.urlopen(f"{base_url}/api/v1/alerts", timeout=10) as answer:
        body = json.load(answer)
    found: list[dict[str, Any]] = body["data"]["alerts"]
    return found


def targets(base_url: str) -> list[dict[str, Any]]:
    """The active scrape targets and their health."""
    with urllib.request.urlopen(f"{base_url}/api/v1/targets", timeout=10) as answer:
        body = json.load(answer)
    found: list[dict[str, Any]] = body["data"]["activeTargets"]
    return found


def wait_until(check: Callable[[], list[str]], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll ``check()`` (what is still missing) until it returns nothing, or fail with it."""
    deadline = time.monotonic() + timeout
    missing = check()
    while missing and time.monotonic() < deadline:
        time.sleep(1.0)
        missing = check()
    assert not missing, f"{what} after {timeout:.0f} s: {missing}"
