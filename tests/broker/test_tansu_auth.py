"""What tansu 0.6.0 does with ``--authentication`` and TLS, against the real binary.

These tests pin the findings of ``docs/broker-security.md``: a broker that requires
authentication refuses every client, plaintext or SCRAM, because its storage keeps no SCRAM
user; ``tansu user create`` cannot reach it (``early eof``); and ``--cert`` with ``--key`` is
refused at start. When a tansu release makes one of them fail, the embedded broker may
authenticate: see the document for what ``kawal up`` would then do.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError
from kafka import KafkaProducer
from pydantic import SecretStr

from streams.broker.credentials import (
    PLAINTEXT,
    BrokerCredentials,
    SaslMechanism,
    SecurityProtocol,
)
from streams.broker.provision import ProvisioningError, apply_topics
from streams.local.children import HOST, child_env, find_tansu
from streams.local.processes import ChildProcess, free_port
from streams.local.storage import EmbeddedStorage, free_storage_base_port
from streams.topics import TopicSpec
from tests.tlstools import Authority

PASSWORD = "hub-Pa55word-never-logged"
#: How long kafka-python keeps trying to bootstrap: every attempt is refused, so this only
#: bounds the test's length; whatever the machine's load, the outcome is the same.
BOOTSTRAP_WAIT_SECONDS = 1.0
#: Seconds a tansu command may take before the test gives up on it (it takes milliseconds).
COMMAND_TIMEOUT_SECONDS = 60


class Tansu:
    """A tansu broker started with the arguments under test."""

    def __init__(
        self,
        log_dir: Path,
        *args: str,
        storage: EmbeddedStorage | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"tcp://{HOST}:{self.port}"
        engine = "memory://tansu/" if storage is None else f"s3://{storage.bucket}/"
        argv = [
            str(find_tansu()),
            "broker",
            f"--listener-url={self.url}",
            f"--advertised-listener-url={self.url}",
            f"--storage-engine={engine}",
            *args,
        ]
        self.child = ChildProcess("tansu", argv, log_dir / "tansu.log", env=_env(storage))

    @property
    def bootstrap(self) -> list[str]:
        """``host:port`` for Kafka clients."""
        return [f"{HOST}:{self.port}"]

    def __enter__(self) -> Tansu:
        self.child.start()
        self.child.wait_for_port(HOST, self.port, COMMAND_TIMEOUT_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        self.child.stop()


def _env(storage: EmbeddedStorage | None) -> dict[str, str]:
    if storage is None:
        return child_env(NO_COLOR="1")
    return child_env(
        NO_COLOR="1",
        AWS_ENDPOINT=storage.s3_endpoint,
        AWS_ALLOW_HTTP="true",
        AWS_ACCESS_KEY_ID=storage.access_key,
        AWS_SECRET_ACCESS_KEY=storage.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
    )


def _create_user(broker: Tansu, name: str, mechanism: str) -> subprocess.CompletedProcess[str]:
    # `tansu user create` takes the password on its command line (visible to `ps`).
    return subprocess.run(
        [
            *(str(find_tansu()), "user", "create"),
            *(f"--broker={broker.url}", f"--mechanism={mechanism}", name, PASSWORD),
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        env=child_env(NO_COLOR="1"),
        check=False,
    )


def _scram(mechanism: str = "SCRAM-SHA-512") -> BrokerCredentials:
    return BrokerCredentials(
        SecurityProtocol.SASL_PLAINTEXT, SaslMechanism(mechanism), "kawal", SecretStr(PASSWORD)
    )


def _provision(broker: Tansu, credentials: BrokerCredentials) -> None:
    apply_topics(
        broker.bootstrap,
        [TopicSpec("kawal.auth-probe", 1)],
        wait_seconds=BOOTSTRAP_WAIT_SECONDS,
        credentials=credentials,
    )


async def _aiokafka_start(broker: Tansu, credentials: BrokerCredentials) -> None:
    # aiokafka tries once; its default request timeout (40 s) lets the refusal arrive.
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, **credentials.client_kwargs())
    try:
        await producer.start()
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def authenticating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    """tansu with ``--authentication``, in memory."""
    with Tansu(tmp_path_factory.mktemp("auth"), "--authentication") as broker:
        yield broker


def test_a_user_cannot_be_created_while_authentication_is_required(
    authenticating: Tansu,
) -> None:
    created = _create_user(authenticating, "kawal", "scram512")

    # The CLI is a Kafka client without SASL: the broker drops its AlterUserScramCredentials.
    assert created.returncode == 1
    assert "early eof" in created.stderr
    assert "NotAuthenticated" in authenticating.child.log_tail()


def test_a_plaintext_client_is_refused(authenticating: Tansu) -> None:
    with pytest.raises(ProvisioningError, match=r"without authentication \(PLAINTEXT\)"):
        _provision(authenticating, PLAINTEXT)
    with pytest.raises(AIOKafkaError, match="Unable to bootstrap"):
        asyncio.run(_aiokafka_start(authenticating, PLAINTEXT))


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_every_scram_client_is_refused_with_a_message_that_keeps_the_password(
    authenticating: Tansu, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    credentials = _scram(mechanism)
    caplog.set_level(logging.DEBUG)  # kafka-python's admin client logs its configuration

    with pytest.raises(ProvisioningError) as refused:
        _provision(authenticating, credentials)
    # tansu ends the exchange with the server-final message `e=unknown-user` (its storage has
    # no user); aiokafka then looks for the verifier `v=` and fails with KeyError('v').
    with pytest.raises(KeyError, match="v"):
        asyncio.run(_aiokafka_start(authenticating, credentials))

    message = str(refused.value)
    assert f"as user 'kawal' (SASL_PLAINTEXT, {mechanism})" in message
    assert "KAWAL_BROKER_PASSWORD" in message
    assert "sasl_plain_password" in caplog.text  # the configuration was logged...
    assert PASSWORD not in message + caplog.text  # ...with the password masked


@pytest.mark.slow
def test_a_user_created_before_authentication_is_not_kept(tmp_path: Path) -> None:
    storage = EmbeddedStorage(
        tmp_path / "data", tmp_path / "logs", base_port=free_storage_base_port()
    )
    storage.start()
    try:
        with Tansu(tmp_path / "open", storage=storage) as open_broker:
            created = _create_user(open_broker, "kawal", "scram512")
        # The same storage, now requiring authentication.
        with (
            Tansu(tmp_path / "closed", "--authentication", storage=storage) as closed,
            pytest.raises(KeyError, match="v"),
        ):
            asyncio.run(_aiokafka_start(closed, _scram()))
    finally:
        storage.stop()

    # Accepted without authentication, and stored nowhere: tansu's S3 and memory storage
    # (dynostore) answer AlterUserScramCredentials with success and keep nothing.
    assert created.returncode == 0


def _start_plaintext_producer(broker: Tansu) -> Any:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    try:
        return producer.send("kawal.tls-probe", b"x").get(timeout=COMMAND_TIMEOUT_SECONDS)
    finally:
        producer.close()


def test_tls_cannot_be_enabled(tmp_path: Path) -> None:
    issued = Authority(tmp_path / "pki").issue("broker", server=True)
    port = free_port()
    listener = f"--listener-url=tcp://{HOST}:{port}"

    both = subprocess.run(
        [str(find_tansu()), "broker", listener, f"--cert={issued.cert}", f"--key={issued.key}"],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        env=child_env(NO_COLOR="1"),
        check=False,
    )
    # Both options are in one argument group, so each excludes the other; the TLS
    # configuration needs both, so `--cert` alone leaves the listener in plaintext.
    with Tansu(tmp_path / "cert-only", f"--cert={issued.cert}") as cert_only:
        written = _start_plaintext_producer(cert_only)

    assert both.returncode == 2
    assert "the argument '--cert <CERT>' cannot be used with '--key <KEY>'" in both.stderr
    assert written.offset == 0
