"""``kawal deadline due``: the due date of a clock, every day skipped and why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streams import cli
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_PROVISIONAL, EXIT_USAGE

DUE_2027 = "2027-01-14T17:00:00+00:00"
#: The console script installed beside this interpreter.
KAWAL = str(Path(sys.executable).parent / "kawal")


def test_due_across_the_new_year_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deadline", "due", "--start", "2026-12-21", "--days", "14", "--json"])
    view = json.loads(capsys.readouterr().out)

    assert code == EXIT_OK
    assert view["last_working_day"] == "2027-01-14"
    assert view["due_at"] == DUE_2027
    assert view["provisional"] is False
    named = {day["date"]: (day["kind"], day["name"]) for day in view["skipped"]}
    assert named["2026-12-24"] == ("cuti_bersama", "Cuti Bersama Hari Raya Natal")
    assert named["2026-12-25"] == ("holiday", "Hari Raya Natal")
    assert named["2027-01-01"] == ("holiday", "Tahun Baru Masehi")
    assert named["2027-01-05"][0] == "holiday"
    assert named["2026-12-26"][0] == "weekend"
    assert len(view["skipped"]) == 10


def test_due_as_text_for_legal_staff(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deadline", "due", "--start", "2026-12-21", "--days", "14"])
    out = capsys.readouterr().out

    assert code == EXIT_OK
    assert "last working day 2027-01-14 (Thursday)" in out
    assert f"due at {DUE_2027}" in out
    assert "2026-12-24 Thu  cuti bersama  Cuti Bersama Hari Raya Natal  [holidays " in out
    assert "2026-12-26 Sat  weekend" in out
    assert "PROVISIONAL" not in out


def test_span_into_a_year_without_data_exits_provisional(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["deadline", "due", "--start", "2099-06-01", "--days", "14"])
    out = capsys.readouterr().out

    assert code == EXIT_PROVISIONAL
    assert "PROVISIONAL: no holiday data for 2099" in out


def test_provisional_exit_code_is_documented() -> None:
    assert "7 ``deadline\ndue`` counted through a year without holiday data" in (cli.__doc__ or "")


def test_override_file_of_the_settings_is_used_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "calendar.toml"
    overrides.write_text(
        '[[override]]\ndate = 2026-12-28\noff = true\nname = "Cuti Bersama tambahan"\n'
        'source = "SKB 3 Menteri amendment (test)"\n\n'
        '[[override]]\ndate = 2027-01-05\noff = false\nname = "moved"\nsource = "Keppres (test)"\n'
    )
    monkeypatch.setenv("KAWAL_CALENDAR_FILE", str(overrides))

    code = main(["deadline", "due", "--start", "2026-12-21", "--days", "14"])
    out = capsys.readouterr().out

    assert code == EXIT_OK
    assert "2026-12-28 Mon  override      Cuti Bersama tambahan  [SKB 3 Menteri amendment" in out
    assert "counted as a working day: 2027-01-05 moved  [override: Keppres (test)]" in out
    assert "last working day 2027-01-14" in out


def test_bad_override_file_exits_with_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "calendar.toml"
    overrides.write_text("[years]\n2026 = [2026-12-24]\n")
    monkeypatch.setenv("KAWAL_CALENDAR_FILE", str(overrides))

    code = main(["deadline", "due", "--start", "2026-12-21", "--days", "14"])

    assert code == EXIT_ERROR
    assert "as [[override]] entries" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--start", "21-12-2026", "--days", "14"],
        ["--start", "2026-12-21", "--days", "0"],
        ["--start", "2026-12-21", "--days", "99999999"],
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["deadline", "due", *args])

    assert raised.value.code == EXIT_USAGE


def test_a_count_in_other_digits_is_a_usage_error_that_says_what_to_write(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["deadline", "due", "--start", "2026-12-21", "--days", "\u00b2"])

    assert raised.value.code == EXIT_USAGE
    assert "is not a whole number of working days from 1 to 2500" in capsys.readouterr().err


def test_a_count_past_the_last_date_exits_with_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["deadline", "due", "--start", "9999-12-28", "--days", "5"])

    assert code == EXIT_ERROR
    assert "run past 9999-12-31" in capsys.readouterr().err


def test_installed_command_answers_the_same() -> None:
    done = subprocess.run(
        [KAWAL, "deadline", "due", "--start", "2026-12-21", "--days", "14", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["due_at"] == DUE_2027


def test_a_reader_that_stops_reading_is_no_error() -> None:
    # `kawal ... | head`: the pipe's read end is closed before kawal writes.
    command = [sys.executable, "-m", "streams.cli", "deadline", "due", "--start", "2026-12-21"]
    child = subprocess.Popen(
        [*command, "--days", "14"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    child.stdout.close()
    _, errors = child.communicate(timeout=60)
    assert child.returncode == EXIT_OK
    assert b"Traceback" not in errors
