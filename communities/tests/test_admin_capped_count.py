"""A list whose count stopped at the cap (``CappedCountPaginator``) never shows the
N + 1 rows it counted as if they were all: the search bar says "more than N", and the
action bar offers to select "all (more than N)" (an action across all pages acts on
every row the list holds, not on N + 1 of them)."""

import pytest
from django.urls import reverse

from communities import enums
from communities.admin_scope import CappedCountPaginator
from communities.models import Household

from .factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

URL = "admin:communities_household_changelist"


@pytest.fixture
def twelve(world):
    """The county (兴义市) holds 12 households: the world's 2 and 10 more (numbered HH…)."""
    for i in range(10):
        household = HouseholdFactory(settlement=(world.a, world.b)[i % 2])
        PersonFactory(household=household, relationship=enums.Relationship.HEAD)
    assert Household.objects.filter(settlement__county=world.a.county).count() == 12
    return world


def page(client, user, monkeypatch, cap, language="zh-hans", **query):
    monkeypatch.setattr(CappedCountPaginator, "cap", cap)
    client.force_login(user)
    response = client.get(reverse(URL), query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, response.content.decode()


def test_over_the_cap_the_search_bar_and_the_actions_say_more_than(client, twelve, monkeypatch):
    response, html = page(client, twelve.admin, monkeypatch, cap=10)
    cl = response.context["cl"]
    assert cl.paginator.capped and cl.result_count == 11  # counted up to the cap + 1
    assert "超过 10 条结果" in html
    assert "选择全部（超过 10 个）搬迁户" in html
    assert "已选中全部（超过 10 个）" in html
    assert "11 条结果" not in html and "11 个" not in html
    assert "超过 10 条，请用右侧筛选或搜索缩小范围" in html  # the pagination, as before


def test_in_english_too(client, twelve, monkeypatch):
    _response, html = page(client, twelve.admin, monkeypatch, cap=10, language="en")
    assert "More than 10 results" in html
    assert "Select all (more than 10) " in html
    assert "All (more than 10) selected" in html
    assert "11 results" not in html


def test_under_the_cap_the_exact_count(client, twelve, monkeypatch):
    """A county official's 12 households, under a cap of 20: counted exactly."""
    response, html = page(client, twelve.county, monkeypatch, cap=20, q="")
    cl = response.context["cl"]
    assert not cl.paginator.capped and cl.result_count == 12
    assert "超过" not in html.split('id="changelist-search"')[1].split("</form>")[0]
    assert "共 12 条" in html


def test_a_search_over_the_cap_says_more_than(client, twelve, monkeypatch):
    """The county's 10 households numbered HH…, searched by that prefix."""
    response, html = page(client, twelve.county, monkeypatch, cap=5, q="HH")
    cl = response.context["cl"]
    assert cl.paginator.capped
    assert "超过 5 条结果" in html and "6 条结果" not in html
