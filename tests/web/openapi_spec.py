"""Reading docs/openapi.yaml in tests: the document, an operation's answers, their schemas."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator

SPEC_FILE = Path(__file__).parents[2] / "docs" / "openapi.yaml"


@functools.cache
def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    found: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return found


def served_by(process: str) -> set[str]:
    """The paths the document says ``process`` (worker or sink) serves."""
    return {path for path, item in spec()["paths"].items() if process in item["x-served-by"]}


def response(path: str, status: int) -> dict[str, Any] | None:
    """The documented answer of ``GET path`` with ``status``, its ``$ref`` followed, or None."""
    found = spec()["paths"][path]["get"]["responses"].get(str(status))
    if found is None or "$ref" not in found:
        return found
    name = found["$ref"].rsplit("/", 1)[-1]
    answer: dict[str, Any] = spec()["components"]["responses"][name]
    return answer


def check_body(path: str, status: int, media_type: str, body: Any) -> None:
    """Fail unless ``body`` is what the document says ``GET path`` answers with ``status``."""
    answer = response(path, status)
    assert answer is not None, f"GET {path} answers {status}, which is not documented"
    schema = answer["content"][media_type]["schema"]
    rooted = {"components": spec()["components"], **schema}
    # Formats too: a date-time without its offset is not RFC 3339.
    validator = OAS31Validator(rooted, format_checker=OAS31Validator.FORMAT_CHECKER)
    errors = [error.message for error in validator.iter_errors(body)]
    assert errors == [], (path, status, body)
