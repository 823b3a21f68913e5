"""The dashboard computes each filter set's figures once per projection read, one at a time."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest

from streams.audit.figures.facts import Projection
from streams.audit.figures.filters import Filters
from streams.audit.store import StoreError
from streams.web.figure_cache import FigureCache


class Trail:
    """A projection source: the same projection until the store is read again."""

    def __init__(self) -> None:
        self.current = Projection([], 0, datetime.now(UTC))
        self.failing = False

    def projection(self) -> Projection:
        if self.failing:
            raise StoreError("audit store unreachable")
        return self.current

    def read_again(self) -> None:
        self.current = Projection([], 0, datetime.now(UTC))


class Computations:
    """Figures that name their filters; counts computations and how many ran at once."""

    def __init__(self) -> None:
        self.count = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, projection: Projection, filters: Filters) -> dict[str, Any]:
        with self._lock:
            self.count += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        threading.Event().wait(0.01)  # a computation takes a while, in its thread
        with self._lock:
            self.running -= 1
        return {"election": filters.election, "of": id(projection)}


def cache(kept: int = 4) -> tuple[Trail, Computations, FigureCache]:
    trail, computations = Trail(), Computations()
    return trail, computations, FigureCache(trail.projection, computations, kept, seen_by)


def seen_by(
    public: dict[str, Any], projection: Projection, filters: Filters, reader: str
) -> dict[str, Any]:
    """A reader's view: the public figures, naming the reader."""
    return public | {"reader": reader}


def test_concurrent_requests_for_one_filter_set_share_one_computation_and_page() -> None:
    _, computations, figures = cache()
    renders: list[str] = []

    def render(view: dict[str, Any], public: dict[str, Any]) -> str:
        assert public is view  # the public's page
        renders.append(str(view["election"]))
        return f"page of {view['election']}"

    async def requests() -> list[str]:
        wanted = Filters(election="pilkada-2024")
        pages = [figures.page(wanted, "id", render) for _ in range(100)]
        return list(await asyncio.gather(*pages, figures.page(wanted, "en", render)))

    pages = asyncio.run(requests())

    assert set(pages) == {"page of pilkada-2024"}
    assert computations.count == 1
    assert renders == ["pilkada-2024", "pilkada-2024"]  # once in each language


def test_different_filter_sets_are_computed_one_at_a_time() -> None:
    _, computations, figures = cache(kept=20)

    async def requests() -> list[dict[str, Any]]:
        asked = [figures.figures(Filters(election=f"pemilu-{n}")) for n in range(10)]
        return list(await asyncio.gather(*asked))

    found = asyncio.run(requests())

    assert [view["election"] for view in found] == [f"pemilu-{n}" for n in range(10)]
    assert computations.count == 10
    assert computations.most_at_once == 1


def test_a_new_read_of_the_store_computes_the_figures_again() -> None:
    trail, computations, figures = cache()
    wanted = Filters(region="33")

    async def twice() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        first = await figures.figures(wanted)
        same = await figures.figures(wanted)
        trail.read_again()
        return first, same, await figures.figures(wanted)

    first, same, after = asyncio.run(twice())

    assert same is first
    assert after["of"] == id(trail.current) != first["of"]
    assert computations.count == 2


def test_only_the_most_recently_asked_filter_sets_are_kept() -> None:
    _, computations, figures = cache(kept=2)
    a, b, c = (Filters(date_from=date(2024, 11, day)) for day in (1, 2, 3))

    async def asked(*filter_sets: Filters) -> None:
        for filters in filter_sets:
            await figures.figures(filters)

    asyncio.run(asked(a, b, a, c))  # c pushes out b, the least recently asked
    assert computations.count == 3
    asyncio.run(asked(a, c))
    assert computations.count == 3
    asyncio.run(asked(b))
    assert computations.count == 4


def test_a_store_that_cannot_be_read_is_an_error_and_the_next_request_reads_again() -> None:
    trail, computations, figures = cache()
    trail.failing = True

    with pytest.raises(StoreError):
        asyncio.run(figures.figures(Filters()))

    trail.failing = False
    assert asyncio.run(figures.figures(Filters()))["election"] is None
    assert computations.count == 1


def test_each_reader_gets_its_own_view_and_the_public_the_public_one() -> None:
    _, computations, figures = cache(kept=8)
    wanted = Filters(election="pilkada-2024")

    async def in_turn() -> list[dict[str, Any]]:
        readers = ["ppk.3374", "ppk.3375", None, "ppk.3374", None]
        return [await figures.figures(wanted, reader) for reader in readers]

    a, b, public, a_again, public_again = asyncio.run(in_turn())

    assert (a["reader"], b["reader"]) == ("ppk.3374", "ppk.3375")
    assert "reader" not in public
    assert a_again is a
    assert public_again is public
    assert computations.count == 1  # the readers' views are made from the public figures


def test_a_readers_page_is_rendered_apart_from_the_publics() -> None:
    _, _, figures = cache()
    wanted = Filters()

    def render(view: dict[str, Any], public: dict[str, Any]) -> str:
        assert "reader" not in public
        return f"page of {view.get('reader', 'the public')}"

    async def in_turn() -> list[str]:
        readers = ["ppk.3374", "ppk.3375", None]
        return [await figures.page(wanted, "id", render, reader) for reader in readers]

    assert asyncio.run(in_turn()) == ["page of ppk.3374", "page of ppk.3375", "page of the public"]


def test_without_a_way_to_make_a_readers_view_every_reader_gets_the_public_one() -> None:
    trail, computations = Trail(), Computations()
    figures = FigureCache(trail.projection, computations)

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        return await figures.figures(Filters(), "ppk.3374"), await figures.figures(Filters())

    read, public = asyncio.run(both())

    assert read is public
