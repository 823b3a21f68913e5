"""The PPK's in-tray names the subject read from the case's trail at a real hub, as the PPK.

The hub never routes ``ReportReceived`` to the PPK's feed, so ``ppk-inbox`` reads it over HTTP
with the PPK's bearer token (``connectors/ppk/trail_subjects.py``). Each test runs the
connector through the runtime against the session's hub (worker, sink, HTTP), on its own
registry and home.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConnectorConfigError
from connectors.host import build, run_connector
from connectors.ppk.simulator import DecreeRegistry
from monitoring.connectors import ConnectorMetrics
from streams.audit.access_log import AccessLog
from streams.audit.tokens import TokenStore
from streams.local.processes import free_port
from tests.connectors.test_ppk import running, settings
from tests.hubtools import RunningHub, recommendation

PPK = "ppk.3374"
SUBJECT_NIP, SUBJECT_NAME = "198501012010011001", "Test Subject"  # tests.hubtools.report's
WAIT_SECONDS = 60.0


def recommended_case(hub: RunningHub) -> str:
    """A case reported, referred and recommended at the hub; its id."""
    case_id = hub.open_case()
    hub.step("RecommendationIssued", recommendation(case_id))
    return case_id


def row_of(registry: DecreeRegistry, case_id: str) -> dict[str, Any] | None:
    """The case's recommendation in the in-tray, if delivered."""
    return next((r for r in registry.recommendations() if r["case_id"] == case_id), None)


def until(condition: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} not within {seconds} s"
        time.sleep(0.3)
    return found


def token_file(tmp_path: Path, secret: str) -> Path:
    path = tmp_path / "hub-token"
    path.write_text(secret + "\n", encoding="utf-8")
    return path


@contextmanager
def connectors(
    hub: RunningHub,
    registry: DecreeRegistry,
    tmp_path: Path,
    hub_url: str,
    token: Path,
    names: tuple[str, ...] = ("ppk-inbox",),
    metrics: ConnectorMetrics | None = None,
) -> Iterator[None]:
    """``names`` run by the runtime, ``ppk-inbox`` reading trails at ``hub_url``."""
    stop = threading.Event()
    reads = {"hub_url": hub_url, "token_file": str(token), "trail_retry_seconds": 0.5}
    threads = [
        threading.Thread(
            target=run_connector,
            args=(
                build(
                    name,
                    settings(registry)
                    | {"poll_seconds": 0.3}
                    | (reads if name == "ppk-inbox" else {}),
                ),
                hub.bootstrap,
            ),
            kwargs={
                "home": tmp_path / name,
                "stop": stop,
                "keyring": hub.publisher.keyring,
                "metrics": metrics,
            },
            daemon=True,
        )
        for name in names
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)


@pytest.mark.slow
def test_the_subject_comes_from_the_trail_and_a_decree_for_another_is_refused(
    hub: RunningHub, tmp_path: Path
) -> None:
    case_id = recommended_case(hub)
    issued = hub.token(PPK)
    with (
        running(None, tmp_path) as registry,
        connectors(
            hub,
            registry,
            tmp_path,
            hub.base_url,
            token_file(tmp_path, issued.secret),
            ("ppk-inbox", "ppk-decrees"),
        ),
    ):
        row = until(
            lambda: (found := row_of(registry, case_id)) and found["subject_nip"] and found,
            "the recommendation with its subject",
        )
        assert (row["subject_nip"], row["subject_name"]) == (SUBJECT_NIP, SUBJECT_NAME)
        other = registry.draft(
            None, None, case_id=case_id, subject=("197001012000121002", "Agus W.")
        )
        registry.sign(other)
        refusal = until(lambda: registry.refusal_of(other), "the connector's refusal")
    assert (refusal["reason_code"], refusal["refused_by"]) == ("subject_mismatch", "connector")
    # The read is the PPK's, with its own token, and in the hub's access log.
    reads = [e for e in AccessLog(hub.store.engine).entries([case_id]) if e.principal == PPK]
    assert reads
    assert {e.credential for e in reads} == {issued.id}
    assert "subject_nip" in reads[0].fields


def revoked(hub: RunningHub) -> str:
    issued = hub.token(PPK)
    TokenStore(hub.store.engine).revoke(issued.id, "test")
    return issued.secret


def expired(hub: RunningHub) -> str:
    return hub.token(PPK, expires_at=datetime.now(UTC) - timedelta(minutes=1)).secret


@pytest.mark.slow
@pytest.mark.parametrize(
    ("token_of", "code", "says"),
    [
        (revoked, "token_refused", "kawal token issue ppk.3374"),
        (expired, "token_refused", "kawal token issue ppk.3374"),
        (lambda hub: hub.token("kasn").secret, "not_entitled", "use a token of ppk.3374"),
        # The authority is party to the case: its view shows the reporter, never kept.
        (lambda hub: hub.token("bkn").secret, "not_own_view", "use a token of ppk.3374"),
    ],
    ids=["revoked", "expired", "not-party", "the-authority"],
)
def test_a_token_the_hub_refuses_leaves_the_recommendation_without_subject_and_says_so(
    hub: RunningHub,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    token_of: Callable[[RunningHub], str],
    code: str,
    says: str,
) -> None:
    case_id = recommended_case(hub)
    metrics = ConnectorMetrics()
    token = token_file(tmp_path, token_of(hub))
    with (
        caplog.at_level(logging.INFO),
        running(None, tmp_path) as registry,
        connectors(hub, registry, tmp_path, hub.base_url, token, metrics=metrics),
    ):
        row = until(lambda: row_of(registry, case_id), "the recommendation")
        until(lambda: code in caplog.text, f"a warning saying {code}")
        waiting = until(
            lambda: metrics.registry.get_sample_value(
                "kawal_connector_waiting", {"connector": "ppk-inbox", "institution": PPK}
            ),
            "the cases waiting counted",
        )
        time.sleep(1.5)  # a few catch-ups more: still nothing is kept
        row = row_of(registry, case_id)
    assert row is not None
    assert (row["subject_nip"], row["subject_name"]) == (None, None)
    assert waiting >= 1
    assert says in caplog.text
    for secret in (SUBJECT_NIP, SUBJECT_NAME, "Test Reporter"):
        assert secret not in caplog.text


class Forwarder:
    """A TCP forwarder to the hub's web port, on a port of its own: the hub as seen behind it.

    Before :meth:`start` nothing listens on its port: the hub is down for whoever calls it.
    """

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: socket.socket | None = None

    def start(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for each in (source, sink):
            with suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)


@pytest.mark.slow
def test_the_subject_arrives_once_the_hub_answers_again(
    hub: RunningHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = recommended_case(hub)
    forwarder = Forwarder(int(hub.base_url.rsplit(":", 1)[1]))
    metrics = ConnectorMetrics()
    labels = {"connector": "ppk-inbox", "institution": PPK}
    token = token_file(tmp_path, hub.token(PPK).secret)
    try:
        with (
            caplog.at_level(logging.INFO),
            running(None, tmp_path) as registry,
            connectors(
                hub,
                registry,
                tmp_path,
                f"http://127.0.0.1:{forwarder.port}",
                token,
                metrics=metrics,
            ),
        ):
            until(lambda: row_of(registry, case_id), "the recommendation, the hub down")
            until(lambda: "hub_unreachable" in caplog.text, "a warning that the hub is down")
            assert (
                until(
                    lambda: metrics.registry.get_sample_value("kawal_connector_waiting", labels),
                    "the cases waiting counted",
                )
                >= 1
            )
            assert row_of(registry, case_id)["subject_nip"] is None  # type: ignore[index]

            forwarder.start()
            row = until(
                lambda: (found := row_of(registry, case_id)) and found["subject_nip"] and found,
                "the subject, the hub up again",
            )
    finally:
        forwarder.stop()
    assert (row["subject_nip"], row["subject_name"]) == (SUBJECT_NIP, SUBJECT_NAME)
    for secret in (SUBJECT_NIP, SUBJECT_NAME):
        assert secret not in caplog.text


def test_hub_url_without_token_file_is_refused_naming_both(tmp_path: Path) -> None:
    with running(None, tmp_path) as registry, pytest.raises(ConnectorConfigError) as refused:
        build("ppk-inbox", settings(registry) | {"hub_url": "http://127.0.0.1:6066"})
    assert "hub_url and token_file go together" in str(refused.value)
