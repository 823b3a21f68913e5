"""The portal's form asks in a citizen's words: elections by name, provinces by name.

Over real HTTP against the portal, with its evidence store on a real SeaweedFS: the election
list showed ids (``pilkada-2024``) and the region asked for a Kemendagri code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.host import build
from connectors.lapor.connector import IntakeConfig, LaporIntake
from connectors.lapor.evidence import S3Location
from tests.connectors.test_lapor_portal import config, only_event, request
from tests.lapor_support import multipart, report_fields


def form(connector: LaporIntake, lang: str = "id") -> str:
    status, _, body = request(connector, "GET", f"/?lang={lang}")
    assert status == 200
    return body.decode()


def post_form(connector: LaporIntake, fields: dict[str, str]) -> tuple[int, str]:
    body, content_type = multipart(fields, [])
    status, _, page = request(connector, "POST", "/lapor", body, {"Content-Type": content_type})
    return status, page.decode()


def select(page: str, name: str) -> str:
    found = re.search(rf'<select id="{name}" name="{name}".*?</select>', page, re.DOTALL)
    assert found, name
    return found.group(0)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("id", "Pilkada serentak 2024 (gubernur, bupati, wali kota)"),
        ("en", "2024 simultaneous regional elections (governors, regents, mayors)"),
    ],
)
def test_the_form_names_each_election_in_the_readers_words(
    intake: LaporIntake, lang: str, words: str
) -> None:
    elections = select(form(intake, lang), "election")

    assert f'<option value="pilkada-2024">{words}</option>' in elections
    assert ">pilkada-2024<" not in elections


def test_an_election_without_words_is_refused_at_start(
    location: S3Location, tmp_path: Path
) -> None:
    settings: dict[str, Any] = config(location, tmp_path, elections=["pilkada-2099"])

    with pytest.raises(ValidationError, match="pilkada-2099 have no words for the public"):
        IntakeConfig.model_validate(settings)


def test_an_office_offers_its_province_by_name(intake: LaporIntake) -> None:
    page = form(intake)

    provinces = select(page, "province")
    assert re.findall(r'<option value="(\d*)"', provinces) == ["33"]
    assert '<option value="33">Jawa Tengah</option>' in provinces
    assert "Kabupaten/kota: kode Kemendagri-nya, jika Anda tahu" in page


def test_bawaslu_ri_offers_every_province_by_name(location: S3Location, tmp_path: Path) -> None:
    connector = build("lapor-intake", config(location, tmp_path, institution="bawaslu"))
    assert isinstance(connector, LaporIntake)
    try:
        provinces = select(form(connector, "en"), "province")
    finally:
        connector.close()

    codes = re.findall(r'<option value="(\d*)"', provinces)
    assert codes[0] == ""  # "Choose the province" first: no province is chosen for the reporter
    assert len(codes) == 39
    assert '<option value="11">Aceh</option>' in provinces
    assert '<option value="96">Papua Barat Daya</option>' in provinces


def test_a_report_with_only_its_province_is_taken(intake: LaporIntake) -> None:
    status, _ = post_form(intake, report_fields(province="33", region_code=""))

    assert status == 201
    assert only_event(intake)["region_code"] == "33"


def test_a_regency_code_is_kept_within_its_province(intake: LaporIntake) -> None:
    status, _ = post_form(intake, report_fields(province="33", region_code="3374"))

    assert status == 201
    assert only_event(intake)["region_code"] == "3374"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"province": "33", "region_code": "3171"}, "bukan di provinsi yang dipilih"),
        ({"province": "99", "region_code": ""}, "Pilih provinsi dari daftar."),
        ({"province": "", "region_code": ""}, "Isian ini wajib diisi."),
    ],
)
def test_a_region_at_fault_is_told_and_the_form_kept(
    intake: LaporIntake, fields: dict[str, str], said: str
) -> None:
    status, page = post_form(intake, report_fields(**fields))

    assert status == 400
    assert said in page
    assert 'value="Budi Canary-Subject"' in page
    assert intake.read(None, 10) == []
