"""Every reason a hub process can count is exported at zero before its first count.

So is a connector's ``internal_error``.

Prometheus's ``increase()`` never counts a series' first sample: a reason whose series
appeared with its first refusal would raise no alert on it (KawalSignatureRefusals).
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from connectors.record_failures import INTERNAL_ERROR
from monitoring.connectors import ConnectorMetrics
from monitoring.metrics import HubMetrics
from schemas import errors
from streams.audit.hub_entries import ENTRY_REASONS
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.principals import AccessProblem
from streams.domain.reasons import Reason
from streams.domain.signed_events import SIGNED_EVENT, sign_event
from streams.hub.case_table import CaseBatch
from streams.hub.process_metrics import sink_metrics, worker_metrics
from streams.hub.rejections import reason_for_codec_error
from tests.hub.steptools import keyring, raw_message, step_pipeline
from tests.hubtools import report

#: A sample of the exposition: its labels as a sorted tuple of pairs, and its value.
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def exposed(metrics: HubMetrics) -> Samples:
    """The samples of ``metrics``' ``/metrics`` text, by name and labels."""
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def reasons(samples: Samples, name: str, **labels: str) -> dict[str, float]:
    """The ``reason`` label and value of each sample of ``name`` with ``labels``."""
    found = {}
    for (sample, pairs), value in samples.items():
        keyed = dict(pairs)
        if sample == name and labels.items() <= keyed.items():
            found[keyed["reason"]] = value
    return found


def test_the_worker_exports_every_reason_at_zero_from_the_start(tmp_path: Path) -> None:
    samples = exposed(step_pipeline(tmp_path).metrics)

    ingress = reasons(samples, "kawal_rejections_total", stage="ingress")
    assert ingress == dict.fromkeys((reason.value for reason in Reason), 0.0)
    refusals = reasons(samples, "kawal_http_refusals_total")
    assert refusals == dict.fromkeys((problem.value for problem in AccessProblem), 0.0)


def test_the_first_bad_signature_raises_its_series_from_zero(tmp_path: Path) -> None:
    step = step_pipeline(tmp_path)
    series = ("kawal_rejections_total", (("reason", "bad_signature"), ("stage", "ingress")))
    assert exposed(step.metrics)[series] == 0.0
    record = report("bawaslu.33")
    event_time = record["envelope"]["event_time"]
    key = keyring(step).signing_key("bawaslu.33", event_time)
    hub = hub_sealing_key(keyring(step).registry, event_time)
    wrapper = sign_event(step.codec.catalog, step.codec, key, "ReportReceived", record, hub)
    wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    value = step.codec.encode(SIGNED_EVENT, wrapper)

    step.decide(CaseBatch({}), raw_message(step, record, value, 0))

    assert exposed(step.metrics)[series] == 1.0


def test_the_sink_exports_the_reasons_it_dead_letters_for_at_zero() -> None:
    samples = exposed(sink_metrics("sink"))

    sink = reasons(samples, "kawal_rejections_total", stage="sink")
    # The sink dead-letters records it cannot decode, for the reason of the codec's error, and
    # entries the hub did not make, for the check they fail.
    codec_errors = [
        error("x")
        for error in vars(errors).values()
        if isinstance(error, type) and issubclass(error, errors.CodecError)
    ]
    decoding = {reason_for_codec_error(error).value for error in codec_errors}
    assert decoding | {reason.value for reason in ENTRY_REASONS} == set(sink)
    assert {"hub_signature_invalid", "chain_broken", "disclosures_in_clear"} <= set(sink)
    assert set(sink.values()) == {0.0}
    assert reasons(samples, "kawal_rejections_total", stage="ingress") == {}


def test_a_connector_exports_its_internal_errors_at_zero_from_the_start() -> None:
    """KawalConnectorInternalError raises on a connector's first defect, not its second."""
    metrics = ConnectorMetrics()
    probe = metrics.probe("siasn", "bkn")
    labels = {"connector": "siasn", "institution": "bkn", "reason": Reason.INTERNAL_ERROR.value}

    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 0
    probe.dead_lettered(INTERNAL_ERROR)
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1


def test_each_process_exports_the_events_of_its_own_stages_only() -> None:
    # The sink exported ingress, ledger and router at 0 whatever the worker counted, and the
    # worker the sink's stage at 0 whatever the sink stored.
    def stages(metrics: HubMetrics) -> set[str]:
        return {
            dict(labels)["stage"]
            for (name, labels), _ in exposed(metrics).items()
            if name == "kawal_events_total"
        }

    assert stages(sink_metrics("sink")) == {"sink"}
    assert stages(worker_metrics(())) == {"ingress", "ledger", "router"}
