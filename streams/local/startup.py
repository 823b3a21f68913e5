"""What ``kawal up`` prepares before its worker and sink, and what it leaves running beside them.

A national registry has 1,743 outbound feeds, and tansu on S3 takes about 11.5 s to create
them on a first start. Neither the worker nor the sink reads a feed (the worker writes them,
each institution's connector reads its own), so the feeds are made in the background from the
start, beside the hub's own and the inbound topics and then beside the worker's and the sink's
start. The local keys, files on disk, are made while the broker starts. ``kawal up``
announces the hub only once everything here is done, and fails as ``kawal topics apply`` would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from streams.broker.credentials import BrokerCredentials
from streams.broker.provision import DEFAULT_WAIT_SECONDS, provision_topics
from streams.local.keyring import ensure_local_keys
from streams.settings import Settings
from streams.topics import TopicSpec, is_outbound

_T = TypeVar("_T")


def in_background(work: Callable[[], _T], name: str) -> Future[_T]:
    """Run ``work`` in a thread of its own; its result, or its error, from the future."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kawal-{name}")
    try:
        return executor.submit(work)
    finally:
        executor.shutdown(wait=False)


@contextmanager
def meanwhile(work: Callable[[], _T], name: str) -> Iterator[Future[_T]]:
    """Run ``work`` in a thread of its own while the block runs.

    An error of the block waits for ``work`` to end before it propagates: a refusal is the
    command's last word, and nothing ``work`` does or prints comes after it.
    """
    running = in_background(work, name)
    try:
        yield running
    except BaseException:
        wait([running])
        raise


def provision_feeds_later(
    bootstrap: list[str],
    topics: Sequence[TopicSpec],
    settings: Settings,
    credentials: BrokerCredentials,
) -> Future[int]:
    """Provision the feeds in the background, and every other topic before returning.

    The broker of KAWAL_BROKER_URL has KAWAL_BROKER_WAIT_SECONDS to answer, as it has for every
    command: a typo in the URL should not keep the operator waiting. The embedded broker,
    started a moment before, keeps the longer wait of a broker still starting.

    Returns:
        How many feeds were created, once they are.

    Raises:
        ProvisioningError: as :func:`streams.broker.provision.apply_topics`, for the hub's
            topics here and for the feeds from the future.
    """
    wait = DEFAULT_WAIT_SECONDS if settings.broker_url is None else settings.broker_wait_seconds
    feeds = [spec for spec in topics if is_outbound(spec.name)]
    made = in_background(
        lambda: provision_topics(bootstrap, feeds, settings.replication, credentials, wait),
        "feeds",
    )
    hub = [spec for spec in topics if not is_outbound(spec.name)]
    provision_topics(bootstrap, hub, settings.replication, credentials, wait)
    return made


def make_local_keys(settings: Settings) -> None:
    """Make the keys ``kawal up`` signs and seals with, when no key registry is configured."""
    if settings.keys_file is None:
        made = ensure_local_keys(settings)
        if made:
            print(f"made {len(made)} keys in {settings.key_dir}", file=sys.stderr)
