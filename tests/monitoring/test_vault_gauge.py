"""Only a process that asks the data-key vault exports ``kawal_vault_up``.

The audit sink never asks it (it stores disclosures sealed already), yet exported the gauge at
1 for ever: a series that said a vault answered which nobody had asked.
"""

from __future__ import annotations

from monitoring.metrics import HubMetrics
from streams.hub.process_metrics import sink_metrics, worker_metrics


def vault_up(metrics: HubMetrics) -> float | None:
    return metrics.registry.get_sample_value("kawal_vault_up")


def test_the_sink_exports_no_vault_gauge_and_ignores_a_vault_answer() -> None:
    metrics = sink_metrics("sink")
    metrics.vault_answered(False)

    assert vault_up(metrics) is None
    assert b"kawal_vault_up" not in metrics.exposition()


def test_the_worker_exports_the_vault_gauge_following_its_answers() -> None:
    metrics = worker_metrics(())
    seen = [vault_up(metrics)]
    metrics.vault_answered(False)
    seen.append(vault_up(metrics))
    metrics.vault_answered(True)

    assert [*seen, vault_up(metrics)] == [1, 0, 1]
