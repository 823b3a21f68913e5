"""The test vectors of docs/signing.md, met by a sender written in Node from the page alone.

tools/signing/vectors.mjs builds, commits, encodes, signs and seals the vectors' event with Node
libraries (avsc, @noble/curves, @noble/ciphers, @hpke/core) and the repository's schema files,
sharing no code with the hub: a vector that only the Python code reproduces, or a page that
only a reader of that code could follow, fails here. A tampered copy of the vectors must fail,
so a checker that checked nothing would too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / "tools" / "signing"
VECTORS = ROOT / "docs" / "signing-vectors.json"
INSTALL_HINT = "npm ci --ignore-scripts --prefix tools/signing"
#: Every section of the vectors the Node sender checks, by the prefix of its checks' names.
SECTIONS = ("sender.", "hub.", "commitment ", "event.", "entry.", "sealed.", "feed.", "tree.")


def run_node_sender(vectors: Path) -> tuple[int, dict[str, bool]]:
    """The checker's exit code and each check's name with whether it held."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "avsc").is_dir():
        pytest.fail(
            f"the Node signing client is not installed: needs node 20+ and `{INSTALL_HINT}`"
        )
    result = subprocess.run(
        [node, str(TOOLS / "vectors.mjs"), str(ROOT), str(vectors)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"the Node sender crashed: {result.stderr}"
    checks: dict[str, bool] = {}
    for line in result.stdout.splitlines():
        if line.startswith("ok "):
            checks[line[3:]] = True
        elif line.startswith("FAIL "):
            checks[line[5:].split(":", 1)[0]] = False
    return result.returncode, checks


def test_a_node_sender_written_from_the_page_reproduces_every_vector() -> None:
    code, checks = run_node_sender(VECTORS)
    assert [name for name, held in checks.items() if not held] == []
    assert code == 0
    assert all(any(name.startswith(s) for name in checks) for s in SECTIONS), sorted(checks)
    assert "event.signature" in checks
    assert "feed.ciphertext" in checks


def test_the_node_sender_fails_on_tampered_vectors(tmp_path: Path) -> None:
    vectors: dict[str, Any] = json.loads(VECTORS.read_text("utf-8"))
    flipped = f"{int(vectors['event']['signature'][:2], 16) ^ 1:02x}"
    vectors["event"]["signature"] = flipped + vectors["event"]["signature"][2:]
    vectors["feed"]["nonce"] = "00" * 12
    proof = vectors["tree"]["heads"][1]["consistency"]
    proof[0] = f"{int(proof[0][:2], 16) ^ 1:02x}" + proof[0][2:]
    tampered = tmp_path / "vectors.json"
    tampered.write_text(json.dumps(vectors), "utf-8")
    code, checks = run_node_sender(tampered)
    assert code == 1
    assert [name for name, held in checks.items() if not held] == [
        "event.signature",
        "feed.ciphertext",
        "tree.consistency",
    ]
