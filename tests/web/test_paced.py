"""The front page is built at a bounded rate, whatever the number of requests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from streams.hub.case_scan import Pacing
from streams.web.paced import Paced


class Clock:
    """Monotonic seconds a test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Builds:
    """A view whose every build takes ``seconds`` of the clock and yields the loop once."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.count = 0
        self.failing = False

    async def build(self) -> int:
        self.count += 1
        await asyncio.sleep(0)
        self.clock.now += self.seconds
        if self.failing:
            raise RuntimeError("store unreachable")
        return self.count


def paced(seconds: float) -> tuple[Clock, Builds, Paced[int]]:
    clock = Clock()
    builds = Builds(clock, seconds)
    return clock, builds, Paced(builds.build, Pacing(clock=clock))


def test_requests_within_ten_build_durations_get_the_last_build() -> None:
    clock, builds, front = paced(0.5)

    assert asyncio.run(front.value()) == 1
    clock.now += 4.9
    assert asyncio.run(front.value()) == 1  # built 0.5 s long: not again for 5 s
    clock.now += 0.1
    assert asyncio.run(front.value()) == 2
    assert builds.count == 2


def test_concurrent_requests_share_one_build() -> None:
    clock, builds, front = paced(0.5)

    async def burst() -> list[int]:
        first = await front.value()
        clock.now += 60
        return [first, *await asyncio.gather(*(front.value() for _ in range(50)))]

    values = asyncio.run(burst())

    # One request builds anew; the others, arriving while it builds, get the last build.
    assert builds.count == 2
    assert values.count(2) == 1
    assert values.count(1) == 50


def test_the_first_requests_wait_for_the_first_build() -> None:
    _, builds, front = paced(0.5)

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(front.value() for _ in range(20))))

    assert asyncio.run(burst()) == [1] * 20
    assert builds.count == 1


def test_a_failed_build_is_the_requests_error_and_the_last_build_stays() -> None:
    clock, builds, front = paced(0.5)
    assert asyncio.run(front.value()) == 1
    clock.now += 60
    builds.failing = True

    with pytest.raises(RuntimeError, match="unreachable"):
        asyncio.run(front.value())

    assert asyncio.run(front.value()) == 1  # paced after the failure too
    clock.now += 60
    builds.failing = False
    assert asyncio.run(front.value()) == 3  # the third build


def test_what_is_derived_from_a_build_is_made_once_per_build_and_key() -> None:
    clock, _, front = paced(0.5)
    made: list[tuple[int, str]] = []

    def page(language: str) -> Callable[[int], str]:
        def render(built: int) -> str:
            made.append((built, language))
            return f"{language}:{built}"

        return render

    async def requests() -> list[str]:
        return [
            *await asyncio.gather(*(front.derived("id", page("id")) for _ in range(50))),
            await front.derived("en", page("en")),
            await front.derived("en", page("en")),
        ]

    first = asyncio.run(requests())
    clock.now += 5.0  # ten build durations: the next request builds anew
    again = asyncio.run(front.derived("id", page("id")))

    assert first == ["id:1"] * 50 + ["en:1"] * 2
    assert again == "id:2"
    assert made == [(1, "id"), (1, "en"), (2, "id")]
