"""Where the hub's alerts go: Alertmanager's routing of ``severity`` to people.

Every alert of ``monitoring/prometheus/rules.yml`` is labelled ``severity: page`` (someone is
woken: the on-call receiver) or ``severity: ticket`` (work for the next working day: the ticket
receiver), except ``KawalWatchdog``, ``severity: heartbeat``, which always fires and goes to
the heartbeat receiver: an external dead man's switch that pages through its own path when the
heartbeat stops, because a broken Prometheus, Alertmanager or paging webhook cannot page about
itself. The receivers are webhooks, the one shape every paging, ticketing and heartbeat service
the sites use accepts (or bridges); their URLs are the site's. Kubernetes and Compose render
them into this configuration when Alertmanager starts (:mod:`streams.contract.alerting`);
docs/operations.md, "How alerts reach people", says what to fill in.

Alertmanager 0.25 (Debian's ``amtool``, which the tests check the configuration with) and 0.27
(the deployments' image) must both read it: only fields both versions know are written (no
``url_file``, no webhook ``timeout``, nothing removed since), so the check holds for the image.

Example:
    >>> config = alertmanager_config(
    ...     "https://oncall.example/hook", "https://tickets.example/h", "https://beat.example/k"
    ... )
    >>> [route["receiver"] for route in config["route"]["routes"]]
    ['heartbeat', 'ticket', 'oncall', 'ticket']
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

#: The receiver every ``severity="page"`` alert reaches.
ONCALL = "oncall"
#: The receiver every ``severity="ticket"`` alert reaches, and any alert without a known severity.
TICKET = "ticket"
#: The receiver of ``KawalWatchdog``: an external dead man's switch expecting it every minute.
HEARTBEAT = "heartbeat"
#: Alerts that say notifications are not getting through (rules.yml): each goes to the ticket
#: queue as well as to its severity's receiver, so a failing on-call webhook is still heard of
#: through the ticket one, and the other way round.
DELIVERY_ALERTS = ("KawalNotificationsFailing", "KawalAlertsUndelivered")
#: The labels that say what failed and where: one notification per alert and place, so a page
#: about one connector does not hide behind another's, while a burst of dead-letter reasons of
#: one alert at one place arrives as one message.
GROUP_BY = ("alertname", "job", "instance", "connector", "institution")

#: Alerts another alert already explains, each with its cause: while the cause fires, the
#: consequence would page or ticket again for the same fault. ``equal`` is empty where the
#: consequence is summed over every process and so carries no ``job`` or ``instance``.
INHIBITIONS: tuple[tuple[Json, tuple[str, ...]], ...] = (
    # A worker that answers no scrape handles nothing and reads no lag: the page for the
    # process is the one to act on.
    (
        {"alertname": "KawalProcessDown", "job": "kawal-worker"},
        ("KawalPipelineStalled", "KawalLagUnknown", "KawalCaseCensusStale"),
    ),
    ({"alertname": "KawalProcessDown", "job": "kawal-sink"}, ("KawalSinkStalled",)),
    # A silent broker stalls every consumer and every connector talking to it.
    (
        {"alertname": "KawalBrokerUnanswered"},
        (
            "KawalPipelineStalled",
            "KawalSinkStalled",
            "KawalLagUnknown",
            "KawalConnectorBrokerUnanswered",
        ),
    ),
    # The sink cannot store while the store does not answer it.
    ({"alertname": "KawalAuditStoreUnreachable"}, ("KawalSinkStalled",)),
)


def alertmanager_config(oncall_url: str, ticket_url: str, heartbeat_url: str) -> Json:
    """Alertmanager's configuration: pages to ``oncall_url``, tickets to ``ticket_url``.

    Pages are sent 30 s after their group's first alert, then every 5 minutes while it
    changes, and again every 4 hours while it fires; tickets are batched over 5 minutes and
    repeated daily. Resolutions are sent too, so a receiver can close what it opened. The
    always-firing ``KawalWatchdog`` reaches ``heartbeat_url`` about every minute (at most two
    apart); the alerts of :data:`DELIVERY_ALERTS` reach the ticket queue too.
    """
    return {
        "route": {
            "receiver": TICKET,
            "group_by": list(GROUP_BY),
            "group_wait": "5m",
            "group_interval": "30m",
            "repeat_interval": "24h",
            "routes": [
                {
                    "receiver": HEARTBEAT,
                    "matchers": ['severity="heartbeat"'],
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                },
                {
                    "receiver": TICKET,
                    "matchers": [f'alertname=~"{"|".join(DELIVERY_ALERTS)}"'],
                    # On to the severity's receiver as well.
                    "continue": True,
                },
                {
                    "receiver": ONCALL,
                    "matchers": ['severity="page"'],
                    "group_wait": "30s",
                    "group_interval": "5m",
                    "repeat_interval": "4h",
                },
                {"receiver": TICKET, "matchers": ['severity="ticket"']},
            ],
        },
        "inhibit_rules": [_inhibition(cause, effects) for cause, effects in INHIBITIONS],
        "receivers": [
            _webhook(ONCALL, oncall_url),
            _webhook(TICKET, ticket_url),
            # A heartbeat service wants pings, not resolutions.
            _webhook(HEARTBEAT, heartbeat_url, send_resolved=False),
        ],
    }


def _inhibition(cause: Json, effects: tuple[str, ...]) -> Json:
    source = [f'{name}="{value}"' for name, value in cause.items()]
    return {
        "source_matchers": source,
        "target_matchers": [f'alertname=~"{"|".join(effects)}"'],
        "equal": [],
    }


def _webhook(name: str, url: str, *, send_resolved: bool = True) -> Json:
    return {"name": name, "webhook_configs": [{"url": url, "send_resolved": send_resolved}]}
