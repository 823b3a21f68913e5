"""The public reporting channel, run by a Bawaslu office: reports in, their steps back out.

``lapor-intake`` serves the report form, the JSON API and the tracking pages
(:mod:`connectors.lapor.web`) and forwards each accepted report, from its spool, as a signed
``ReportReceived`` of the office (channel ``WEB_FORM``; the reporter's identity sealed by the
runtime; ``reporter_ref`` a per-case pseudonym). It takes reports of its office's region only
(``bawaslu.33``: regions 33 and 33xx; ``bawaslu``: all): the office is the case's supervisor.

``lapor-status`` reads the same office's outbound feed and notes, for each case a tracking code
follows, the step each entry stands for (:mod:`connectors.lapor.steps`) in the tracking store
the pages read. Both share ``spool_dir``. See docs/lapor.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    FeedEntry,
    HubRefusal,
    InboundConnector,
    OutboundConnector,
    SourceRecord,
    TransientError,
)
from connectors.bawaslu.connector import BAWASLU_ID
from connectors.bawaslu.sealing import PURPOSE, SpoolSealer
from connectors.bawaslu.spool import Spool
from connectors.bawaslu.spool_reader import SealedSpoolReader
from connectors.key_files import kept_key
from connectors.lapor.evidence import EvidenceStore, S3Location
from connectors.lapor.filing import FilingRule
from connectors.lapor.holding import Holding
from connectors.lapor.intake import IntakeParts, ReportIntake
from connectors.lapor.mapping import report_event
from connectors.lapor.media import EvidenceLimits
from connectors.lapor.metadata import check_tools
from connectors.lapor.pages import Pages
from connectors.lapor.rates import RateLimits
from connectors.lapor.server import PortalServer
from connectors.lapor.steps import NOT_FORWARDED, step_of
from connectors.lapor.submission import Rules
from connectors.lapor.tracking import TrackingStore, TrackingUnavailableError
from connectors.lapor.web import Portal, PortalSettings
from connectors.pseudonyms import pseudonym_key
from streams.domain.calendar import load_calendar
from streams.domain.institutions import Institution, load_institutions
from streams.settings import DEFAULT_HTTP_IDLE_SECONDS, Settings
from streams.web.labels import labels

MB = 1024 * 1024
_EVIDENCE_KEY_CONTEXT = b"kawal.lapor.evidence_key.v1"
_FORM_KEY_CONTEXT = b"kawal.lapor.form_key.v1"


class IntakeConfig(ConnectorConfig):
    """The portal: where it listens, its spool, its evidence store and its limits."""

    institution: str = Field(pattern=BAWASLU_ID)
    listen_host: str = "127.0.0.1"
    """Address to listen on (put TLS in front of it)."""
    listen_port: int = Field(ge=1, le=65535)
    spool_dir: Path
    """Folder of the spool and the tracking store (mode 0700, files 0600)."""
    secret: SecretStr
    """At least 32 characters: the reporters' pseudonyms and the evidence keys derive from it.
    Keep it as long as evidence is kept: it is what opens the files at the office."""
    s3_endpoint: str
    """URL of the evidence store's S3 API (the embedded SeaweedFS by default in ``kawal up``)."""
    s3_bucket: str = "kawal-evidence"
    s3_access_key: str
    s3_secret_key: SecretStr
    s3_region: str | None = "us-east-1"
    elections: list[str] = Field(default_factory=lambda: ["pilkada-2024"], min_length=1)
    """The elections a report may concern, by id; the form shows each by its words in
    ``streams/data/election_labels.toml``, where every id offered must have them."""
    max_files: int = Field(default=5, ge=0, le=20)
    max_file_mb: int = Field(default=10, ge=1, le=200)
    max_total_mb: int = Field(default=25, ge=1, le=500)
    report_rate: str = "5/minute;30/day"
    """Reports one source may have kept (``limits`` notation); a post refused for what it
    holds does not count, so a reporter can correct the form and send it again."""
    attempt_rate: str = "20/minute"
    """Report posts one source may send, kept or refused."""
    track_rate: str = "120/minute"
    """Tracking requests one source may make."""
    forwarded_for: str | None = None
    """Header naming the client when a trusted proxy is in front (``X-Forwarded-For``)."""
    idle_seconds: float = Field(default=DEFAULT_HTTP_IDLE_SECONDS, gt=0, allow_inf_nan=False)
    """Seconds a connection may take to send a request's headers, or idle between two, before
    it is closed: clients that send half a request and stop cannot hold the portal's connections."""
    spool_busy_seconds: float = Field(default=5.0, gt=0)
    spool_key_file: Path | None = None
    """The key the spooled reports are sealed under (default ``spool_dir/spool.key``, made on
    first start, mode 0600): back it up apart from the spool."""
    retention_days: int = Field(default=30, ge=0)
    """Days a report stays in the spool after it reached the hub (personal data)."""

    @field_validator("elections")
    @classmethod
    def _labelled(cls, elections: list[str]) -> list[str]:
        unlabelled = [election for election in elections if election not in labels("election")]
        if unlabelled:
            raise ValueError(
                f"elections {', '.join(unlabelled)} have no words for the public: add a table "
                "per election with id (Indonesian), en (English) and source to "
                "streams/data/election_labels.toml, or offer one of "
                f"{', '.join(sorted(labels('election')))}"
            )
        return elections

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 32:
            raise ValueError("the secret must have at least 32 characters")
        return secret

    def jurisdiction(self) -> str:
        """The region prefix of the office's reports (``""``: the whole country)."""
        return self.institution.partition(".")[2]

    def evidence_limits(self) -> EvidenceLimits:
        """The evidence limits in bytes."""
        return EvidenceLimits(self.max_files, self.max_file_mb * MB, self.max_total_mb * MB)

    def location(self) -> S3Location:
        """The evidence store."""
        return S3Location(
            self.s3_endpoint,
            self.s3_bucket,
            self.s3_access_key,
            self.s3_secret_key.get_secret_value(),
            self.s3_region,
        )


def agencies_of(jurisdiction: str, registry: Sequence[Institution]) -> list[Institution]:
    """The PPKs of ``registry`` a report to an office of ``jurisdiction`` may name."""
    found = []
    for institution in registry:
        suffix = institution.id.partition(".")[2]
        in_region = not suffix.isdigit() or suffix.startswith(jurisdiction)
        if institution.role == "ppk" and in_region:
            found.append(institution)
    return found


def office_name(config: IntakeConfig, registry: Sequence[Institution]) -> str:
    """The registry's name of the portal's office (its id if the registry has no such entry)."""
    names = {institution.id: institution.name for institution in registry}
    return names.get(config.institution, config.institution)


def spool_sealer(config: IntakeConfig) -> SpoolSealer:
    """What seals the spooled reports: the key kept in the spool key file (made if missing)."""
    return SpoolSealer(kept_key(config.spool_key_file or config.spool_dir / "spool.key", PURPOSE))


class LaporIntake(InboundConnector[IntakeConfig]):
    """Reports of the public portal → ``ReportReceived`` of the office."""

    name = "lapor-intake"

    def __init__(self, config: IntakeConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        check_tools()  # no portal that would store evidence with the reporter's location
        secret = config.secret.get_secret_value().encode()
        self._pseudonyms = pseudonym_key(secret)
        self._spool = Spool(config.spool_dir, config.spool_busy_seconds, spool_sealer(config))
        self._reader = SealedSpoolReader(self._spool, self.name, context.log)
        settings = PortalSettings(
            config.listen_host,
            config.listen_port,
            max_request_bytes=_request_limit(config),
            idle_seconds=config.idle_seconds,
            forwarded_for=config.forwarded_for,
        )
        self._server: PortalServer | None = PortalServer.acquire(
            settings, lambda: _portal(config, settings)
        )

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Spooled reports after spool id ``after`` (one that does not open is refused later)."""
        return self._reader.read(after, limit)

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The ``ReportReceived`` of one report.

        Raises:
            PermanentError: the report's sealed spool record does not open.
        """
        self._reader.check(record)
        return [report_event(self.institution, self._pseudonyms, dict(record.payload))]

    def acknowledge(self, records: Sequence[SourceRecord]) -> None:
        """Mark the reports forwarded (not one that did not open): their retention runs."""
        self._reader.mark_forwarded(records, datetime.now(UTC))

    def expire(self, now: datetime) -> None:
        """Erase what is kept past its time: reports and the files held for forms.

        Reports forwarded more than ``retention_days`` before ``now``; files held for forms
        sent back whose time is over (:mod:`connectors.lapor.holding`).
        """
        self._reader.expire(now, self.config.retention_days)
        holding = self._server.portal.intake.parts.holding if self._server else None
        if holding is not None:
            holding.sweep(now)

    def close(self) -> None:
        """Stop the portal and close the stores."""
        if self._server is not None:
            self._server.release()
            self._server = None
        self._spool.close()


class StatusConfig(ConnectorConfig):
    """The office whose feed is followed, and the portal's folder."""

    institution: str = Field(pattern=BAWASLU_ID)
    spool_dir: Path
    """The same folder as the intake's: the tracking store is there."""


class LaporStatus(OutboundConnector[StatusConfig]):
    """The office's feed → the steps of each tracked case."""

    name = "lapor-status"

    def __init__(self, config: StatusConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self._tracking = TrackingStore(config.spool_dir)

    def deliver(self, entry: FeedEntry) -> None:
        """Note the step of one entry if a code follows its case (idempotent on ``seq``)."""
        step = step_of(entry.event_type, entry.event)
        try:
            if step is None or not self._tracking.is_tracked(entry.case_id):
                return
            at = entry.event["envelope"]["event_time"]
            self._tracking.record(entry.case_id, int(entry.entry["seq"]), step, at)
        except TrackingUnavailableError as exc:
            raise TransientError(str(exc)) from exc

    def refused(self, refusal: HubRefusal) -> None:
        """A tracked report the hub refused: its reporter is told it is not forwarded yet.

        The step comes before the trail's first entry (``seq`` 0): once the office has fixed
        the fault and the report is accepted, its received step follows.
        """
        if refusal.event_type != "ReportReceived" or refusal.case_id is None:
            return
        try:
            if self._tracking.is_tracked(refusal.case_id):
                self._tracking.record(refusal.case_id, 0, NOT_FORWARDED, refusal.issued_at)
        except TrackingUnavailableError as exc:
            raise TransientError(str(exc)) from exc

    def close(self) -> None:
        """Close the tracking store."""
        self._tracking.close()


def _portal(config: IntakeConfig, settings: PortalSettings) -> Portal:
    """The portal of ``config``, with stores of its own (the server closes them)."""
    secret = config.secret.get_secret_value().encode()
    jurisdiction = config.jurisdiction()
    # The registry every process reads (KAWAL_INSTITUTIONS_FILE): a PPK registered there is
    # offered on the form, and the office is named as registered.
    hub = Settings()
    registry = load_institutions(hub.institutions_file)
    rules = Rules(
        jurisdiction=jurisdiction,
        agencies=frozenset(agency.id for agency in agencies_of(jurisdiction, registry)),
        elections=tuple(config.elections),
        # The hub's calendar (KAWAL_CALENDAR_FILE): the portal counts the filing rule's
        # working days as the hub counts its clocks.
        filing=FilingRule(load_calendar(hub.calendar_file)),
    )
    tracking = TrackingStore(config.spool_dir, config.spool_busy_seconds)
    evidence = EvidenceStore(config.location(), _evidence_key(secret))
    parts = IntakeParts(
        config.institution,
        rules,
        config.evidence_limits(),
        evidence,
        Spool(config.spool_dir, config.spool_busy_seconds, spool_sealer(config)),
        tracking,
        _form_key(secret),
        Holding(
            config.spool_dir,
            evidence,
            config.evidence_limits(),
            busy_seconds=config.spool_busy_seconds,
        ),
    )
    intake = ReportIntake(parts)
    return Portal(
        settings,
        intake,
        tracking,
        RateLimits(config.report_rate, config.track_rate, config.attempt_rate),
        Pages(
            rules,
            config.evidence_limits(),
            agencies_of(jurisdiction, registry),
            office_name(config, registry),
            intake.clock,
        ),
    )


def _evidence_key(secret: bytes) -> bytes:
    return hmac.new(secret, _EVIDENCE_KEY_CONTEXT, hashlib.sha256).digest()


def _form_key(secret: bytes) -> bytes:
    return hmac.new(secret, _FORM_KEY_CONTEXT, hashlib.sha256).digest()


def _request_limit(config: IntakeConfig) -> int:
    # Base64 in the JSON API makes files a third larger; 256 KiB for the text fields.
    return config.max_total_mb * MB * 4 // 3 + 256 * 1024
