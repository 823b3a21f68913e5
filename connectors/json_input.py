r"""JSON from outside the hub (a post, a form's API, a file, an answer) read without surprises.

``json.loads`` takes two things that fail later, far from where they came in: an escaped lone
surrogate (``"\ud800"``), a string no UTF-8 encoder writes, so the spool, the Avro event or
the HTTP answer fails on it; and arrays nested a thousand deep, on which it raises
``RecursionError`` rather than a ``ValueError``. Here both are malformed JSON.
"""

from __future__ import annotations

import json
from typing import Any


def read_json(data: str | bytes) -> Any:
    """The value of the JSON text ``data``.

    Raises:
        ValueError: not UTF-8 JSON (``json.JSONDecodeError`` says where, quoting nothing, or
            ``UnicodeDecodeError``), nested too deeply, or holding a string that is not text.
    """
    try:
        value = json.loads(data)
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("the JSON holds a lone surrogate escape, which is no text") from None
    return value
