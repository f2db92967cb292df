"""户编号 suggested from the settlement's county: the form, the scoped endpoint, races."""

from unittest import mock

import pytest
from django.urls import reverse

from communities.forms import HouseholdForm, suggest_household_number
from communities.models import Household, Person
from communities.tests.factories import HouseholdFactory
from communities.tests.test_admin_scope import household_post, login

pytestmark = pytest.mark.django_db

ADD = "admin:communities_household_add"
SUGGEST = "admin:communities_household_suggest_number"


def suggest(client, settlement_pk):
    return client.get(reverse(SUGGEST), {"settlement": settlement_pk})


# --- the sequence ------------------------------------------------------------


def test_next_number_follows_the_highest_of_the_county(world):
    # world: 522301000001 (A) and 522301000002 (B) in 兴义市, 520201000001 in 钟山区.
    assert suggest_household_number("522301") == "522301000003"
    assert suggest_household_number("520201") == "520201000002"
    assert suggest_household_number("522328") == "522328000001"


def test_numbers_of_another_shape_are_passed_over(world):
    HouseholdFactory(number="5223010000991", settlement=world.a)  # 13 digits
    HouseholdFactory(number="522301ABC", settlement=world.a)
    HouseholdFactory(number="522301000041", settlement=world.b)
    assert suggest_household_number("522301") == "522301000042"


# --- the scoped endpoint -----------------------------------------------------


def test_endpoint_answers_for_a_settlement_in_scope(client, world):
    response = suggest(login(client, world.worker), world.a.pk)
    assert response.status_code == 200
    assert response.json() == {"number": "522301000003"}
    response = suggest(login(client, world.admin), world.c.pk)
    assert response.json() == {"number": "520201000002"}


@pytest.mark.parametrize("value", ["c", "missing", "abc", "", "99999999999999999999"])
def test_endpoint_is_404_outside_scope_or_for_bad_input(client, world, value):
    """A 兴义 worker asking about 钟山's settlement learns nothing, not even that it exists."""
    pk = {"c": world.c.pk, "missing": 987654}.get(value, value)
    assert suggest(login(client, world.worker), pk).status_code == 404


def test_endpoint_needs_the_add_permission(client, world, make_user):
    reader = make_user(settlements=[world.a], perms=["communities.view_household"])
    assert suggest(login(client, reader), world.a.pk).status_code == 404


# --- the add form ---------------------------------------------------------------


def test_add_form_is_prefilled_for_a_worker_of_one_county(client, world):
    body = login(client, world.worker).get(reverse(ADD)).content.decode()
    assert 'value="522301000003"' in body
    assert f'data-suggest-url="{reverse(SUGGEST)}"' in body
    assert "relocation/household_number.js" in body


def test_add_form_is_not_prefilled_across_counties(client, world):
    body = login(client, world.admin).get(reverse(ADD)).content.decode()
    assert 'name="number" value=' not in body  # 兴义市 and 钟山区: no single county
    assert "522301000003" not in body


def test_blank_number_is_numbered_on_save(client, world):
    response = login(client, world.worker).post(reverse(ADD), household_post(world.a, number=""))
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    household = Household.objects.get(number="522301000003")
    assert household.settlement == world.a
    assert household.members.count() == 1


def test_blank_number_without_settlement_is_a_chinese_error(client, world):
    before = Household.objects.count()
    data = household_post(world.a, number="")
    data["settlement"] = ""
    response = login(client, world.admin).post(reverse(ADD), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["number"] == ["请填写户编号，或先选择安置点以便按所在县自动编号。"]
    assert Household.objects.count() == before


def test_typed_number_is_kept(client, world):
    response = login(client, world.worker).post(
        reverse(ADD), household_post(world.a, number="522301000777")
    )
    assert response.status_code == 302
    assert Household.objects.filter(number="522301000777", settlement=world.a).exists()


def test_taken_number_names_itself_and_a_free_one(client, world):
    before = (Household.objects.count(), Person.objects.count())
    response = login(client, world.worker).post(
        reverse(ADD), household_post(world.a, number="522301000002")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"] == [
        "户编号 522301000002 已被使用（可能是其他人刚刚登记的），"
        "建议改用 522301000003；也可以清空，保存时自动编号。"
    ]
    assert (Household.objects.count(), Person.objects.count()) == before


def _race(number):
    """Let the form's uniqueness check pass once, as when another worker saves the
    same number between this form's check and its insert."""
    original = HouseholdForm.validate_unique
    calls = []

    def first_passes(form):
        calls.append(number)
        if len(calls) == 1:
            return None
        return original(form)

    return mock.patch.object(HouseholdForm, "validate_unique", first_passes)


def test_simultaneous_save_of_the_same_number_is_a_form_error_not_a_crash(client, world):
    before = (Household.objects.count(), Person.objects.count())
    with _race("522301000002"):
        response = login(client, world.worker).post(
            reverse(ADD), household_post(world.a, number="522301000002")
        )
    assert response.status_code == 200
    assert "户编号 522301000002 已被使用" in response.context["adminform"].form.errors["number"][0]
    assert (Household.objects.count(), Person.objects.count()) == before
    assert Household.objects.get(number="522301000002").settlement == world.b


def test_other_household_forms_keep_their_number_required(world):
    form_class = type("F", (HouseholdForm,), {"request_user": world.admin})
    form = form_class(instance=world.households["a"])
    assert form.fields["number"].required
    assert "data-suggest-url" not in str(form["number"])


def test_changing_an_existing_number_to_a_taken_one(world):
    household = world.households["a"]
    form_class = type("F", (HouseholdForm,), {"request_user": world.admin})
    data = {
        "number": "522301000002",
        "settlement": world.a.pk,
        "category": household.category,
        "relocation_year": household.relocation_year,
        "occupancy_state": household.occupancy_state,
        "hukou_state": household.hukou_state,
    }
    form = form_class(data, instance=household)
    assert not form.is_valid()
    assert form.errors["number"] == [
        "户编号 522301000002 已被使用（可能是其他人刚刚登记的），请换一个编号。"
    ]
    household.refresh_from_db()
    assert household.number == "522301000001"
