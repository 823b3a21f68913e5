"""The hub's HTTP server over TLS, with OIDC sign-on: a worker of its own on a broker of its own.

The certificate is self-signed, made here; the client trusts it as its only CA. The worker
gets its own broker so that it joins no consumer group of the session's hub.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams.broker.endpoint import parse_broker_url
from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.keyring import ensure_local_keys
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.topics import all_topics
from streams.web.server_tls import CHECK_SECONDS
from tests.brokers import start_ephemeral_broker
from tests.hubtools import WAIT_SECONDS, worker_process
from tests.web.identity import (
    AUDIENCE,
    CLAIM,
    ISSUER,
    IdentityProvider,
    self_signed_certificate,
    serve_jwks,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class TlsHub:
    """The worker's HTTPS base URL, the context that trusts its certificate, the provider."""

    base_url: str
    trusting: ssl.SSLContext
    provider: IdentityProvider
    worker: ChildProcess
    cert: Path


def fetch(url: str, context: ssl.SSLContext | None, token: str | None = None) -> tuple[int, Any]:
    """Status and body (parsed if JSON) of a GET."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return int(response.status), _parsed(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), _parsed(exc.read())


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHub]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed_certificate(folder)
    provider = IdentityProvider()
    broker = start_ephemeral_broker(folder / "broker")
    try:
        bootstrap = parse_broker_url(broker.url).bootstrap
        provision_topics(bootstrap, all_topics(load_institutions(), Settings().partitions))
        with serve_jwks(provider.jwks()) as jwks_url:
            port = free_port()
            worker = worker_process(
                folder / "home",
                broker.url,
                port,
                {
                    "KAWAL_WEB_TLS_CERT": str(cert),
                    "KAWAL_WEB_TLS_KEY": str(key),
                    "KAWAL_OIDC_ISSUER": ISSUER,
                    "KAWAL_OIDC_AUDIENCE": AUDIENCE,
                    "KAWAL_OIDC_JWKS_URL": jwks_url,
                    "KAWAL_OIDC_INSTITUTION_CLAIM": CLAIM,
                },
            )
            (folder / "home").mkdir()
            ensure_local_keys(Settings(home=folder / "home"))
            worker.start()
            try:
                trusting = ssl.create_default_context(cafile=str(cert))
                hub = TlsHub(f"https://127.0.0.1:{port}", trusting, provider, worker, cert)
                wait_for_https(hub)
                yield hub
            finally:
                worker.stop(20)
    finally:
        broker.stop()


def wait_for_https(hub: TlsHub) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        assert hub.worker.alive, f"worker exited:\n{hub.worker.log_tail(40)}"
        try:
            if fetch(f"{hub.base_url}/health", hub.trusting)[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"not healthy over HTTPS:\n{hub.worker.log_tail(40)}")


def test_the_hub_answers_over_https_with_its_certificate(tls_hub: TlsHub) -> None:
    status, body = fetch(f"{tls_hub.base_url}/health", tls_hub.trusting)

    assert (status, body["status"]) == (200, "ok")
    with pytest.raises(urllib.error.URLError) as untrusted:
        fetch(f"{tls_hub.base_url}/health", ssl.create_default_context())
    assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        fetch(tls_hub.base_url.replace("https:", "http:") + "/health", None)


def test_an_oidc_jwt_is_the_reader_and_a_bad_one_is_refused(tls_hub: TlsHub) -> None:
    url = f"{tls_hub.base_url}/access-log"
    good = fetch(url, tls_hub.trusting, tls_hub.provider.token())
    wrong_audience = fetch(url, tls_hub.trusting, tls_hub.provider.token(aud="another-hub"))
    table = fetch(f"{tls_hub.base_url}/table/case-state/", tls_hub.trusting)

    assert good == (200, {"principal": "bkn", "role": "institution", "reads": []})
    assert wrong_audience[0] == 401
    assert wrong_audience[1]["reason"] == "jwt_wrong_audience"
    assert wrong_audience[1]["type"] == "urn:kawal:problem:jwt_wrong_audience"
    assert wrong_audience[1]["status"] == 401
    assert table[0] == 404


def test_a_renewed_certificate_is_served_without_a_restart(tls_hub: TlsHub, tmp_path: Path) -> None:
    # Last in this module: the hub serves another certificate afterwards.
    cert, key = self_signed_certificate(tmp_path, days=60)
    cert.replace(tls_hub.cert)
    key.replace(tls_hub.cert.with_name("key.pem"))
    renewed = ssl.create_default_context(cafile=str(tls_hub.cert))

    deadline = time.monotonic() + 3 * CHECK_SECONDS + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            status = fetch(f"{tls_hub.base_url}/health", renewed)[0]
            break
        except urllib.error.URLError:
            time.sleep(0.5)
    else:
        log = tls_hub.worker.log_tail(20)
        raise AssertionError(f"the renewed certificate is not served:\n{log}")

    assert status == 200
    assert tls_hub.worker.alive
    assert "HTTP certificate" in tls_hub.worker.log_tail(200)
