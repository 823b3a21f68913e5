"""Bawaslu's case system ⇄ Kawal: a signed webhook in, status callbacks out.

``bawaslu-webhook`` hosts the intake Bawaslu's system posts its reports and findings to
(:mod:`connectors.bawaslu.intake`): a post is checked (HMAC signature, timestamp no older than
5 minutes) and written to a local SQLite spool before Bawaslu gets its 202, so nothing
accepted is lost when the hub is away; each post is sealed there under the connector's spool
key (:mod:`connectors.bawaslu.sealing`). The connector then reads the spool after its
checkpoint (the intake id) and maps each post to one event (:mod:`connectors.bawaslu.mapping`).
The listener starts with the connector instance and stops when it is closed.

``bawaslu-callback`` posts each entry of Bawaslu's outbound feed to Bawaslu's callback URL as
a status update, with the event id as ``Idempotency-Key``: Bawaslu records each event once
and answers 409 to a repeat, which counts as delivered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
    PermanentError,
    SourceRecord,
    TransientError,
)
from connectors.bawaslu.intake import IntakeSettings, WebhookListener
from connectors.bawaslu.mapping import PostMapper
from connectors.bawaslu.sealing import PURPOSE, SpoolSealer
from connectors.bawaslu.spool import (
    Spool,
)
from connectors.bawaslu.spool_reader import SealedSpoolReader
from connectors.feed_documents import feed_document, json_value
from connectors.http import post_json
from connectors.key_files import kept_key
from connectors.pseudonyms import pseudonym_key

#: Institution ids of Bawaslu offices: national, province (2 digits) or regency (4 digits).
BAWASLU_ID = r"^bawaslu(\.\d{2}(\d{2})?)?$"


class WebhookConfig(ConnectorConfig):
    """Where the webhook listens, the secret it shares with Bawaslu, and its spool."""

    institution: str = Field(pattern=BAWASLU_ID)
    listen_host: str = "127.0.0.1"
    """Address to listen on (``0.0.0.0``: every interface; put TLS in front of it)."""
    listen_port: int = Field(ge=1, le=65535)
    spool_dir: Path
    """Directory of the spool (``intake.db``, mode 0600; the folder is made mode 0700); keep it
    on a disk that survives restarts."""
    spool_key_file: Path | None = None
    """The key posts are sealed under in the spool (64 hex digits, mode 0600, its folder 0700),
    made on first start if missing; default ``spool_dir/spool.key``. Back it up apart
    from the spool: without it, posts not yet in the hub cannot be read."""
    secret: SecretStr
    """Shared secret of the HMAC-SHA256 signatures (at least 32 characters)."""
    max_skew_seconds: int = Field(default=300, ge=1, le=3600)
    """Oldest (and furthest ahead) signing time accepted: replays older than this are refused."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    spool_busy_seconds: float = Field(default=5.0, gt=0)
    """How long a read or a post waits for the spool while another process holds it."""
    retention_days: int = Field(default=30, ge=0)
    """Days a post's body stays in the spool after it reached the hub (personal data); a post
    not yet in the hub keeps its body. 30: as long as the hub keeps raw inbound traffic."""

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 32:
            raise ValueError("the shared secret must have at least 32 characters")
        return secret


class BawasluWebhook(InboundConnector[WebhookConfig]):
    """Reports and findings posted by Bawaslu's system → case events."""

    name = "bawaslu-webhook"

    def __init__(self, config: WebhookConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        secret = config.secret.get_secret_value().encode()
        self._mapper = PostMapper(config.institution, context.catalog, pseudonym_key(secret))
        spool_key = kept_key(config.spool_key_file or config.spool_dir / "spool.key", PURPOSE)
        self._spool = Spool(config.spool_dir, config.spool_busy_seconds, SpoolSealer(spool_key))
        self._reader = SealedSpoolReader(self._spool, self.name, context.log)
        self._listener: WebhookListener | None = WebhookListener.acquire(
            IntakeSettings(
                host=config.listen_host,
                port=config.listen_port,
                spool_dir=config.spool_dir,
                secret=config.secret.get_secret_value().encode(),
                max_skew_seconds=config.max_skew_seconds,
                max_body_bytes=config.max_body_bytes,
                busy_seconds=config.spool_busy_seconds,
                spool_key=spool_key,
            )
        )

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Spooled posts after intake id ``after`` (one that does not open is refused later)."""
        return self._reader.read(after, limit)

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The event one post stands for (see :mod:`connectors.bawaslu.mapping`).

        Raises:
            PermanentError: the post cannot be mapped, or its sealed body does not open.
        """
        self._reader.check(record)
        return self._mapper.events(record.source_id, record.payload)

    def acknowledge(self, records: Sequence[SourceRecord]) -> None:
        """Mark the posts forwarded: from now their retention runs.

        A post that did not open is not marked: it never reached the hub, so the spool keeps
        it, whatever the retention, until the operator recovers it.
        """
        self._reader.mark_forwarded(records, datetime.now(UTC))

    def expire(self, now: datetime) -> None:
        """Erase the bodies of posts forwarded more than ``retention_days`` before ``now``."""
        self._reader.expire(now, self.config.retention_days)

    def close(self) -> None:
        """Stop listening (when no other instance shares the listener) and close the spool."""
        if self._listener is not None:
            self._listener.release()
            self._listener = None
        self._spool.close()


class CallbackConfig(ConnectorConfig):
    """Bawaslu's callback endpoint and the bearer token it expects."""

    institution: str = Field(pattern=BAWASLU_ID)
    callback_url: AnyHttpUrl
    token: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for Bawaslu's answer before the attempt counts as failed (retried)."""


class BawasluCallback(OutboundConnector[CallbackConfig]):
    """Bawaslu's outbound feed → status updates posted to Bawaslu's callback URL."""

    name = "bawaslu-callback"

    def deliver(self, entry: FeedEntry) -> None:
        """Post the status update of one entry (Bawaslu is idempotent on the event id)."""
        body = json.dumps(feed_document(entry, self.context.catalog), default=json_value).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            "Idempotency-Key": entry.event_id,
        }
        status, answer = post_json(
            str(self.config.callback_url), body, headers, self.config.timeout_seconds
        )
        if status == 409:
            self.context.log.debug("Bawaslu already holds event %s", entry.event_id)
        elif status == 429 or status >= 500:
            raise TransientError(f"Bawaslu answered HTTP {status} to event {entry.event_id}")
        elif status in (401, 403):
            raise PermanentError(
                "callback_unauthorized",
                f"Bawaslu refused the callback token (HTTP {status}); correct `token` in the "
                "bawaslu-callback configuration, then restart it with `--redeliver-from` "
                "this letter's source position",
            )
        elif status >= 400:
            raise PermanentError(
                "callback_rejected",
                f"Bawaslu rejected the status update (HTTP {status}, {_code(answer)}); "
                "check the callback contract with Bawaslu, then redeliver (`--redeliver-from`)",
            )


def _code(answer: dict[str, Any]) -> str:
    """The machine-readable error code of an answer, never its free text (it may echo data)."""
    code = str(answer.get("error", "no error code"))
    return code if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", code) else "unreadable error code"
