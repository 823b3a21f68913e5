from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.errors import KawalError
from schemas.labels import LabelDataError, load_violation_labels


def test_every_violation_code_has_labels_and_nothing_else_does() -> None:
    symbols = default_catalog().schema("kawal.ViolationCategory")["symbols"]

    assert set(load_violation_labels()) == set(symbols)


def test_labels_are_bilingual_with_a_source() -> None:
    label = load_violation_labels()["DISCIPLINE_CANDIDACY_SUPPORT_DOCUMENTS"]

    assert label.code == "DISCIPLINE_CANDIDACY_SUPPORT_DOCUMENTS"
    assert "KTP" in label.indonesian
    assert "identity card" in label.english
    assert "PP 94/2021" in label.source


def test_entry_without_a_label_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.toml"
    path.write_text('[ETHICS_BANNER]\nid = "Memasang spanduk"\nsource = "SKB 2022"\n')

    with pytest.raises(LabelDataError, match=r"\[ETHICS_BANNER\] needs non-empty strings"):
        load_violation_labels(path)


@pytest.mark.parametrize("content", [None, "not = [toml"])
def test_unreadable_file_is_refused(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "labels.toml"
    if content is not None:
        path.write_text(content)

    with pytest.raises(LabelDataError, match="cannot read labels") as info:
        load_violation_labels(path)

    assert isinstance(info.value, KawalError)
