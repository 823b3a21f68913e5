"""How the hub's consumers fetch: three habits of aiokafka's fetcher, corrected.

Each was found by logging an event's way through the worker while another institution's
report waited (docs/scale.md, "Fair in bursts"):

- **A hold on every partition.** The fetcher sends no Fetch to a broker while records it
  fetched from any partition of that broker wait to be taken, for up to 0.1 s
  (``prefetch_backoff``). Records wait whenever the pipeline is busy with a batch, so one
  partition's records held back the fetch of every other. :func:`release_fetch_hold` lifts
  it: a partition whose records wait is still not fetched again, the others are.
- **One partition's whole response first.** The fetcher hands on waiting records partition by
  partition, each until it has none left, in the order their responses came; one response
  can bring thousands of a backlog's records. The hub takes at most :data:`RECORDS_PER_TURN`
  per look and sends the partition it served to the back of the line (:func:`send_to_back`).
- **A finished Fetch still counted in flight.** The fetcher marks a broker free again in a
  callback of the finished Fetch task; when the fetch loop was woken in the same turn of the
  event loop by records being taken, it ran before that callback, saw the broker still busy,
  sent nothing and slept its full 0.2 s (``fetcher_timeout``): events waited 0.2 s, several
  times a minute at 200 events/s. :func:`free_broker_at_once` marks the broker free as the
  task finishes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

#: Most records one look at the fetched records takes, all from the partition whose turn it is.
RECORDS_PER_TURN = 50
#: How long aiokafka holds back every Fetch to a broker while records fetched from it wait to
#: be taken, in seconds: not at all.
PREFETCH_BACKOFF_SECONDS = 0.0
#: The fetcher's tasks that keep a broker busy while they run; each takes the broker's id second.
_BROKER_TASKS = ("_proc_fetch_request", "_update_fetch_positions")


def release_fetch_hold(consumer: AIOKafkaConsumer) -> None:
    """Let a started ``consumer`` fetch every partition whose records nobody is waiting to take.

    aiokafka has no setting for it: its fetcher, made by ``start()``, gives each partition's
    fetched records this backoff when they arrive.
    """
    fetcher_of(consumer)._prefetch_backoff = PREFETCH_BACKOFF_SECONDS


def free_broker_at_once(consumer: AIOKafkaConsumer) -> None:
    """Make a started ``consumer``'s fetcher mark a broker free as soon as its task finishes."""
    fetcher = fetcher_of(consumer)
    for name in _BROKER_TASKS:
        setattr(fetcher, name, _freeing(fetcher, getattr(fetcher, name)))


def _freeing(fetcher: Any, task: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def freeing(assignment: Any, node_id: int, *args: Any) -> Any:
        try:
            return await task(assignment, node_id, *args)
        finally:
            # What the task's done callback does too, before anything else can run.
            fetcher._in_flight.discard(node_id)

    return freeing


def send_to_back(consumer: AIOKafkaConsumer, served: Iterable[object]) -> None:
    """Put the partitions just ``served`` behind every other whose fetched records wait.

    aiokafka hands on waiting records in the order of its fetcher's dictionary of them.
    """
    waiting = fetcher_of(consumer)._records
    for tp in served:
        if tp in waiting:
            waiting[tp] = waiting.pop(tp)


def fetcher_of(consumer: AIOKafkaConsumer) -> Any:
    """The fetcher of a started ``consumer``, which aiokafka keeps private."""
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is None:
        raise RuntimeError("the consumer's fetcher exists only once the consumer has started")
    return fetcher


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """aiokafka consumer thread whose fetcher keeps no partition waiting for another."""

    async def on_start(self) -> None:
        """Start the consumer, then correct its fetcher (the module's docstring)."""
        await super().on_start()
        consumer = self._ensure_consumer()
        release_fetch_hold(consumer)
        free_broker_at_once(consumer)

    async def _fetch_records(
        self,
        consumer: AIOKafkaConsumer,
        active_partitions: set[TP],
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> RecordMap:
        """At most :data:`RECORDS_PER_TURN` records; the partitions served go to the back."""
        limit = min(max_records or RECORDS_PER_TURN, RECORDS_PER_TURN)
        records = await super()._fetch_records(consumer, active_partitions, timeout, limit)
        send_to_back(consumer, records)
        return records
