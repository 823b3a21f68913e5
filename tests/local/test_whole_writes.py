"""Private files are written whole: a write that fails leaves the old file or none, never half.

A full disk is simulated by a real failure of the write: a file size limit
(``RLIMIT_FSIZE``) set in a child process, under which the kernel refuses the bytes past the
limit (``EFBIG``, once ``SIGXFSZ`` is ignored) or kills the process (``SIGXFSZ``'s default,
a crash in the middle of the write). Before, ``kawal keys new`` on a full disk left
``keys/kawal/<id>.pem`` at 0 bytes, which every process then refused to start with.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli.exits import EXIT_ERROR, EXIT_OK

#: Bytes a child may write to any one file: fewer than a key's PEM (119) or a KEK file.
LIMIT = 40


#: Python ignores SIGXFSZ from its start: a child that is to be killed sets it back first.
DEFAULT_SIGXFSZ = "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
KAWAL = "import sys; from streams.cli import main; sys.exit(main(sys.argv[1:]))"


def limit_files() -> None:
    """A child's preparation: files of at most :data:`LIMIT` bytes, as on a nearly full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def run(
    home: Path, code: str, *args: str, killed: bool = False, limit: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` with ``KAWAL_HOME`` at ``home``, under the file size limit.

    ``killed``: the kernel kills the child at its first write past the limit (a crash in
    the middle of the write); otherwise that write fails with ``EFBIG``, as ``ENOSPC`` would.
    """
    return subprocess.run(
        [sys.executable, "-c", (DEFAULT_SIGXFSZ if killed else "") + code, *args],
        env={**os.environ, "KAWAL_HOME": str(home)},
        preexec_fn=limit_files if limit else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def kawal(
    home: Path, *args: str, killed: bool = False, limit: bool = True
) -> subprocess.CompletedProcess[str]:
    """``kawal ARGS``, by default under the file size limit."""
    return run(home, KAWAL, *args, killed=killed, limit=limit)


def files_in(folder: Path) -> list[str]:
    """Every name in ``folder`` and below it, temporary files included."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_a_key_whose_write_fails_leaves_no_file_and_says_what_to_do(tmp_path: Path) -> None:
    done = kawal(tmp_path, "keys", "new", "kawal", "--use", "signing")

    assert done.returncode == EXIT_ERROR, done.stderr
    assert "cannot write the private key" in done.stderr
    assert "nothing was left there: free space on that disk" in done.stderr
    assert "PRIVATE KEY" not in done.stdout + done.stderr
    # No key at all, not an empty one, and no temporary file left beside it.
    assert files_in(tmp_path / "keys") == []
    # Once space is back, the same command makes the key.
    again = kawal(tmp_path, "keys", "new", "kawal", "--use", "signing", limit=False)
    assert again.returncode == EXIT_OK, again.stderr
    [pem] = (tmp_path / "keys" / "kawal").glob("*.pem")
    assert b"PRIVATE KEY" in pem.read_bytes()


def test_a_key_write_killed_halfway_leaves_no_key_file(tmp_path: Path) -> None:
    done = kawal(tmp_path, "keys", "new", "kawal", "--use", "signing", killed=True)

    assert done.returncode == -signal.SIGXFSZ
    # What was cut short is the hidden temporary file, which no reader takes for a key.
    assert list((tmp_path / "keys" / "kawal").glob("*.pem")) == []


def test_a_kek_file_whose_rewrite_fails_is_left_as_it_was(tmp_path: Path) -> None:
    assert kawal(tmp_path, "kek", "new", limit=False).returncode == EXIT_OK
    kek_file = tmp_path / "keys" / "kek.toml"
    before = kek_file.read_bytes()

    done = kawal(tmp_path, "kek", "new")

    assert done.returncode == EXIT_ERROR, done.stderr
    assert f"cannot write the KEK file {kek_file}" in done.stderr
    assert "it was left as it was" in done.stderr
    assert kek_file.read_bytes() == before
    assert files_in(tmp_path / "keys") == ["kek.toml"]


def test_an_empty_kek_file_is_said_to_be_empty_and_restored_not_replaced(tmp_path: Path) -> None:
    kek_file = tmp_path / "keys" / "kek.toml"
    kek_file.parent.mkdir(mode=0o700)
    kek_file.touch(mode=0o600)

    done = kawal(tmp_path, "kek", "list", limit=False)

    assert done.returncode == EXIT_ERROR
    assert f"the KEK file {kek_file} is empty" in done.stderr
    assert "restore it from its backup" in done.stderr
    assert "kek new" not in done.stderr  # a new KEK opens none of the old data keys


WRITE = (
    "import sys; from pathlib import Path; from streams.private_files import write_private_file;"
    "write_private_file(Path(sys.argv[1]), b'x' * int(sys.argv[2]), overwrite=True)"
)
KEEP_KEY = (
    "import sys; from pathlib import Path; from connectors.pseudonyms import kept_key;"
    "kept_key(Path(sys.argv[1]))"
)


@pytest.mark.parametrize("killed", [False, True], ids=["refused", "killed"])
def test_a_file_rewritten_in_place_keeps_its_old_content_when_the_write_fails(
    tmp_path: Path, killed: bool
) -> None:
    # As the demo's PPK token is replaced: a half-written token would be refused as another's.
    path = tmp_path / "private" / "token"
    assert run(tmp_path, WRITE, str(path), "10").returncode == 0

    done = run(tmp_path, WRITE, str(path), str(LIMIT * 2), killed=killed)

    assert done.returncode == (-signal.SIGXFSZ if killed else 1)
    if not killed:
        assert "File too large" in done.stderr
        assert files_in(tmp_path / "private") == ["token"]
    assert path.read_bytes() == b"x" * 10


def test_a_connector_key_whose_write_fails_leaves_no_file_and_is_made_once_space_is_back(
    tmp_path: Path,
) -> None:
    # 64 hex digits and a newline: past the limit. An empty file left there would have been
    # refused at every start after (its content is no key), with the reports' pseudonyms
    # depending on the key made to replace it.
    path = tmp_path / "office" / "pseudonym.key"

    done = run(tmp_path, KEEP_KEY, str(path))

    assert done.returncode == 1
    assert f"cannot write the new pseudonym key file {path}" in done.stderr
    assert files_in(tmp_path / "office") == []
    assert run(tmp_path, KEEP_KEY, str(path), limit=False).returncode == 0
    assert len(bytes.fromhex(path.read_text())) == 32
