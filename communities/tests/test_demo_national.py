"""The national demo: 22 provinces by their scale, one province per transaction, resumable."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from communities.demo import build_demo, delete_demo_data
from communities.demo.generate import NATIONAL_PROVINCES, _Builder, tables_with_history
from communities.models import Household, Person, Region, Settlement
from communities.validators import validate_resident_id
from relocation.rows import SET_ASIDE_TABLE

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


def _indexes():
    """{name: definition} of the people's and households' indexes (PostgreSQL), and
    whether indexes are set aside (``relocation.rows.SET_ASIDE_TABLE`` exists)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [tables_with_history(Household, Person)],
        )
        found = dict(cursor.fetchall())
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [SET_ASIDE_TABLE])
        return found, cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_interrupted_build_resumes_to_the_same_data(monkeypatch):
    indexes = _indexes()
    build_demo(seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True)
    clean = _snapshot()
    # The plain indexes set aside for the provinces were built again at the end.
    assert _indexes() == indexes

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
    if indexes is not None:  # the plain indexes wait, set aside, for the run that ends it
        left, aside = _indexes()
        assert aside and "person_name_prefix" not in left
        assert "communities_person_id_number_hash_d5467978_uniq" in left

    monkeypatch.setattr(_Builder, "_write_part", original)
    out = io.StringIO()
    result = build_demo(
        seed=5, households=HOUSEHOLDS, settlements=SETTLEMENTS, national=True, stdout=out
    )
    assert result.created
    assert result.counts["provinces_kept"] == 2
    assert "已生成（上次运行），跳过" in out.getvalue()
    assert _snapshot() == clean
    assert _indexes() == indexes

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
