"""The hub's packages declare their types (PEP 561).

So a connector of an institution's own is type-checked against the SDK it subclasses, instead
of mypy seeing every base class as ``Any``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("streams", "schemas", "connectors", "monitoring")


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_ships_its_py_typed_marker(package: str) -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    shipped = setuptools["setuptools"]["package-data"][package]

    assert (ROOT / package / "py.typed").is_file()
    assert "py.typed" in shipped
