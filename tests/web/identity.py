"""A stand-in identity provider for the tests: keys made here, a JWKS served over real HTTP.

Also a self-signed certificate for the HTTP server's TLS tests.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ISSUER = "https://sso.example.go.id/realms/kawal"
AUDIENCE = "kawal-hub"
CLAIM = "kawal_institution"
KID = "test-key-1"


class IdentityProvider:
    """An ES256 signing key, and JWTs signed with it (or with another, for the bad cases)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.stranger = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        """The key set the provider publishes: only the public half of ``key``."""
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": KID, "use": "sig", "alg": "ES256"}]}

    def token(
        self,
        *,
        drop: tuple[str, ...] = (),
        kid: str = KID,
        signer: ec.EllipticCurvePrivateKey | None = None,
        **claims: Any,
    ) -> str:
        """A JWT for bkn's user-1, valid for an hour, with ``claims`` changed or ``drop``ped."""
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-1",
            "iat": now,
            "exp": now + timedelta(hours=1),
            CLAIM: "bkn",
        }
        body |= claims
        for name in drop:
            body.pop(name)
        return jwt.encode(body, signer or self.key, algorithm="ES256", headers={"kid": kid})


@contextmanager
def serve_jwks(jwks: dict[str, Any]) -> Iterator[str]:
    """Serve ``jwks`` on a free loopback port; yields its URL."""
    payload = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: no request lines on stderr."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def self_signed_certificate(folder: Path, days: int = 7) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, valid ``days``, signed by its own key: ``(cert, key)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
