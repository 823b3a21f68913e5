"""A broker that stops acknowledging makes the publisher fail within its deadline, not hang.

The broker's disk filled up, or it stopped: ``kawal demo`` (and every caller of
``EventPublisher``) must say so within the flush deadline. kafka-python's ``close()`` waits
without end for records still queued, so closing after a failed flush hung the command.
"""

from __future__ import annotations

import threading
from pathlib import Path

from streams.broker.publisher import EventPublisher, PublishError
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from tests.hubtools import default_codec, report

FLUSH_SECONDS = 2.0


def test_closing_after_the_broker_stopped_fails_within_the_deadline(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    publisher = EventPublisher(
        [own_broker.bootstrap_servers],
        default_codec(),
        keyring_of(settings),
        flush_timeout=FLUSH_SECONDS,
    )
    publisher.publish("ReportReceived", report())
    assert publisher.flush() == 1  # the broker answered: its metadata is known
    own_broker.stop()
    publisher.publish("ReportReceived", report())
    failures: list[Exception] = []

    def closing() -> None:
        try:
            publisher.close()
        except Exception as exc:  # the test wants whatever it raises
            failures.append(exc)

    closer = threading.Thread(target=closing, daemon=True)
    closer.start()
    closer.join(4 * FLUSH_SECONDS)

    assert not closer.is_alive(), "close() still waits for a broker that is gone"
    [failure] = failures
    assert isinstance(failure, PublishError)
    assert "not acknowledge" in str(failure)
