"""显示计数 (facet counts) on the scoped lists: offered while the filters' choices fit in one
query, withdrawn beyond that instead of an error page."""

import pytest
from django.urls import reverse

from communities import admin_lookups

pytestmark = pytest.mark.django_db


def settlements(client, user, **query):
    client.force_login(user)
    return client.get(reverse("admin:communities_settlement_changelist"), query)


def test_counts_are_shown_while_the_choices_are_few(client, world):
    response = settlements(client, world.admin, _facets="True")
    assert response.status_code == 200
    assert response.context["cl"].add_facets
    # Each choice of the 县 filter carries its count: 兴义市 holds settlements A and B.
    assert "兴义市（522301） (2)" in response.content.decode()


def test_the_county_filter_lists_the_counties_of_the_listed_settlements(client, world):
    """所在县 offered every region (provinces, prefectures, townships, counties without a
    settlement): a national administrator's list had thousands of choices."""

    def choices(user):
        cl = settlements(client, user).context["cl"]
        specs = [spec for spec in cl.filter_specs if getattr(spec, "field_path", "") == "county"]
        return [label for spec in specs for _pk, label in spec.lookup_choices]

    assert choices(world.admin) == ["钟山区（520201）", "兴义市（522301）"]
    assert choices(world.province) == ["钟山区（520201）", "兴义市（522301）"]
    # One county is no choice: the filter is not offered (Django's rule).
    assert choices(world.county) == choices(world.worker) == []


def test_counts_are_withdrawn_when_the_choices_are_too_many(client, world, monkeypatch):
    """A national administrator's 县 filter has 2,800 choices: one COUNT each was more
    columns than the database allows ("too many columns in result set", a 500 page)."""
    specs = settlements(client, world.admin).context["cl"].filter_specs
    choices = sum(len(getattr(spec, "lookup_choices", ())) for spec in specs)
    monkeypatch.setattr(admin_lookups, "FACET_CHOICES_MAX", choices - 1)
    for query in ({"_facets": "True"}, {}):
        response = settlements(client, world.admin, **query)
        assert response.status_code == 200
        cl = response.context["cl"]
        assert not cl.add_facets and not cl.is_facets_optional
        assert "阳光新区" in response.content.decode()  # the list itself is unchanged
        assert 'class="viewlink"' not in response.content.decode()  # no 显示计数 link
        assert 'class="hidelink"' not in response.content.decode()
