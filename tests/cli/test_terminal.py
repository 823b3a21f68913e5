"""Control characters in what a command prints are shown, not obeyed by the terminal."""

from __future__ import annotations

import io
import json

from streams.cli.terminal import ShownControls, one_row, shown


def test_escape_sequences_are_shown_and_line_structure_kept() -> None:
    assert shown("a\tb\r\nc\n") == "a\tb\r\nc\n"
    assert shown("\x1b[2J\x07\x00\x7f\x9b") == "\\u001b[2J\\u0007\\u0000\\u007f\\u009b"
    assert shown("Jawa Tengah — ñ 東") == "Jawa Tengah — ñ 東"


def test_a_cell_of_a_listing_keeps_to_its_row() -> None:
    assert one_row("refused\nforged row\r\u2028end\tok") == (
        "refused\\u000aforged row\\u000d\\u2028end\tok"
    )


def test_a_json_string_reads_back_as_the_character_shown() -> None:
    written = '{"election": "' + shown("pilkada\x9b2J\x7f") + '"}'

    assert json.loads(written) == {"election": "pilkada\x9b2J\x7f"}


def test_the_stream_counts_what_it_was_given_and_passes_the_rest_through() -> None:
    target = io.StringIO()
    stream = ShownControls(target)

    assert stream.write("\x1b]0;title\x07") == 10
    stream.flush()
    assert target.getvalue() == "\\u001b]0;title\\u0007"
    assert stream.writable()
