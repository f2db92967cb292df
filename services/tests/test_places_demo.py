"""The places demo: every new card has a figure, deterministic by seed, removed by --reset."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from communities.models import Settlement
from relocation.dashboards.engine import add_sums
from relocation.dashboards.registry import Window, registry
from services.demo.places import delete_places_demo, places_demo_counts
from services.indicators.places import service_flows, service_places
from services.models import (
    Activity,
    AssetIncome,
    CollectiveAsset,
    Facility,
    FundedProject,
    Honour,
    ServiceStandard,
)

pytestmark = pytest.mark.django_db
HOUSEHOLDS = 300


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(seed=7, *extra):
    out = io.StringIO()
    call_command(
        "load_demo", "--households", str(HOUSEHOLDS), "--seed", str(seed), *extra, stdout=out
    )
    return out.getvalue()


def snapshot():
    return (
        sorted(
            Facility.objects.values_list(
                "settlement__code",
                "kind__code",
                "name",
                "teachers",
                "medical_staff",
                "opened_on",
                "state",
            )
        ),
        sorted(
            Activity.objects.values_list(
                "settlement__code", "kind__code", "held_on", "participants"
            )
        ),
        sorted(Honour.objects.values_list("household__number", "kind__code", "awarded_on")),
        sorted(
            FundedProject.objects.values_list(
                "settlement__code", "amount", "source", "allocated_on"
            )
        ),
    )


def sums_for(start, today):
    window = Window(start=start, reference_date=today, income_year=today.year - 1)
    settlements = Settlement.objects.all()
    rows = [
        *service_places(settlements, window).values(),
        *service_flows(settlements, window).values(),
    ]
    return add_sums(rows)


def test_demo_fills_every_card_of_the_running_month(db):
    output = load()
    assert "服务设施、活动与表彰演示数据已生成" in output
    counts = places_demo_counts()
    assert all(counts.values()), counts
    assert AssetIncome.objects.exists()
    today = timezone.localdate()
    sums = sums_for(today.replace(day=1), today)
    for key in (
        "facilities",
        "teachers",
        "medical_staff",
        "funding_total",
        "activities",
        "activity_participants",
        "honours",
    ):
        value = registry.indicators[key].evaluate(sums)
        assert value and value > 0, key
    quarter = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    sums = sums_for(quarter, today)
    assert registry.indicators["safety_trainings"].evaluate(sums) > 0
    assert registry.indicators["fire_drills"].evaluate(sums) > 0
    # Each settlement has a standard; a served small settlement may get its kind from a hub.
    assert sums["standard_settlements"] == Settlement.objects.count()
    assert registry.indicators["standard_coverage_rate"].evaluate(sums) is not None
    # Seed proportions: about 2 honours and 5 activities per 100 households a year.
    assert 2 * 2 <= Honour.objects.count() <= 2 * 2 * 3 + 4 * Settlement.objects.count()
    assert Activity.objects.count() >= 2 * 12 * Settlement.objects.count()
    # Nothing the admin would refuse: no activity, honour or fund in the future.
    assert not Activity.objects.filter(held_on__gt=today).exists()
    assert not Honour.objects.filter(awarded_on__gt=today).exists()
    assert not FundedProject.objects.filter(allocated_on__gt=today).exists()
    assert Facility.history.filter(history_type="+").count() == Facility.objects.count()
    # A second run keeps everything and says so.
    assert "已存在服务设施、活动与表彰演示数据" in load()


def test_demo_is_deterministic_and_removable(db):
    load()
    first = snapshot()
    load(7, "--reset")
    assert snapshot() == first
    delete_places_demo()
    assert not Facility.objects.exists() and not Activity.objects.exists()
    assert not Honour.objects.exists() and not FundedProject.objects.exists()
    assert not CollectiveAsset.objects.exists() and not ServiceStandard.objects.exists()
    assert not Facility.history.exists() and not ServiceStandard.history.exists()
