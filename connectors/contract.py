"""The connector contract suite: a connector's test file subclasses it in a few lines.

Inbound::

    class TestMyInbound(InboundContract):
        connector_name = "my-inbound"
        def start_system(self, tmp_path): ...      # a context manager yielding the simulator
        def config(self, system, tmp_path): ...    # the connector's configuration (a dict)
        def add_records(self, system, count): ...  # count valid records in the system
        def add_malformed(self, system): ...       # one record that cannot be mapped
        def unreachable(self, system): ...         # a context manager: the system is down

Outbound: ``start_system``, ``config``, ``unreachable`` as above, plus ``feed_events()`` (event
records the connector handles) and ``effects(system, event_id)`` (how many times the system
recorded that event: 1 after any number of deliveries).

The suite checks the mapping against the shared schemas, checkpoint and resume, idempotent
delivery, and that errors end in ``kawal.dlq`` with a reason, on a real broker (fixture
``kawal_broker`` of the ``kawal`` pytest plugin, :mod:`connectors.testing`).
"""

from __future__ import annotations

from connectors.contract_base import FAST_RETRY, WAIT_SECONDS, read_topic
from connectors.contract_inbound import InboundContract
from connectors.contract_outbound import OutboundContract

__all__ = ["FAST_RETRY", "WAIT_SECONDS", "InboundContract", "OutboundContract", "read_topic"]
