"""Batches of events from a stream that sleeps while nothing comes.

Faust's ``take_events(max_, within)`` wakes every ``within`` seconds to look at its buffer, even
when nothing has arrived for hours: with the pipeline's 5 ms window that is 200 wake-ups a
second, each a few futures and tasks of Faust's service machinery, about a percent of a core
per process at rest. :class:`BatchingStream` starts the window when the first event of a batch
arrives instead, and waits without a timer until then. Under load nothing changes: a batch is
handed on when it is full, or ``within`` after its first event.

The rest is Faust's own ``take_events`` (faust-streaming 0.11): events are acknowledged only
after the loop body that got them returns, and the buffer is never filled past ``max_``.
"""

from __future__ import annotations

import asyncio
from asyncio import CancelledError
from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

import faust
from faust.types import EventT
from mode import Seconds, want_seconds
from mode.utils.aiter import aiter
from mode.utils.futures import notify


class BatchingStream(faust.Stream):  # type: ignore[type-arg]
    """Faust's stream whose ``take_events`` has no timer running while its buffer is empty."""

    async def take_events(
        self, max_: int, within: Seconds
    ) -> AsyncGenerator[Sequence[EventT[Any]], None]:
        """Yield up to ``max_`` events at a time, at most ``within`` after the first of each.

        Args:
            max_: Most events in one batch; a full buffer is handed on at once.
            within: Longest wait for more events once the first of a batch has arrived.
        """
        buffer: list[Any] = []
        events: list[EventT[Any]] = []
        started = asyncio.Event()  # the buffer holds an event
        full = asyncio.Event()
        consumed = asyncio.Event()
        timeout = want_seconds(within) if within else None
        enable_acks: bool = self.enable_acks
        consuming: asyncio.Future[None] | None = None

        async def add_to_buffer(value: Any) -> Any:
            nonlocal consuming
            try:
                if consuming is not None:  # the loop body is reading the buffer
                    try:
                        await consuming
                    finally:
                        consuming = None
                buffer.append(value)
                event = self.current_event
                if event is None:
                    raise RuntimeError("Take buffer found current_event is None")
                events.append(event)
                started.set()
                if len(buffer) >= max_:
                    full.set()
                    consumed.clear()
                    await self.wait(consumed)  # type: ignore[arg-type]
            except CancelledError:  # pragma: no cover
                raise
            except Exception as exc:
                self.log.exception("Error adding to take buffer: %r", exc)
                await self.crash(exc)
            return value

        # Acknowledged by hand below, once the loop body has returned.
        self.enable_acks = False
        self.add_processor(add_to_buffer)
        self._enable_passive(cast(faust.ChannelT[Any], aiter(self.channel)))
        try:
            while not self.should_stop:
                await self.wait_for_stopped(started)  # type: ignore[arg-type]
                await self.wait_for_stopped(full, timeout=timeout)  # type: ignore[arg-type]
                if not buffer:
                    continue
                consuming = self.loop.create_future()
                try:
                    yield list(events)
                finally:
                    buffer.clear()
                    for event in events:
                        await self.ack(event)
                    events.clear()
                    started.clear()
                    notify(consuming)
                    full.clear()
                    consumed.set()
        finally:
            self.enable_acks = enable_acks
            self._processors.remove(add_to_buffer)
