"""Issue 9 item 6: reference data (regions, monitoring lines) is not a county's to edit.

A county administrator reads every region but may only add a township with a
generated code inside their own county; a province's 防返贫监测线 is written by
superusers and the administrators of that whole province.
"""

import pytest
from django.urls import reverse

from communities import enums
from communities.models import Region
from communities.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(region_tree, make_user):
    """An administrator of one county (兴义市), like the demo's ``manager``."""
    return make_user(Role.ADMINISTRATOR, regions=[region_tree.xingyi], username="manager")


@pytest.fixture
def province_admin(region_tree, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[region_tree.guizhou], username="gz_admin")


@pytest.fixture
def beijing(region_tree):
    province = Region.objects.create(code="110000", name="北京市", level=enums.RegionLevel.PROVINCE)
    county = Region.objects.create(
        code="110101", name="东城区", level=enums.RegionLevel.COUNTY, parent=province
    )
    street = Region.objects.create(
        code="110101001", name="东华门街道", level=enums.RegionLevel.TOWNSHIP, parent=county
    )
    return province, street


def region_url(action, *args):
    return reverse(f"admin:communities_region_{action}", args=args)


def region_post(region, **changes):
    data = {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent_id or "",
        "division_type": region.division_type,
    }
    data.update(changes)
    return data


# --- regions -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["520000", "520201", "522301", "522301001", "110101001"])
def test_county_admin_cannot_edit_any_region(client, manager, beijing, code):
    """Province, another county, their own county, a township inside it, a Beijing street."""
    region = Region.objects.get(pk=code)
    client.force_login(manager)
    page = client.get(region_url("change", code))
    assert page.status_code == 200  # reading reference data is fine …
    assert 'name="name"' not in page.content.decode()  # … as a read-only page
    response = client.post(region_url("change", code), region_post(region, name="改名"))
    assert response.status_code == 403
    region.refresh_from_db()
    assert region.name != "改名"


@pytest.mark.parametrize("code", ["520000", "522301", "522301001", "110101001"])
def test_county_admin_cannot_delete_any_region(client, manager, beijing, code):
    client.force_login(manager)
    assert client.get(region_url("delete", code)).status_code == 403
    assert client.post(region_url("delete", code), {"post": "yes"}).status_code == 403
    assert Region.objects.filter(pk=code).exists()


def test_county_admin_cannot_bulk_delete_regions(client, manager, beijing):
    client.force_login(manager)
    changelist = client.get(region_url("changelist"))
    assert "delete_selected" not in changelist.content.decode()
    response = client.post(
        region_url("changelist"),
        {"action": "delete_selected", "_selected_action": ["110000", "110101", "110101001"]},
    )
    assert response.status_code in (200, 302)
    assert Region.objects.filter(code__startswith="1101").count() == 2


def test_county_admin_adds_a_generated_township_in_own_county(client, manager):
    client.force_login(manager)
    form = client.get(region_url("add")).context["adminform"].form
    assert list(form.fields) == ["parent", "name"]
    assert [c.pk for c in form.fields["parent"].queryset] == ["522301"]
    response = client.post(
        region_url("add"),
        # code and level are not the user's to choose: posted values are ignored.
        {"parent": "522301", "name": "桔山街道", "code": "110000", "level": "1"},
    )
    assert response.status_code == 302
    township = Region.objects.get(parent_id="522301", name="桔山街道")
    assert township.code == "522301901"
    assert township.level == enums.RegionLevel.TOWNSHIP
    assert township.generated is True
    assert township.division_type == "街道"
    assert not Region.objects.filter(pk="110000").exists()
    # … and may not change it afterwards.
    response = client.post(region_url("change", township.pk), region_post(township, name="x"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("parent", "name", "message"),
    [
        ("520201", "新街道", "选择一个有效的选项"),  # a county outside their area
        ("520000", "新街道", "选择一个有效的选项"),  # a province
        ("522301001", "新街道", "选择一个有效的选项"),  # a township
        ("522301", "黄草街道", "兴义市已有名为“黄草街道”的乡镇（街道）。"),
        ("", "新街道", "该字段是必填项"),
    ],
)
def test_bad_township_additions_are_refused(client, manager, parent, name, message):
    client.force_login(manager)
    before = Region.objects.count()
    response = client.post(region_url("add"), {"parent": parent, "name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Region.objects.count() == before


def test_county_autocomplete_offers_only_own_counties(client, manager):
    client.force_login(manager)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "communities", "model_name": "region", "field_name": "parent", "term": ""},
    )
    assert [r["id"] for r in response.json()["results"]] == ["522301"]


def test_township_admin_cannot_add_regions(client, region_tree, make_user):
    township_admin = make_user(Role.ADMINISTRATOR, regions=[region_tree.huangcao])
    client.force_login(township_admin)
    assert client.get(region_url("add")).status_code == 403
    before = Region.objects.count()
    assert client.post(region_url("add"), {"parent": "522301", "name": "x街道"}).status_code == 403
    assert Region.objects.count() == before


def test_superuser_still_edits_and_deletes_regions(client, superuser, beijing):
    client.force_login(superuser)
    province, street = beijing
    response = client.post(region_url("change", "110000"), region_post(province, name="北京"))
    assert response.status_code == 302
    assert Region.objects.get(pk="110000").name == "北京"
    assert client.post(region_url("delete", street.pk), {"post": "yes"}).status_code == 302
    assert not Region.objects.filter(pk=street.pk).exists()


# --- monitoring lines ----------------------------------------------------------------
