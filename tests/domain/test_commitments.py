"""A disclosure that does not open its commitment is refused saying how to commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from schemas.catalog import default_catalog
from streams.domain.commitments import check_disclosures, commit
from streams.domain.reasons import Reason

REPORT = "kawal.events.ReportReceived"
HOW = "commit as 'sha256:' + lower-case hex of SHA-256(the salt's bytes || the value's UTF-8 bytes)"


def upper_case(committed: str, salt: str, value: str) -> str:
    return committed.upper().replace("SHA256:", "sha256:")


def over_salt_text(committed: str, salt: str, value: str) -> str:
    return "sha256:" + hashlib.sha256((salt + value).encode()).hexdigest()


def other_value(committed: str, salt: str, value: str) -> str:
    return "sha256:" + hashlib.sha256(bytes.fromhex(salt) + b"another").hexdigest()


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        (
            upper_case,
            "does not open its commitment in the signed event: it is written in upper-case hex",
        ),
        (over_salt_text, ": it hashes the salt's hex text instead of the salt's bytes"),
        (other_value, "does not open its commitment in the signed event; commit as"),
    ],
)
def test_a_commitment_that_does_not_open_is_told_how_to_commit(
    slip: Callable[[str, str, str], str], said: str
) -> None:
    catalog = default_catalog()
    committed, disclosures = commit(catalog, REPORT, {"subject_name": "Budi Santoso"})
    salt = disclosures[0]["salt"]
    committed["subject_name"] = slip(committed["subject_name"], salt, "Budi Santoso")

    rejection = check_disclosures(catalog, REPORT, committed, disclosures)

    assert rejection is not None
    assert rejection.reason is Reason.DISCLOSURE_MISMATCH
    assert said in rejection.detail
    assert HOW in rejection.detail
    assert "Budi" not in rejection.detail


def test_a_field_holding_the_prefix_and_no_hex_digest_is_personal_data_in_clear() -> None:
    catalog = default_catalog()
    committed, disclosures = commit(catalog, REPORT, {"subject_name": "Budi Santoso"})
    committed["subject_name"] = "sha256:" + "z" * 64

    rejection = check_disclosures(catalog, REPORT, committed, disclosures)

    assert rejection is not None
    assert rejection.reason is Reason.PERSONAL_DATA_IN_CLEAR
    assert "subject_name is personal data but holds no commitment" in rejection.detail


def test_a_digest_without_its_prefix_is_told_so() -> None:
    # Before, only "holds no commitment", to a sender who did commit.
    catalog = default_catalog()
    committed, disclosures = commit(catalog, REPORT, {"subject_name": "Budi Santoso"})
    committed["subject_name"] = committed["subject_name"].removeprefix("sha256:")

    rejection = check_disclosures(catalog, REPORT, committed, disclosures)

    assert rejection is not None
    assert rejection.reason is Reason.PERSONAL_DATA_IN_CLEAR
    assert "64 hex digits without the 'sha256:' prefix" in rejection.detail
    assert "without the" not in str(
        check_disclosures(catalog, REPORT, committed | {"subject_name": "Budi"}, disclosures)
    )


def test_a_salt_in_base64_is_told_to_be_hex() -> None:
    catalog = default_catalog()
    committed, disclosures = commit(catalog, REPORT, {"subject_name": "Budi Santoso"})
    disclosures[0]["salt"] = "q83vEjRWeJCrze8SNFZ4kA=="

    rejection = check_disclosures(catalog, REPORT, committed, disclosures)

    assert rejection is not None
    assert rejection.reason is Reason.DISCLOSURE_MISMATCH
    assert "the salt of subject_name is not hex" in rejection.detail
    assert "not base64" in rejection.detail
