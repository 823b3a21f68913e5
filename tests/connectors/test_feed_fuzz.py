"""Whatever is on an institution's feed, its connector believes it or refuses it for a reason.

An outbound connector reads entries, receipts and tree heads from its feed. Anyone who can
write the topic can put anything there, and a record the checks did not foresee must not fail
the connector's pass: it would come back at every pass and hold back every record after it.
Generated records go through the checks an outbound connector makes (opening the sealed
disclosures, both signatures, the case's chain, the receipt's signature, the head's
signature and consistency):

- entries the hub signed for the connector, one or two fields any value their schema takes;
- receipts and tree heads of any values, some naming the hub's real key.

Each check returns the record believed or the problem with it; none raises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.base import ConnectorContext
from connectors.feed_chains import FeedChains
from connectors.heads import HeadKeeper
from connectors.receipts import believed_refusal
from connectors.signed_fixtures import contract_keyring, feed_entry_record
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.entries import EntryProblem, check_entry, open_feed_disclosures
from streams.domain.institutions import HUB_INSTITUTION
from tests.avro_strategies import catalog_records
from tests.connectors.test_siasn import case_closed, deadline_breached
from tests.fuzzing import fuzz_settings
from tests.hubtools import recommendation

CATALOG = default_catalog()
CONTEXT = ConnectorContext(CATALOG, AvroCodec(CATALOG))
RECIPIENT = "bkn"
CASE = "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a"
#: Entries the hub routes to BKN, each the first of its case.
GENUINE = (
    feed_entry_record(CONTEXT, "DeadlineBreached", deadline_breached(CASE), RECIPIENT),
    feed_entry_record(CONTEXT, "CaseClosed", case_closed(CASE), RECIPIENT),
    feed_entry_record(CONTEXT, "RecommendationIssued", recommendation(CASE), RECIPIENT),
)


@st.composite
def changed_entries(draw: st.DrawFn) -> dict[str, Any]:
    """A genuine entry, one or two of its fields replaced by any value of their type."""
    entry = dict(draw(st.sampled_from(GENUINE)))
    odd: dict[str, Any] = draw(catalog_records(CATALOG, "kawal.AuditEntry"))
    for name in draw(st.lists(st.sampled_from(sorted(entry)), min_size=1, max_size=2)):
        entry[name] = odd[name]
    return entry


def hub_key_id() -> str:
    """The id of the hub's key in the connectors' registry."""
    ring = contract_keyring()
    return next(
        entry.id for entry in ring.registry.entries() if entry.institution == HUB_INSTITUTION
    )


@st.composite
def any_of(draw: st.DrawFn, name: str, key_field: str) -> dict[str, Any]:
    """A record of schema ``name``, naming the hub's real key half the time."""
    record: dict[str, Any] = draw(catalog_records(CATALOG, name))
    if draw(st.booleans()):
        record[key_field] = hub_key_id()
    return record


def test_every_changed_entry_is_believed_or_refused(tmp_path: Path) -> None:
    ring = contract_keyring()
    chains = FeedChains(tmp_path / "chains.db")

    @fuzz_settings(300)
    @given(entry=changed_entries())
    def checked(entry: dict[str, Any]) -> None:
        opened = open_feed_disclosures(CATALOG, ring, RECIPIENT, entry)
        if isinstance(opened, EntryProblem):
            return
        if isinstance(check_entry(CONTEXT.codec, ring.registry, entry, opened), EntryProblem):
            return
        if chains.problem(entry) is None:
            chains.record(entry)

    try:
        checked()
    finally:
        chains.close()


@fuzz_settings(300)
@given(receipt=any_of("kawal.Receipt", "hub_key_id"), rejected=st.booleans())
def test_every_receipt_is_believed_or_refused(receipt: dict[str, Any], rejected: bool) -> None:
    if rejected:
        receipt["status"] = "REJECTED"
    believed_refusal(contract_keyring().registry, receipt)


def test_every_tree_head_is_kept_or_refused(tmp_path: Path) -> None:
    keeper = HeadKeeper(tmp_path / "heads.jsonl", contract_keyring().registry)

    @fuzz_settings(300)
    @given(head=any_of("kawal.TreeHead", "key_id"))
    def kept(head: dict[str, Any]) -> None:
        keeper.keep(head)

    kept()
