"""The generated national registry kept as test data (``tests/data/national``)."""

from __future__ import annotations

from pathlib import Path

NATIONAL_DIR = Path(__file__).parent / "data" / "national"
#: 1,743 institutions built by ``kawal registry build`` from the two CSV files beside it.
NATIONAL_REGISTRY = NATIONAL_DIR / "institutions.toml"
#: 38 provinces by their real codes and names, and 514 regencies and cities: the real count of
#: each province, generated codes and names.
NATIONAL_REGIONS = NATIONAL_DIR / "regions.csv"
#: 80 central agencies, generated.
NATIONAL_AGENCIES = NATIONAL_DIR / "agencies.csv"
