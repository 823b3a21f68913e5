"""promtool, from Debian's ``prometheus`` package, run on the repository's monitoring files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "prometheus" / "rules.yml"
RULE_TESTS = ROOT / "monitoring" / "tests" / "rules_test.yml"


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``promtool ARGS``; fail with the install command when it is missing."""
    path = shutil.which("promtool")
    assert path, "promtool is missing: apt-get install -y prometheus (make system-deps)"
    return subprocess.run(
        [path, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )
