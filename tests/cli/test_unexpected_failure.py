"""A defect in a command ends it with exit 1 and its frames, never the exception's message."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from streams.cli import cases, main
from streams.settings import Settings


def test_an_unexpected_failure_prints_its_frames_and_not_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nip = "199001012015031001"

    def defective(_args: argparse.Namespace, _settings: Settings) -> int:
        raise KeyError(f"subject {nip} not in index")  # as a careless lookup might

    monkeypatch.setattr(cases, "_case_list", defective)

    assert main(["case", "list"]) == 1
    err = capsys.readouterr().err
    assert "kawal: unexpected KeyError, a defect of kawal" in err
    assert "in defective" in err  # the frame that failed
    assert nip not in err


def test_a_file_system_refusal_is_the_operators_to_fix_not_a_defect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "keys"
    a_file.write_text("not a folder")

    code = main(["keys", "new", "bkn", "--dir", str(a_file)])

    err = capsys.readouterr().err
    assert code == 1
    assert "cannot write the private key" in err
    assert "(Not a directory); nothing was left there: check that the folder is a folder" in err
    assert "defect" not in err
    assert "Traceback" not in err
