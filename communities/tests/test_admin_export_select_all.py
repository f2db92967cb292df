"""「选择全部」 then 导出: the list's own export, not a form with every id in it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:communities_household_changelist"
EXPORT = "admin:communities_household_export"


def _action(client, query, selected, **extra):
    return client.post(
        f"{reverse(CHANGELIST)}{query}",
        {"action": "export_admin_action", "_selected_action": selected, "index": "0", **extra},
    )


def test_all_rows_chosen_go_to_the_lists_export_with_its_filters(client, world):
    client.force_login(world.county)
    query = f"?area=s{world.a.pk}"
    response = _action(client, query, [world.households["a"].pk], select_across="1")
    assert response.status_code == 302
    assert response.url == f"{reverse(EXPORT)}{query}"
    page = client.get(response.url).content.decode()
    assert 'name="export_items"' not in page
    # The export of that page is the filtered list: settlement A's household only.
    made = client.post(response.url, {"format": "0", "resource": "0"})
    text = made.content.decode("utf-8-sig")
    assert "522301000001" in text
    assert "522301000002" not in text and "520201000001" not in text


def test_all_rows_chosen_of_an_unfiltered_list_go_to_its_export(client, world):
    client.force_login(world.county)
    response = _action(client, "", [world.households["a"].pk], select_across="1")
    assert (response.status_code, response.url) == (302, reverse(EXPORT))


def test_ticked_rows_still_name_themselves(client, world):
    client.force_login(world.county)
    ticked = [world.households["a"].pk, world.households["b"].pk]
    response = _action(client, "", ticked, select_across="0")
    assert response.status_code == 200
    page = response.content.decode()
    for pk in ticked:
        assert f'name="export_items" value="{pk}"' in page
