"""The broker security settings as every client's arguments, and each refusal of them."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from streams.broker.credentials import (
    PLAINTEXT,
    BrokerCredentials,
    BrokerCredentialsError,
    SaslMechanism,
    SecurityProtocol,
)
from streams.settings import Settings
from tests.tlstools import HOST, Authority

PASSWORD = "s3cret-Pa55word"


def _settings(**values: Any) -> Settings:
    return Settings(**{f"broker_{name}": value for name, value in values.items()})


def _sasl(protocol: str = "SASL_PLAINTEXT", **values: Any) -> Settings:
    return _settings(
        security_protocol=protocol, username="bkn", password=SecretStr(PASSWORD), **values
    )


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "pki")


def test_the_default_is_plaintext_and_changes_no_client() -> None:
    credentials = BrokerCredentials.from_settings(Settings())

    assert credentials == PLAINTEXT
    assert credentials.client_kwargs() == {"security_protocol": "PLAINTEXT"}
    assert credentials.faust() is None


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAWAL_BROKER_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAWAL_BROKER_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAWAL_BROKER_USERNAME", "kawal")
    monkeypatch.setenv("KAWAL_BROKER_PASSWORD", PASSWORD)

    credentials = BrokerCredentials.from_settings(Settings())

    assert credentials.protocol is SecurityProtocol.SASL_PLAINTEXT
    assert credentials.mechanism is SaslMechanism.SCRAM_SHA_256
    assert credentials.username == "kawal"


def test_sasl_gives_kafka_python_aiokafka_and_faust_the_same_arguments() -> None:
    credentials = BrokerCredentials.from_settings(_sasl())

    kwargs = credentials.client_kwargs()
    faust_credentials = credentials.faust()

    assert kwargs == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "bkn",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(faust_credentials, faust.SASLCredentials)
    # What Faust hands aiokafka is what kafka-python gets (ssl_context None for plaintext).
    assert credentials_to_aiokafka_auth(faust_credentials) == {**kwargs, "ssl_context": None}


def test_sasl_ssl_verifies_the_broker(authority: Authority) -> None:
    credentials = BrokerCredentials.from_settings(_sasl("SASL_SSL", ca_file=authority.cert_file))

    kwargs = credentials.client_kwargs()
    faust_credentials = credentials.faust()

    assert kwargs["security_protocol"] == "SASL_SSL"
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert isinstance(faust_credentials, faust.SASLCredentials)
    assert credentials_to_aiokafka_auth(faust_credentials)["security_protocol"] == "SASL_SSL"


def test_ssl_trusts_the_configured_authority_and_presents_the_client_certificate(
    authority: Authority,
) -> None:
    client = authority.issue("bkn", server=False)
    credentials = BrokerCredentials.from_settings(
        _settings(
            security_protocol="SSL",
            ca_file=authority.cert_file,
            cert_file=client.cert,
            key_file=client.key,
        )
    )

    faust_credentials = credentials.faust()

    assert credentials.describe() == "over TLS (SSL)"
    assert isinstance(faust_credentials, faust.SSLCredentials)
    assert credentials_to_aiokafka_auth(faust_credentials) == credentials.client_kwargs()
    subjects = [dict(pair[0] for pair in ca["subject"]) for ca in _ca_certs(credentials)]
    assert subjects == [{"commonName": "kawal test CA"}]


def _ca_certs(credentials: BrokerCredentials) -> list[dict[str, Any]]:
    assert credentials.ssl_context is not None
    return list(credentials.ssl_context.get_ca_certs())


@pytest.fixture
def tls_server(authority: Authority) -> Iterator[tuple[int, list[str]]]:
    """A TLS server on loopback that requires a client certificate from ``authority``.

    It serves one connection. Yields its port and, once the handshake is over, the client's
    common name or the server-side error.
    """
    issued = authority.issue("broker", server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=authority.cert_file)
    context.load_cert_chain(issued.cert, issued.key)
    context.verify_mode = ssl.CERT_REQUIRED
    seen: list[str] = []
    listener = socket.create_server((HOST, 0))
    listener.settimeout(30)

    def serve() -> None:
        raw, _ = listener.accept()
        with raw:
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    seen.append(_common_name(tls.getpeercert()))
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as exc:
                seen.append(type(exc).__name__)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        thread.join(timeout=30)
        listener.close()


def _common_name(certificate: Any) -> str:
    subject = dict(pair[0] for pair in certificate["subject"])
    return str(subject["commonName"])


def _handshake(credentials: BrokerCredentials, port: int) -> bytes:
    assert credentials.ssl_context is not None
    with (
        socket.create_connection((HOST, port), timeout=30) as raw,
        credentials.ssl_context.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        return tls.recv(2)


def test_mutual_tls_handshake_with_the_clients_context(
    authority: Authority, tls_server: tuple[int, list[str]]
) -> None:
    port, seen = tls_server
    client = authority.issue("bkn", server=False)
    credentials = BrokerCredentials.from_settings(
        _settings(
            security_protocol="SSL",
            ca_file=authority.cert_file,
            cert_file=client.cert,
            key_file=client.key,
        )
    )

    assert _handshake(credentials, port) == b"ok"
    assert seen == ["bkn"]  # the server saw the client certificate


def test_a_broker_certificate_from_another_authority_is_refused(
    tmp_path: Path, authority: Authority, tls_server: tuple[int, list[str]]
) -> None:
    port, _ = tls_server
    stranger = Authority(tmp_path / "other", "another CA")
    client = stranger.issue("bkn", server=False)
    credentials = BrokerCredentials.from_settings(
        _settings(
            security_protocol="SSL",
            ca_file=stranger.cert_file,
            cert_file=client.cert,
            key_file=client.key,
        )
    )

    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(credentials, port)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"security_protocol": "SASL_PLAINTEXT", "username": "bkn"},
            "SASL_PLAINTEXT needs KAWAL_BROKER_USERNAME and KAWAL_BROKER_PASSWORD",
        ),
        (
            {"security_protocol": "SASL_SSL", "password": SecretStr(PASSWORD)},
            "SASL_SSL needs KAWAL_BROKER_USERNAME and KAWAL_BROKER_PASSWORD",
        ),
        (
            {"username": "bkn", "password": SecretStr(PASSWORD)},
            "KAWAL_BROKER_USERNAME and KAWAL_BROKER_PASSWORD are set but "
            "KAWAL_BROKER_SECURITY_PROTOCOL=PLAINTEXT does not use them",
        ),
        (
            {"security_protocol": "SSL", "password": SecretStr(PASSWORD)},
            "KAWAL_BROKER_PASSWORD is set but KAWAL_BROKER_SECURITY_PROTOCOL=SSL",
        ),
        (
            {
                "security_protocol": "SASL_PLAINTEXT",
                "username": "bkn",
                "password": SecretStr(PASSWORD),
                "ca_file": Path("ca.pem"),
            },
            "KAWAL_BROKER_CA_FILE is set but KAWAL_BROKER_SECURITY_PROTOCOL=SASL_PLAINTEXT",
        ),
        (
            {"security_protocol": "SASL_PLAINTEXT", "username": "bkn", "password": SecretStr("")},
            "KAWAL_BROKER_PASSWORD is empty",
        ),
        (
            {"security_protocol": "SSL", "ca_file": Path("/nonexistent/ca.pem")},
            "KAWAL_BROKER_CA_FILE=/nonexistent/ca.pem is not a readable file",
        ),
        (
            {"security_protocol": "SSL", "cert_file": Path("client.pem")},
            "KAWAL_BROKER_CERT_FILE and KAWAL_BROKER_KEY_FILE go together",
        ),
    ],
)
def test_incomplete_or_contradictory_settings_are_refused(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(BrokerCredentialsError, match=message) as refused:
        BrokerCredentials.from_settings(_settings(**settings))

    assert PASSWORD not in str(refused.value)


def test_a_ca_file_without_a_certificate_is_refused(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")

    with pytest.raises(BrokerCredentialsError, match="holds no PEM certificate"):
        BrokerCredentials.from_settings(_settings(security_protocol="SSL", ca_file=not_pem))


def test_a_key_of_another_certificate_is_refused(authority: Authority) -> None:
    client, other = authority.issue("bkn", server=False), authority.issue("kasn", server=False)

    with pytest.raises(BrokerCredentialsError, match="cannot be loaded"):
        BrokerCredentials.from_settings(
            _settings(security_protocol="SSL", cert_file=client.cert, key_file=other.key)
        )


def test_an_encrypted_key_is_refused_without_prompting(authority: Authority) -> None:
    client = authority.issue("bkn", server=False, password=b"key-password")

    with pytest.raises(BrokerCredentialsError, match="KAWAL_BROKER_KEY_FILE is encrypted"):
        BrokerCredentials.from_settings(
            _settings(security_protocol="SSL", cert_file=client.cert, key_file=client.key)
        )


def test_the_password_shows_in_no_repr_and_no_description() -> None:
    credentials = BrokerCredentials.from_settings(_sasl())
    faust_credentials = credentials.faust()

    shown = [
        repr(credentials),
        credentials.describe(),
        repr(credentials.client_kwargs()),
        "%s" % credentials.client_kwargs(),  # noqa: UP031 - how kafka-python logs its config
        repr(faust_credentials),
    ]

    assert not [text for text in shown if PASSWORD in text]
    assert credentials.describe() == "as user 'bkn' (SASL_PLAINTEXT, SCRAM-SHA-512)"


def test_docstring_examples_run() -> None:
    import doctest

    from streams.broker import credentials

    assert doctest.testmod(credentials).failed == 0
