"""`kawal --help` and every subcommand's, as a user reads them on a terminal."""

from __future__ import annotations

from tests.cli_parsers import every_parser, port_settings


def test_no_help_shows_the_docstrings_markup() -> None:
    # Help texts taken from docstrings would show reST's ``literal`` quotes to the user.
    marked = {
        " ".join(("kawal", *path)): [line for line in text.splitlines() if "``" in line]
        for path, parser in every_parser()
        if "``" in (text := parser.format_help())
    }

    assert marked == {}


def test_the_exit_codes_are_in_kawal_help() -> None:
    _, kawal = next(every_parser())
    text = " ".join(kawal.format_help().split())

    assert "6 `topics apply --dry-run` found topics to create" in text
    assert "8 `erase` destroyed the data key" in text


def test_kawal_up_help_names_its_home_and_every_port_setting() -> None:
    # Another hub on the machine, or a taken 8090, must be movable from `--help` alone.
    up = dict(every_parser())[("up",)]
    text = " ".join(up.format_help().split())

    assert sorted(s for s in ("KAWAL_HOME", *port_settings()) if s not in text) == []
