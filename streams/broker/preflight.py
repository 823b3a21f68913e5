"""Before a worker or the sink starts: the broker has every topic of the hub's own.

A Faust worker whose table changelog is missing does not fail: its recovery waits for
partitions that never come, so no event is processed, and nothing in its log says why. That
is what a worker of a new version did when started before ``kawal topics apply`` made its new
table's changelog. Feeds are left out: ``kawal up`` makes them beside the worker's start.
"""

from __future__ import annotations

from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.broker.provision import ProvisioningError, missing_topics, some_topics
from streams.domain.institutions import load_institutions
from streams.settings import Settings
from streams.topics import all_topics, is_outbound


def require_hub_topics(settings: Settings, process: str) -> None:
    """Refuse to start ``process`` (``worker``, ``sink``) while any hub topic is missing.

    Raises:
        ProvisioningError: topics are missing (named, with what to run), or the broker did not
            list its topics.
    """
    specs = all_topics(load_institutions(settings.institutions_file), settings.partitions)
    missing = missing_topics(
        parse_broker_url(settings.effective_broker_url).bootstrap,
        [spec.name for spec in specs if not is_outbound(spec.name)],
        credentials=BrokerCredentials.from_settings(settings),
    )
    if missing:
        raise ProvisioningError(
            f"the broker lacks {len(missing)} of the hub's topics ({some_topics(missing)}), "
            f"without which the {process} would wait for ever: run `kawal topics apply` (or "
            "apply the generated topic manifests), then start it again"
        )
