"""Settings of the tests that send generated requests to a running server.

By default each runs a fixed set of examples (``derandomize``), so a run of the suite is
repeatable. ``KAWAL_FUZZ_EXAMPLES=N`` runs N new random examples instead, as ``make battery``
does, to look further.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Set to a number of examples: random ones, that many.
EXAMPLES_SETTING = "KAWAL_FUZZ_EXAMPLES"


def fuzz_settings(examples: int) -> settings:
    """``examples`` fixed examples, or as many random ones as ``KAWAL_FUZZ_EXAMPLES`` says."""
    wanted = os.environ.get(EXAMPLES_SETTING)
    return settings(
        max_examples=int(wanted) if wanted else examples,
        derandomize=not wanted,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
