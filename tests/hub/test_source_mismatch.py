"""An event on another institution's inbound topic is refused saying where its source publishes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import faust

from schemas.codec import Decoded
from streams.domain.reasons import Reason
from streams.hub.ingress import check
from streams.topics import inbound_topic
from tests.hubtools import report


def test_an_event_on_another_institution_s_topic_says_how_either_sender_mends_it() -> None:
    event = report("inspektorat.3374")
    message = SimpleNamespace(topic=inbound_topic("bkn"), key=event["envelope"]["case_id"].encode())

    refused = check(
        Decoded("kawal.events.ReportReceived", event), cast(faust.types.Message, message)
    )

    assert refused is not None
    assert refused.reason is Reason.SOURCE_MISMATCH
    # Either the topic's owner misnamed itself, or another institution used the wrong topic.
    assert "If you are bkn, set envelope.source to bkn and sign the event again" in refused.detail
    assert "else publish on kawal.inbound.<your institution id>" in refused.detail
    # The source is not authenticated yet: what it holds is never quoted back.
    assert "inspektorat.3374" not in refused.detail
