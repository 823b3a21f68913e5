"""Which series the product exports, and which metric names a PromQL expression reads.

The names come from the source: every ``prometheus_client`` metric or metric family whose name
a module of ``monitoring``, ``streams`` or ``connectors`` declares as a literal (the worker's,
the sink's and the connectors' registries are assembled from those), with the samples
``prometheus_client`` derives from each (``_total`` of a counter, ``_bucket``/``_sum``/
``_count`` of a histogram...); what the process collectors of every registry export, read from
a real one; the recording rules of ``monitoring/prometheus/rules.yml``; and Prometheus's own
``up``.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from monitoring.process_registry import process_registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitoring", "streams", "connectors")
#: Sources that are not the product's modules: a new connector's scaffold, with placeholders.
SKIPPED = (ROOT / "connectors" / "template",)
RULES = ROOT / "monitoring" / "prometheus" / "rules.yml"

#: The samples each kind of metric exports, as suffixes of its name.
_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "CounterMetricFamily": ("_total", "_created"),
    "Gauge": ("",),
    "GaugeMetricFamily": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "HistogramMetricFamily": ("_bucket", "_sum", "_count"),
    "Summary": ("_sum", "_count", "_created"),
    "SummaryMetricFamily": ("_sum", "_count"),
    "Info": ("_info",),
    "InfoMetricFamily": ("_info",),
    "Enum": ("",),
}
#: PromQL words that are not metric names.
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
    | {"and", "or", "unless", "offset", "inf", "nan"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")


def promql_metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects (not its functions, labels, keywords or numbers).

    Example:
        >>> sorted(promql_metric_names('sum by (le) (rate(a_bucket{x="b_c"}[5m])) / on() b:c'))
        ['a_bucket', 'b:c']
    """
    plain = _STRING.sub('""', expr)
    plain = _MATCHERS.sub(" ", plain)
    plain = _GROUPING.sub(" ", plain)
    return {name for name in _NAME.findall(plain) if name.lower() not in _KEYWORDS}


@functools.cache
def declared_samples() -> frozenset[str]:
    """Every sample name the product's modules declare a metric for."""
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if any(path.is_relative_to(skipped) for skipped in SKIPPED):
                continue
            for kind, name in _metric_calls(ast.parse(path.read_text(encoding="utf-8"))):
                base = name.removesuffix("_total") if kind.startswith("Counter") else name
                found |= {base + suffix for suffix in _SUFFIXES[kind]}
    return frozenset(found)


def _metric_calls(tree: ast.AST) -> Iterator[tuple[str, str]]:
    """(kind, name) of each metric constructor called with a literal name in ``tree``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        first = node.args[0]
        if kind in _SUFFIXES and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield kind, first.value


def process_samples() -> set[str]:
    """The samples every process's registry exports besides its own metrics, read from one."""
    return {sample.name for family in process_registry().collect() for sample in family.samples}


def recorded_names() -> set[str]:
    """The recording rules' names of ``rules.yml``."""
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def exported_names() -> frozenset[str]:
    """Every series name a dashboard may read: the product's, the rules' and ``up``."""
    return declared_samples() | process_samples() | recorded_names() | {"up"}
