"""The reporting portal in ``kawal up --demo``: Bawaslu Jawa Tengah's, on the embedded S3.

``kawal up`` passes the embedded storage's S3 endpoint and credentials to the demo
(``KAWAL_EVIDENCE_S3``, ``KAWAL_EVIDENCE_S3_ACCESS_KEY``, ``KAWAL_EVIDENCE_S3_SECRET_KEY``);
without them (an external broker, ``--ephemeral``) the demo has no portal. The portal listens on
``KAWAL_LAPOR_PORT`` (8090 by default); its secret is made once and kept in
``<root>/lapor/secret`` (mode 0600), so that reports spooled before a restart keep their
pseudonyms and evidence keys.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from minio import Minio

from streams.private_files import open_private, write_private_file

ENDPOINT = "KAWAL_EVIDENCE_S3"
ACCESS_KEY = "KAWAL_EVIDENCE_S3_ACCESS_KEY"
SECRET_KEY = "KAWAL_EVIDENCE_S3_SECRET_KEY"  # noqa: S105 - the name of a setting
PORT = "KAWAL_LAPOR_PORT"
DEFAULT_PORT = 8090
BUCKET = "kawal-evidence"


def demo_configs(root: Path, env: Mapping[str, str] = os.environ) -> dict[str, dict[str, Any]]:
    """The configurations of ``lapor-intake`` and ``lapor-status`` for the demo ({}: no S3).

    The evidence bucket is made if the store lacks it.
    """
    endpoint = env.get(ENDPOINT)
    if not endpoint:
        return {}
    access_key, secret_key = env.get(ACCESS_KEY, ""), env.get(SECRET_KEY, "")
    _ensure_bucket(endpoint, access_key, secret_key)
    spool_dir = root / "lapor"
    intake = {
        "institution": "bawaslu.33",
        "listen_port": int(env.get(PORT, DEFAULT_PORT)),
        "spool_dir": str(spool_dir),
        "secret": _secret(spool_dir / "secret"),
        "s3_endpoint": endpoint,
        "s3_bucket": BUCKET,
        "s3_access_key": access_key,
        "s3_secret_key": secret_key,
        "poll_seconds": 0.5,
    }
    status = {"institution": "bawaslu.33", "spool_dir": str(spool_dir)}
    return {"lapor-intake": intake, "lapor-status": status}


def _ensure_bucket(endpoint: str, access_key: str, secret_key: str) -> None:
    parts = urlsplit(endpoint)
    client = Minio(
        parts.netloc,
        access_key=access_key,
        secret_key=secret_key,
        secure=parts.scheme == "https",
        region="us-east-1",
    )
    if not client.bucket_exists(BUCKET):
        client.make_bucket(BUCKET)


def _secret(path: Path) -> str:
    """The demo portal's secret kept in ``path``, made (whole, mode 0600) if there is none."""
    kept = ""
    if os.path.lexists(path):
        with os.fdopen(open_private(path, os.O_RDONLY), "r") as file:
            kept = file.read().strip()
    if len(kept) >= 32:
        return kept
    made = secrets.token_urlsafe(32)
    # Written beside and renamed: a full disk leaves the old file, never half a secret.
    write_private_file(path, made.encode(), overwrite=True)
    return made
