"""The memory of unwrapped keys: bounded, least recently used first out, exact wrapped key."""

from __future__ import annotations

import pytest

from streams.vault.dek_cache import DekCache
from streams.vault.kek import WrappedKey


def wrapped(tag: str) -> WrappedKey:
    return WrappedKey("kek-a", tag.encode() * 4)


def test_the_least_recently_used_key_goes_first() -> None:
    cache = DekCache(capacity=2)
    cache.put("a", wrapped("a"), b"A")
    cache.put("b", wrapped("b"), b"B")
    assert cache.get("a", wrapped("a")) == b"A"

    cache.put("c", wrapped("c"), b"C")

    assert len(cache) == 2
    assert cache.get("b", wrapped("b")) is None
    assert cache.get("a", wrapped("a")) == b"A"
    assert cache.get("c", wrapped("c")) == b"C"


def test_a_key_is_served_only_for_the_wrapped_key_it_came_from() -> None:
    cache = DekCache()
    cache.put("a", wrapped("a"), b"A")

    assert cache.get("a", wrapped("rewrapped")) is None
    assert cache.get("a", WrappedKey("kek-b", wrapped("a").wrapped)) is None


def test_an_evicted_key_is_gone() -> None:
    cache = DekCache()
    cache.put("a", wrapped("a"), b"A")

    cache.evict("a")
    cache.evict("never there")

    assert cache.get("a", wrapped("a")) is None


def test_a_cache_of_no_keys_keeps_none() -> None:
    cache = DekCache(capacity=0)
    cache.put("a", wrapped("a"), b"A")
    assert len(cache) == 0
    with pytest.raises(ValueError, match="zero keys or more"):
        DekCache(capacity=-1)
