"""Secrets from files: a container's `/run/secrets/kawal_*` sets a setting; the environment wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SHOW = (
    "from streams.settings import Settings; s = Settings(); "
    "print(s.broker_password.get_secret_value(), s.audit_url)"
)


def _settings_seen(secrets: Path, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**os.environ, "KAWAL_SECRETS_DIR": str(secrets), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()


def test_a_secret_file_sets_a_setting_and_the_environment_overrides_it(tmp_path: Path) -> None:
    (tmp_path / "kawal_broker_password").write_text("from-the-file\n")
    url = "postgresql+psycopg://kawal:p4ss@audit-db/kawal"
    (tmp_path / "kawal_audit_db_url").write_text(url + "\n")

    assert _settings_seen(tmp_path) == ["from-the-file", url]
    assert _settings_seen(tmp_path, KAWAL_BROKER_PASSWORD="from-env")[0] == "from-env"
