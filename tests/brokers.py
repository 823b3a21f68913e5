"""Starting a test's own embedded broker on a free port, again on another if the port was taken.

Parallel test processes pick ports apart, but another process can still bind a picked port
before tansu does; tansu then cannot listen and the start fails. A second port settles it.
"""

from __future__ import annotations

from pathlib import Path

from streams.local.children import EmbeddedBrokerError
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port

ATTEMPTS = 3


def start_ephemeral_broker(log_dir: Path) -> EmbeddedBroker:
    """An ephemeral broker, started, on the first free port it could listen on.

    Raises:
        EmbeddedBrokerError: it did not start on any of :data:`ATTEMPTS` ports.
    """
    for attempt in range(ATTEMPTS):
        broker = EmbeddedBroker.ephemeral(log_dir, port=free_port())
        try:
            broker.start()
        except EmbeddedBrokerError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return broker
    raise AssertionError("unreachable")
