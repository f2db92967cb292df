"""The national demo: 22 provinces by their scale, one province per transaction, resumable."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from communities.demo import build_demo, delete_demo_data
from communities.demo.generate import NATIONAL_PROVINCES, _Builder
from communities.models import Household, Person, Region, Settlement
from communities.validators import validate_resident_id

HOUSEHOLDS = 400
SETTLEMENTS = 60


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _snapshot():
    """Everything the plan decides, in a form two builds can be compared by."""
    return (
        sorted(Settlement.objects.values_list("code", "name", "county_id", "planned_households")),
        sorted(Household.objects.values_list("number", "settlement__code", "origin_county_id")),
        sorted(Person.objects.values_list("id_number", "name", "household__number")),
    )


def _province_counts():
    return Counter(code[3:5] for code in Settlement.objects.values_list("code", flat=True))


@pytest.mark.django_db(transaction=True)
def test_every_province_by_its_scale():
    result = build_demo(seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True)
    assert result.created
    assert result.counts["settlements"] == SETTLEMENTS
    assert result.counts["households"] == HOUSEHOLDS
    per_province = _province_counts()
    # Every one of the 22 provinces has settlements; the largest scale has the most.
    assert set(per_province) == set(NATIONAL_PROVINCES)
    assert per_province["52"] == max(per_province.values())
    assert per_province["52"] > per_province["51"] > per_province["46"]
    # Settlements sit in the province's own counties; people come from its prefectures.
    for code, county in Settlement.objects.values_list("code", "county_id"):
        assert code.startswith(f"AZD{county}")
    for number, origin, county in Household.objects.values_list(
        "number", "origin_county_id", "settlement__county_id"
    ):
        assert number.startswith(county)
        assert origin[:4] == county[:4]
    for id_number in Person.objects.values_list("id_number", flat=True):
        validate_resident_id(id_number)
    assert Region.objects.filter(level=1).count() == len(NATIONAL_PROVINCES)


@pytest.mark.django_db(transaction=True)
def test_interrupted_build_resumes_to_the_same_data(monkeypatch):
    build_demo(seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True)
    clean = _snapshot()

    # Start again from nothing, and fail while writing the third province.
    delete_demo_data()
    assert not Settlement.objects.exists()
    original = _Builder._write_part
    calls = []

    def failing(self, plans):
        calls.append(plans[0]["county"][:2])
        if len(calls) == 3:
            original(self, plans[:1])  # part of the province is written, then it breaks
            raise RuntimeError("断电")
        return original(self, plans)

    monkeypatch.setattr(_Builder, "_write_part", failing)
    with pytest.raises(RuntimeError, match="断电"):
        build_demo(seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True)
    # The two finished provinces stayed; nothing of the third did.
    assert set(_province_counts()) == set(calls[:2])
    written = Person.objects.count()
    assert written > 0

    monkeypatch.setattr(_Builder, "_write_part", original)
    out = io.StringIO()
    result = build_demo(
        seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True, stdout=out
    )
    assert result.created
    assert result.counts["provinces_kept"] == 2
    assert "已生成（上次运行），跳过" in out.getvalue()
    assert _snapshot() == clean

    # A third run has nothing left to do, and says so.
    again = build_demo(seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True)
    assert not again.created
    assert again.counts["provinces_kept"] == len(NATIONAL_PROVINCES)
    out = io.StringIO()
    call_command(
        "load_demo",
        "--national",
        f"--households={HOUSEHOLDS}",
        f"--settlements={SETTLEMENTS}",
        "--seed=5",
        "--only=communities",
        stdout=out,
    )
    assert "已存在演示数据，未重复生成" in out.getvalue()
    assert f"上次运行已写入的 {len(NATIONAL_PROVINCES)} 个省份保留未动" in out.getvalue()
    assert _snapshot() == clean


@pytest.mark.django_db
def test_too_few_settlements_for_the_country():
    with pytest.raises(ValueError, match="全国规模至少需要 23 个安置点"):
        build_demo(seed=5, households=100, settlements=10, national=True)
    assert not Settlement.objects.exists()


@pytest.mark.django_db
def test_load_demo_refuses_an_unknown_step():
    with pytest.raises(CommandError, match="没有这个演示步骤：nothing（可选：communities"):
        call_command("load_demo", "--only=communities,nothing", stdout=io.StringIO())
    assert not Settlement.objects.exists()
