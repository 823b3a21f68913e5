"""The metrics of each hub process, with every reason its stages count exported at zero.

Prometheus's ``increase()`` never counts a series' first sample, so a reason whose series
appeared with its first refusal would raise no alert on it. The reason codes come from their
single sources: ingress dead-letters for any :class:`~streams.domain.reasons.Reason`, the
audit sink for a record it cannot decode (:data:`streams.hub.rejections.CODEC_REASONS`) or an
entry the hub did not make (:data:`streams.audit.hub_entries.ENTRY_REASONS`),
and a refused credential's reason is an :class:`~streams.domain.principals.AccessProblem`.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitoring.metrics import HubMetrics, Stage
from streams.audit.hub_entries import ENTRY_REASONS
from streams.domain.principals import AccessProblem
from streams.domain.reasons import Reason
from streams.hub.rejections import CODEC_REASONS


def worker_metrics(deadline_rules: Iterable[str]) -> HubMetrics:
    """The worker's metrics; ``deadline_rules`` are the configured rule ids."""
    return HubMetrics(
        deadline_rules=deadline_rules,
        rejection_reasons={Stage.INGRESS: tuple(Reason)},
        refusal_reasons=tuple(AccessProblem),
        stages=(Stage.INGRESS, Stage.LEDGER, Stage.ROUTER),
    )


def sink_metrics(role: str) -> HubMetrics:
    """The audit sink's metrics, ``role`` naming it in ``kawal_build_info``.

    The sink stores trails and signs tree heads; it never asks the data-key vault (the
    disclosures it stores come sealed), so it exports no ``kawal_vault_up``.
    """
    return HubMetrics(
        role=role,
        rejection_reasons={Stage.SINK: CODEC_REASONS | ENTRY_REASONS},
        vault=False,
        stages=(Stage.SINK,),
    )
