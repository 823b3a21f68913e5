"""An option a command does not have is refused with that command's own usage line.

Before, the usage line was the top one's, built with the command's group only: ``kawal case
list --bogus`` showed ``usage: kawal [-h] {case,replay,audit,stats} ...``, neither every
command nor the one given.
"""

from __future__ import annotations

import pytest

from streams.cli import main


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["case", "list", "--bogus"], "usage: kawal case list [-h] [--json]"),
        (["token", "list", "--bogus"], "usage: kawal token list [-h] [--json]"),
        (["up", "--bogus"], "usage: kawal up [-h]"),
        (["dlq", "list", "--stages", "x"], "usage: kawal dlq list [-h]"),
    ],
)
def test_an_unknown_option_is_refused_with_the_commands_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    command = " ".join(word for word in argv if not word.startswith("-") and word != "x")
    unknown = " ".join(word for word in argv[len(command.split()) :])
    assert err.splitlines()[-1] == f"kawal {command}: error: unrecognized arguments: {unknown}"
