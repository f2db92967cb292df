"""``?area=<token>``: the lists behind dashboard figures, at every level, inside the user's scope."""

import pytest
from django.urls import reverse

PERSONS = reverse("admin:communities_person_changelist")
HOUSEHOLDS = reverse("admin:communities_household_changelist")
BUILDINGS = reverse("admin:communities_building_changelist")


def names(response):
    return sorted(str(obj) for obj in response.context["cl"].result_list)


def heads(response):
    return sorted(p.name for p in response.context["cl"].result_list if p.name.startswith("户主"))


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("52", ["户主A", "户主B", "户主C"]),  # province
        ("5223", ["户主A", "户主B"]),  # 黔西南州
        ("522301", ["户主A", "户主B"]),  # 兴义市
        ("520201", ["户主C"]),  # 钟山区
        ("522301001", ["户主A"]),  # 黄草街道: settlement A only
        ("522302", []),  # 兴仁市: no settlement
    ],
)
def test_region_tokens_select_the_region(client, world, token, expected):
    client.force_login(world.admin)
    response = client.get(PERSONS, {"area": token})
    assert response.status_code == 200
    assert heads(response) == expected


def test_settlement_token_and_other_lists(client, world):
    client.force_login(world.admin)
    response = client.get(HOUSEHOLDS, {"area": f"s{world.b.pk}"})
    assert [h.pk for h in response.context["cl"].result_list] == [world.households["b"].pk]
    response = client.get(BUILDINGS, {"area": "520201"})
    assert [b.settlement_id for b in response.context["cl"].result_list] == [world.c.pk]


def test_an_area_outside_the_scope_lists_nothing_and_names_nothing(client, world):
    client.force_login(world.county)  # 兴义市
    response = client.get(PERSONS, {"area": "520201"})
    assert response.status_code == 200
    assert heads(response) == []
    response = client.get(PERSONS, {"area": f"s{world.c.pk}"})
    assert heads(response) == []
    assert world.c.name not in response.content.decode()
    # Inside the scope the area narrows the list and is named in the sidebar.
    response = client.get(PERSONS, {"area": f"s{world.a.pk}"})
    assert heads(response) == ["户主A"]
    assert world.a.name in response.content.decode()


@pytest.mark.parametrize(
    "token",
    ["x", "5", "522", "s", "sABC", "52230100", "'; --", "s99999999999999999999", "s١", "١٢"],
)
def test_a_malformed_token_lists_nothing(client, world, token):
    client.force_login(world.admin)
    response = client.get(PERSONS, {"area": token})
    assert response.status_code == 200
    assert heads(response) == []
