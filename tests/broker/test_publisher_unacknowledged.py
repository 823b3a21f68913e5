"""A broker that stops acknowledging makes the publisher fail within its deadline, not hang.

The broker's disk filled up, or it stopped: ``kawal demo`` (and every caller of
``EventPublisher``) must say so within the flush deadline. kafka-python's ``close()`` waits
without end for records still queued, so closing after a failed flush hung the command.
The broker is frozen (SIGSTOP) rather than stopped: it answers nothing, as on a full disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys
from streams.settings import Settings
from tests.freezing import freeze, thaw

FLUSH_SECONDS = 2.0
#: Without end before; its flush, close and the sender's end each take up to FLUSH_SECONDS,
#: and a loaded machine starts Python slowly.
EXIT_SECONDS = 15 * FLUSH_SECONDS

#: Publishes once (acknowledged), waits for a line on stdin, publishes again and closes.
PUBLISHER = f"""
import sys
from streams.broker.publisher import EventPublisher, PublishError
from streams.local.keyring import keyring_of
from streams.settings import Settings
from tests.freezing import freeze, thaw
from tests.hubtools import default_codec, report

publisher = EventPublisher(
    [sys.argv[1]], default_codec(), keyring_of(Settings()), flush_timeout={FLUSH_SECONDS}
)
publisher.publish("ReportReceived", report())
print("acknowledged", publisher.flush(), flush=True)
sys.stdin.readline()
publisher.publish("ReportReceived", report())
try:
    publisher.close()
except PublishError as exc:
    print("refused:", exc, flush=True)
"""


def test_closing_after_the_broker_stopped_fails_within_the_deadline(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    child = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, own_broker.bootstrap_servers],
        env=dict(os.environ, KAWAL_HOME=str(home)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    assert own_broker.pid is not None
    try:
        assert child.stdout.readline().strip() == "acknowledged 1"
        # Frozen, the broker keeps its connections and answers nothing, as on a full disk.
        freeze(own_broker.pid)
        child.stdin.write("go\n")
        child.stdin.flush()
        code = child.wait(timeout=EXIT_SECONDS)
    finally:
        thaw(own_broker.pid)
        child.kill()
        child.wait()
        said = child.stdout.read()
        child.stdout.close()
        child.stdin.close()

    assert code == 0
    assert said.startswith("refused: ")
    assert "not acknowledge" in said
