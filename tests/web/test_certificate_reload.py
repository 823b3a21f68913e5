"""A renewed HTTP certificate is served without a restart; a broken renewal keeps the old one.

A real TLS server in this process serves from the context :class:`ServerCertificate` watches;
each check opens a new connection and reads the certificate the handshake presents.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import HubMetrics
from streams.web.server_tls import CertificateCollector, ServerCertificate, server_tls_context
from tests.web.identity import self_signed_certificate


def serve(context: ssl.SSLContext) -> tuple[int, threading.Event]:
    """A TLS server on a free port completing one handshake per connection, until stopped."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopped = threading.Event()

    def accept() -> None:
        with listener:
            while not stopped.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    with context.wrap_socket(connection, server_side=True):
                        pass
                except (OSError, ssl.SSLError):
                    connection.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], stopped


def served_certificate(port: int) -> bytes:
    """The DER certificate a new connection to ``port`` is shown."""
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def der_of(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def renew(into: Path, folder: Path, days: int) -> None:
    """A new pair written over ``into``'s, as a renewal swaps the files in place."""
    cert, key = self_signed_certificate(folder, days=days)
    os.replace(cert, into / "cert.pem")
    os.replace(key, into / "key.pem")


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[ServerCertificate, int, Path]]:
    live = tmp_path / "live"
    live.mkdir()
    cert, key = self_signed_certificate(live, days=7)
    context = server_tls_context(cert, key)
    assert context is not None
    port, stopped = serve(context)
    yield ServerCertificate(context, cert, key), port, live
    stopped.set()


def test_a_renewed_pair_is_served_to_new_connections(
    watched: tuple[ServerCertificate, int, Path], tmp_path: Path
) -> None:
    certificate, port, live = watched
    first = served_certificate(port)
    expiry_before = certificate.not_after
    unchanged = certificate.reload_if_changed()

    renew(live, tmp_path, days=90)
    reloaded = certificate.reload_if_changed()

    assert (unchanged, reloaded) == (False, True)
    assert first != served_certificate(port) == der_of(live / "cert.pem")
    assert (certificate.not_after - expiry_before).days in (82, 83)
    assert certificate.reload_if_changed() is False  # loaded once per change


def test_a_broken_renewal_keeps_the_previous_certificate_and_is_counted(
    watched: tuple[ServerCertificate, int, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    certificate, port, live = watched
    first, expiry = served_certificate(port), certificate.not_after
    other = tmp_path / "other"
    other.mkdir()
    _, foreign_key = self_signed_certificate(other)
    # A renewal half done: the key of another certificate beside the old certificate.
    os.replace(foreign_key, live / "key.pem")

    with caplog.at_level(logging.ERROR, logger="streams.web.server_tls"):
        looks = [certificate.reload_if_changed() for _ in range(4)]

    assert looks == [False] * 4
    assert certificate.reload_failures == 1  # counted at the second look, then left alone
    assert served_certificate(port) == first
    assert (certificate.reload_failures, certificate.not_after) == (1, expiry)
    assert "still serving the previous one" in caplog.text
    assert "BEGIN" not in caplog.text  # no key material in the log
    renew(live, tmp_path, days=30)
    assert certificate.reload_if_changed() is True
    assert served_certificate(port) == der_of(live / "cert.pem")


def test_the_metrics_show_the_expiry_and_the_failures(
    watched: tuple[ServerCertificate, int, Path],
) -> None:
    certificate, _, live = watched
    metrics = HubMetrics()
    metrics.registry.register(CertificateCollector(certificate))
    (live / "cert.pem").write_text("not a certificate\n")
    certificate.reload_if_changed()
    certificate.reload_if_changed()

    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
    }

    expiry = certificate.not_after.timestamp()
    assert samples["kawal_web_certificate_expiry_timestamp_seconds"] == expiry
    assert samples["kawal_web_certificate_reload_failures_total"] == 1


def test_a_renewal_caught_between_its_two_files_is_not_a_failure(
    watched: tuple[ServerCertificate, int, Path], tmp_path: Path
) -> None:
    certificate, port, live = watched
    cert, key = self_signed_certificate(tmp_path, days=90)
    os.replace(cert, live / "cert.pem")  # the new certificate, the old key still beside it

    between = certificate.reload_if_changed()
    os.replace(key, live / "key.pem")
    after = certificate.reload_if_changed()

    assert (between, after, certificate.reload_failures) == (False, True, 0)
    assert served_certificate(port) == der_of(live / "cert.pem")
