"""The private keys an owner holds, a folder per institution, chosen by the key registry.

Connectors, ``kawal erase``, ``kawal dlq replay`` and the hub's ingress hold their keys in a
:class:`KeyRing`. Signing keys are read file by file (:mod:`streams.domain.key_files`): a
damaged file is set aside, logged once with what to do, and reported to whoever follows it
(a connector's ``kawal_connector_key_file_damaged``), while the keys that read go on signing.
Only when no key that reads can sign does the ring refuse, naming the files set aside and the
runbook. The folder is parsed again only where a file changed (:mod:`streams.domain.key_folder`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from streams.domain.decryption_keys import DecryptionKeys, generated_encryption_key
from streams.domain.key_files import RUNBOOK, DamagedKeyFile, SetAside
from streams.domain.key_folder import KeyFolder
from streams.domain.keys import (
    KeyEntry,
    KeyRegistry,
    KeyUse,
    RegisteredKey,
    key_id_for,
    private_key_path,
    raw_public,
)
from streams.domain.private_key_files import BACKUP_DOC
from streams.domain.signing import SigningKey, SigningKeyError

#: Seconds after which a signing looks at the folder again although it needs no new key: a
#: file damaged or mended since is reported within that time, and a stat costs microseconds.
RECHECK_SECONDS = 2.0
#: Who is told of the files set aside: the institution, and its files as last read.
SetAsideReport = Callable[[str, Sequence[DamagedKeyFile]], None]


class KeyRing:
    """The private keys an owner holds, a folder per institution, chosen by the key registry.

    Signing keys are ``folder/<institution>/*.pem``; encryption keys are in the subfolder
    ``encryption/`` (:mod:`streams.domain.decryption_keys`).
    """

    def __init__(
        self,
        folder: Path,
        registry: KeyRegistry,
        held: dict[str, list[SigningKey]] | None = None,
        held_decryption: dict[str, X25519PrivateKey] | None = None,
    ) -> None:
        """Keys under ``folder`` (or ``held`` by institution and ``held_decryption`` by key id).

        Whoever follows the files set aside (:meth:`follow_set_aside`) is told of them at each
        read of an institution's folder.
        """
        self.folder = folder
        self.registry = registry
        self._held: dict[str, list[SigningKey]] = dict(held or {})
        #: Each institution's folder, and its files set aside as last read.
        self._folders: dict[str, KeyFolder] = {}
        self._aside: dict[str, SetAside] = {}
        #: When each institution's folder was last read (monotonic seconds).
        self._read_at: dict[str, float] = {}
        self._reports: list[SetAsideReport] = []
        self._decryption = DecryptionKeys(folder, registry, held_decryption)

    @classmethod
    def generated(cls, principals: Iterable[str], valid_from: datetime) -> KeyRing:
        """A ring of fresh keys, a signing and an encryption key per principal, and their registry.

        For the connector contract suite, tests and benchmarks: nothing is written to disk.
        """
        held: dict[str, list[SigningKey]] = {}
        held_decryption: dict[str, X25519PrivateKey] = {}
        entries: list[RegisteredKey] = []
        for principal in principals:
            private = Ed25519PrivateKey.generate()
            key = SigningKey(key_id_for(principal, raw_public(private.public_key())), private)
            held[principal] = [key]
            entries.append(KeyEntry(key.key_id, principal, private.public_key(), valid_from))
            opener, entry = generated_encryption_key(principal, valid_from)
            held_decryption[entry.id] = opener
            entries.append(entry)
        return cls(Path("/nonexistent"), KeyRegistry(entries), held, held_decryption)

    def follow_set_aside(self, report: SetAsideReport) -> None:
        """Tell ``report`` the files set aside from now on, and at once those already known."""
        self._reports.append(report)
        for institution, aside in self._aside.items():
            report(institution, list(aside.files.values()))

    def set_aside(self, institution: str) -> list[DamagedKeyFile]:
        """The files of ``institution``'s folder set aside at its last read."""
        aside = self._aside.get(institution)
        return [] if aside is None else list(aside.files.values())

    def decryption_key(self, institution: str, key_id: str) -> X25519PrivateKey:
        """The private encryption key ``key_id`` of ``institution``, to open what was sealed to it.

        Found by id whatever its validity today: old records open with the key of their time.

        Raises:
            streams.domain.decryption_keys.DecryptionKeyError: the registry does not list
                ``key_id`` as an encryption key of ``institution``, or this ring holds no
                readable private key matching it (the message names the folder and the fix).
        """
        return self._decryption.key(institution, key_id)

    def signing_key(self, institution: str, moment: datetime) -> SigningKey:
        """The key of ``institution`` the registry says is valid at ``moment``.

        During a rotation two keys are valid: the one valid from later is the new one, so it
        signs. A key revoked by now signs nothing, whatever ``moment``: the hub refuses what
        reaches it after a key's revocation, however early the event is dated (a backlog read
        again after a leak).

        Raises:
            SigningKeyError: no key held is registered, valid at ``moment`` and not revoked.
        """
        now = datetime.now(UTC)
        valid: dict[str, KeyEntry] = {
            entry.id: entry
            for entry in self.registry.valid_keys(institution, moment)
            if entry.revoked_on_arrival(now) is None
        }
        held = self._signing_keys(institution, valid)
        candidates = [key for key in held if key.key_id in valid]
        if not candidates:
            raise SigningKeyError(self._no_valid_key(institution, held, moment))
        return max(candidates, key=lambda key: valid[key.key_id].valid_from)

    def unusable(self, institution: str) -> str | None:
        """Why no key of ``institution`` held here can sign anything, and the fix; or None.

        None held, or none the registry lists: said when a connector starts, not at the
        first record it signs, which may come hours later.
        """
        held = self._signing_keys(institution, ())
        registered = {entry.id for entry in self.registry.entries()}
        if any(key.key_id in registered for key in held):
            return None
        return self._no_valid_key(institution, held, datetime.now(UTC))

    def _signing_keys(self, institution: str, valid: Collection[str]) -> list[SigningKey]:
        """The signing keys of ``institution`` held, read from its folder when needed.

        Read the first time, again while the registry names a valid key none of them is, so
        a key made (``kawal keys new``) and registered while the process runs signs without
        a restart (the process reads the registry itself again when its file changes:
        :class:`~streams.domain.registry_watch.RegistryWatch`), and every
        :data:`RECHECK_SECONDS`, so a file damaged or mended since is reported. A file that
        does not read is set aside, never a stop; one unchanged since is not parsed again.
        """
        held = self._held.get(institution)
        fresh = (
            time.monotonic() - self._read_at.get(institution, -RECHECK_SECONDS) < RECHECK_SECONDS
        )
        if held is not None and fresh and set(valid) <= {key.key_id for key in held}:
            return held
        found = self._read_folder(institution)
        known = {key.key_id for key in held or []}
        held = self._held[institution] = [
            *(held or []),
            *(key for key in found if key.key_id not in known),
        ]
        return held

    def _read_folder(self, institution: str) -> list[SigningKey]:
        """The keys that read in ``institution``'s folder now; the files set aside reported."""
        folder = self._folders.get(institution)
        if folder is None:
            folder = self._folders[institution] = KeyFolder(self.folder, institution)
            self._aside[institution] = SetAside(
                lambda files: self._told(institution, files), institution
            )
        files = folder.read(self.registry)
        self._read_at[institution] = time.monotonic()
        self._aside[institution].update(files.damaged)
        return files.held

    def _told(self, institution: str, files: Sequence[DamagedKeyFile]) -> None:
        for report in self._reports:
            report(institution, files)

    def _no_valid_key(self, institution: str, held: list[SigningKey], moment: datetime) -> str:
        """Why none of the keys ``held`` of ``institution`` signs at ``moment``, and the fix."""
        make = f"`kawal keys new {institution} --use signing"
        if not held:
            return self._none_held(institution, moment, make)
        return self._none_valid(institution, held, moment, make) + self._aside_note(institution)

    def _none_valid(
        self, institution: str, held: list[SigningKey], moment: datetime, make: str
    ) -> str:
        """Why none of the keys ``held``, some at least, signs at ``moment``, and the fix."""
        folder = self.folder / institution
        registered = {entry.id: entry for entry in self.registry.entries()}
        dated = [registered[key.key_id] for key in held if key.key_id in registered]
        others = _owners_elsewhere(self.registry, institution, held)
        if not dated and others:
            return (
                f"the private key in {folder} is {others[0]}'s, registered as {others[0]}'s, "
                f"not {institution}'s: each institution signs with its own key; make one with "
                f"{make}` and {self.registry.where_to_register()}"
            )
        if not dated:
            return (
                f"the private keys of {institution} in {folder} "
                f"({', '.join(key.key_id for key in held)}) are in no entry of the key "
                f"registry: {self.registry.where_to_register()} (`kawal keys new` printed it)"
            )
        windows = "; ".join(_validity(entry) for entry in dated)
        return (
            f"no private key of {institution} in {folder} is valid at {moment.isoformat()}, "
            f"the event's time, and not revoked since: {windows}. An event is signed with a "
            "key valid at its event_time (a key revoked signs nothing more, however early the "
            f"event): make one valid then with {make} --valid-from <a date or date-time "
            f"no later than the event's>` and {self.registry.where_to_register()}"
        )

    def _none_held(self, institution: str, moment: datetime, make: str) -> str:
        """Why an institution whose folder holds no key signs nothing, and the fix."""
        folder = self.folder / institution
        valid = self.registry.valid_keys(institution, moment)
        aside = self._aside.get(institution)
        none = (
            f"no private key of {institution} in {folder} reads"
            if aside and aside.files
            else (f"no private key of {institution} is in {folder}")
        )
        if not valid:
            return (
                f"{none}; make one with {make}` and {self.registry.where_to_register()}"
                + self._aside_note(institution)
            )
        # The key is still good, only its file is gone: a new key would be a needless rotation.
        entry = max(valid, key=lambda entry: entry.valid_from)
        path = private_key_path(self.folder, entry.id, KeyUse.SIGNING)
        if aside is not None and (damaged := aside.files.get(path)) is not None:
            return (
                f"{none}, but the registered key {entry.id} is valid at {moment.isoformat()}: "
                f"{damaged.problem}" + self._aside_note(institution)
            )
        return (
            f"no private key of {institution} is in {folder}, but the registered key "
            f"{entry.id} is valid at {moment.isoformat()}: restore its file "
            f"{private_key_path(self.folder, entry.id, KeyUse.SIGNING)} (mode 0600) from the "
            f"backup of the keys folder ({BACKUP_DOC}) rather than make a new key"
        ) + self._aside_note(institution)

    def _aside_note(self, institution: str) -> str:
        """The files of ``institution``'s folder set aside, and the runbook; '' when none."""
        aside = self._aside.get(institution)
        if aside is None or not aside.files:
            return ""
        return f". Set aside in {self.folder / institution}: {aside.named()} ({RUNBOOK})"


def _owners_elsewhere(registry: KeyRegistry, institution: str, held: list[SigningKey]) -> list[str]:
    """The other institutions whose registered keys are those ``held`` for ``institution``."""
    fingerprints = {key.key_id.rpartition("/")[2] for key in held}
    return sorted(
        {
            entry.institution
            for entry in registry.entries()
            if entry.institution != institution and entry.id.rpartition("/")[2] in fingerprints
        }
    )


def _validity(entry: KeyEntry) -> str:
    """When the registered key ``entry`` signs, in words."""
    text = f"{entry.id} is registered valid from {entry.valid_from.isoformat()}"
    if entry.valid_until is not None:
        text += f" until {entry.valid_until.isoformat()}"
    if entry.revoked_at is not None:
        text += f", revoked at {entry.revoked_at.isoformat()}"
    return text
