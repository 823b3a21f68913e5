"""A wait, a size or a sequence number of zero or less is a usage error, before any work.

So is a token's revocation reason that is not one line.

Before, ``topics apply --wait -5`` waited no time and then called a running broker
unreachable; ``keys split --max-bytes 0`` and ``audit proof --seq 0`` reached their commands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.arguments import positive_count, positive_seconds

CASE = "5d2e8f1a-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["topics", "apply", "--wait", "-5"], "argument --wait: '-5' is not a number of seconds"),
        (["topics", "apply", "--wait", "0"], "argument --wait: '0' is not a number of seconds"),
        (["topics", "apply", "--wait", "inf"], "argument --wait: 'inf' is not a number of"),
        (["keys", "split", "--out", "x", "--max-bytes", "0"], "'0' is not a whole number of 1"),
        (["audit", "proof", CASE, "--seq", "-1"], "argument --seq: '-1' is not a whole number"),
        (["audit", "proof", CASE, "--tree-size", "1.5"], "'1.5' is not a whole number of 1"),
        # A reason is a line of `kawal token list`.
        (["token", "revoke", "tok_x", "--reason", "leaked\nagain"], "--reason: give it on one"),
        (["token", "revoke", "tok_x", "--reason", "  "], "--reason: give it on one line"),
    ],
)
def test_a_number_a_command_cannot_take_is_a_usage_error(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))

    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing was done


def test_a_positive_wait_is_taken_as_seconds() -> None:
    assert positive_seconds("0.5") == 0.5
    assert positive_count("17") == 17
