"""The pipeline's and the sink's batches: no timer runs while nothing comes."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from streams.broker.batching import BatchingStream

#: The pipeline's batch window, in seconds.
WINDOW = 0.005
#: How long the stream is left idle, in seconds: Faust's own loop wakes 60 times meanwhile.
IDLE_SECONDS = 0.3


def test_an_idle_stream_waits_for_its_first_event_without_a_timer() -> None:
    assert asyncio.run(_wake_ups_while_idle(BatchingStream)) <= 2


def test_faust_s_own_stream_wakes_at_every_window() -> None:
    # What BatchingStream replaces: a wake-up every window, each a few futures and tasks.
    assert asyncio.run(_wake_ups_while_idle(faust.Stream)) >= IDLE_SECONDS / WINDOW / 4


async def _wake_ups_while_idle(stream_class: type[Any]) -> int:
    app = faust.App("kawal-batching-test", broker="memory://", Stream=stream_class)
    stream: Any = app.channel().stream()
    waits = 0
    wait_for_stopped = stream.wait_for_stopped

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal waits
        waits += 1
        return await wait_for_stopped(*args, **kwargs)

    stream.wait_for_stopped = counted
    await stream.maybe_start()

    async def take() -> None:
        async for _ in stream.take_events(10, within=WINDOW):
            pass

    task = asyncio.ensure_future(take())
    await asyncio.sleep(IDLE_SECONDS)
    task.cancel()
    await stream.stop()
    return waits
