"""The protection demo: the seeds' proportions, every work list filled, deterministic, removable."""

import hashlib
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from communities.demo import DEMO_REASON, delete_demo_data
from communities.models import Household, Person, Settlement
from relocation.dashboards.registry import Window, registry
from services.demo.protection import (
    CHECKLIST,
    HOUSEHOLD_FIELDS,
    _household_draws,
    _item_draws,
    _item_multipliers,
    _right_rows,
    _start,
    build_protection_demo,
    delete_protection_demo,
    protection_demo_counts,
)
from services.indicators.protection import BENEFIT_COMPONENTS
from services.models import BenefitKind, BenefitRecord, HouseholdRight, RightsItem, RightState
from services.models.protection import (
    HEALTH_LISTS,
    HOUSEHOLD_LISTS,
    PERSON_LISTS,
    has_benefit_q,
    pension_base_q,
)

HOUSEHOLDS = 300
SEED = 5


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("load_demo", "--households", str(HOUSEHOLDS), "--seed", str(SEED), stdout=out)
    return out.getvalue()


def _snapshot():
    return (
        sorted(
            BenefitRecord.objects.values_list(
                "person__id_number", "kind", "start_date", "end_date", "monthly_amount"
            ),
            key=str,
        ),
        sorted(
            HouseholdRight.objects.values_list(
                "household__number", "item__name", "state", "recorded_on"
            ),
            key=str,
        ),
    )


def test_demo_at_the_seeds_proportions(demo):
    assert "社会保障与权益保障：待遇记录" in demo
    counts = protection_demo_counts()
    assert all(value > 0 for value in counts.values()), counts
    # What the step printed are the rows it wrote; the tables counted again give the same.
    assert (
        f"社会保障与权益保障：待遇记录 {counts['benefit_records']:,} 条，"
        f"临时救助 {counts['temporary_assistance']:,} 笔，"
        f"权益落实记录 {counts['household_rights']:,} 条（清单事项 {counts['rights_items']} 项）"
    ) in demo
    assert sum(len(items) for _c, _s, items in CHECKLIST) == 23 and len(CHECKLIST) == 4
    today = timezone.localdate()
    window = Window(start=today.replace(month=1, day=1), reference_date=today, income_year=2025)
    totals = {}
    for key in ("social_protection", "temporary_assistance", "rights"):
        for values in registry.sources[key].compute(Settlement.objects.all(), window).values():
            for component, value in values.items():
                totals[component] = totals.get(component, 0) + value
    people = totals["protection_people"]
    # Seed 001: 10.94 万 of about 11.3 万 insured (≈ 97 %), 3.29 万 on 低保 (≈ 29 %).
    assert 0.94 <= totals["medical_insured"] / people <= 0.99
    assert 0.55 <= totals["pension_insured"] / totals["pension_base"] <= 0.9
    assert totals["dibao_urban"] > 0 and totals["dibao_rural"] > 0
    assert 0.75 <= totals["rights_secured"] / totals["rights_applicable"] <= 0.95
    assert totals["rights_households_complete"] > 0
    # The dashboard's sums and the work lists' rule (one query per person) agree.
    for component, (kind, _field, _value, in_base) in BENEFIT_COMPONENTS.items():
        people_q = Person.objects.filter(has_benefit_q(kind, today))
        if in_base:
            people_q = people_q.filter(pension_base_q(today))
        assert totals[component] == people_q.count(), component
    _label, complete = HOUSEHOLD_LISTS["complete"]
    assert totals["rights_households_complete"] == complete(Household.objects.all(), today).count()
    _label, incomplete = HOUSEHOLD_LISTS["incomplete"]
    assert totals["rights_households"] == (
        totals["rights_households_complete"] + incomplete(Household.objects.all(), today).count()
    )
    # Records agree with the people's fields (the field is kept in step).
    assert totals["medical_insured"] == Person.objects.filter(medical_insurance=True).count()
    # Some people moved from 农村低保 to 城市低保.
    assert BenefitRecord.objects.filter(
        kind=BenefitKind.DIBAO_RURAL, end_date__isnull=False
    ).exists()
    # Every work list has entries.
    for key in ("sick_no_medical", "elderly_no_pension", "dibao_urban", "school_age"):
        _label, rule = PERSON_LISTS[key]
        assert rule(Person.objects.all(), today).exists(), key
    assert "sick_no_medical" in HEALTH_LISTS


def test_demo_is_deterministic_and_removable(demo):
    first = _snapshot()
    assert build_protection_demo(seed=SEED) is None  # already there: nothing again
    delete_protection_demo()
    assert BenefitRecord.objects.count() == 0 and HouseholdRight.objects.count() == 0
    assert RightsItem.objects.count() == 0
    assert build_protection_demo(seed=SEED) is not None
    assert _snapshot() == first
    delete_demo_data()  # the communities demo removes this step first
    assert BenefitRecord.objects.count() == 0
    assert BenefitRecord.history.count() == 0


def test_rights_drawn_by_the_database_are_the_reference_draws(demo):
    """On PostgreSQL ``_RIGHTS_SQL`` makes the rights; ``_right_rows`` (SQLite's path)
    must make exactly the same rows from the same households, and both keep the
    checklist's shares and dates."""
    today = timezone.localdate()
    checklist = list(RightsItem.objects.filter(category__province_id="520000").order_by("pk"))
    assert len(checklist) == 23
    items = [item.pk for item in checklist]
    expected, households = [], 0
    for household in Household.objects.order_by("number").values_list(
        *HOUSEHOLD_FIELDS, named=True
    ):
        households += 1
        expected += _right_rows(SEED, household, _start(household, today), today, items)
    stored = HouseholdRight.objects.values_list("household_id", "item_id", "state", "recorded_on")
    assert sorted(stored) == sorted(
        (r["household_id"], r["item_id"], r["state"], r["recorded_on"]) for r in expected
    )
    # Every stored right has its "+" history row with the same values.
    history = HouseholdRight.history.filter(history_type="+", history_change_reason=DEMO_REASON)
    assert sorted(history.values_list("id", "household_id", "item_id", "state", "recorded_on")) == (
        sorted(
            HouseholdRight.objects.values_list(
                "id", "household_id", "item_id", "state", "recorded_on"
            )
        )
    )
    # The shares of the module docstring (300 households, 23 items: wide bounds).
    checked = len({r["household_id"] for r in expected})
    assert 0.88 * households <= checked < households
    states = Counter(r["state"] for r in expected)
    assert 0.05 <= states[RightState.NOT_APPLICABLE] / len(expected) <= 0.15
    assert 0.02 <= states[RightState.PENDING] / len(expected) <= 0.08
    starts = {
        h.pk: _start(h, today) for h in Household.objects.values_list(*HOUSEHOLD_FIELDS, named=True)
    }
    assert all(starts[r["household_id"]] <= r["recorded_on"] <= today for r in expected)
    assert len({r["recorded_on"] for r in expected}) > 100  # spread over the years, not one day


def test_a_household_draws_from_the_md5_of_its_key():
    digest = hashlib.md5(b"5:rights:520102000001").hexdigest()
    draw, generator = _household_draws("5:rights:520102000001")
    assert draw == int(digest[:12], 16) / 2**48
    assert generator == 1 + int(digest[12:20], 16) % (2**31 - 2)
    assert 1 <= generator < 2**31 - 1


def test_the_items_draw_the_minstd_numbers_after_the_households_seed():
    """Item p takes the generator's numbers 2p - 1 and 2p: the multipliers jump
    ahead exactly as stepping x -> 48271 x mod 2^31 - 1 would."""
    generator = _household_draws("5:rights:520102000001")[1]
    stepped, x = [], generator
    for _ in range(6):
        x = x * 48271 % (2**31 - 1)
        stepped.append(x / (2**31 - 1))
    of_state, of_date = _item_multipliers(3)
    drawn = [
        _item_draws(generator, m) for pair in zip(of_state, of_date, strict=True) for m in pair
    ]
    assert drawn == stepped
    assert all(0 < d < 1 for d in drawn) and len(set(drawn)) == 6
