"""History tidy-ups: no entry for a save that changed nothing, no 「None」, no English headers.

Saves that change nothing are not recorded at all (``communities.history.HistoricalRecords``
compares with the latest entry), so there is nothing to hide on the page.
"""

import re

import pytest
from django.urls import reverse

from communities import enums
from communities.models import Building, GridUnit, Household, Person, Settlement
from communities.tests.forms import empty_inlines
from communities.tests.test_admin_scope import household_post, login

pytestmark = pytest.mark.django_db


def entries(obj):
    return obj.history.count()


def test_unchanged_save_leaves_no_entry(world):
    household = Household.objects.get(pk=world.households["a"].pk)
    before = entries(household)
    household.save()
    household.save()
    assert entries(household) == before


def test_a_real_change_is_still_recorded(world):
    household = Household.objects.get(pk=world.households["a"].pk)
    before = entries(household)
    household.room = "1203"
    household.save()
    assert entries(household) == before + 1
    assert household.history.first().room == "1203"


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        # Phones are kept as tokens in the history: the same number is no change.
        (Person, "phone", "13912345678"),
        # A plain (untokenised) history model.
        (Settlement, "community", "新社区"),
    ],
)
def test_the_same_values_again_are_no_change(world, model, field, value):
    obj = model.objects.get(pk=world.heads["a"].pk if model is Person else world.a.pk)
    before = entries(obj)
    obj.save()
    assert entries(obj) == before
    setattr(obj, field, value)
    obj.save()
    assert entries(obj) == before + 1
    obj.save()
    assert entries(obj) == before + 1


def test_many_to_many_change_is_recorded(world):
    grid = GridUnit.objects.filter(settlement=world.a).first()
    building = Building.objects.filter(settlement=world.a).first()
    before = entries(grid)
    grid.save()
    assert entries(grid) == before
    grid.buildings.add(building)
    assert entries(grid) == before + 1


def test_creation_and_deletion_are_recorded(world):
    household = Household.objects.create(
        number="522301000500", settlement=world.a, relocation_year=2019
    )
    assert list(household.history.values_list("history_type", flat=True)) == ["+"]
    pk = household.pk
    household.delete()
    types = Household.history.filter(id=pk).values_list("history_type", flat=True)
    assert sorted(types) == ["+", "-"]


def test_saving_the_admin_form_unchanged_adds_no_entry(client, world):
    login(client, world.worker)
    response = client.post(
        reverse("admin:communities_household_add"), household_post(world.a, number="522301000600")
    )
    assert response.status_code == 302
    household = Household.objects.get(number="522301000600")
    url = reverse("admin:communities_household_change", args=[household.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    person = household.members.get()
    data = household_post(
        world.a,
        number="522301000600",
        **{
            "members-INITIAL_FORMS": "1",
            "members-0-id": str(person.pk),
            "members-0-household": str(household.pk),
        },
    )
    data["phone"] = form.initial.get("phone") or ""
    data = empty_inlines(page, data)
    before = (entries(household), entries(person))
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert (entries(household), entries(person)) == before


def history_page(client, user, household):
    url = reverse("admin:communities_household_history", args=[household.pk])
    response = login(client, user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_history_page_is_chinese_and_shows_no_none(client, world):
    household = Household.objects.get(pk=world.households["a"].pk)
    household.building = None  # a change from a building to none
    household.save()
    body = history_page(client, world.worker, household)
    assert "{#" not in body and "Past versions" not in body  # the template's comment
    table = body[body.index('id="change-history"') :]
    for english in ("Changes", "Change reason", "Changed by", "Date/time", "Object", "entries"):
        assert english not in table, english
    found = re.search(r"\bNone\b", table)
    assert not found, table[max(0, found.start() - 300) : found.end() + 100]
    assert "修改内容" in table and "修改原因" in table and "操作人" in table
    # The change reads "1栋 → —"; the empty reason "—"; the creating script "系统".
    assert re.search(r"1栋\s*&nbsp;&rarr;&nbsp;&nbsp;—", table)
    assert "系统" in table
    assert "共 2 条记录" in table  # created by the factory, then changed once


def test_a_deleted_building_is_named_in_chinese(client, world):
    household = Household.objects.get(pk=world.households["a"].pk)
    old = household.building
    new = Building.objects.create(settlement=world.a, name="2栋")
    household.building = new
    household.save()
    old_pk = old.pk
    old.delete()
    body = history_page(client, world.worker, household)
    table = body[body.index('id="change-history"') :]
    assert f"已删除的楼栋（编号 {old_pk}）" in table
    assert "Deleted" not in table


def test_history_page_shows_choice_labels_and_yes_no(client, world):
    """A change of a choice reads as the pages show it (已入住 → 未入住), a yes-or-no field
    as 是/否, never the stored ``moved_in`` or ``True``."""
    household = Household.objects.get(pk=world.households["a"].pk)
    household.occupancy_state = enums.OccupancyState.NOT_MOVED_IN
    household.save()
    person = household.members.exclude(medical_insurance=False).first()
    person.medical_insurance = False
    person.save()
    table = history_page(client, world.worker, household)
    table = table[table.index('id="change-history"') :]
    old, new = (
        str(enums.OccupancyState(world.households["a"].occupancy_state).label),
        str(enums.OccupancyState.NOT_MOVED_IN.label),
    )
    assert old != new and re.search(rf"{old}\s*&nbsp;&rarr;&nbsp;&nbsp;{new}", table)
    assert "not_moved_in" not in table
    response = login(client, world.worker).get(
        reverse("admin:communities_person_history", args=[person.pk])
    )
    table = response.content.decode()
    table = table[table.index('id="change-history"') :]
    assert re.search(r"是\s*&nbsp;&rarr;&nbsp;&nbsp;否", table)
    assert "True" not in table and "False" not in table
