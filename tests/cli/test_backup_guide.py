"""The operations guide tells how to back up every piece of a one-machine hub's state.

README.md lists what ``KAWAL_HOME`` holds; an operator who loses the machine has only what
the guide told them to copy, and how: a plain copy of a live SQLite file in WAL mode misses
what its write-ahead log holds, and the rebuilt store's log no longer matches kept heads.
"""

from __future__ import annotations

from pathlib import Path

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def backup_guide() -> str:
    """The bullet of the day-to-day tasks that backs up a one-machine hub."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index("- **Back up a one-machine hub**")
    # One line per bullet: the guide wraps its sentences anywhere.
    return " ".join(text[start : text.index("\n- **", start + 1)].split())


def test_every_piece_of_state_is_backed_up_and_how() -> None:
    guide = backup_guide()

    for state in ("audit.db", "vault.db", "checkpoints.db", "keys/", "kek.toml", "broker/"):
        assert state in guide, state
    assert 'sqlite3 KAWAL_HOME/audit.db ".backup' in guide
    assert "while the hub is stopped" in guide
    assert "kawal audit verify --heads" in guide


def test_rebuilding_an_empty_store_warns_of_the_kept_heads() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    rebuild = " ".join(text[text.index("- **Rebuild the store.**") :].split("\n- **", 1)[0].split())

    assert "head_not_in_store" in rebuild
    assert "Restore the store from its backup first" in rebuild
