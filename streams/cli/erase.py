"""``kawal erase CASE_ID --reason TEXT``: erase a case's personal data wherever the hub keeps it.

The command destroys the case's data key in the vault (crypto-shredding,
``docs/envelope-encryption.md``): every value sealed under it, in the audit store, on
``kawal.case.audit`` and in any replay of it, can no longer be opened, while every chain,
signature and tree head still verifies. Then it publishes the hub-signed ``PersonalDataErased``
on ``kawal.inbound.kawal``, so the trail records the erasure and every party to the case learns
of it (each erases its own copies under its own retention).

Key first, event second: an event never claims an erasure that did not happen. Running the
command again is safe and completes a run that stopped in between: the key stays destroyed
(the vault keeps the first reason and moment), and the event, whose id is the case's one
erasure id, is published only while the trail lacks it. A vault that stops answering ends the
command after its deadline (:mod:`streams.cli.vault_calls`), saying whether the key was
destroyed: not (the vault rolls back the erasure it did not commit), not known (it stopped as
the erasure was committed), or destroyed with the event not published; in each case running
the command again finishes the erasure.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka.errors import KafkaError

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.audit.store import AuditStore
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.cli.arguments import case_uuid
from streams.cli.exits import EXIT_ERROR, EXIT_NOT_RECORDED, EXIT_OK, EXIT_UNKNOWN_CASE
from streams.cli.output import reporting_errors, unknown_case
from streams.cli.vault_calls import VaultSilentError, open_command_vault
from streams.domain.erasure import (
    COMMAND_ACTOR,
    ERASURE_EVENT,
    erasure_event,
    erasure_event_id,
    reason_problem,
)
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.signing import SigningKeyError
from streams.local.keyring import keyring_of
from streams.settings import Settings
from streams.topics import inbound_topic
from streams.vault.data_keys import Erased, Erasure, VaultError
from streams.vault.kek_source import load_kek_ring


@dataclass(frozen=True)
class Outcome:
    """What one run did: to the key, and to the event."""

    case_id: str
    erasure: Erasure
    tombstone: Erased
    event_id: str
    #: The trail already held the case's PersonalDataErased: nothing was published.
    recorded_before: bool
    #: Why the event could not be published; None when it was, or did not need to be.
    not_published: str | None = None


def add_parsers(commands: Any) -> None:
    """Add ``erase``."""
    erase = commands.add_parser(
        "erase",
        help="erase a case's personal data: destroy its data key, then publish the hub-signed "
        f"PersonalDataErased (exit {EXIT_UNKNOWN_CASE} unknown case, {EXIT_NOT_RECORDED} key "
        "destroyed but the event not published: run it again)",
    )
    erase.add_argument("case_id", type=case_uuid, help="the case (its UUID)")
    erase.add_argument(
        "--reason",
        required=True,
        type=_reason,
        help="why, e.g. 'erasure request 2027/014 under Law 27/2022': kept with the destroyed "
        "key and sent to every party, so never personal data (1 to 500 characters)",
    )
    erase.add_argument("--json", action="store_true", help="machine-readable output")
    erase.set_defaults(run=_erase)


def _reason(text: str) -> str:
    problem = reason_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text.strip()


def _erase(args: argparse.Namespace, settings: Settings) -> int:
    def run() -> int:
        return _run(settings, args.case_id, args.reason, as_json=args.json)

    return reporting_errors(run, as_json=args.json)


def _run(settings: Settings, case_id: str, reason: str, *, as_json: bool) -> int:
    event_ids = _trail_event_ids(settings, case_id)
    if event_ids is None:
        return unknown_case(case_id, settings, as_json=as_json, outcome="nothing was erased")
    event_id = erasure_event_id(case_id)
    recorded = event_id in event_ids
    # One ring for the check and the event: a file set aside is logged once.
    keyring = keyring_of(settings)
    if not recorded:
        _check_hub_key(keyring, case_id)
    try:
        erasure, tombstone = _destroy_key(settings, case_id, reason)
    except UnfinishedErasureError as exc:
        return _unfinished(exc, as_json=as_json)
    problem = None if recorded else _publish(settings, keyring, case_id, tombstone)
    outcome = Outcome(case_id, erasure, tombstone, event_id, recorded, problem)
    _show(outcome, as_json=as_json)
    return EXIT_OK if problem is None else EXIT_NOT_RECORDED


def _check_hub_key(keyring: KeyRing, case_id: str) -> None:
    """Refuse before destroying anything when no key of the hub can sign the erasure's event.

    A damaged file beside a valid key is only set aside (and logged); with none that signs,
    the key would be destroyed and the event left unpublished (exit 8).

    Raises:
        SigningKeyError: no key of the hub held and valid now; nothing was erased.
    """
    try:
        keyring.signing_key(HUB_INSTITUTION, datetime.now(UTC))
    except SigningKeyError as exc:
        raise SigningKeyError(
            f"case {case_id} is not erased and nothing was published: the hub cannot sign "
            f"its {ERASURE_EVENT}: {exc}; then run `kawal erase {case_id} --reason ...` again"
        ) from None


def _trail_event_ids(settings: Settings, case_id: str) -> set[str] | None:
    """The event ids of the case's trail in the audit store; None if it has none."""
    store = AuditStore.open_existing(settings.audit_url)
    try:
        rows = store.trail(case_id)
    finally:
        store.close()
    return {row.event_id for row in rows} if rows else None


class UnfinishedErasureError(VaultError):
    """The vault stopped answering during the erasure; the message says what became of it."""

    def __init__(self, message: str, *, erasure: str, exit_code: int) -> None:
        """``erasure``: ``not_erased``, ``unknown`` or ``erased`` (``--json``'s word)."""
        super().__init__(message)
        self.erasure = erasure
        self.exit_code = exit_code


def _destroy_key(settings: Settings, case_id: str, reason: str) -> tuple[Erasure, Erased]:
    """Destroy the case's data key; what the vault did, and its tombstone.

    Each statement to the vault waits for its answer at most its deadline
    (:mod:`streams.cli.vault_calls`): a vault frozen meanwhile ends the command, saying
    whether the key was destroyed (:class:`UnfinishedErasureError`).

    Raises:
        UnfinishedErasureError: the vault stopped answering; what became of the key.
        VaultError: the vault is missing, unreachable or cannot be written; nothing changed.
        KekError: no KEK to open the vault with.
    """
    again = f"run `kawal erase {case_id} --reason ...` again once the vault answers"
    opening = f"case {case_id} is not erased and nothing was published; {again}"
    url, ring = settings.effective_vault_url, load_kek_ring(settings)
    with open_command_vault(url, ring, opening) as vault:
        try:
            erasure = vault.ask(lambda keys: keys.erase(case_id, reason))
        except VaultSilentError as exc:
            if not exc.commits:
                raise _not_destroyed(exc, case_id, again) from None
            erasure = Erasure.ERASED  # its commit was answered; only its cleanup was not
        try:
            tombstone = vault.ask(lambda keys: keys.tombstone(case_id))
        except VaultSilentError as exc:
            raise _unrecorded(exc.said, case_id, again) from None
    if tombstone is None:
        raise VaultError(f"case {case_id} has no tombstone right after its erasure; run again")
    return erasure, tombstone


def _not_destroyed(exc: VaultSilentError, case_id: str, again: str) -> UnfinishedErasureError:
    """What an erasure the vault did not answer did: nothing, or not known."""
    if exc.committing:
        message = (
            f"{exc.said}; whether the data key of case {case_id} is destroyed is not known: "
            f"the vault stopped answering as the erasure was committed; {ERASURE_EVENT} was "
            f"not published; {again}: it destroys the key if it still lives and publishes the "
            "event once"
        )
        return UnfinishedErasureError(message, erasure="unknown", exit_code=EXIT_ERROR)
    message = (
        f"{exc.said}; case {case_id} is not erased: the vault did not commit the erasure, and "
        f"rolls it back; {ERASURE_EVENT} was not published; {again}"
    )
    return UnfinishedErasureError(message, erasure="not_erased", exit_code=EXIT_ERROR)


def _unrecorded(said: str, case_id: str, again: str) -> UnfinishedErasureError:
    """The key destroyed, the vault silent before its tombstone was read: nothing published."""
    message = (
        f"{said}; the data key of case {case_id} is destroyed, but its tombstone could not be "
        f"read, so {ERASURE_EVENT} was not published; {again}: the key stays destroyed and "
        "the event is published once"
    )
    return UnfinishedErasureError(message, erasure="erased", exit_code=EXIT_NOT_RECORDED)


def _unfinished(exc: UnfinishedErasureError, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": str(exc), "erasure": exc.erasure}))
    print(f"kawal: {exc}", file=sys.stderr)
    return exc.exit_code


def _publish(settings: Settings, keyring: KeyRing, case_id: str, tombstone: Erased) -> str | None:
    """Publish the case's PersonalDataErased; None once the broker has it, else why not."""
    event = erasure_event(
        case_id,
        reason=tombstone.reason,
        erased_at=tombstone.erased_at,
        retention_rule=None,
        actor=COMMAND_ACTOR,
        now=datetime.now(UTC),
    )
    try:
        publisher = EventPublisher(
            list(parse_broker_url(settings.effective_broker_url).bootstrap),
            AvroCodec(default_catalog()),
            keyring,
            BrokerCredentials.from_settings(settings),
            wait=settings.broker_wait_seconds,
        )
        try:
            publisher.publish(ERASURE_EVENT, event)
        finally:
            publisher.close()  # flushes: raises unless the broker acknowledged the event
    except (KawalError, KafkaError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _show(outcome: Outcome, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_as_json(outcome)))
    else:
        print(_key_line(outcome))
        if outcome.recorded_before:
            print(f"{ERASURE_EVENT} {outcome.event_id} is already in the case's trail")
        elif outcome.not_published is None:
            topic = inbound_topic(HUB_INSTITUTION)
            print(
                f"{ERASURE_EVENT} {outcome.event_id} published on {topic}: the trail records it "
                "and every party to the case receives it"
            )
    if outcome.not_published is not None:
        print(f"kawal: {_not_published(outcome)}", file=sys.stderr)


def _key_line(outcome: Outcome) -> str:
    when, case_id = outcome.tombstone.erased_at.isoformat(), outcome.case_id
    if outcome.erasure is Erasure.ALREADY_ERASED:
        return (
            f"case {case_id}: already erased at {when} (reason: {outcome.tombstone.reason}); "
            "nothing more to destroy"
        )
    return (
        f"case {case_id}: data key destroyed at {when}; its personal data can no longer be read "
        "in the audit store, on kawal.case.audit or in a replay"
    )


def _not_published(outcome: Outcome) -> str:
    return (
        f"the data key of case {outcome.case_id} is destroyed, but {ERASURE_EVENT} was not "
        f"published ({outcome.not_published}); run `kawal erase {outcome.case_id} --reason ...` "
        "again to record it: the key stays destroyed and the event is published once"
    )


def _as_json(outcome: Outcome) -> dict[str, Any]:
    if outcome.recorded_before:
        event = "already_recorded"
    else:
        event = "published" if outcome.not_published is None else "not_published"
    return {
        "case_id": outcome.case_id,
        "erasure": outcome.erasure.name.lower(),
        "erased_at": outcome.tombstone.erased_at.isoformat(),
        "reason": outcome.tombstone.reason,
        "event_id": outcome.event_id,
        "event": event,
        "error": _not_published(outcome) if outcome.not_published is not None else None,
    }
