"""The settings of ``kawal up --monitoring``: its Prometheus, where alerts go, the runbooks.

Part of :class:`streams.settings.Settings` (read there, like every other ``KAWAL_*`` variable);
apart only because these say where alerts reach people, which the hub itself never reads.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from streams.setting_types import Port


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9093"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(
            "must be a base URL without user, password, query or fragment: put credentials in "
            "a reverse proxy in front of it"
        )
    return value.rstrip("/")


#: A base URL (``http(s)://host[:port][/path]``), without a trailing slash.
BaseUrl = Annotated[str, AfterValidator(_base_url)]


class MonitoringSettings(BaseModel):
    """Where the local Prometheus listens, which Alertmanager it tells, where runbooks are."""

    prometheus_port: Port = Field(
        default=9090,
        description="Port on 127.0.0.1 of the Prometheus that `kawal up --monitoring` runs.",
    )
    alertmanager_url: BaseUrl | None = Field(
        default=None,
        description=(
            "Base URL of the Alertmanager the Prometheus of `kawal up --monitoring` sends its "
            "alerts to (e.g. http://127.0.0.1:9093), which routes them to people; unset: alerts "
            "are only shown on Prometheus's /alerts page and reach nobody."
        ),
    )
    runbook_base_url: BaseUrl | None = Field(
        default=None,
        description=(
            "Base URL of the published docs/ folder (e.g. https://docs.example.go.id/kawal): "
            "each alert's runbook_url is BASE/operations.md#<alert>, a link notifications carry; "
            "unset: this installation's docs/ folder as a file:// URL."
        ),
    )
