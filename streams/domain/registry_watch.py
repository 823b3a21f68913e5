"""The key registry in force, read again when its file changes.

A hub process reads the key registry when it starts and hands the one :class:`KeyRegistry`
to everything that checks a key. :class:`RegistryWatch` compares what the file (or the folder
of pieces, ``kawal keys split``) looks like on disk with what it last read, each time the hub's
signer asks (:mod:`streams.domain.hub_signer`: every batch, timer run and tree head, and every
few seconds at rest). A change (``kawal keys revoke``, an entry added, a ConfigMap the kubelet
updated) is read whole and adopted in place, so every holder of the registry sees it at once.
A stat is a few microseconds; only a change costs a read.

A registry that cannot be read (an edit half done, an entry the hub cannot use) is not
adopted: the watch reports why until the file changes again, and the hub's signer signs
nothing meanwhile, as it cannot know whether its key was revoked.
"""

from __future__ import annotations

import logging
from pathlib import Path

from streams.domain.keys import KeyRegistry, KeyRegistryError, load_key_registry

log = logging.getLogger(__name__)

#: What a registry's files look like on disk: name, modification time (ns), size, inode.
Fingerprint = tuple[tuple[str, int, int, int], ...]


def fingerprint(path: Path) -> Fingerprint:
    """The look of the registry ``path`` (a file, or a folder of ``*.toml`` pieces) now.

    Files are followed through symbolic links (a Kubernetes volume swaps a link to a new
    folder), and a file that vanished is seen as such.
    """
    paths = [path, *sorted(path.glob("*.toml"))] if path.is_dir() else [path]
    found = []
    for each in paths:
        try:
            status = each.stat()
        except OSError:
            found.append((each.name, -1, -1, -1))
            continue
        found.append((each.name, status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(found)


class RegistryWatch:
    """The registry a process holds, and the file it was read from, to read again on change."""

    def __init__(self, registry: KeyRegistry) -> None:
        """Watch the file ``registry`` was read from (not the bundled one: it never changes)."""
        self.registry = registry
        self.path = None if registry.bundled else registry.source
        self._seen = fingerprint(self.path) if self.path is not None else ()
        #: Why the registry's file cannot be read as it is now; None when it was adopted.
        self.problem: str | None = None

    def refresh(self) -> str | None:
        """Adopt the registry's file if it changed since it was last read.

        Returns:
            Why the file as it is now cannot be read (the registry held is then the last one
            read), or None.
        """
        if self.path is None:
            return None
        seen = fingerprint(self.path)
        if seen == self._seen:
            return self.problem
        self._seen = seen
        try:
            newer = load_key_registry(self.path)
        except (KeyRegistryError, OSError) as exc:
            self.problem = (
                f"the key registry {self.path} changed and cannot be read ({exc}); correct it "
                "(every process refuses to start on it too)"
            )
            log.error("%s", self.problem)
            return self.problem
        self.registry.adopt(newer)
        self.problem = None
        log.info("key registry %s read again: %d keys", self.path, len(newer))
        return None
