"""A wrong check digit: the number is wrong, check it against the card; never which digit passes.

Every place an ID number is checked: the validator, the model, the queryset's
update, the household form's members, the person form, the roster import and
the employment import (which matches people by ID number).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities.models import Household, Person
from communities.tests.factories import make_id_number
from communities.tests.test_admin_scope import household_post, login
from communities.validators import check_digit, validate_resident_id
from relocation.spreadsheets.tests.helpers import (
    ROSTER_HEADERS,
    csv_bytes,
    import_file,
    person_row,
)

pytestmark = pytest.mark.django_db

MESSAGE = "身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。"


def wrong(valid):
    """``valid`` with its last character replaced by another (hand-checkable: 0 ↔ 1)."""
    passing = valid[-1]
    return valid[:-1] + ("1" if passing == "0" else "0"), passing


def assert_no_hint(message, passing):
    """No character that would make the number pass is named (the message has none at all)."""
    assert not any(ch.isdigit() for ch in message), message
    assert "X" not in message.upper(), message
    assert passing  # the number had one


def test_validator():
    valid = make_id_number(datetime.date(1980, 1, 1), "M", prefix="522301", seq=7)
    bad, passing = wrong(valid)
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(bad)
    assert caught.value.code == "check_digit"
    assert caught.value.messages == [MESSAGE]
    assert_no_hint(caught.value.messages[0], passing)


def test_a_number_whose_passing_digit_is_x():
    first17 = "11010519491231002"
    assert check_digit(first17) == "X"  # the published GB 11643 example
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(first17 + "1")
    assert caught.value.messages == [MESSAGE]


def test_queryset_update_refuses_and_changes_nothing(world):
    head = world.heads["a"]
    stored = head.id_number
    bad, _passing = wrong(stored)
    with pytest.raises(ValidationError) as caught:
        Person.objects.filter(pk=head.pk).update(id_number=bad)
    assert caught.value.messages == [MESSAGE]
    head.refresh_from_db()
    assert head.id_number == stored


def test_household_form_members(client, world):
    valid = make_id_number(datetime.date(1980, 1, 1), "M", prefix="522301", seq=11)
    bad, passing = wrong(valid)
    before = (Household.objects.count(), Person.objects.count())
    response = login(client, world.worker).post(
        reverse("admin:communities_household_add"),
        household_post(world.a, **{"members-0-id_number": bad}),
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[0]["id_number"] == [MESSAGE]
    assert_no_hint(errors[0]["id_number"][0], passing)
    assert (Household.objects.count(), Person.objects.count()) == before


def test_person_form(client, world):
    head = world.heads["a"]
    stored = head.id_number
    bad, passing = wrong(stored)
    url = reverse("admin:communities_person_change", args=[head.pk])
    page = login(client, world.worker).get(url)
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields and not isinstance(value, list | tuple)
    }
    data.update(household=head.household_id, id_number=bad)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
        data[f"{management.prefix}-TOTAL_FORMS"] = 0
        data[f"{management.prefix}-INITIAL_FORMS"] = 0
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["id_number"] == [MESSAGE]
    head.refresh_from_db()
    assert head.id_number == stored


def test_roster_import(world):
    row = person_row("CD001", world.a.code, seq=41)
    bad, passing = wrong(row["身份证号"])
    row["身份证号"] = bad
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, [row]), "cd.csv")
    assert job.state == "invalid"
    found = [e for e in job.errors if e[1] == "身份证号"]
    assert len(found) == 1
    assert found[0][2] == MESSAGE
    assert_no_hint(found[0][2], passing)
    assert not Household.objects.filter(number="CD001").exists()
