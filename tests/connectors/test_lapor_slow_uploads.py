"""A report sent over a weak link gets through; a body that stalls or trickles does not.

Real HTTP from sockets writing at a set pace. The portal here waits :data:`IDLE_SECONDS`
(its ``idle_seconds``, the grace before a body's pace is measured and the longest stall).
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from connectors.lapor.pacing import FLOOR_RATE, MAX_SLOW_PER_SOURCE, SlowBodies, _Progress
from tests.connectors.test_lapor_portal import opened_intake
from tests.lapor_support import CHAT_LOG, multipart, report_fields

IDLE_SECONDS = 1.0
#: A chat log of about 10 KB: text evidence, so the body is a real report's.
LONG_CHAT = CHAT_LOG * 150


@pytest.fixture
def intake(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    with opened_intake(location, tmp_path / "spool", idle_seconds=IDLE_SECONDS) as connector:
        yield connector


def head(path: str, content_type: str, length: int, lang: str = "id") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Accept-Language: {lang}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def answer_of(connection: socket.socket) -> bytes:
    """Everything the portal sends back until it closes the connection."""
    connection.settimeout(30)
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def send_slowly(port: int, request: bytes, rate: int) -> tuple[bytes, float]:
    """``request`` written at ``rate`` bytes a second; the answer and the seconds until it came.

    (The connection itself closes later: aiohttp lingers after an answer, reading what a client
    still sends.)
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        step = rate // 4
        for start in range(0, len(request), step):
            try:
                connection.sendall(request[start : start + step])
            except OSError:
                break  # answered and closed before the end: read what it said
            if select.select([connection], [], [], 0.25)[0]:
                break
        select.select([connection], [], [], 30)
        seconds = time.monotonic() - started
        return answer_of(connection), seconds


def test_a_report_sent_at_3_kib_a_second_is_taken(intake: LaporIntake) -> None:
    # About 11 KB at 3 KiB/s: nearly 4 s, which the earlier floor of 8 KiB/s (1.4 s for this
    # body after the grace) refused with 408.
    body, content_type = multipart(report_fields(), [("obrolan.txt", LONG_CHAT)])
    request = head("/lapor", content_type, len(body)) + body

    answer, seconds = send_slowly(intake.config.listen_port, request, rate=3 * 1024)

    assert seconds > 3
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert b'id="tracking-code"' in answer
    assert len(intake.read(None, 10)) == 1


def test_a_body_that_stalls_is_refused_soon_saying_to_go_back(intake: LaporIntake) -> None:
    body, content_type = multipart(report_fields(), [("obrolan.txt", LONG_CHAT)])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", intake.config.listen_port)) as connection:
        connection.sendall(head("/lapor", content_type, len(body)) + body[:2000])
        # Then nothing: the link dropped.
        select.select([connection], [], [], 30)
        seconds = time.monotonic() - started
        answer = answer_of(connection)

    page = answer.decode()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert seconds < IDLE_SECONDS + 3
    assert "Kiriman terhenti atau datang terlalu lambat" in page
    assert 'id="go-back"' in page
    assert "tombol Kembali (Back) di peramban Anda" in page
    assert 'href="/"' not in page  # no link to an empty form
    assert intake.read(None, 10) == []


def test_a_stalled_json_report_is_answered_in_json(intake: LaporIntake) -> None:
    with socket.create_connection(("127.0.0.1", intake.config.listen_port)) as connection:
        connection.sendall(head("/api/v1/reports", "application/json", 5000, "en") + b'{"a":')
        answer = answer_of(connection)

    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408"), answer[:300]
    refusal = json.loads(body)
    assert refusal["error"] == "too_slow"
    assert refusal["message"].startswith("The request stalled or came too slowly")


def test_a_body_under_the_floor_is_refused(intake: LaporIntake) -> None:
    # 512 bytes a second, steadily: never a stall, but half the floor of 1 KiB/s.
    body, content_type = multipart(report_fields(), [("obrolan.txt", LONG_CHAT)])
    request = head("/lapor", content_type, len(body)) + body

    answer, seconds = send_slowly(intake.config.listen_port, request, rate=512)

    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert seconds < 10  # cut once behind, not after the whole body's 22 s
    assert intake.read(None, 10) == []


def test_one_slow_body_more_than_a_source_may_send_is_refused(intake: LaporIntake) -> None:
    port = intake.config.listen_port
    request = head("/api/v1/reports", "application/json", 200_000)
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_SLOW_PER_SOURCE)]
    answers: dict[int, bytes] = {}
    try:
        for connection in slow:
            connection.sendall(request)
        started, late = time.monotonic(), None
        while time.monotonic() - started < 5 * IDLE_SECONDS:
            # 2 KiB/s each: over the floor, under 8 KiB/s, so each holds a slow body's slot.
            if late is None and time.monotonic() - started > 2 * IDLE_SECONDS:
                late = socket.create_connection(("127.0.0.1", port))
                late.sendall(request)
            for connection in [*slow, *([late] if late else [])]:
                if connection.fileno() not in answers:
                    connection.sendall(b" " * 512)
            for ready in select.select([*slow, *([late] if late else [])], [], [], 0.25)[0]:
                answers.setdefault(ready.fileno(), answer_of(ready))
        assert late is not None
        late_answer = answers.get(late.fileno(), b"")
        others = [answers.get(connection.fileno()) for connection in slow]
    finally:
        for connection in [*slow, *([late] if late else [])]:
            connection.close()

    status, _, body = late_answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 503"), late_answer[:300]
    assert json.loads(body)["error"] == "slow_busy"
    # When the first of the source's bodies is expected to be read at its pace of about
    # 2 KiB/s: over a minute for 200 KB, never past the floor's end (grace + 200 KB at 1 KiB/s).
    [retry_after] = re.findall(rb"\r\nRetry-After: (\d+)\r\n", status)
    assert 30 < int(retry_after) <= IDLE_SECONDS + 200_000 / FLOOR_RATE
    minutes = -(-int(retry_after) // 60)
    assert f"Kirim lagi dalam {minutes} menit" in json.loads(body)["message"]
    assert others == [None] * MAX_SLOW_PER_SOURCE  # still being read


def body(started: float = 0.0, size: int = 100 * 1024, received: int = 0) -> _Progress:
    return _Progress(started, started, size, grace=1.0, received=received)


def test_the_slow_bodies_slots_are_bounded_overall_and_freed() -> None:
    slots = SlowBodies(per_source=2, overall=3)
    bodies = [body() for _ in range(5)]

    taken = [slots.take(source, b) for source, b in zip("aaabc", bodies, strict=True)]
    slots.give_back("a", bodies[0])

    assert taken == [True, True, False, True, False]
    assert slots.take("c", body())
    assert not slots.take("d", body())


def test_a_refused_body_is_told_when_a_slot_in_its_way_is_expected_free() -> None:
    slots = SlowBodies(per_source=2, overall=3)
    # Half of 100 KiB in 10 s: the other half in 10 s more at that pace.
    half = body(received=50 * 1024)
    assert slots.take("a", half)
    # A quarter in 10 s: 30 s more at its pace.
    assert slots.take("a", body(received=25 * 1024))
    # Nothing yet: the floor's end, 1 s of grace + 100 s at 1 KiB/s after it began at 5 s.
    assert slots.take("b", body(started=5.0))

    assert slots.free_in("a", now=10.0) == 10  # its own slots are in its way
    assert slots.free_in("c", now=10.0) == 10  # every slot is: the soonest of all
    assert slots.free_in("b", now=10.0) == 10
    slots.give_back("a", half)
    assert slots.free_in("c", now=10.0) == 30
    # A body far behind its floor is cut at the floor's end, however slow its pace.
    slow = SlowBodies(per_source=1, overall=1)
    assert slow.take("a", body(received=1))
    assert slow.free_in("a", now=10.0) == 91
