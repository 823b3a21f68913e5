"""``kawal_build_info``: which release, revision and Python a process runs, as labels of a 1.

Prometheus's convention for build facts (a gauge fixed at 1, the facts as labels) lets a query
join them onto any other series: ``rate(kawal_events_total[5m]) * on(instance) group_left(version)
kawal_build_info``. Every label is a fact of the build, never of a case.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Gauge

#: Environment variable the image build sets to the source revision it was built from.
REVISION_ENV = "KAWAL_BUILD_REVISION"


def kawal_version() -> str:
    """The installed kawal distribution's version ("unknown" when run from a bare checkout)."""
    try:
        return version("kawal")
    except PackageNotFoundError:
        return "unknown"


def register_build_info(registry: CollectorRegistry, role: str) -> Gauge:
    """Add ``kawal_build_info{version, revision, python, role} 1`` to ``registry``."""
    info = Gauge(
        "kawal_build_info",
        "Always 1: the kawal version, source revision and Python of this process, and its role.",
        ["version", "revision", "python", "role"],
        registry=registry,
    )
    info.labels(
        version=kawal_version(),
        revision=os.environ.get(REVISION_ENV, "unknown"),
        python=platform.python_version(),
        role=role,
    ).set(1)
    return info
