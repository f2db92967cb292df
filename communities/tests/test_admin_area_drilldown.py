"""Lists over many settlements: the 安置点 filter gives way to an area drill-down.

A province holds thousands of settlements and the country 35,000: above
``ADMIN_SETTLEMENT_CHOICES`` the 安置点 filter lists none, and the 区域 filter
offers the areas one level down (in the user's scope only) until a small
enough area or a county is chosen.
"""

import pytest
from django.urls import reverse

from communities.tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def few(settings):
    settings.ADMIN_SETTLEMENT_CHOICES = 2


def _body(client, user, model="household", **params):
    client.force_login(user)
    url = reverse(f"admin:communities_{model}_changelist")
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def _offers(body, model, settlement):
    """Whether the 安置点 filter offers ``settlement`` (its link, not a row's cell)."""
    param = "settlement__id__exact" if model == "household" else "settlement"
    return f"{param}={settlement.pk}" in body


@pytest.mark.parametrize("model", ["household", "person"])
def test_a_large_scope_starts_one_level_down(client, world, few, model):
    body = _body(client, world.admin, model)
    # Three settlements over the limit of two: none listed, the areas instead.  The
    # only province (贵州) is passed through: its two prefectures are offered.
    assert not any(_offers(body, model, s) for s in (world.a, world.b, world.c))
    assert "area=5223" in body and "area=5202" in body
    assert "黔西南布依族苗族自治州" in body and "六盘水市" in body
    # The province by hand: the same two prefectures.
    body = _body(client, world.admin, model, area="52")
    assert "area=5223" in body and "area=5202" in body
    # 黔西南州 holds two settlements: within the limit, so they are listed.
    body = _body(client, world.admin, model, area="5223")
    assert _offers(body, model, world.a) and _offers(body, model, world.b)
    assert not _offers(body, model, world.c)
    # Listed, so no drill-down below it: neither the other prefecture nor its county.
    assert "area=5202" not in body and "area=522301" not in body


def test_a_province_official_starts_at_their_prefectures(client, world, few):
    body = _body(client, world.province)
    assert "area=5223" in body and "area=5202" in body
    assert "area=52&amp;" not in body and 'area=52"' not in body


def test_a_county_lists_every_settlement_whatever_the_limit(client, world, few, settings):
    settings.ADMIN_SETTLEMENT_CHOICES = 1
    body = _body(client, world.county)
    # 兴义市 alone holds two settlements, over the limit of one: the area filter offers
    # the county, and inside it both settlements are listed.
    assert "area=522301" in body and not _offers(body, "household", world.a)
    body = _body(client, world.county, area="522301")
    assert _offers(body, "household", world.a) and _offers(body, "household", world.b)


def test_the_drilldown_never_names_areas_outside_the_scope(
    client, world, few, region_tree, settings
):
    settings.ADMIN_SETTLEMENT_CHOICES = 1
    # More settlements in 钟山区 (六盘水市), outside 黔西南州.
    SettlementFactory(name="外地一", code="AZD520201009", county=region_tree.zhongshan)
    SettlementFactory(name="外地二", code="AZD520201010", county=region_tree.zhongshan)
    body = _body(client, world.prefecture)
    assert "area=522301" in body  # the drill-down is offered: 兴义市, passed down to
    assert "六盘水市" not in body and "钟山区" not in body
    assert "area=5202" not in body
    # Asking for the other prefecture by hand lists nothing of it either.
    body = _body(client, world.prefecture, area="5202")
    assert "德坞新区" not in body and "外地一" not in body and "520201000001" not in body
    assert "钟山区" not in body and not _offers(body, "household", world.c)


def test_within_the_limit_nothing_changes(client, world):
    body = _body(client, world.admin)
    assert all(_offers(body, "household", s) for s in (world.a, world.b, world.c))
    assert "area=5223" not in body


def test_the_settlements_are_read_once_per_page(client, world, few):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:communities_household_changelist"))
    # The 区域 and 安置点 filters both ask; one capped read (limit 2, so LIMIT 3) serves them.
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "communities_settlement"' in q["sql"] and "LIMIT 3" in q["sql"]
    ]
    assert len(reads) == 1, reads
