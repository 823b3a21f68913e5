"""A demo report sent through the demo's reporting portal, so ``make run`` has a tracking page.

``kawal up --demo`` on its embedded storage runs Bawaslu Jawa Tengah's portal
(``connectors.lapor``, on ``KAWAL_LAPOR_PORT``, 8090 by default). Once it answers, an anonymous
report is sent through its public JSON API, as any reporter's phone would, and the tracking page
the portal answers with is printed: a newcomer opens it and watches the case move as the demo's
institutions handle it. The hub imports nothing of the portal: this is a client of its API.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from schemas.errors import KawalError

PORT_SETTING = "KAWAL_LAPOR_PORT"
DEFAULT_PORT = 8090
#: A cold start of the portal (its S3 bucket, its spool) on a busy machine.
READY_SECONDS = 90.0


def portal_port() -> int:
    """The demo portal's port on loopback: ``KAWAL_LAPOR_PORT``, else 8090.

    Raises:
        KawalError: the variable is not a port.
    """
    text = os.environ.get(PORT_SETTING, "").strip() or str(DEFAULT_PORT)
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise KawalError(f"{PORT_SETTING} takes a port from 1 to 65535 (default {DEFAULT_PORT})")
    return int(text)


def portal_url() -> str:
    """The demo portal's address on loopback."""
    return f"http://127.0.0.1:{portal_port()}"


def send_demo_report(base_url: str, ready_seconds: float = READY_SECONDS) -> str:
    """Send an anonymous demo report once the portal answers; its tracking page's address.

    Raises:
        OSError: the portal did not answer in time or refused the report (the message says why).
    """
    _wait_until_up(base_url, ready_seconds)
    request = urllib.request.Request(  # noqa: S310 - the demo portal's loopback URL
        f"{base_url}/api/v1/reports",
        data=json.dumps(_report()).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise OSError(
            f"the portal refused the demo report: {exc.code} {exc.read()[:300]!r}"
        ) from exc
    return f"{base_url}{answer['status_url']}"


def _report() -> dict[str, object]:
    return {
        "anonymous": True,
        "subject_name": "Demo Subject",
        "employing_agency": "ppk.3374",
        "region_code": "3374",
        "election": "pilkada-2024",
        "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        # Learnt of yesterday: in time under the filing rule, whatever the day.
        "discovered_on": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
        "summary": "A village official shared a candidate's campaign poster in the office group.",
    }


def _wait_until_up(base_url: str, ready_seconds: float) -> None:
    deadline = time.monotonic() + ready_seconds
    while True:
        try:
            health = f"{base_url}/health"
            with urllib.request.urlopen(health, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise OSError(f"the demo portal at {base_url} did not answer within {ready_seconds} s")
        time.sleep(0.5)


def announce_demo_report() -> None:
    """Send the demo report and print where to follow it, or why there is none."""
    try:
        print(f"kawal: follow a demo report at {send_demo_report(portal_url())}", flush=True)
    except OSError as exc:
        print(f"kawal: no demo report through the portal: {exc}", file=sys.stderr, flush=True)
