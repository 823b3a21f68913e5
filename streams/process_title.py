"""A serving process's title: ``kawal worker home=/srv/kawal``, what ``ps`` and ``top`` show.

Every hub on a machine ran as ``python -m streams.cli worker``: only the parent's pid told two
hubs' workers apart. The title names the command and the home (resolved), so an operator sees
whose process it is, and a second ``kawal up`` whose port is taken can say which hub holds it
(:mod:`streams.local.port_holders`). The home comes last, so a path with spaces reads back whole.

Example:
    >>> title_for(["worker"], Path("/srv/kawal"))
    'kawal worker home=/srv/kawal'
    >>> read_title("kawal up --demo home=/srv/my hub")
    ('up --demo', PosixPath('/srv/my hub'))
    >>> read_title("python -m http.server") is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import setproctitle

PREFIX = "kawal "
HOME_MARK = " home="


def title_for(words: Sequence[str], home: Path) -> str:
    """The title of ``kawal WORDS`` on ``home``."""
    return f"{PREFIX}{' '.join(words)}{HOME_MARK}{home.resolve()}"


def name_process(words: Sequence[str], home: Path) -> None:
    """Give this process the title of ``kawal WORDS`` on ``home``."""
    setproctitle.setproctitle(title_for(words, home))


def current_title() -> str:
    """This process's title as ``ps`` shows it."""
    return str(setproctitle.getproctitle())


def restore_title(title: str) -> None:
    """Give this process ``title`` again (a command run in a test's own process)."""
    setproctitle.setproctitle(title)


def read_title(title: str) -> tuple[str, Path] | None:
    """The command and home a Kawal process's ``title`` names, or None for any other process."""
    # A title shorter than the command line it replaced is padded: psutil gives the padding
    # as empty arguments, which a joined title ends with.
    title = title.rstrip()
    if not title.startswith(PREFIX) or HOME_MARK not in title:
        return None
    command, _, home = title.removeprefix(PREFIX).rpartition(HOME_MARK)
    return command, Path(home)
