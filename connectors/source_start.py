"""A checkpoint past the last record of its source: the source is new or was restored.

The runtime keeps each connector's checkpoint in ``KAWAL_HOME`` (``connectors/checkpoints.db``).
Pointed at a system whose positions never reached it (a fresh database in a home a demo used,
a database restored from a backup), reading after the checkpoint would skip, for good and
unseen, every record the system holds or will write below it. The connector reads such a
source from its start instead, once, and says so; the hub recognises the events it already has
(their ids derive from the records': :mod:`connectors.ids`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class SourceStart:
    """Where a connector reads its source from: after its checkpoint, or from the start."""

    def __init__(self, connector: str, source: str) -> None:
        """Follow the checkpoints of ``connector``, which reads ``source`` (words for the log)."""
        self._connector = connector
        self._source = source
        #: The checkpoint found past the source, 0 when none; None before the first read.
        self._past: int | None = None

    def after(self, checkpoint: int, last_in_source: Callable[[], int]) -> int:
        """The position to read after: ``checkpoint``, or 0 while it is one past the source.

        Args:
            checkpoint: the position the runtime gave (0 for none).
            last_in_source: the source's last position now, asked at the first read only.
        """
        if self._past is None:
            last = last_in_source()
            self._past = checkpoint if checkpoint > last else 0
            if self._past:
                log.warning(
                    "%s: the checkpoint (%d) is past the last record of the %s (%d): it is "
                    "new or was restored, so it is read from its start; the hub recognises "
                    "the events it already has",
                    self._connector,
                    checkpoint,
                    self._source,
                    last,
                )
        if self._past and checkpoint != self._past:
            self._past = 0  # the runtime has stored a checkpoint of this source since
        return 0 if self._past else checkpoint
