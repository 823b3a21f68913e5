"""The HTTP server's TLS: its context, and its certificate renewed in place.

A certificate is renewed before it expires (cert-manager, an operator's script), its files
rewritten where the server reads them. Restarting the worker for that would pause every case
while its tables restore, so the process looks at the two files every
:data:`CHECK_SECONDS` and loads a changed pair into the context it serves from: each new
connection is made with the new certificate. A pair that does not load (a key of another
certificate, half a file) at two looks in a row is logged and counted, and the previous
certificate is served until the files are fixed; ``kawal_web_certificate_expiry_timestamp_seconds``
says when it runs out.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import faust
from cryptography import x509
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitoring.metrics import HubMetrics
from schemas.errors import KawalError

LOGGER = logging.getLogger(__name__)

#: How often the certificate and key files are looked at, in seconds (two ``stat`` calls).
CHECK_SECONDS = 10.0


class CertificateSettingsError(KawalError):
    """The HTTP server's certificate settings cannot work."""


@dataclass(frozen=True)
class FileStamp:
    """What changes when a file is rewritten or its link swapped: inode, size, mtime."""

    inode: int
    size: int
    modified_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """The stamp of ``path`` (links followed), None if it cannot be read."""
        try:
            status = path.stat()
        except OSError:
            return None
        return cls(status.st_ino, status.st_size, status.st_mtime_ns)


def server_tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The HTTP server's TLS context from ``KAWAL_WEB_TLS_CERT`` and ``_KEY``; None: plain HTTP.

    Raises:
        CertificateSettingsError: only one of the two is set, or they cannot be loaded.
    """
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise CertificateSettingsError(
            "set both KAWAL_WEB_TLS_CERT and KAWAL_WEB_TLS_KEY, or neither"
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateSettingsError(
            f"cannot load the HTTP server's certificate {cert} and key {key}: {exc}"
        ) from exc
    return context


class ServerCertificate:
    """The certificate a TLS context serves, loaded again when its files change."""

    def __init__(self, context: ssl.SSLContext, cert: Path, key: Path) -> None:
        """Watches ``cert`` and ``key``, already loaded into ``context``."""
        self.context, self.cert, self.key = context, cert, key
        self._stamps = self._stamp()
        #: The stamps of a changed pair that did not load at the last look.
        self._unloadable: tuple[FileStamp | None, FileStamp | None] | None = None
        self.not_after = _not_after(cert)
        #: Changed pairs that did not load; the previous certificate was kept each time.
        self.reload_failures = 0

    def reload_if_changed(self) -> bool:
        """Loads the pair if either file changed since the last look; True if it did.

        A pair that does not load is looked at again once: a renewal writing its two files one
        after the other may be caught between them. Still unchanged and not loading at that
        second look, it is logged (paths and the reason, which names no secret) and counted,
        and tried again only once the files change again.
        """
        stamps = self._stamp()
        if stamps == self._stamps:
            return False
        try:
            self.context.load_cert_chain(self.cert, self.key)
            not_after = _not_after(self.cert)
        except (OSError, ssl.SSLError, ValueError) as exc:
            if stamps == self._unloadable:
                self._stamps = stamps
                self._report(exc)
            self._unloadable = stamps
            return False
        self._stamps, self._unloadable, self.not_after = stamps, None, not_after
        LOGGER.info("HTTP certificate %s loaded again, valid until %s", self.cert, not_after)
        return True

    def _report(self, exc: Exception) -> None:
        self.reload_failures += 1
        LOGGER.error(
            "cannot load the renewed HTTP certificate %s and key %s (%s); still serving the "
            "previous one, valid until %s: write a matching certificate and key there",
            self.cert,
            self.key,
            exc,
            self.not_after.isoformat(),
        )

    def _stamp(self) -> tuple[FileStamp | None, FileStamp | None]:
        return FileStamp.of(self.cert), FileStamp.of(self.key)


def _not_after(cert: Path) -> datetime:
    """When the first certificate of the PEM file ``cert`` expires."""
    return x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc


class CertificateCollector(Collector):
    """The served certificate's expiry and the renewals that failed to load."""

    def __init__(self, certificate: ServerCertificate) -> None:
        """Reads ``certificate`` at each scrape."""
        self.certificate = certificate

    def collect(self) -> Iterable[Metric]:
        """Expiry time and failed reloads."""
        yield GaugeMetricFamily(
            "kawal_web_certificate_expiry_timestamp_seconds",
            "When the certificate this process's HTTP server serves expires (Unix time).",
            value=self.certificate.not_after.timestamp(),
        )
        yield CounterMetricFamily(
            "kawal_web_certificate_reload_failures",
            "Renewed certificate files that did not load; the previous certificate was kept.",
            value=self.certificate.reload_failures,
        )


def watch(app: faust.App, cert: Path | None, key: Path | None, metrics: HubMetrics) -> None:
    """Reloads the app's HTTP certificate when ``cert`` or ``key`` change, with its metrics.

    Nothing to do for an app serving plain HTTP.
    """
    context = app.conf.web_ssl_context
    if context is None or cert is None or key is None:
        return
    certificate = ServerCertificate(context, cert, key)
    metrics.registry.register(CertificateCollector(certificate))

    async def look() -> None:
        certificate.reload_if_changed()

    app.timer(CHECK_SECONDS, name="kawal.web-certificate")(look)
