"""The evidence files of a JSON report: ``[{"name", "content_base64"}]`` as uploads."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from connectors.lapor.intake import Upload


def json_uploads(items: Any) -> list[Upload] | None:
    """The uploads of ``items``, or None when it is no list of ``{name, content_base64}``."""
    if not isinstance(items, list):
        return None
    uploads = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("content_base64"), str):
            return None
        try:
            data = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            return None
        uploads.append(Upload(str(item.get("name") or ""), data))
    return uploads
