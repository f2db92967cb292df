"""The employment kinds build a row's new record as the keyword form would
(``engine.new_instance``): the same fields, ids and cached related objects."""

import datetime
from decimal import Decimal

import pytest

from employment.models import Employer, EmploymentRecord, HouseholdIncome
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import instance_state

pytestmark = pytest.mark.django_db


def test_a_new_employment_record_is_the_keyword_form_field_for_field(world):
    person = world.heads["a"]
    employer = Employer.objects.create(name="阳光帮扶车间", county_id=world.a.county_id)
    values = {
        "person": person,
        "employer": employer,
        "position": "操作工",
        "monthly_income": Decimal("3200"),
        "end_date": None,
        "notes": "",
    }
    start = datetime.date(2024, 3, 1)
    built = get_kind("employment").new_object((person.id_number, "wage", start), values)
    assert instance_state(built) == instance_state(
        EmploymentRecord(kind="wage", start_date=start, **values)
    )
    assert built.person is person and built.employer is employer and built.pk is None


def test_a_new_income_record_is_the_keyword_form_field_for_field(world):
    household = world.households["a"]
    values = {"household": household, "wage_income": Decimal("30000")}
    built = get_kind("income").new_object((household.number, 2025), values)
    assert instance_state(built) == instance_state(HouseholdIncome(year=2025, **values))
    assert built.household is household


def test_the_key_decides_what_a_new_record_was_matched_on(world):
    household = world.households["a"]
    built = get_kind("income").new_object(
        (household.number, 2025), {"household": household, "year": 1999}
    )
    assert built.year == 2025
