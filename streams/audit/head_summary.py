"""The findings of a heads check as an auditor reads them: one line per distinct problem.

One rewrite of the store leaves every head kept after it unmatched, and a file of another
hub's heads has none the registry vouches for: each head is a finding (``--json`` lists them
all), but they are one problem. Findings of one code saying the same thing of their heads
(:attr:`streams.audit.head_check.Finding.problem`) are shown as one line naming how many
heads, which lines and which tree sizes.
"""

from __future__ import annotations

from streams.audit.head_check import Finding, HeadFinding, HeadsReport

#: What the text says when lines stand for several findings.
FULL_LIST = "one line per problem; --json lists every head's finding"


def summary_lines(report: HeadsReport) -> list[str]:
    """A line per distinct problem of ``report``, in the order each problem first appears."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        key = (finding.code, finding.problem or finding.detail)
        groups.setdefault(key, []).append(finding)
    lines = [_line(group, report) for group in groups.values()]
    if len(lines) < len(report.findings):
        lines.append(f"({FULL_LIST})")
    return lines


def _line(group: list[Finding], report: HeadsReport) -> str:
    first = group[0]
    if len(group) == 1 or not first.problem:
        return f"{first.code}: {first.detail}"
    heads = sorted({number for finding in group for number in finding.heads})
    sizes = [size for finding in group for size in finding.tree_sizes]
    about = f"{len(heads)} heads (lines {spans(heads)}"
    if sizes:
        low, high = min(sizes), max(sizes)
        about += f", tree size {low}" if low == high else f", tree sizes {low} to {high}"
    about += ")"
    if first.code == HeadFinding.FORK:
        matched = [number for number in heads if number in report.matching]
        side = f"heads {spans(matched)}" if matched else "none of them"
        about = f"{len(group)} pairs of {about}, of which the store matches {side}"
    return f"{first.code}: {about}: {first.problem}"


def spans(numbers: list[int]) -> str:
    """Sorted numbers written as runs: ``1-3, 5``."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)
