"""Whether the data-key vault answers, checked between batches too (``kawal_vault_up``).

The pipeline set the gauge only when a batch needed keys: a vault that stopped while no
event came left it at 1, and KawalVaultUnavailable quiet, until the next event. The worker
asks the vault a trivial query every :data:`streams.hub.store_check.CHECK_SECONDS` with the
audit store's machinery (:class:`streams.hub.store_check.AnswerCheck`): a check unanswered
within its ten seconds counts as down, and a frozen vault holds one thread, not one per check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import faust

from monitoring.metrics import HubMetrics
from streams.hub.store_check import (
    ANSWER_SECONDS,
    CHECK_SECONDS,
    AnswerCheck,
    Checked,
    register_check,
)
from streams.vault.data_keys import VaultError

log = logging.getLogger(__name__)


def vault_check(
    answers: Callable[[], object], metrics: HubMetrics, answer_seconds: float = ANSWER_SECONDS
) -> AnswerCheck:
    """A check of the vault whose trivial query is ``answers`` (``DataKeyVault.answers``)."""
    checked = Checked(
        question=answers,
        record=metrics.vault_answered,
        refusals=(VaultError,),
        name="the data-key vault",
        consequence=(
            "new events wait for it, and trails that need it are answered 503; see "
            "docs/operations.md#kawalvaultunavailable"
        ),
        logger=log,
    )
    return AnswerCheck(checked, answer_seconds)


def register_vault_check(
    app: faust.App,
    answers: Callable[[], object],
    metrics: HubMetrics,
    interval: float = CHECK_SECONDS,
) -> AnswerCheck:
    """Check the vault every ``interval`` seconds while ``app`` runs; the check is returned."""
    check = vault_check(answers, metrics)
    register_check(app, check, "kawal.vault-check", interval)
    return check
