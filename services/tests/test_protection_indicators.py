"""Social protection and rights figures on a hand-made world (D = 2026-06-30).

阳光 (s1, 兴义市):
  household h1
    p1  40  医保 field ✓ (no record); 养老 record starting ON D; 城市低保 record since 2025
    p2  40  医保 record ended D-1 (field ✓ before the record) → not insured; 养老 field ✓;
            低保 field 农村 (no record)
    p3  turns 6 ON D, not in school            → school age, out of school
    p4  15 (16 tomorrow), 初中                  → school age, in school
    p5  turns 16 ON D, not in school           → pension base, not insured
    pk  turns 6 tomorrow (5)                   → not school age
  household h2
    p6  70  大病, 医保 field ✗, 农村低保 record ended D-1  → not on 低保
    p7  50  残疾一级, 护理补贴 since 2026-01-01; 生活补贴 from D+1
德坞 (s3, 钟山区): h3 with p8 30, 医保 ✓, 养老 ✗.
空 (s4, 兴仁市): nobody.

s1: people 8 (p1-p7, pk); 医保 p1 p3 p4 p5 pk p7 = 6; 养老 base p1 p2 p5 p6 p7 = 5,
insured p1 p2 = 2; 城市低保 1 (p1), 农村低保 1 (p2); school age 2 (p3 p4), in school 1;
护理补贴 1, 生活补贴 0.  s3: people 1, 医保 1, base 1, insured 0.
Roll-up: 医保 (6 + 1) / (8 + 1) = 77.78 %, not the mean of 75 % and 100 %.
临时救助 in 2026-04-01..D: p1 500 on the first day, p6 300.50 on D; p7 1000 on 03-31 left out.
Rights (贵州 checklist: 原籍 A, B; 迁入地 C; 云南 has X):
  h1: A secured, B not applicable, C secured but recorded D+1 → 1 of 2
  h2: A, B, C secured → 3 of 3, complete
  h3: nothing recorded → 0 of 3
  → 4 secured of 8 applicable (50 %), 1 complete household of 3.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from communities import enums as cenums
from communities.models import Region
from communities.tests.factories import (
    HouseholdFactory,
    SettlementFactory,
)
from employment.tests.test_indicators import person
from relocation.dashboards.engine import add_sums, evaluate
from relocation.dashboards.registry import Window, registry
from services.models import (
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightSide,
    RightsItem,
    RightState,
    TemporaryAssistance,
)

D = datetime.date(2026, 6, 30)
WINDOW = Window(start=datetime.date(2026, 4, 1), reference_date=D, income_year=2025)


def born(years, days=0):
    return D.replace(year=D.year - years) + datetime.timedelta(days=days)


def benefit(p, kind, start, end=None):
    return BenefitRecord.objects.create(person=p, kind=kind, start_date=start, end_date=end)


@pytest.fixture
def protection_world(region_tree):
    rt = region_tree
    s1 = SettlementFactory(name="阳光", county=rt.xingyi)
    s3 = SettlementFactory(name="德坞", county=rt.zhongshan)
    s4 = SettlementFactory(name="空", county=rt.xingren)
    h1 = HouseholdFactory(settlement=s1)
    h2 = HouseholdFactory(settlement=s1)
    h3 = HouseholdFactory(settlement=s3)
    p1 = person(h1, "p1", born(40), relationship=cenums.Relationship.HEAD)
    p2 = person(h1, "p2", born(40, -3), pension_insurance=True, dibao="rural")
    p3 = person(h1, "p3", born(6))
    p4 = person(h1, "p4", born(16, 1), school_stage=cenums.SchoolStage.JUNIOR)
    p5 = person(h1, "p5", born(16))
    pk = person(h1, "pk", born(6, 1))
    p6 = person(
        h2,
        "p6",
        born(70),
        relationship=cenums.Relationship.HEAD,
        health=cenums.Health.SERIOUS,
        medical_insurance=False,
        dibao="rural",
    )
    p7 = person(h2, "p7", born(50), health=cenums.Health.DISABLED, disability_grade=1, sex="F")
    p8 = person(h3, "p8", born(30), relationship=cenums.Relationship.HEAD)
    benefit(p1, BenefitKind.PENSION, D)
    benefit(p1, BenefitKind.DIBAO_URBAN, datetime.date(2025, 1, 1))
    benefit(p2, BenefitKind.MEDICAL, datetime.date(2020, 1, 1), D - datetime.timedelta(days=1))
    benefit(p6, BenefitKind.DIBAO_RURAL, datetime.date(2021, 1, 1), D - datetime.timedelta(days=1))
    benefit(p7, BenefitKind.DISABILITY_CARE, datetime.date(2026, 1, 1))
    benefit(p7, BenefitKind.DISABILITY_LIVING, D + datetime.timedelta(days=1))
    TemporaryAssistance.objects.create(person=p1, granted_on=WINDOW.start, amount=Decimal("500"))
    TemporaryAssistance.objects.create(person=p6, granted_on=D, amount=Decimal("300.50"))
    TemporaryAssistance.objects.create(
        person=p7, granted_on=WINDOW.start - datetime.timedelta(days=1), amount=Decimal("1000")
    )

    yunnan = Region.objects.create(code="530000", name="云南省", level=cenums.RegionLevel.PROVINCE)
    origin = RightsCategory.objects.create(
        province=rt.guizhou, name="原籍权益", side=RightSide.ORIGIN, order=1
    )
    destination = RightsCategory.objects.create(
        province=rt.guizhou, name="迁入地权益", side=RightSide.DESTINATION, order=2
    )
    a = RightsItem.objects.create(category=origin, name="承包地", order=1)
    b = RightsItem.objects.create(category=origin, name="林地", order=2)
    c = RightsItem.objects.create(category=destination, name="医保转移接续", order=1)
    RightsItem.objects.create(category=origin, name="已停用事项", order=9, active=False)
    x = RightsItem.objects.create(
        category=RightsCategory.objects.create(
            province=yunnan, name="原籍权益", side=RightSide.ORIGIN
        ),
        name="宅基地复垦",
    )
    before = D - datetime.timedelta(days=10)
    for household, item, state, day in (
        (h1, a, RightState.SECURED, before),
        (h1, b, RightState.NOT_APPLICABLE, before),
        (h1, c, RightState.SECURED, D + datetime.timedelta(days=1)),
        (h2, a, RightState.SECURED, before),
        (h2, b, RightState.SECURED, D),
        (h2, c, RightState.SECURED, before),
    ):
        HouseholdRight.objects.create(household=household, item=item, state=state, recorded_on=day)
    return locals()


def figures(settlements):
    result = {}
    for key in ("social_protection", "temporary_assistance", "rights"):
        for sid, values in registry.sources[key].compute(settlements, WINDOW).items():
            result.setdefault(sid, {}).update(values)
    return result


def test_stocks_per_settlement_on_the_reference_date(protection_world, django_assert_num_queries):
    from communities.models import Settlement

    w = protection_world
    # Three grouped queries whatever the number of settlements.
    with django_assert_num_queries(3):
        rows = registry.sources["social_protection"].compute(Settlement.objects.all(), WINDOW)
    assert rows[w["s1"].pk] == {
        "protection_people": 8,
        "medical_insured": 6,
        "pension_base": 5,
        "pension_insured": 2,
        "dibao_urban": 1,
        "dibao_rural": 1,
        "extreme_poverty": 0,
        "school_age_children": 2,
        "school_age_in_school": 1,
        "school_age_out_of_school": 1,
        "disability_living": 0,
        "disability_care": 1,
    }
    assert rows[w["s3"].pk]["protection_people"] == 1
    assert rows[w["s3"].pk]["medical_insured"] == 1
    assert rows[w["s3"].pk]["pension_base"] == 1
    assert rows[w["s3"].pk]["pension_insured"] == 0
    assert w["s4"].pk not in rows


def test_a_pension_record_counts_only_in_the_pension_base(protection_world):
    """养老保险参保: a record counts only for a person of the pension base (16 or over and
    not a full-time student), on one date and on several."""
    from communities.models import Settlement

    w = protection_world
    since = datetime.date(2025, 1, 1)
    adult = person(w["h3"], "p9", born(30))
    for who in (adult, person(w["h3"], "p10", born(15)), person(w["h3"], "p11", born(20))):
        if who.name == "p11":
            who.school_stage = cenums.SchoolStage.UNDERGRADUATE
            who.save()
        benefit(who, BenefitKind.PENSION, since)
    before = Window(start=WINDOW.start, reference_date=since, income_year=2024)
    source = registry.sources["social_protection"]
    for windows in ([WINDOW], [WINDOW, before]):
        row = source.dates(Settlement.objects.all(), windows)(WINDOW)[w["s3"].pk]
        # p8 and p9 are the base; p9 alone is insured (p10 is 15, p11 a student).
        assert (row["pension_base"], row["pension_insured"]) == (2, 1), windows


def test_the_day_before_counts_the_ended_records_and_not_the_one_starting_on_d(protection_world):
    from communities.models import Settlement

    w = protection_world
    before = Window(
        start=WINDOW.start, reference_date=D - datetime.timedelta(days=1), income_year=2025
    )
    row = registry.sources["social_protection"].compute(Settlement.objects.all(), before)[
        w["s1"].pk
    ]
    # p2's 医保 record still covers D-1; p1's 养老 has not started; p6 is still on 农村低保.
    assert row["medical_insured"] == 7
    assert row["pension_insured"] == 1
    assert row["dibao_rural"] == 2
    # p3 is 5 and p5 15 the day before: one child of school age (p4), p5 is then one.
    assert row["school_age_children"] == 2
    assert row["pension_base"] == 4


def test_flows_count_the_first_and_last_day_of_the_period(protection_world):
    from communities.models import Settlement

    w = protection_world
    rows = registry.sources["temporary_assistance"].compute(Settlement.objects.all(), WINDOW)
    assert rows == {
        w["s1"].pk: {
            "temporary_assistance_count": 2,
            "temporary_assistance_amount": Decimal("800.50"),
        }
    }


def test_rights_coverage_per_household(protection_world, django_assert_num_queries):
    from communities.models import Settlement

    w = protection_world
    with django_assert_num_queries(4):  # whatever the number of settlements
        rows = registry.sources["rights"].compute(Settlement.objects.all(), WINDOW)
    assert rows[w["s1"].pk] == {
        "rights_applicable": 5,
        "rights_secured": 4,
        "rights_households": 2,
        "rights_households_complete": 1,
    }
    assert rows[w["s3"].pk] == {
        "rights_applicable": 3,
        "rights_secured": 0,
        "rights_households": 1,
        "rights_households_complete": 0,
    }


def test_rates_roll_up_from_summed_components(protection_world):
    from communities.models import Settlement

    w = protection_world
    rows = figures(Settlement.objects.all())
    s1 = evaluate(registry.indicators.values(), add_sums([rows[w["s1"].pk]]))
    assert round(s1["medical_insurance_rate"], 2) == Decimal("75.00")
    assert s1["pension_insurance_rate"] == Decimal("40")
    assert s1["in_school_rate"] == Decimal("50")
    assert s1["rights_coverage_rate"] == Decimal("80")
    total = evaluate(registry.indicators.values(), add_sums(rows.values()))
    # (6 + 1) / (8 + 1), not the mean of 75 % and 100 %.
    assert round(total["medical_insurance_rate"], 2) == Decimal("77.78")
    assert round(total["pension_insurance_rate"], 2) == Decimal("33.33")
    assert total["rights_coverage_rate"] == Decimal("50")
    assert round(total["rights_complete_rate"], 2) == Decimal("33.33")
    assert total["temporary_assistance_amount"] == Decimal("800.50")


def test_empty_denominators_give_no_value(protection_world):
    from communities.models import Settlement

    w = protection_world
    rows = figures(Settlement.objects.filter(pk=w["s4"].pk))
    values = evaluate(registry.indicators.values(), add_sums(rows.values()))
    for key in (
        "medical_insurance_rate",
        "pension_insurance_rate",
        "in_school_rate",
        "rights_coverage_rate",
        "rights_complete_rate",
    ):
        assert values[key] is None, key
    assert values["medical_insured"] == 0


def test_every_protection_indicator_declares_direction_and_link():
    mine = [i for i in registry.indicators.values() if i.section == "services"]
    keys = {i.key for i in mine}
    assert {
        "medical_insurance_rate",
        "pension_insurance_rate",
        "dibao_urban",
        "dibao_rural",
        "school_age_children",
        "in_school_rate",
        "temporary_assistance_count",
        "temporary_assistance_amount",
        "disability_living",
        "disability_care",
        "rights_coverage_rate",
        "rights_households_complete",
    } <= keys
    assert registry.indicators["medical_insurance_rate"].direction == "up"
    assert registry.indicators["school_age_out_of_school"].direction == "down"
    window = WINDOW
    url = registry.indicators["dibao_urban"].link("s7", window)
    assert (
        url == "/admin/communities/person/?area=s7&protection=dibao_urban&protection_on=2026-06-30"
    )
    url = registry.indicators["temporary_assistance_count"].link("5223", window)
    assert url == (
        "/admin/services/temporaryassistance/?area=5223"
        "&granted_on__gte=2026-04-01&granted_on__lte=2026-06-30"
    )


def test_an_item_of_another_province_is_refused(protection_world):
    w = protection_world
    right = HouseholdRight(household=w["h1"], item=w["x"], state=RightState.SECURED, recorded_on=D)
    with pytest.raises(ValidationError) as error:
        right.full_clean()
    assert "云南省" in str(error.value.message_dict["item"])


def test_a_benefit_that_ends_before_it_starts_is_refused(protection_world):
    w = protection_world
    record = BenefitRecord(
        person=w["p8"],
        kind=BenefitKind.PENSION,
        start_date=D,
        end_date=D - datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as error:
        record.full_clean()
    assert error.value.message_dict["end_date"] == ["停止日期不能早于开始日期。"]


def test_saving_a_record_keeps_the_person_field_in_step(protection_world):
    w = protection_world
    w["p2"].refresh_from_db()
    w["p6"].refresh_from_db()
    w["p1"].refresh_from_db()
    # Records ended before today: the fields follow them; p1's open ones stand.
    assert w["p2"].medical_insurance is False
    assert w["p6"].dibao == ""
    assert (w["p1"].pension_insurance, w["p1"].dibao) == (True, "urban")
    # A person without records keeps what was registered.
    w["p8"].refresh_from_db()
    assert w["p8"].medical_insurance is True
    record = BenefitRecord.objects.get(person=w["p1"], kind=BenefitKind.DIBAO_URBAN)
    record.end_date = timezone.localdate() - datetime.timedelta(days=1)
    record.save()
    w["p1"].refresh_from_db()
    assert w["p1"].dibao == ""
    assert w["p1"].history.first().dibao == ""  # the change is in the person's history
    # Deleting the last record leaves the field as it stands (it decides again).
    record.delete()
    w["p1"].refresh_from_db()
    assert w["p1"].dibao == ""


DAYS = [D - datetime.timedelta(days=n) for n in (11, 1, 0, -1, -2)]
DATED = ("social_protection", "rights", "rights_items")


def windows(days=DAYS):
    return [Window(start=WINDOW.start, reference_date=day, income_year=2025) for day in days]


@pytest.mark.parametrize(("key", "queries"), [(key, 3 + (key == "rights")) for key in DATED])
def test_several_dates_in_one_pass_give_each_date_its_own_figures(
    protection_world, django_assert_num_queries, key, queries
):
    """``Source.dates``: the same number of queries for five dates as for one, and for each
    date exactly what that date alone gives."""
    from communities.models import Settlement

    source = registry.sources[key]
    settlements = Settlement.objects.all()
    with django_assert_num_queries(queries):
        figures_for = source.dates(settlements, windows())
    alone = {window.reference_date: source.compute(settlements, window) for window in windows()}
    # The dates differ (records start and end between them), so a date read from
    # another date's columns would not pass.
    assert len({repr(sorted(figures.items())) for figures in alone.values()}) >= 3
    for window in reversed(windows()):
        assert figures_for(window) == alone[window.reference_date], window.reference_date


def test_several_dates_by_hand(protection_world):
    """On D+1 h1's item C (recorded D+1) is secured: 5 of 5, both households complete;
    on D-1 h2's item B (recorded D) is not yet: 3 of 5.  On D-1 p2's 医保 record still
    covers; on D+1 p7's 生活补贴 has begun."""
    from communities.models import Settlement

    w = protection_world
    after, before = D + datetime.timedelta(days=1), D - datetime.timedelta(days=1)
    settlements = Settlement.objects.all()
    rights_on = registry.sources["rights"].dates(settlements, windows([after, D, before]))
    s1 = w["s1"].pk
    assert rights_on(windows([after])[0])[s1] == {
        "rights_applicable": 5,
        "rights_secured": 5,
        "rights_households": 2,
        "rights_households_complete": 2,
    }
    assert rights_on(windows([before])[0])[s1] == {
        "rights_applicable": 5,
        "rights_secured": 3,
        "rights_households": 2,
        "rights_households_complete": 0,
    }
    stocks_on = registry.sources["social_protection"].dates(
        settlements, windows([before, D, after])
    )
    assert [stocks_on(window)[s1]["medical_insured"] for window in windows([before, D, after])] == [
        7,
        6,
        6,
    ]
    assert [
        stocks_on(window)[s1]["disability_living"] for window in windows([before, D, after])
    ] == [0, 0, 1]
    items_on = registry.sources["rights_items"].dates(settlements, windows([before, after]))
    c = f"rights_item_{w['c'].pk}_secured"
    b = f"rights_item_{w['b'].pk}_secured"
    assert (items_on(windows([before])[0])[s1][c], items_on(windows([after])[0])[s1][c]) == (1, 2)
    assert (items_on(windows([before])[0])[s1][b], items_on(windows([after])[0])[s1][b]) == (0, 1)


@pytest.mark.parametrize(("seed", "dates"), [(1, 9), (2, 9), (3, 9), (4, 30)])
def test_many_households_over_many_dates_give_what_each_date_alone_gives(
    protection_world, seed, dates
):
    """``rights`` and ``rights_items`` count each row once, by how many of the dates come
    before it, and sum those counts per household and date: households whose rows all
    come after some dates, rows recorded on a date itself, pending rows, households
    with nothing recorded and dates in any order give each date what that date alone
    gives (a single date needs no sums).  30 dates fill more than one packed integer
    (``bydate.Packed``: 3 bits a date for the rights, 5 for the items' counts here)."""
    import random

    from communities.models import Settlement

    w = protection_world
    rng = random.Random(seed)
    days = [D + datetime.timedelta(days=n) for n in rng.sample(range(-dates - 11, 6), dates)]
    states = list(RightState)
    for n in range(40):
        household = HouseholdFactory(settlement=w["s1"] if n % 3 else w["s3"])
        if n % 7 == 0:
            continue  # nothing recorded
        late = rng.choice([*days, D - datetime.timedelta(days=60)])  # its first record's day
        for item in rng.sample([w["a"], w["b"], w["c"]], rng.randint(1, 3)):
            day = rng.choice([late, late + datetime.timedelta(days=rng.randint(0, 12))])
            HouseholdRight.objects.create(
                household=household, item=item, state=rng.choice(states), recorded_on=day
            )
    settlements = Settlement.objects.all()
    for key in ("rights", "rights_items"):
        source = registry.sources[key]
        figures_for = source.dates(settlements, windows(days))
        alone = {day: source.compute(settlements, windows([day])[0]) for day in days}
        assert len({repr(sorted(figures.items())) for figures in alone.values()}) >= 5, key
        for window in windows(days):
            assert figures_for(window) == alone[window.reference_date], (key, window)


@pytest.mark.parametrize("seed", [1, 2])
def test_benefits_over_many_dates_give_what_each_date_alone_gives(protection_world, seed):
    """``social_protection`` counts several dates in one pass (each count repeated per date)
    and one date with the day in the query: people with several overlapping records of a
    kind, records of both 低保 kinds,
    fields that say otherwise than the records, people turning 16 between the dates
    (the pension base), students and records starting or ending on a date itself give
    each date what that date alone gives."""
    import random

    from communities.models import Settlement

    w = protection_world
    rng = random.Random(seed)
    days = sorted(D + datetime.timedelta(days=n) for n in rng.sample(range(-40, 10), 9))
    kinds = list(BenefitKind)
    for n in range(30):
        household = HouseholdFactory(settlement=w["s1"] if n % 3 else w["s3"])
        for m in range(rng.randint(1, 4)):
            p = person(
                household,
                f"r{n}-{m}",
                born(rng.choice([16, 16, 30, 70]), rng.randint(-45, 45)),
                school_stage=rng.choice(["", "", cenums.SchoolStage.SENIOR]),
                medical_insurance=rng.random() < 0.5,
                pension_insurance=rng.random() < 0.5,
                dibao=rng.choice(["", "urban", "rural"]),
            )
            for _record in range(rng.choice([0, 1, 2, 3])):
                start = rng.choice([*days, D - datetime.timedelta(days=400)])
                start += datetime.timedelta(days=rng.choice([0, 0, -3, 5]))
                end = rng.choice([None, start + datetime.timedelta(days=rng.randint(0, 30))])
                benefit(p, rng.choice(kinds), start, end)
    settlements = Settlement.objects.all()
    source = registry.sources["social_protection"]
    figures_for = source.dates(settlements, windows(days))
    alone = {day: source.compute(settlements, windows([day])[0]) for day in days}
    assert len({repr(sorted(figures.items())) for figures in alone.values()}) >= 5
    for window in windows(days):
        assert figures_for(window) == alone[window.reference_date], window
