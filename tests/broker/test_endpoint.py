"""Broker URLs: which broker, and which servers."""

from __future__ import annotations

import pytest

from streams.broker.endpoint import BrokerUrlError, parse_broker_url, without_credentials


def test_broker_urls() -> None:
    kafka = parse_broker_url("kafka://k1:9092;k2:9092")
    tansu = parse_broker_url("tansu://127.0.0.1:9092")

    assert kafka.bootstrap == ["k1:9092", "k2:9092"]
    assert not kafka.is_tansu
    assert tansu.is_tansu
    assert tansu.faust_url == "tansu://127.0.0.1:9092"
    assert kafka.faust_url == "kawal://k1:9092;k2:9092"


@pytest.mark.parametrize(
    "url", ["redpanda://x:1", "kafka://", "kafka://host", "host:9092", "kafka://host:\u00b2"]
)
def test_bad_broker_urls_say_what_to_write(url: str) -> None:
    with pytest.raises(BrokerUrlError, match="kafka://"):
        parse_broker_url(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("kafka://kawal:s3cret@k1:9092;k2:9092", "kafka://k1:9092;k2:9092"),
        ("kafka://a:x@k1:9092,b:y@k2:9092", "kafka://k1:9092,k2:9092"),
        ("tansu://127.0.0.1:9092", "tansu://127.0.0.1:9092"),
        ("kawal@k1:9092", "k1:9092"),
    ],
)
def test_a_url_shown_in_a_message_has_no_credentials(url: str, shown: str) -> None:
    assert without_credentials(url) == shown


@pytest.mark.parametrize(
    "url", ["kafka://alice:s3cret@k1:9092", "kafka://k1:9092;bob:hunter2@k2:9092", "tansu://a@h:1"]
)
def test_credentials_in_a_broker_url_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(BrokerUrlError, match="KAWAL_BROKER_PASSWORD") as refused:
        parse_broker_url(url)

    said = str(refused.value)
    assert "@" not in said
    assert not [secret for secret in ("alice", "s3cret", "bob", "hunter2") if secret in said]
    assert without_credentials(url) in said
