"""The contract suite's keyring is one per process, whichever thread asks for it first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process, so that no earlier test has made the keyring already.
RACE = """
import threading
from connectors.signed_fixtures import contract_keyring

start = threading.Barrier(4)
got = []

def ask():
    start.wait()
    got.append(contract_keyring())

threads = [threading.Thread(target=ask) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len({id(keyring) for keyring in got}))
"""


def test_threads_asking_at_once_get_the_same_keyring() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    # A connector thread and the test feeding it must trust the same hub key.
    assert done.stdout.strip() == "1"
