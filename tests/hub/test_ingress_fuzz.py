"""Whatever reaches an inbound topic, the pipeline accepts it or refuses it for a reason.

The pipeline's step turns any failure it did not foresee into an ``internal_error`` refusal, so
that one record cannot stop the hub; such a refusal is still a defect. Generated records go
through the step as the worker runs it (its own vault, the hub's keys, a case batch that keeps
what earlier records made of their cases):

- a case's steps as their senders send them, one or two fields any value their schema takes;
- events of every type with any values their schema takes, signed by the institution they
  name with its real key, on its topic or on another's;
- the same records with a byte changed, cut short or lengthened;
- any bytes.

For each: the step returns, and no record is refused as ``internal_error``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from monitoring.metrics import Stage
from schemas.catalog import default_catalog
from schemas.codec import CodecError
from schemas.identity import case_id_for
from streams.domain.signing import SigningKeyError
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from tests.avro_strategies import catalog_records
from tests.fuzzing import fuzz_settings
from tests.hub.steptools import raw_message, signed_value, step_pipeline
from tests.hubtools import recommendation, referral, registration, report, sanction, verification

CATALOG = default_catalog()
EVENT_TYPES = sorted(CATALOG.event_types())
SENDERS = ("bawaslu.33", "bkn", "ppk.3374", "inspektorat.3374", "kawal")
#: Case numbers reports are given, and the ids of their cases (with a stranger): generated
#: events meet the cases earlier reports opened.
CASE_NUMBERS = tuple(f"{n:03}/LP/2024" for n in range(1, 13))
CASES = (
    *(case_id_for(sender, number) for sender in SENDERS[:2] for number in CASE_NUMBERS),
    str(uuid.UUID(int=1)),
)
#: A case's steps as their senders send them (tests.hubtools), by the case they go to.
STEPS: tuple[tuple[str, Callable[[str], dict[str, Any]]], ...] = (
    ("ReportRegistered", registration),
    ("VerificationCompleted", verification),
    ("ReferralForwarded", referral),
    ("RecommendationIssued", recommendation),
    ("SanctionImposed", sanction),
)
#: What is sent: the institution whose topic it is on, the case it is keyed by, its bytes.
Sent = tuple[str, str, bytes]


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The step of a worker whose home is new: its own vault and the local keys."""
    home: Path = tmp_path_factory.mktemp("ingress-fuzz") / "home"
    return step_pipeline(home)


def signed(step: Pipeline, event_type: str, record: dict[str, Any]) -> Sent:
    """``record`` signed by its source, on the source's topic."""
    envelope = record["envelope"]
    try:
        value = signed_value(step, event_type, record)
    except (CodecError, SigningKeyError, ValueError):
        assume(False)  # no sender could have sent it
        raise
    return envelope["source"], envelope["case_id"], value


@st.composite
def case_steps(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A step of a Bawaslu case as its sender sends it, one or two of its fields any value."""
    number = draw(st.sampled_from(CASE_NUMBERS))
    if draw(st.integers(0, len(STEPS))) == 0:
        event_type, record = "ReportReceived", report("bawaslu.33", number)
    else:
        event_type, build = draw(st.sampled_from(STEPS))
        record = build(case_id_for("bawaslu.33", number))
    odd: dict[str, Any] = draw(catalog_records(CATALOG, event_type))
    for name in draw(st.lists(st.sampled_from(sorted(set(record) - {"envelope"})), max_size=2)):
        record[name] = odd[name]
    return event_type, record


@st.composite
def any_events(draw: st.DrawFn, step: Pipeline) -> Sent:
    """An event of any type and values, signed by its sender, on its topic or another's."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    record: dict[str, Any] = draw(catalog_records(CATALOG, event_type))
    source = draw(st.sampled_from(SENDERS))
    envelope = record["envelope"]
    envelope["source"] = source
    envelope["case_id"] = draw(st.sampled_from(CASES))
    if event_type == "ReportReceived" and draw(st.booleans()):  # as its sender derives it
        record["case_number"] = draw(st.sampled_from(CASE_NUMBERS))
        envelope["case_id"] = case_id_for(source, record["case_number"])
    if draw(st.booleans()):  # a time the keys are valid at, as most senders' are
        envelope["event_time"] = datetime.now(UTC).replace(microsecond=0)
    owner, case_id, value = signed(step, event_type, record)
    if draw(st.integers(0, 4)) == 0:
        owner = draw(st.sampled_from(SENDERS))
    return owner, case_id, value


@st.composite
def inbound_records(draw: st.DrawFn, step: Pipeline) -> Sent:
    """A case's step or any event, as signed or changed, or any bytes."""
    kind = draw(st.sampled_from(("step", "signed", "changed", "bytes")))
    if kind == "bytes":
        return "bkn", draw(st.sampled_from(CASES)), draw(st.binary(max_size=300))
    if kind == "step":
        return signed(step, *draw(case_steps()))
    owner, case_id, value = draw(any_events(step))
    if kind == "changed":
        at = draw(st.integers(0, len(value) - 1))
        change = draw(st.sampled_from(("flip", "cut", "grow")))
        if change == "flip":
            value = value[:at] + bytes([value[at] ^ draw(st.integers(1, 255))]) + value[at + 1 :]
        elif change == "cut":
            value = value[:at]
        else:
            value = value[:at] + draw(st.binary(min_size=1, max_size=20)) + value[at:]
    return owner, case_id, value


def internal_errors(step: Pipeline) -> float:
    """Records the step has refused as ``internal_error``."""
    labels = {"stage": Stage.INGRESS.value, "reason": "internal_error"}
    return step.metrics.registry.get_sample_value("kawal_rejections_total", labels) or 0.0


def test_no_inbound_record_is_refused_as_an_internal_error(step: Pipeline) -> None:
    cases = CaseBatch({})
    offsets = iter(range(10**9))

    @fuzz_settings(300)
    @given(sent=inbound_records(step))
    def handled(sent: Sent) -> None:
        owner, case_id, value = sent
        # On ``owner``'s topic, keyed by the case, as its connector would send it.
        where = {"envelope": {"source": owner, "case_id": case_id}}
        before = internal_errors(step)
        step.decide(cases, raw_message(step, where, value, next(offsets)))
        assert internal_errors(step) == before, sent

    handled()
