"""Model rules of the communities app: derived fields, constraints and clean()."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from communities import enums
from communities.models import AreaScope, Household, Person, Region, Settlement
from communities.tests.factories import (
    BuildingFactory,
    GridUnitFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
    TenHouseholdGroupFactory,
    household_with_members,
    make_id_number,
)

pytestmark = pytest.mark.django_db

PUBLISHED_X = "11010519491231002X"  # 1949-12-31, female
ZHONGSHAN_MAN = "520201199001011239"  # 1990-01-01, male
XINGYI_WOMAN = "522301198505200028"  # 1985-05-20, female

Rel = enums.Relationship


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def new_person(household, id_number, relationship=Rel.SON, **kw):
    return Person(
        household=household, name="测试", id_number=id_number, relationship=relationship, **kw
    )


def errors_of(instance):
    with pytest.raises(ValidationError) as info:
        instance.full_clean()
    return info.value.message_dict


class TestDerivedFields:
    def test_save_derives_birth_date_and_sex(self):
        person = new_person(HouseholdFactory(), XINGYI_WOMAN)
        person.save()
        person.refresh_from_db()
        assert person.birth_date == datetime.date(1985, 5, 20)
        assert person.sex == enums.Sex.FEMALE

    def test_full_clean_derives_them_before_saving(self):
        person = new_person(HouseholdFactory(), ZHONGSHAN_MAN)
        person.full_clean()
        assert person.birth_date == datetime.date(1990, 1, 1)
        assert person.sex == enums.Sex.MALE

    def test_full_clean_normalises_the_number(self):
        person = new_person(HouseholdFactory(), " 11010519491231002x ")
        person.full_clean()
        assert person.id_number == PUBLISHED_X
        assert person.birth_date == datetime.date(1949, 12, 31)
        assert person.sex == enums.Sex.FEMALE

    def test_save_normalises_the_number(self):
        person = new_person(HouseholdFactory(), "11010519491231002x")
        person.save()
        assert Person.objects.get(pk=person.pk).id_number == PUBLISHED_X

    def test_changing_the_number_updates_them(self):
        person = new_person(HouseholdFactory(), XINGYI_WOMAN)
        person.save()
        person.id_number = ZHONGSHAN_MAN
        person.save()
        person.refresh_from_db()
        assert person.birth_date == datetime.date(1990, 1, 1)
        assert person.sex == enums.Sex.MALE

    def test_typed_values_are_overridden_by_the_number(self):
        person = new_person(
            HouseholdFactory(), XINGYI_WOMAN, birth_date=datetime.date(2001, 1, 1), sex="M"
        )
        person.save()
        person.refresh_from_db()
        assert (person.birth_date, person.sex) == (datetime.date(1985, 5, 20), "F")

    def test_invalid_number_is_a_chinese_error_on_the_field(self):
        errors = errors_of(new_person(HouseholdFactory(), "520201199001011234"))
        assert errors["id_number"] == [
            "身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。"
        ]

    def test_factory_age_and_sex_agree_with_the_number(self):
        today = timezone.localdate()
        person = PersonFactory(age=37, sex="F")
        person.refresh_from_db()
        assert person.age_on(today) == 37
        assert person.sex == "F"
        assert int(person.id_number[16]) % 2 == 0


class TestIdNumberUniqueness:
    def test_full_clean_reports_a_registered_number(self):
        new_person(HouseholdFactory(), PUBLISHED_X).save()
        errors = errors_of(new_person(HouseholdFactory(), PUBLISHED_X))
        assert errors == {"id_number": ["该身份证号已在系统中登记。"]}

    def test_lowercase_x_is_the_same_number(self):
        new_person(HouseholdFactory(), PUBLISHED_X).save()
        errors = errors_of(new_person(HouseholdFactory(), "11010519491231002x"))
        assert errors["id_number"] == ["该身份证号已在系统中登记。"]

    def test_a_person_does_not_clash_with_themself(self):
        person = new_person(HouseholdFactory(), PUBLISHED_X)
        person.save()
        person.name = "改名"
        person.full_clean()

    def test_database_rejects_a_duplicate_saved_without_clean(self):
        new_person(HouseholdFactory(), ZHONGSHAN_MAN).save()
        with transaction.atomic(), pytest.raises(IntegrityError):
            new_person(HouseholdFactory(), ZHONGSHAN_MAN).save()
        assert Person.objects.filter(id_number=ZHONGSHAN_MAN).count() == 1


class TestOneHeadPerHousehold:
    def test_second_head_fails_full_clean(self):
        household = HouseholdFactory()
        new_person(household, ZHONGSHAN_MAN, Rel.HEAD).save()
        errors = errors_of(new_person(household, XINGYI_WOMAN, Rel.HEAD))
        assert errors == {NON_FIELD_ERRORS: ["每户只能有一名户主。"]}

    def test_second_head_fails_in_the_database(self):
        household = HouseholdFactory()
        new_person(household, ZHONGSHAN_MAN, Rel.HEAD).save()
        with transaction.atomic(), pytest.raises(IntegrityError):
            new_person(household, XINGYI_WOMAN, Rel.HEAD).save()
        assert household.members.filter(relationship=Rel.HEAD).count() == 1

    def test_heads_of_different_households_and_other_members_are_fine(self):
        household = HouseholdFactory()
        new_person(household, ZHONGSHAN_MAN, Rel.HEAD).save()
        new_person(HouseholdFactory(), XINGYI_WOMAN, Rel.HEAD).full_clean()
        spouse = new_person(household, XINGYI_WOMAN, Rel.SPOUSE)
        spouse.full_clean()
        spouse.save()
        head = household.members.get(relationship=Rel.HEAD)
        head.full_clean()  # the existing head does not clash with itself
        assert head.is_head and not spouse.is_head

    def test_household_with_members_has_one_head(self):
        household = household_with_members(ages=[50, 47, 20, 17])
        members = list(household.members.order_by("id"))
        assert [m.relationship for m in members] == [Rel.HEAD, Rel.SPOUSE, Rel.SON, Rel.DAUGHTER]
        assert [m.sex for m in members] == ["M", "F", "M", "F"]
        today = timezone.localdate()
        assert [m.age_on(today) for m in members] == [50, 47, 20, 17]


class TestDisabilityGrade:
    def test_grade_without_disability_fails_full_clean(self):
        person = new_person(HouseholdFactory(), ZHONGSHAN_MAN, health=enums.Health.CHRONIC)
        person.disability_grade = enums.DisabilityGrade.SECOND
        assert errors_of(person) == {
            "disability_grade": ["只有健康状况为“残疾”时才能填写残疾等级。"]
        }

    def test_disability_without_grade_fails_full_clean(self):
        person = new_person(HouseholdFactory(), ZHONGSHAN_MAN, health=enums.Health.DISABLED)
        assert errors_of(person) == {"disability_grade": ["残疾人员请填写残疾等级。"]}

    def test_disabled_with_grade_is_valid(self):
        person = new_person(
            HouseholdFactory(), ZHONGSHAN_MAN, health=enums.Health.DISABLED, disability_grade=2
        )
        person.full_clean()
        person.save()
        assert Person.objects.get(pk=person.pk).disability_grade == 2

    def test_database_rejects_grade_without_disability(self):
        person = new_person(
            HouseholdFactory(), ZHONGSHAN_MAN, health=enums.Health.HEALTHY, disability_grade=1
        )
        with transaction.atomic(), pytest.raises(IntegrityError):
            person.save()
        assert not Person.objects.filter(id_number=ZHONGSHAN_MAN).exists()

    def test_database_rejects_a_grade_left_after_recovery(self):
        person = PersonFactory(health=enums.Health.DISABLED, disability_grade=3)
        with transaction.atomic(), pytest.raises(IntegrityError):
            Person.objects.filter(pk=person.pk).update(health=enums.Health.HEALTHY)
        assert Person.objects.get(pk=person.pk).health == enums.Health.DISABLED


class TestRelocationYear:
    @pytest.mark.parametrize(
        ("year", "message"),
        [(2015, "确保该值大于或等于2016。"), (2021, "确保该值小于或等于2020。")],
        ids=["2015", "2021"],
    )
    def test_full_clean_rejects_years_outside_2016_2020(self, year, message):
        household = HouseholdFactory.build(settlement=SettlementFactory(), relocation_year=year)
        assert errors_of(household) == {"relocation_year": [message]}

    @pytest.mark.parametrize("year", [2015, 2021])
    def test_database_check_constraint(self, year):
        with transaction.atomic(), pytest.raises(IntegrityError):
            HouseholdFactory(relocation_year=year)
        assert not Household.objects.filter(relocation_year=year).exists()

    def test_constraint_message_when_field_validation_is_skipped(self):
        household = HouseholdFactory.build(settlement=SettlementFactory(), relocation_year=2021)
        with pytest.raises(ValidationError) as info:
            household.validate_constraints()
        assert info.value.messages == ["搬迁年度应在2016至2020年之间。"]

    @pytest.mark.parametrize("year", [2016, 2020])
    def test_bounds_are_allowed(self, year):
        household = HouseholdFactory.build(settlement=SettlementFactory(), relocation_year=year)
        household.full_clean()
        household.save()
        assert Household.objects.get(pk=household.pk).relocation_year == year


class TestHouseholdClean:
    def test_consistent_household_is_valid(self, region_tree):
        settlement = SettlementFactory(county=region_tree.xingyi)
        grid = GridUnitFactory(settlement=settlement)
        household = HouseholdFactory.build(
            settlement=settlement,
            building=BuildingFactory(settlement=settlement),
            grid=grid,
            ten_group=TenHouseholdGroupFactory(grid=grid),
            origin_county=region_tree.xingyi,
            origin_township=region_tree.huangcao,
            moved_in_date=datetime.date(2019, 10, 1),
        )
        household.full_clean()

    def test_building_of_another_settlement(self):
        household = HouseholdFactory.build(
            settlement=SettlementFactory(), building=BuildingFactory()
        )
        assert errors_of(household) == {"building": ["所选楼栋不属于该安置点。"]}

    def test_grid_of_another_settlement(self):
        household = HouseholdFactory.build(settlement=SettlementFactory(), grid=GridUnitFactory())
        assert errors_of(household) == {"grid": ["所选网格不属于该安置点。"]}

    def test_ten_group_of_another_grid(self):
        settlement = SettlementFactory()
        grid = GridUnitFactory(settlement=settlement)
        other_grid = GridUnitFactory(settlement=settlement)
        household = HouseholdFactory.build(
            settlement=settlement, grid=grid, ten_group=TenHouseholdGroupFactory(grid=other_grid)
        )
        assert errors_of(household) == {"ten_group": ["所选十联户不属于该网格。"]}

    def test_origin_township_outside_origin_county(self, region_tree):
        household = HouseholdFactory.build(
            settlement=SettlementFactory(),
            origin_county=region_tree.zhongshan,
            origin_township=region_tree.huangcao,
        )
        assert errors_of(household) == {"origin_township": ["迁出乡镇不属于迁出县。"]}

    def test_several_errors_are_reported_together(self, region_tree):
        household = HouseholdFactory.build(
            settlement=SettlementFactory(),
            building=BuildingFactory(),
            grid=GridUnitFactory(),
            origin_county=region_tree.xingren,
            origin_township=region_tree.huangtupo,
        )
        assert set(errors_of(household)) == {"building", "grid", "origin_township"}

    def test_moved_in_date_in_the_future(self):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        household = HouseholdFactory.build(settlement=SettlementFactory(), moved_in_date=tomorrow)
        assert errors_of(household) == {"moved_in_date": ["入住日期不能晚于今天。"]}

    def test_moved_in_household_needs_a_settlement(self):
        household = HouseholdFactory.build(settlement=None)
        assert errors_of(household) == {"settlement": ["已入住的搬迁户必须填写安置点。"]}
        household.occupancy_state = enums.OccupancyState.NOT_MOVED_IN
        household.full_clean()

    def test_ten_group_lead_household_must_be_in_the_grid(self):
        grid = GridUnitFactory()
        outsider = HouseholdFactory(settlement=grid.settlement, grid=GridUnitFactory())
        group = TenHouseholdGroupFactory.build(grid=grid, lead_household=outsider)
        assert errors_of(group) == {"lead_household": ["联户长户必须属于本网格。"]}


class TestSettlementClean:
    def test_township_outside_the_county(self, region_tree):
        settlement = SettlementFactory.build(
            county=region_tree.zhongshan, township=region_tree.huangcao
        )
        assert errors_of(settlement) == {"township": ["所选乡镇（街道）不属于所在县（市、区）。"]}

    def test_township_inside_the_county(self, region_tree):
        settlement = SettlementFactory.build(
            county=region_tree.zhongshan, township=region_tree.huangtupo
        )
        settlement.full_clean()
        settlement.save()
        assert Settlement.objects.get(pk=settlement.pk).township_id == "520201011"


class TestAreaScope:
    def test_region_or_settlement_alone(self, region_tree, make_user):
        user = make_user()
        AreaScope.objects.create(user=user, region=region_tree.xingyi)
        AreaScope.objects.create(user=user, settlement=SettlementFactory())
        assert user.area_scopes.count() == 2

    def test_both_are_rejected(self, region_tree, make_user):
        user = make_user()
        with transaction.atomic(), pytest.raises(IntegrityError):
            AreaScope.objects.create(
                user=user, region=region_tree.xingyi, settlement=SettlementFactory()
            )
        assert not AreaScope.objects.filter(user=user).exists()

    def test_neither_is_rejected(self, make_user):
        user = make_user()
        with transaction.atomic(), pytest.raises(IntegrityError):
            AreaScope.objects.create(user=user)
        assert not AreaScope.objects.filter(user=user).exists()

    def test_full_clean_message(self, make_user):
        scope = AreaScope(user=make_user())
        assert errors_of(scope) == {
            NON_FIELD_ERRORS: ["管辖范围须且只能选择一个行政区划或一个安置点。"]
        }


class TestRegion:
    def test_prefix_per_level(self, region_tree):
        assert region_tree.guizhou.prefix == "52"
        assert region_tree.qianxinan.prefix == "5223"
        assert region_tree.liupanshui.prefix == "5202"
        assert region_tree.xingyi.prefix == "522301"
        assert region_tree.huangcao.prefix == "522301001"

    def test_descendants_by_prefix(self, region_tree):
        codes = set(
            Region.objects.descendants_of(region_tree.qianxinan).values_list("code", flat=True)
        )
        assert codes == {"522300", "522301", "522302", "522301001", "522301002"}
        below = Region.objects.descendants_of(region_tree.liupanshui, include_self=False)
        assert set(below.values_list("code", flat=True)) == {"520201", "520201011"}

    def test_full_name(self, region_tree):
        assert region_tree.huangcao.full_name == "贵州省黔西南布依族苗族自治州兴义市黄草街道"
        assert str(region_tree.xingyi) == "兴义市（522301）"


def _born(*dates):
    household = HouseholdFactory()
    return {day: PersonFactory(household=household, birth_date=day).pk for day in dates}


class TestAgedBetween:
    """Labour-force ages 16–60: a 16th birthday counts, a 61st does not."""

    def test_birthdays_on_the_boundaries(self):
        on = datetime.date(2024, 6, 15)
        pks = _born(
            datetime.date(2008, 6, 15),  # 16 today: in
            datetime.date(2008, 6, 16),  # 16 tomorrow: out
            datetime.date(1963, 6, 15),  # 61 today: out
            datetime.date(1963, 6, 16),  # 61 tomorrow, still 60: in
            datetime.date(1990, 1, 1),  # 34: in
        )
        found = set(Person.objects.aged_between(16, 60, on).values_list("pk", flat=True))
        assert found == {
            pks[datetime.date(2008, 6, 15)],
            pks[datetime.date(1963, 6, 16)],
            pks[datetime.date(1990, 1, 1)],
        }

    def test_today(self):
        today = timezone.localdate()
        sixteen = PersonFactory(birth_date=_years_before(today, 16))
        sixty_one = PersonFactory(birth_date=_years_before(today, 61))
        found = set(Person.objects.aged_between(16, 60, today))
        assert sixteen in found
        assert sixty_one not in found

    def test_born_on_29_february_in_a_leap_year(self):
        pks = _born(datetime.date(2008, 2, 29))
        person = pks[datetime.date(2008, 2, 29)]
        qs = Person.objects.filter(pk=person)
        assert not qs.aged_between(16, 60, datetime.date(2024, 2, 28)).exists()
        assert qs.aged_between(16, 60, datetime.date(2024, 2, 29)).exists()

    def test_born_on_29_february_in_a_common_year(self):
        # Born 1964-02-29; 2025 has no 29 February, so the 61st birthday is 1 March.
        pks = _born(datetime.date(1964, 2, 29), datetime.date(1964, 2, 28))
        qs = Person.objects.filter(pk=pks[datetime.date(1964, 2, 29)])
        assert qs.aged_between(16, 60, datetime.date(2025, 2, 28)).exists()
        assert not qs.aged_between(16, 60, datetime.date(2025, 3, 1)).exists()
        day_before = Person.objects.filter(pk=pks[datetime.date(1964, 2, 28)])
        assert not day_before.aged_between(16, 60, datetime.date(2025, 2, 28)).exists()

    def test_on_29_february(self):
        on = datetime.date(2024, 2, 29)
        pks = _born(
            datetime.date(2008, 2, 29),  # 16 today: in
            datetime.date(2008, 3, 1),  # 15: out
            datetime.date(1963, 3, 1),  # 60: in
            datetime.date(1963, 2, 28),  # 61 since yesterday: out
        )
        found = set(Person.objects.aged_between(16, 60, on).values_list("pk", flat=True))
        assert found == {pks[datetime.date(2008, 2, 29)], pks[datetime.date(1963, 3, 1)]}

    def test_agrees_with_age_on(self):
        days = [datetime.date(1963, 2, 27) + datetime.timedelta(days=d) for d in range(4)]
        days += [datetime.date(2008, 2, 27) + datetime.timedelta(days=d) for d in range(4)]
        _born(*days)
        for on in (
            datetime.date(2024, 2, 28),
            datetime.date(2024, 2, 29),
            datetime.date(2024, 3, 1),
        ):
            found = set(Person.objects.aged_between(16, 60, on))
            expected = {p for p in Person.objects.all() if 16 <= p.age_on(on) <= 60}
            assert found == expected, on
            assert found  # the window is never empty here


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class TestAgeOn:
    def test_whole_years(self):
        person = PersonFactory(birth_date=datetime.date(1990, 1, 1))
        assert person.age_on(datetime.date(2024, 12, 31)) == 34
        assert person.age_on(datetime.date(2025, 1, 1)) == 35
        assert person.age_on(datetime.date(1990, 1, 1)) == 0

    def test_born_on_29_february(self):
        person = PersonFactory(birth_date=datetime.date(2000, 2, 29))
        assert person.age_on(datetime.date(2021, 2, 28)) == 20
        assert person.age_on(datetime.date(2021, 3, 1)) == 21
        assert person.age_on(datetime.date(2024, 2, 28)) == 23
        assert person.age_on(datetime.date(2024, 2, 29)) == 24


class TestDerivedFieldsOnBulkPaths:
    """Derived columns follow the ID number on the bulk paths that bypass ``save()``."""

    def test_bulk_create_derives_birth_date_and_sex(self):
        household = HouseholdFactory()
        with transaction.atomic():
            Person.objects.bulk_create([new_person(household, XINGYI_WOMAN)])
        person = Person.objects.get(id_number=XINGYI_WOMAN)
        assert (person.birth_date, person.sex) == (datetime.date(1985, 5, 20), "F")

    def test_update_of_the_number_updates_birth_date_and_sex(self):
        person = PersonFactory(id_number=XINGYI_WOMAN)
        Person.objects.filter(pk=person.pk).update(id_number=ZHONGSHAN_MAN)
        person.refresh_from_db()
        assert (person.birth_date, person.sex) == (datetime.date(1990, 1, 1), "M")

    def test_bulk_update_of_the_number_updates_birth_date_and_sex(self):
        person = PersonFactory(id_number=XINGYI_WOMAN)
        person.id_number = make_id_number(datetime.date(1970, 7, 1), "M")
        Person.objects.bulk_update([person], ["id_number"])
        person.refresh_from_db()
        assert (person.birth_date, person.sex) == (datetime.date(1970, 7, 1), "M")


@pytest.mark.django_db
def test_full_width_phone_digits_are_normalised_on_clean():
    household = HouseholdFactory(phone="")
    household.phone = "１３８１２３４５６７８"
    household.full_clean()
    assert household.phone == "13812345678"
    person = PersonFactory(household=household)
    person.phone = " ０８５８－３２２１２３４ "
    person.full_clean()
    assert person.phone == "0858-3221234"
