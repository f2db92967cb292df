"""Validation of the employment models: each bad input gets a Chinese message."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communities.tests.factories import HouseholdFactory, PersonFactory, SettlementFactory
from employment import enums
from employment.models import Employer, EmploymentRecord, HouseholdIncome
from employment.validators import credit_code_check_char, validate_credit_code

# Published codes of real organisations (check characters per GB 32100-2015).
VALID_CODES = ["91350100M000100Y43", "91110000600037341L", "12100000400010398P"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes(code):
    validate_credit_code(code)
    validate_credit_code(code.lower())  # typed in lower case: normalised
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "应为18位，当前为17位"),
        ("91350100M000100Y44", "校验位不正确"),
        ("91350100M000100I43", "无效字符“I”"),
    ],
)
def test_invalid_credit_codes(code, message):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert message in exc.value.messages[0]


@pytest.fixture
def worker_person(region_tree):
    settlement = SettlementFactory(county=region_tree.xingyi)
    return PersonFactory(household=HouseholdFactory(settlement=settlement), age=35)


def record(person, kind=enums.EmploymentKind.WAGE, start="2025-01-01", end=None, **kwargs):
    return EmploymentRecord(
        person=person,
        kind=kind,
        place=kwargs.pop("place", enums.WorkPlace.IN_COUNTY),
        start_date=datetime.date.fromisoformat(start),
        end_date=datetime.date.fromisoformat(end) if end else None,
        **kwargs,
    )


def test_end_before_start_is_rejected(worker_person):
    job = record(worker_person, start="2025-03-01", end="2025-02-01")
    with pytest.raises(ValidationError) as exc:
        job.full_clean()
    assert exc.value.message_dict["end_date"] == ["结束日期不能早于开始日期。"]
    # The database refuses it too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        job.save()
    assert not EmploymentRecord.objects.exists()


def test_two_open_wage_jobs_overlap(worker_person):
    record(worker_person).save()
    second = record(worker_person, start="2025-06-01")
    with pytest.raises(ValidationError) as exc:
        second.full_clean()
    assert "时间与本记录重叠" in exc.value.messages[0]
    assert "请先填写那份工作的结束日期" in exc.value.messages[0]


def test_next_job_after_closing_the_previous_is_fine(worker_person):
    first = record(worker_person, end="2025-05-31")
    first.save()
    record(worker_person, start="2025-06-01").full_clean()
    # Editing the first record does not collide with itself.
    first.full_clean()


def test_flexible_and_farming_may_run_alongside(worker_person):
    record(worker_person).save()
    record(worker_person, kind=enums.EmploymentKind.FLEXIBLE, start="2025-02-01").full_clean()
    record(worker_person, kind=enums.EmploymentKind.FARMING, start="2025-02-01").full_clean()


def test_public_welfare_post_is_in_county(worker_person):
    job = record(
        worker_person,
        kind=enums.EmploymentKind.PUBLIC_WELFARE,
        place=enums.WorkPlace.OUT_OF_PROVINCE,
    )
    with pytest.raises(ValidationError) as exc:
        job.full_clean()
    assert exc.value.message_dict["place"] == ["公益性岗位应在县内。"]


def test_negative_monthly_income(worker_person):
    job = record(worker_person, monthly_income=Decimal("-1"))
    with pytest.raises(ValidationError) as exc:
        job.full_clean()
    assert exc.value.message_dict["monthly_income"] == ["金额不能为负数。"]


def test_employer_settlement_must_be_in_its_county(region_tree):
    other = SettlementFactory(county=region_tree.zhongshan)
    employer = Employer(
        name="某车间",
        kind=enums.EmployerKind.WORKSHOP,
        county=region_tree.xingyi,
        settlement=other,
        location=enums.EmployerLocation.IN_SETTLEMENT,
        credit_code=" 91350100m000100y43 ",
    )
    with pytest.raises(ValidationError) as exc:
        employer.full_clean()
    assert exc.value.message_dict["settlement"] == ["服务安置点不在该单位的登记县内。"]
    assert employer.credit_code == "91350100M000100Y43"


def income(household, **kwargs):
    values = {"year": 2024, "wage_income": 20000, "household_size": 4, **kwargs}
    return HouseholdIncome(household=household, **values)


def test_negative_income_part(worker_person):
    row = income(worker_person.household, transfer_income=Decimal("-5"))
    with pytest.raises(ValidationError) as exc:
        row.full_clean()
    assert exc.value.message_dict["transfer_income"] == ["金额不能为负数。"]
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    assert not HouseholdIncome.objects.exists()


@pytest.mark.parametrize("year", [lambda this_year: 2015, lambda this_year: this_year + 1])
def test_income_year_out_of_range(worker_person, year):
    this_year = timezone.localdate().year
    with pytest.raises(ValidationError) as exc:
        income(worker_person.household, year=year(this_year)).full_clean()
    assert exc.value.message_dict["year"] == [f"收入年度应在2016年至{this_year}年之间。"]


def test_income_household_size_defaults_to_members(worker_person):
    household = worker_person.household
    PersonFactory(household=household, age=10)
    row = HouseholdIncome(household=household, year=2024, wage_income=30000, costs=1000)
    row.full_clean()
    row.save()
    assert row.household_size == 2
    assert row.net_income == Decimal("29000.00")
    assert row.per_capita_net == Decimal("14500.00")


def test_income_once_per_year(worker_person):
    income(worker_person.household).save()
    with pytest.raises(ValidationError) as exc:
        income(worker_person.household).full_clean()
    assert "该户该年度的收入已登记。" in exc.value.messages


def test_bulk_paths_keep_derived_income_and_history(worker_person):
    (row,) = HouseholdIncome.objects.bulk_create(
        [income(worker_person.household, wage_income=12000, household_size=3)]
    )
    assert row.net_income == Decimal("12000.00") and row.per_capita_net == Decimal("4000.00")
    row.wage_income = 15000
    HouseholdIncome.objects.bulk_update([row], ["wage_income"])
    row.refresh_from_db()
    assert row.per_capita_net == Decimal("5000.00")
    assert row.history.count() == 2
