"""The hub's KEK ring as its file has it now: a KEK added while the hub runs is taken up.

``kawal kek new`` adds a KEK to the KEK file while the worker runs. Before, the worker went on
wrapping new cases' data keys under the KEK it started with, and once ``kawal kek rewrap`` had
moved every key off that one (and was told it could go), the worker met a data key wrapped
under the new KEK it did not hold and stopped. A followed ring stats the file at each wrap and
unwrap (a data key per new case, the vault's cache in front of unwraps) and reads it again
once it changed. A file that changed but cannot be read leaves the KEKs read before in use,
said on the log once. ``KAWAL_KEK`` is read once: the process environment does not change.
"""

from __future__ import annotations

import logging
import os

from streams.settings import Settings
from streams.vault.kek import KekError, KekRing, KeyWrapper, WrappedKey
from streams.vault.kek_source import load_kek_ring

log = logging.getLogger(__name__)

#: What tells a rewritten file from the one read: its inode, modification time and size.
Stamp = tuple[int, int, int] | None


def followed_kek_ring(settings: Settings) -> KeyWrapper:
    """The KEK ring of ``settings``, followed when it comes from the KEK file.

    Raises:
        KekError: as :func:`streams.vault.kek_source.load_kek_ring`, at the first read.
    """
    if settings.kek is not None:
        return load_kek_ring(settings)
    return FollowedKekRing(settings)


class FollowedKekRing:
    """A :class:`~streams.vault.kek.KeyWrapper` over the KEK file, read again when it changes."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Resolved once: the settings do not change, and building the path at every wrap (a
        # data key per new case) cost more than the stat itself.
        self._file = settings.effective_kek_file
        self._stamp = self._stamp_now()
        self._ring = load_kek_ring(settings)
        self._problem: str | None = None

    @property
    def current_id(self) -> str:
        """Id of the KEK new data keys are wrapped under: the newest in the file."""
        return self._fresh().current_id

    def wrap(self, case_id: str, dek: bytes) -> WrappedKey:
        """Wrap ``dek`` under the newest KEK of the file."""
        return self._fresh().wrap(case_id, dek)

    def unwrap(self, case_id: str, wrapped: WrappedKey) -> bytes:
        """The data key ``wrapped`` holds, under any KEK of the file."""
        return self._fresh().unwrap(case_id, wrapped)

    def _stamp_now(self) -> Stamp:
        try:
            status = os.stat(self._file)
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def _fresh(self) -> KekRing:
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return self._ring
        try:
            ring = load_kek_ring(self._settings)
        except KekError as exc:
            if str(exc) != self._problem:
                log.error(
                    "the KEK file changed and cannot be read; the KEKs read before stay in use: %s",
                    exc,
                )
            self._problem = str(exc)
            return self._ring
        self._ring, self._stamp, self._problem = ring, stamp, None
        log.warning(
            "the KEK file changed: KEKs %s; new data keys are wrapped under %s",
            ", ".join(ring.ids),
            ring.current_id,
        )
        return ring
