"""Hub configuration, read in one place from ``KAWAL_*`` environment variables (or secret files).

Nothing else in the hub reads the environment: every component receives a :class:`Settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.monitoring_settings import MonitoringSettings
from streams.setting_types import (
    DEFAULT_STATS_MIN_CASES,
    LogLevel,
    MinCases,
    PagePort,
    Port,
    PortOrNone,
    StorageBasePort,
)
from streams.tolerance_settings import ToleranceSettings

#: How long a command waits for the broker to answer before it gives up, s; kafka-python's own
#: default for a first answer (30 s) kept an operator waiting on a typo in KAWAL_BROKER_URL.
DEFAULT_BROKER_WAIT_SECONDS = 15.0

#: Seconds an HTTP connection may take to send its request's headers, or idle between two, before
#: it is closed: long enough for a probe or a scraper, short enough that clients sending half a
#: request cannot hold the process's connections (aiohttp's default is an hour).
DEFAULT_HTTP_IDLE_SECONDS = 15.0

#: Where containers get their secrets, as Docker and Kubernetes mount them: a file there named
#: like a setting's variable in lower case (``kawal_broker_password``, ``kawal_audit_db_url``)
#: sets it, unless the environment does. ``KAWAL_SECRETS_DIR`` names another folder.
SECRETS_DIR_VARIABLE = "KAWAL_SECRETS_DIR"
SECRETS_DIR = Path(os.environ.get(SECRETS_DIR_VARIABLE, "/run/secrets"))


class Settings(BaseSettings, MonitoringSettings, ToleranceSettings):
    """Every knob of the hub, with the defaults of the one-machine set-up (``kawal up``)."""

    model_config = SettingsConfigDict(
        env_prefix="KAWAL_",
        extra="ignore",
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
    )

    home: Path = Field(
        default=Path(".kawal"), description="This hub's directory: broker data, stores, keys, logs."
    )
    broker_url: str | None = Field(
        default=None,
        description=(
            "Kafka bootstrap URL (kafka://host:port[;host:port]) or tansu://host:port. "
            "Unset: `kawal up` runs the embedded tansu broker."
        ),
    )
    broker_wait_seconds: float = Field(
        default=DEFAULT_BROKER_WAIT_SECONDS,
        gt=0,
        description=(
            "Seconds a broker client (worker, sink, connector, command; not kawal up's own broker) "
            "waits for an answer; twice that unanswered, a worker, sink or connector is not ready."
        ),
    )
    broker_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description=(
            "How every Kafka client of this process meets the broker: SASL sends the username "
            "and password, SSL verifies the broker (and presents a client certificate if set)."
        ),
    )
    broker_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism of SASL_PLAINTEXT and SASL_SSL."
    )
    broker_username: str | None = Field(
        default=None, description="SASL user: the process's principal (`kawal` for the hub)."
    )
    broker_password: SecretStr | None = Field(default=None, description="SASL password.")
    broker_ca_file: Path | None = Field(
        default=None,
        description="PEM certificates the broker's is verified against; unset: the system's.",
    )
    broker_cert_file: Path | None = Field(
        default=None, description="PEM client certificate (mutual TLS), with its key file."
    )
    broker_key_file: Path | None = Field(
        default=None, description="Unencrypted PEM private key of the client certificate."
    )
    embedded_broker_port: Port = Field(default=9092, description="Port of the embedded broker.")
    embedded_storage_port: StorageBasePort = Field(
        default=8333,
        description=(
            "Base port of the embedded SeaweedFS storage: S3 on it, base+1..base+4 (master, "
            "volume, filer, admin) and their gRPC ports base+10000..base+10004."
        ),
    )
    web_host: str = Field(default="127.0.0.1", description="Interface of the HTTP server.")
    web_port: PagePort = Field(default=6066, description="Port of the HTTP server.")
    sink_port: Port = Field(
        default=6067, description="Port of the audit sink's HTTP server (health, metrics)."
    )
    connector_metrics_port: PortOrNone = Field(
        default=6068,
        description=(
            "Port on KAWAL_WEB_HOST where `kawal connector run` and `connector demo` serve "
            "their metrics and probes (/metrics, /readyz, /livez); 0 serves none."
        ),
    )
    http_idle_seconds: float = Field(
        default=DEFAULT_HTTP_IDLE_SECONDS,
        gt=0,
        allow_inf_nan=False,
        description=(
            "Seconds a connection to the worker's, the sink's or a connector's metrics HTTP "
            "server may take to send a request's headers, or idle between two, before it is closed."
        ),
    )
    web_tls_cert: Path | None = Field(
        default=None,
        description=(
            "PEM certificate (chain) of the HTTP server; with KAWAL_WEB_TLS_KEY it serves HTTPS. "
            "Renewed files are loaded within 10 s, no restart."
        ),
    )
    web_tls_key: Path | None = Field(
        default=None, description="PEM private key of KAWAL_WEB_TLS_CERT."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OIDC issuer (iss) whose JWTs HTTP readers may present; unset: tokens only.",
    )
    oidc_audience: str | None = Field(
        default=None, description="The audience (aud) JWTs must be issued for: this hub."
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description=(
            "URL of the issuer's JSON Web Key Set (its signing keys): https://, or http:// on "
            "127.0.0.1 or localhost only (whoever answers it decides who reads)."
        ),
    )
    oidc_institution_claim: str = Field(
        default="kawal_institution",
        description="JWT claim holding the id of the institution its holder reads for.",
    )
    case_store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description=(
            "Where the worker keeps its case table: rocksdb (on disk in the worker's data "
            "directory, beyond RAM) or memory."
        ),
    )
    partitions: int = Field(
        default=4, ge=1, description="Partitions of every case-keyed topic (co-partitioned)."
    )
    replication: int = Field(
        default=1, ge=1, description="Replication factor of new topics; at most the brokers."
    )
    schema_registry_url: str | None = Field(
        default=None,
        description=(
            "Confluent Schema Registry URL; set: the hub writes the Confluent wire format, "
            "unset: Avro single-object encoding. Readers accept both either way."
        ),
    )
    audit_db_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the audit store; default SQLite in home."
    )
    vault_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the data-key vault (each case's wrapped data key); default "
            "SQLite KAWAL_HOME/vault.db. May be the audit store's database or one of its own."
        ),
    )
    kek: SecretStr | None = Field(
        default=None,
        description=(
            "Key-encryption keys as ID:BASE64, several separated by commas, newest last (it "
            "wraps, all unwrap); set: KAWAL_KEK_FILE is not read. For injected secrets."
        ),
    )
    kek_file: Path | None = Field(
        default=None,
        description="TOML file of key-encryption keys (0600); default KAWAL_HOME/keys/kek.toml.",
    )
    session_timeout: float = Field(
        default=6.0,  # s; group joins wait half of it: 6 s keeps one machine's restarts quick
        gt=0,
        description="How long a silent worker or sink keeps its partitions, s.",
    )
    institutions_file: Path | None = Field(
        default=None, description="TOML registry of institutions; default: the bundled one."
    )
    authority_file: Path | None = Field(
        default=None, description="TOML map of the recommending authority by date; default bundled."
    )
    keys_file: Path | None = Field(
        default=None,
        description=(
            "TOML registry of the public signing and encryption keys, or a folder of the pieces "
            "`kawal keys split` writes (read together; a missing piece stops the process); unset:"
            " KAWAL_HOME/keys/registry.toml if `kawal keys init` or `kawal up` made it, else the "
            "bundled one."
        ),
    )
    disclosure_file: Path | None = Field(
        default=None,
        description=(
            "TOML disclosure policy: which role may see which personal-data field of which "
            "event; default: the bundled one."
        ),
    )
    deadlines_file: Path | None = Field(
        default=None, description="TOML deadline rules; default: the bundled ones."
    )
    calendar_file: Path | None = Field(
        default=None,
        description=(
            "TOML overrides of the working-day calendar (days the joint decree sets otherwise "
            "than the holidays package, each with its legal source); default: the bundled one."
        ),
    )
    public_cases: bool = Field(
        default=False,
        description=(
            "Show every case (agency, region, status, timeline; personal data withheld) without "
            "a credential. Off: only operators (all) and parties (theirs) see cases. A case row "
            "tells what the statistics withhold below K: on for invented (demo) cases only."
        ),
    )
    portal_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\"<>]+$",
        description="The public reporting portal's address, linked on every page; unset: no link.",
    )
    public_register: Literal["off", "agencies", "names"] = Field(
        default="off",
        description=(
            "The public register of final sanctions at /register: off, agencies (agency, "
            "violation, sanction, date) or names (also the civil servant's name; needs "
            "KAWAL_PUBLIC_REGISTER_LEGAL_BASIS)."
        ),
    )
    public_register_legal_basis: str | None = Field(
        default=None,
        description=(
            "The legal basis for publishing names in the public register (regulation and "
            "article), shown on the register; required with KAWAL_PUBLIC_REGISTER=names."
        ),
    )
    severity_file: Path | None = Field(
        default=None,
        description=(
            "TOML severity of each violation category, for the supervisor's triage; default: "
            "the bundled one."
        ),
    )
    headcounts_file: Path | None = Field(
        default=None,
        description=(
            "TOML civil servants per agency, each with its source, for the dashboard's "
            "violations per 1,000 civil servants; default: the bundled one (no rows)."
        ),
    )
    stats_min_cases: MinCases = Field(
        default=DEFAULT_STATS_MIN_CASES,
        description=(
            "K: no public figure (dashboard, exports, front page, kawal stats) is derived from "
            "fewer than this many cases; smaller groups are withheld. At least 2."
        ),
    )
    deadline_check_seconds: float = Field(
        default=30.0, gt=0, description="How often the deadline timer looks for overdue clocks, s."
    )
    history_grace_seconds: float = Field(
        default=86400.0,
        ge=0,
        description=(
            "How long the deadline timer leaves a clock that had run out before the hub recorded "
            "its start (a backlog being imported) for the rest of the import to stop it, s."
        ),
    )
    retention_file: Path | None = Field(
        default=None,
        description=(
            "TOML retention rules: how long after a case closed (or was reported) its personal "
            "data is kept before the hub erases it; default: the bundled ones."
        ),
    )
    retention_check_seconds: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "How often the retention timer looks for cases whose retention period ended, s."
        ),
    )
    tree_head_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Least time between two signed tree heads on kawal.heads, s: the audit sink signs "
            "one after stored entries grew the log, at most once per this interval."
        ),
    )
    lag_check_seconds: float = Field(
        default=15.0,
        gt=0,
        description=(
            "How often the worker reads every hub consumer group's lag from the broker, s "
            "(kawal_consumer_lag_records); it lists stray inbound topics every fourth time "
            "(kawal_stray_inbound_records)."
        ),
    )
    faust_metrics: bool = Field(
        default=False,
        description=(
            "Also export Faust's own sensor (faust_*: rebalances, commit and send latency, "
            "messages per topic and partition) on /metrics; off: it grows with the registry."
        ),
    )
    log_level: LogLevel = Field(
        default="info", description="Log level of every process (any case: INFO is info)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "Log lines as readable text, or one JSON object per line (event_id, case_id, stage, "
            "reason where known; never personal data), for every process."
        ),
    )

    @property
    def audit_url(self) -> str:
        """SQLAlchemy URL of the audit store."""
        if self.audit_db_url:
            return self.audit_db_url
        return f"sqlite:///{(self.home / 'audit.db').resolve()}"

    @property
    def effective_vault_url(self) -> str:
        """SQLAlchemy URL of the data-key vault: KAWAL_VAULT_URL, else SQLite in home."""
        if self.vault_url:
            return self.vault_url
        return f"sqlite:///{(self.home / 'vault.db').resolve()}"

    @property
    def effective_kek_file(self) -> Path:
        """The key-encryption key file read when KAWAL_KEK is unset."""
        return self.kek_file or self.key_dir / "kek.toml"

    @property
    def web_scheme(self) -> str:
        """``https`` when the HTTP server has a certificate, else ``http``."""
        return "https" if self.web_tls_cert else "http"

    @property
    def effective_broker_url(self) -> str:
        """The configured broker, or the embedded one ``kawal up`` runs on this machine."""
        return self.broker_url or f"tansu://127.0.0.1:{self.embedded_broker_port}"

    @property
    def key_dir(self) -> Path:
        """Where ``kawal keys new`` writes private keys: a folder per institution (mode 0700)."""
        return self.home / "keys"

    @property
    def local_key_registry(self) -> Path:
        """The key registry of this home, written by ``kawal keys init`` and ``kawal up``."""
        return self.key_dir / "registry.toml"

    @property
    def key_registry_file(self) -> Path | None:
        """The key registry in force: KAWAL_KEYS_FILE, else the local one, else the bundled one."""
        if self.keys_file is not None:
            return self.keys_file
        local = self.local_key_registry
        return local if local.exists() else None

    @property
    def log_dir(self) -> Path:
        """Directory for the logs of the hub and its child processes."""
        return self.home / "logs"

    @property
    def broker_dir(self) -> Path:
        """Directory for the embedded broker's durable storage."""
        return self.home / "broker"

    @property
    def worker_dir(self) -> Path:
        """Faust's data directory (local table state)."""
        return self.home / "worker"
