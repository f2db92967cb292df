"""Numbered names sort by their numbers (communities.ordering): 第2网格 before 第10网格,
in the database (SQLite and PostgreSQL alike), in drop-downs, filters and lists."""

import random

import pytest
from django.urls import reverse

from communities.models import Building, GridUnit, TenHouseholdGroup
from communities.ordering import natural_compare, natural_key
from communities.tests.factories import BuildingFactory, GridUnitFactory, TenHouseholdGroupFactory

#: In the order a person counts them; the text order puts 10 before 2 and 3.
GRIDS = ["第1网格", "第2网格", "第3网格", "第10网格", "第11网格", "第20网格", "第100网格"]
BUILDINGS = ["1栋", "2栋", "9栋", "10栋", "A区2栋", "A区10栋", "B区1栋", "B区12栋"]


def test_the_text_order_is_not_the_counting_order():
    assert sorted(GRIDS) != GRIDS  # else the tests below would prove nothing


def test_natural_key_counts_runs_of_digits():
    for names in (GRIDS, BUILDINGS):
        shuffled = random.Random(7).sample(names, len(names))
        assert sorted(shuffled, key=natural_key) == names
    # Full-width digits count too; equal numbers keep an order by the text.
    assert sorted(["第１０网格", "第２网格"], key=natural_key) == ["第２网格", "第１０网格"]
    assert sorted(["第2网格", "第02网格"], key=natural_key) == ["第02网格", "第2网格"]
    assert natural_compare("第2网格", "第10网格") < 0 < natural_compare("第10网格", "第2网格")
    assert natural_compare("第2网格", "第2网格") == 0


@pytest.mark.django_db
def test_the_database_sorts_numbered_names_by_their_numbers():
    settlement = BuildingFactory().settlement
    Building.objects.all().delete()
    for name in random.Random(1).sample(BUILDINGS, len(BUILDINGS)):
        BuildingFactory(settlement=settlement, name=name)
    grids = {}
    for name in random.Random(2).sample(GRIDS, len(GRIDS)):
        grids[name] = GridUnitFactory(settlement=settlement, name=name)
    for name in random.Random(3).sample(GRIDS, len(GRIDS)):
        TenHouseholdGroupFactory(grid=grids["第1网格"], name=name.replace("网格", "联户"))

    assert list(Building.objects.values_list("name", flat=True)) == BUILDINGS
    assert list(GridUnit.objects.values_list("name", flat=True)) == GRIDS
    assert list(TenHouseholdGroup.objects.values_list("name", flat=True)) == [
        name.replace("网格", "联户") for name in GRIDS
    ]
    # Through a relation, the related model's order applies as well.
    assert [g.name for g in settlement.grid_units.all()] == GRIDS


@pytest.mark.django_db
def test_lists_filters_and_drop_downs_count(client, world):
    """As a county official would meet them: the grid list, the household list's grid
    filter (once a settlement is chosen) and the household form's grid autocomplete."""
    GridUnit.objects.filter(settlement=world.a).exclude(name="第1网格").delete()
    for name in ("第10网格", "第2网格", "第3网格"):
        GridUnitFactory(settlement=world.a, name=name)
    expected = ["第1网格", "第2网格", "第3网格", "第10网格"]
    client.force_login(world.county)

    grids = reverse("admin:communities_gridunit_changelist")
    response = client.get(grids, {"settlement__id__exact": world.a.pk})
    assert [g.name for g in response.context["cl"].result_list] == expected
    # The name column clicked, up and down.
    for order, names in (("0", expected), ("-0", expected[::-1])):
        response = client.get(grids, {"settlement__id__exact": world.a.pk, "o": order})
        assert [g.name for g in response.context["cl"].result_list] == names

    response = client.get(
        reverse("admin:communities_household_changelist"), {"settlement__id__exact": world.a.pk}
    )
    (spec,) = [
        s for s in response.context["cl"].filter_specs if getattr(s, "field_path", None) == "grid"
    ]
    labels = [str(label) for _pk, label in spec.lookup_choices]
    assert labels == [f"阳光新区 {name}" for name in expected]

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "communities",
            "model_name": "household",
            "field_name": "grid",
            "term": "阳光",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [
        f"阳光新区 {name}" for name in expected
    ]
