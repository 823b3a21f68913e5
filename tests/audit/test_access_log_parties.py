"""The access log of a case is shown to the institutions party to it now, as its trail is.

A case reported while KASN held the recommending authority goes to BKN with its first event
after the transfer: KASN no longer reads the trail, and no longer learns who read it either.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.access_log import cases_party_to
from streams.audit.store import AuditStore
from streams.audit.trail import Directory, NotEntitledError, trail_view
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.institutions import load_institutions
from tests.entrytools import signed_rows
from tests.hubtools import registration, report
from tests.storetools import open_store

CATALOG = default_catalog()
CODEC = AvroCodec(CATALOG)
DIRECTORY = Directory(load_institutions(), load_authority_map())
BEFORE_THE_TRANSFER = datetime(2024, 9, 2, 3, tzinfo=UTC)
AFTER_THE_TRANSFER = datetime(2024, 11, 11, 3, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = open_store("sqlite", tmp_path, None)
    yield opened
    opened.close()


def handed_over(store: AuditStore) -> str:
    """A case reported under KASN and registered after the transfer to BKN; its id."""
    first = report()
    first["envelope"]["event_time"] = BEFORE_THE_TRANSFER
    case_id: str = first["envelope"]["case_id"]
    registered = registration(case_id)
    registered["envelope"]["event_time"] = AFTER_THE_TRANSFER
    store.insert(signed_rows(CODEC, [first, registered]))
    return case_id


def test_the_former_authority_is_not_shown_the_reads_of_a_case_handed_over(
    store: AuditStore,
) -> None:
    case_id = handed_over(store)
    policy = load_disclosure_policy(None, CATALOG)
    with pytest.raises(NotEntitledError):
        trail_view(store, CODEC, CATALOG, policy, case_id, "kasn", DIRECTORY)

    assert cases_party_to("kasn", [case_id], store, CODEC, DIRECTORY) == []
    assert cases_party_to("bkn", [case_id], store, CODEC, DIRECTORY) == [case_id]


def test_the_authority_of_a_case_not_handed_over_is_shown_its_reads(store: AuditStore) -> None:
    first = report()
    first["envelope"]["event_time"] = BEFORE_THE_TRANSFER
    case_id: str = first["envelope"]["case_id"]
    store.insert(signed_rows(CODEC, [first]))

    assert cases_party_to("kasn", [case_id], store, CODEC, DIRECTORY) == [case_id]
