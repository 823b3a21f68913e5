"""Which key the hub signs with, decided at each signing from the registry in force.

The worker signs entries, receipts and the events of its timers, the sink signs tree heads;
each asks :meth:`HubSigner.key_at` for the key just before it signs (once per batch, timer run
or head) rather than holding the key it read at its start. The registry is read again when its
file changes (:mod:`streams.domain.registry_watch`), so a key revoked or expired is never used
after the process has seen the change (a batch that had already begun may finish with it).

Which key: the one in use while the registry says it is valid at the signing moment; when it
is not (revoked, expired), the newest (latest ``valid_from``) of the hub's keys that is held in
the key folder and registered valid then. A newly registered key is not taken up while the old
one is valid: institutions' connectors read the registry file they are given, and one given the
new file later would refuse a key it has not seen yet; a planned rotation ends the old key with
``valid_until``, a withdrawal with ``kawal keys revoke``. When no key qualifies, nothing is
signed: :meth:`key_at` raises :class:`HubKeyUnavailableError`, whose message says why and what to
do, the process reports it (``kawal_hub_signing_key_valid`` 0, ``/readyz`` 503) and its
events wait until a key is there (docs/operations.md, KawalHubSigningKeyInvalid).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.key_files import DamagedKeyFile, SetAside
from streams.domain.key_folder import KeyFolder
from streams.domain.keys import KeyEntry, KeyRegistry, KeyUse, private_key_path
from streams.domain.private_key_files import BACKUP_DOC
from streams.domain.registry_watch import RegistryWatch
from streams.domain.signing import SigningKey, SigningKeyError

log = logging.getLogger(__name__)

RUNBOOK = "docs/operations.md#kawalhubsigningkeyinvalid"
#: What follows a fix, said by a process that found no key at its start: it did not start.
AT_START = (
    "then start the hub again (`kawal up`, or the worker and the sink): a process that finds "
    "no valid key of the hub at its start stops"
)
#: What follows a fix, said by a running process: it looks again every few seconds.
WHILE_RUNNING = "the running worker and sink take it up within seconds"


class HubKeyUnavailableError(SigningKeyError):
    """No key of the hub may sign now; the message says why and what to do."""


class HubSigner:
    """Chooses the hub's signing key at each signing; says whether one is available."""

    def __init__(
        self,
        folder: Path,
        registry: KeyRegistry,
        report: Callable[[bool], None] = lambda valid: None,
        then: str = AT_START,
        set_aside: Callable[[Sequence[DamagedKeyFile]], None] = lambda files: None,
    ) -> None:
        """Sign with the hub's keys under ``folder`` (``<folder>/kawal/*.pem``), by ``registry``.

        ``registry`` is re-read in place when its file changes; ``report`` is told, on every
        check, whether a key was available (for ``kawal_hub_signing_key_valid``). ``then``
        ends the message of a missing key: what happens once the operator has mended it
        (:data:`AT_START`, :data:`WHILE_RUNNING`, or a command's own words). ``set_aside``
        is told, at every read of the folder, the files in it that sign nothing (for
        ``kawal_hub_key_file_damaged``): they are skipped, never a stop while another key is
        valid.
        """
        self.folder = folder
        #: The files of the key folder that sign nothing, as last read.
        self.damaged = SetAside(set_aside)
        #: The hub's key files, parsed again only where one changed.
        self.files = KeyFolder(folder, HUB_INSTITUTION)
        self.watch = RegistryWatch(registry)
        self._report = report
        self.then = then
        #: The key signing now; None before the first signing or while none is available.
        self.current: SigningKey | None = None
        #: Why no key is available now; None while one is.
        self.problem: str | None = None
        #: That reason as last logged, without the moment it was asked at: said once a change.
        self._said: str | None = None
        #: Keys already reported as signing entries of records from before their validity.
        self.early: set[str] = set()

    @property
    def registry(self) -> KeyRegistry:
        """The key registry in force, as last read."""
        return self.watch.registry

    def key_at(self, moment: datetime, since: datetime | None = None) -> SigningKey:
        """The key to sign with at ``moment`` (the registry read again if it changed).

        ``since``, when given, is when the oldest record to be signed for was recorded: a key
        valid then too is taken before one that is not, since an entry verifies only under a
        key valid at its record's time (a worker restarted after a rotation, with a backlog
        recorded before the new key's validity, signs it with the old key while that one is
        valid).

        Raises:
            HubKeyUnavailableError: the registry cannot be read, or no key of the hub held in
                the key folder is registered and valid at ``moment``; nothing may be signed.
        """
        problem = self.watch.refresh()
        key = None
        if problem is None:
            try:
                key = self._choose(moment, since)
            except SigningKeyError as exc:
                problem = str(exc)
        self._record(key, problem, moment)
        if key is None:
            raise HubKeyUnavailableError(problem or "no key of the hub")
        return key

    def available(self, moment: datetime) -> bool:
        """Whether a key may sign at ``moment``: the check made at rest, between signings.

        The key folder is read again too, so a file damaged or mended since is reported
        although the key in use needs no new read.
        """
        self._held()
        try:
            self.key_at(moment)
        except HubKeyUnavailableError:
            return False
        return True

    def _choose(self, moment: datetime, since: datetime | None) -> SigningKey:
        current = self.current
        if current is not None and self._valid(current, moment) is None:
            current = None
        if current is not None and (since is None or self._valid(current, since) is not None):
            return current
        held = self._held()
        dated = {key.key_id: self._valid(key, moment) for key in held}
        valid = [(entry, key) for key in held if (entry := dated[key.key_id]) is not None]
        if not valid:
            raise HubKeyUnavailableError(self._none_valid(held, moment))
        covering = [pair for pair in valid if since and self._valid(pair[1], since) is not None]
        if covering:
            return max(covering, key=lambda pair: pair[0].valid_from)[1]
        # No key was valid at ``since``: the caller says so (``hub_key_check``).
        return current or max(valid, key=lambda pair: pair[0].valid_from)[1]

    def _valid(self, key: SigningKey, moment: datetime) -> KeyEntry | None:
        found = self.registry.key_for(HUB_INSTITUTION, key.key_id, moment)
        return found if isinstance(found, KeyEntry) else None

    def _held(self) -> list[SigningKey]:
        """The hub's private keys in its folder, read again: a key added since is found.

        A file that does not read is set aside (:mod:`streams.domain.key_files`); a file
        unchanged since its last read is not parsed again (:mod:`streams.domain.key_folder`).
        """
        files = self.files.read(self.registry)
        self.damaged.update(files.damaged)
        return files.held

    def _none_valid(self, held: list[SigningKey], moment: datetime) -> str:
        folder = self.folder / HUB_INSTITUTION
        registered = {entry.id: entry for entry in self.registry.entries()}
        states = "; ".join(_state(key.key_id, registered.get(key.key_id)) for key in held)
        said = (
            f"no key of the hub ({HUB_INSTITUTION}) held in {folder} is registered and valid "
            f"at {moment.isoformat()} ({states or self._none_held()}): the hub signs "
            "nothing and events wait. "
        )
        held_ids = {key.key_id for key in held}
        unheld = [
            e for e in self.registry.valid_keys(HUB_INSTITUTION, moment) if e.id not in held_ids
        ]
        if unheld:
            # The key is still good: only its file is gone. A new key would sign under another
            # id that the institutions' copies of the registry may not hold yet.
            entry = max(unheld, key=lambda entry: entry.valid_from)
            path = private_key_path(self.folder, entry.id, KeyUse.SIGNING)
            if (damaged := self.damaged.files.get(path)) is not None:
                return said + (
                    f"The registered key {entry.id} is valid then, but {damaged.problem}; "
                    f"{self.then} ({RUNBOOK})"
                )
            return said + (
                f"The registered key {entry.id} is valid then, but its private file {path} is "
                f"missing: restore it (mode 0600) from the backup of the keys folder "
                f"({BACKUP_DOC}) rather than make a new key; {self.then} ({RUNBOOK})"
            )
        dated = [registered[key] for key in held_ids if key in registered]
        ends = [end for entry in dated if (end := entry.revoked_at or entry.valid_until)]
        # From when the last key ended: the events recorded since, which wait, then verify.
        since = max(ends).isoformat() if ends else "<when the hub's last valid key ended>"
        return said + (
            f"No registered key of the hub is valid then: make one with `kawal keys new "
            f"{HUB_INSTITUTION} --use signing --valid-from {since}` and "
            f"{self.registry.where_to_register()}; {self.then} ({RUNBOOK})"
        )

    def _none_held(self) -> str:
        """What the folder holds when no key in it reads, in words."""
        if not self.damaged.files:
            return "the folder holds none"
        return f"the folder holds no key that reads; set aside: {self.damaged.named()}"

    def _record(self, key: SigningKey | None, problem: str | None, moment: datetime) -> None:
        """Keep and log what changed: the key signing, or why none does.

        The reason names the moment asked about, a new one at every check: it is logged again
        only when the rest of it changes.
        """
        if key is not None and key != self.current:
            before = None if self.current is None else self.current.key_id
            # The first key is no news; a switch, or a key after none, is.
            level = logging.INFO if before is None and self.problem is None else logging.WARNING
            log.log(
                level,
                "the hub signs with key %s from now on (before: %s)",
                key.key_id,
                before or "none",
            )
        said = None if problem is None else problem.replace(moment.isoformat(), "<moment>")
        if said is not None and said != self._said:
            log.error("the hub's signing key is unavailable: %s", problem)
        self._said = said
        if problem is None and self.problem is not None:
            log.warning("the hub has a valid signing key again")
        self.current, self.problem = key, problem
        self._report(key is not None)


def _state(key_id: str, entry: KeyEntry | None) -> str:
    """What the registry says of the held key ``key_id``, in words."""
    if entry is None:
        return f"{key_id} is not registered"
    if entry.revoked_at is not None:
        return f"{key_id} was revoked at {entry.revoked_at.isoformat()} ({entry.reason})"
    until = "" if entry.valid_until is None else f" until {entry.valid_until.isoformat()}"
    return f"{key_id} is valid from {entry.valid_from.isoformat()}{until}"
