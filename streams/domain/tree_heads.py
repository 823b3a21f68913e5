"""Signed tree heads: the hub's signed word on how many entries its log holds and their root.

A head says "the first ``tree_size`` leaves of my log have the RFC 9162 root ``root_hash``",
signed by the hub (context ``kawal.tree_head.v1``) over the frozen statement
``kawal.statement.TreeHeadV1``. Each published head also carries the consistency proof from
the head published before it, so whoever keeps every head can check, without asking the hub,
that each extends the last: a head that does not is a fork, two histories shown to the world.

The record on ``kawal.heads`` is ``kawal.TreeHead``; institutions keep heads as JSON lines of
the same fields (hashes and signature in hex, ``issued_at`` in ISO 8601 with milliseconds),
which is what ``kawal audit verify --heads`` reads. Every way a head is not believed is a
:class:`HeadRefusal` with a code, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from schemas.errors import KawalError
from schemas.statements import TREE_HEAD, statement_bytes
from streams.domain.chain import EPOCH, epoch_millis
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.merkle import HASH_BYTES, verify_consistency
from streams.domain.signing import Context, SigningKey, verify

#: Full name of the head's record on ``kawal.heads``.
TREE_HEAD_RECORD = "kawal.TreeHead"
#: The largest size a head can have: the signed statement holds it as an Avro long.
MAX_TREE_SIZE = 2**63 - 1


class HeadProblem(StrEnum):
    """Why a head is not believed (a refused hub key is ``hub_`` + its key problem)."""

    MALFORMED = "head_malformed"
    UNSIGNED = "head_unsigned"
    SIGNATURE_INVALID = "head_signature_invalid"
    FORK = "head_fork"
    NOT_AFTER_LAST_KEPT = "head_not_after_last_kept"


@dataclass(frozen=True)
class HeadRefusal:
    """A head not believed: a machine-readable code and what it means (no personal data)."""

    code: str
    detail: str


class HeadFormatError(KawalError):
    """A head record or line lacks a field or holds one of the wrong kind."""


@dataclass(frozen=True)
class SignedTreeHead:
    """One signed tree head and the consistency proof from the head before it."""

    tree_size: int
    root_hash: bytes
    #: Aware, whole milliseconds: what the signature covers.
    issued_at: datetime
    key_id: str
    signature: bytes
    #: Size of the head published before this one; 0 for the first.
    previous_size: int = 0
    #: RFC 9162 consistency proof from ``previous_size`` to ``tree_size``.
    consistency: tuple[bytes, ...] = ()

    def statement(self) -> bytes:
        """The bytes the hub signs: the ``TreeHeadV1`` statement."""
        return head_statement(self.tree_size, self.root_hash, self.issued_at)

    def to_record(self) -> dict[str, Any]:
        """The ``kawal.TreeHead`` record."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "issued_at": self.issued_at,
            "key_id": self.key_id,
            "signature": self.signature,
            "previous_size": self.previous_size,
            "consistency": [item.hex() for item in self.consistency],
        }

    def to_json(self) -> str:
        """The head as one JSON line, as institutions keep it."""
        record = self.to_record() | {
            "issued_at": self.issued_at.isoformat(timespec="milliseconds"),
            "signature": self.signature.hex(),
        }
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SignedTreeHead:
        """A head from a decoded ``kawal.TreeHead``.

        Raises:
            HeadFormatError: a field is missing or of the wrong kind.
        """
        issued_at = _field(record, "issued_at", datetime)
        if issued_at.tzinfo is None:
            raise HeadFormatError("issued_at has no time zone")
        return cls._parsed(record, issued_at, _field(record, "signature", bytes))

    @classmethod
    def from_json(cls, line: str) -> SignedTreeHead:
        """A head from one JSON line as :meth:`to_json` writes it.

        Raises:
            HeadFormatError: not JSON, or a field is missing or of the wrong kind.
        """
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise HeadFormatError("a head line must be a JSON object")
            if not isinstance(record.get("issued_at"), str):
                # Another client's file may keep the record's milliseconds since the epoch.
                raise HeadFormatError(
                    "issued_at must be ISO 8601 text with its offset, such as "
                    "2026-12-07T09:00:00.000+00:00 (a heads file keeps it so, not as the "
                    "record's milliseconds since the epoch)"
                )
            issued_at = datetime.fromisoformat(record["issued_at"])
            signature = bytes.fromhex(_field(record, "signature", str))
        except (ValueError, RecursionError) as exc:  # JSON nested too deep: RecursionError
            raise HeadFormatError(f"unreadable head line ({type(exc).__name__})") from exc
        if issued_at.tzinfo is None:
            raise HeadFormatError("issued_at has no time zone")
        return cls._parsed(record, issued_at, signature)

    @classmethod
    def _parsed(
        cls, record: Mapping[str, Any], issued_at: datetime, signature: bytes
    ) -> SignedTreeHead:
        tree_size = _field(record, "tree_size", int)
        previous_size = _field(record, "previous_size", int)
        if not 0 <= previous_size <= tree_size:
            raise HeadFormatError("previous_size must lie between 0 and tree_size")
        if tree_size > MAX_TREE_SIZE:
            # The statement signed holds it as an Avro long: no signed head can be larger.
            raise HeadFormatError("tree_size is beyond any head's (a 64-bit count)")
        proof = _field(record, "consistency", list)
        return cls(
            tree_size=tree_size,
            root_hash=_hash(_field(record, "root_hash", str), "root_hash"),
            issued_at=issued_at.astimezone(UTC),
            key_id=_field(record, "key_id", str),
            signature=signature,
            previous_size=previous_size,
            consistency=tuple(_hash(item, "consistency") for item in proof),
        )


def head_statement(tree_size: int, root_hash: bytes, issued_at: datetime) -> bytes:
    """The ``TreeHeadV1`` statement of a head."""
    return statement_bytes(
        TREE_HEAD,
        {"tree_size": tree_size, "root_hash": root_hash, "issued_at": epoch_millis(issued_at)},
    )


def issue_head(
    key: SigningKey,
    tree_size: int,
    root_hash: bytes,
    issued_at: datetime,
    previous_size: int = 0,
    consistency: Iterable[bytes] = (),
) -> SignedTreeHead:
    """A head signed by the hub's ``key``, ``issued_at`` cut to the millisecond it signs."""
    moment = EPOCH + timedelta(milliseconds=epoch_millis(issued_at))
    signature = key.sign(Context.TREE_HEAD, head_statement(tree_size, root_hash, moment))
    return SignedTreeHead(
        tree_size, root_hash, moment, key.key_id, signature, previous_size, tuple(consistency)
    )


def signature_problem(head: SignedTreeHead, keys: KeyRegistry) -> HeadRefusal | None:
    """Why ``head`` is not the hub's, signed with its key valid at ``issued_at``; None if it is."""
    if not head.signature:
        return HeadRefusal(HeadProblem.UNSIGNED, "the head carries no signature")
    key = keys.key_for(HUB_INSTITUTION, head.key_id, head.issued_at)
    if isinstance(key, KeyRefusal):
        return HeadRefusal("hub_" + key.problem.value, key.detail)
    if not verify(key.public_key, Context.TREE_HEAD, head.statement(), head.signature):
        return HeadRefusal(HeadProblem.SIGNATURE_INVALID, "the hub did not sign this head")
    return None


def extension_problem(earlier: SignedTreeHead, later: SignedTreeHead) -> HeadRefusal | None:
    """Why ``later`` is not shown to extend ``earlier`` by its own proof; None if it is.

    Two heads of one size extend each other when their roots are equal. Otherwise ``later``
    must carry the proof from ``earlier``'s size (its ``previous_size``); a proof from any
    other head shows nothing about ``earlier``.
    """
    if later.tree_size == earlier.tree_size:
        if later.root_hash == earlier.root_hash:
            return None
        return HeadRefusal(
            HeadProblem.FORK, f"two heads of size {later.tree_size} with different roots"
        )
    if later.tree_size < earlier.tree_size or later.previous_size != earlier.tree_size:
        return HeadRefusal(
            HeadProblem.NOT_AFTER_LAST_KEPT,
            f"the head of size {later.tree_size} proves it extends the head of size "
            f"{later.previous_size}, not the one of size {earlier.tree_size}",
        )
    if not verify_consistency(
        earlier.tree_size,
        later.tree_size,
        earlier.root_hash,
        later.root_hash,
        later.consistency,
    ):
        return HeadRefusal(
            HeadProblem.FORK,
            f"the head of size {later.tree_size} does not extend the head of size "
            f"{earlier.tree_size}: its consistency proof fails",
        )
    return None


def _field(record: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = record.get(name)
    # bool is an int to Python, not a size.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HeadFormatError(f"{name} is missing or not of type {kind.__name__}")
    return value


def _hash(text: Any, name: str) -> bytes:
    if not isinstance(text, str):
        raise HeadFormatError(f"{name} holds a value that is not hex text")
    try:
        value = bytes.fromhex(text)
    except ValueError as exc:
        raise HeadFormatError(f"{name} is not hex") from exc
    if len(value) != HASH_BYTES:
        raise HeadFormatError(f"{name} holds {len(value)} bytes, not {HASH_BYTES}")
    return value
