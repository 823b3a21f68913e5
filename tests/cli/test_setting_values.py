"""A setting with a value it cannot take is one line naming the setting, exit 1, no traceback.

Run as an operator starts the hub, with the mistake in the environment. The value is not
repeated: a setting can be a password.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR

SECRET = "s3cret-value"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("KAWAL_PARTITIONS", SECRET, "integer"),
        ("KAWAL_WEB_PORT", SECRET, "integer"),
        ("KAWAL_LOG_FORMAT", SECRET, "'text' or 'json'"),
        ("KAWAL_LOG_LEVEL", SECRET, "'debug', 'info', 'warning', 'error' or 'critical'"),
        ("KAWAL_HTTP_IDLE_SECONDS", SECRET, "a valid number"),
        ("KAWAL_HTTP_IDLE_SECONDS", "0", "greater than 0"),
        ("KAWAL_HTTP_IDLE_SECONDS", "-5", "greater than 0"),
        ("KAWAL_HTTP_IDLE_SECONDS", "inf", "finite number"),
        # Before, `kawal up` bound them and failed with an OverflowError, a "defect".
        ("KAWAL_WEB_PORT", "70000", "less than or equal to 65535"),
        # Chromium answered ERR_UNSAFE_PORT for every page of a hub on 5061 (SIP).
        ("KAWAL_WEB_PORT", "5061", "browsers refuse to open port 5061"),
        ("KAWAL_WEB_PORT", "6000", "choose another port"),
        ("KAWAL_SINK_PORT", "-5", "greater than or equal to 1"),
        ("KAWAL_EMBEDDED_BROKER_PORT", "0", "greater than or equal to 1"),
        ("KAWAL_PROMETHEUS_PORT", "65536", "less than or equal to 65535"),
        ("KAWAL_CONNECTOR_METRICS_PORT", "70000", "less than or equal to 65535"),
        # Its gRPC ports are 10,000 higher.
        ("KAWAL_EMBEDDED_STORAGE_PORT", "60000", "less than or equal to 55531"),
    ],
)
def test_a_bad_setting_value_names_the_setting_and_what_it_takes(
    variable: str,
    value: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)

    code = main(["case", "list"])  # every command reads the settings first

    printed = capsys.readouterr()
    assert code == EXIT_ERROR
    [line] = printed.err.splitlines()
    assert line.startswith(f"kawal: {variable} ")
    assert said in line
    assert "defect" not in line
    assert SECRET not in line


def test_a_log_level_in_capitals_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.settings import Settings

    monkeypatch.setenv("KAWAL_LOG_LEVEL", "WARNING")

    assert Settings().log_level == "warning"
