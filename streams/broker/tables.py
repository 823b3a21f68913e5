"""The hub's Faust table manager: it starts the tables as soon as the worker starts.

Faust's table manager sleeps a second before it starts the tables, so that tables defined
while the app starts (agents found by autodiscovery) are registered in time; the worker's
subscription and its group join wait for it. The hub makes every table in its composition
root before the worker starts (no autodiscovery), so the second was only a later rejoin after
every start and every restart, of the worker and of the sink. A table added later still fails
loudly: Faust refuses it once the tables are started.
"""

from __future__ import annotations

from faust.tables import TableManager


class PromptTableManager(TableManager):
    """Faust's table manager without the second it waits for tables defined late."""

    async def on_start(self) -> None:
        """Start the tables and their recovery at once (Faust's ``on_start`` less its sleep)."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()
