"""The second half of a long list is read from its end, and a list whose rows per
settlement are known from the settlements that hold a page (``CappedCountPaginator.page``).

Every page must hold exactly the rows Django's own paginator gives it, in the same
order, whatever the count's source (counted, or known from stored figures), the
orphans, or an ordering that ties; no page of the second half asks the database
to skip more than half the list, and no page of a list known per settlement reads
another settlement or skips more rows than its first settlement holds.
"""

import re
from collections import Counter

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities import enums
from communities.admin_scope import CappedCountPaginator
from communities.models import Household

from .factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world):
    """The world's four households and 13 more of one or two people: 17, in three
    settlements and none."""
    for i in range(13):
        household = HouseholdFactory(settlement=(world.a, world.b, world.c)[i % 3])
        PersonFactory(household=household, relationship=enums.Relationship.HEAD)
        if i % 2:
            PersonFactory(household=household, relationship=enums.Relationship.SPOUSE)
    assert Household.objects.count() == 17
    return world


def keys(page):
    return [h.pk for h in page.object_list]


def offsets(queries):
    return [int(n) for q in queries for n in re.findall(r"OFFSET (\d+)", q["sql"])]


@pytest.mark.parametrize("orphans", [0, 1, 2])
@pytest.mark.parametrize(
    "ordering", [("-pk",), ("settlement__name", "-pk"), ("relocation_year", "number", "pk")]
)
def test_every_page_holds_the_rows_of_djangos_paginator(many, ordering, orphans):
    rows = Household.objects.select_related("settlement").order_by(*ordering)
    expected = Paginator(rows, 3, orphans)
    counted = CappedCountPaginator(rows, 3, orphans)
    # Known per settlement (the superuser's household without one among them): read
    # from the end as a counted list is.
    per_settlement = Counter(rows.values_list("settlement_id", flat=True))
    assert per_settlement[None] == 1
    known = CappedCountPaginator(rows, 3, orphans, known_counts=per_settlement)
    assert counted.num_pages == known.num_pages == expected.num_pages
    for number in expected.page_range:
        want = keys(expected.page(number))
        assert keys(counted.page(number)) == want, (number, ordering, orphans)
        assert keys(known.page(number)) == want, (number, ordering, orphans)


def test_no_page_of_the_second_half_skips_more_than_half_the_list(many):
    rows = Household.objects.order_by("-pk")
    paginator = CappedCountPaginator(rows, 3)
    assert paginator.count == 17
    with CaptureQueriesContext(connection) as last:
        assert keys(paginator.page(6)) == list(rows.values_list("pk", flat=True))[15:]
    assert offsets(last) == []  # the last page is the first one read backwards
    with CaptureQueriesContext(connection) as late:
        keys(paginator.page(5))  # rows 13–15: two from the end
    assert offsets(late) == [2]
    with CaptureQueriesContext(connection) as early:
        keys(paginator.page(2))  # rows 4–6: read forwards
    assert offsets(early) == [3]


def test_a_capped_count_is_not_read_backwards(many):
    """Above the cap the count is not exact ("more than N"): only forwards is right."""
    rows = Household.objects.order_by("-pk")
    paginator = CappedCountPaginator(rows, 3)
    paginator.cap = 10
    assert paginator.capped and paginator.count == 11
    with CaptureQueriesContext(connection) as queries:
        page = keys(paginator.page(3))  # rows 7–9 of "more than 10"
    assert page == list(rows.values_list("pk", flat=True))[6:9]
    assert offsets(queries) == [6]


def test_the_last_page_of_the_household_list(client, many, monkeypatch):
    from communities.admin import HouseholdAdmin

    monkeypatch.setattr(HouseholdAdmin, "list_per_page", 4)
    client.force_login(many.admin)
    url = reverse("admin:communities_household_changelist")
    first = client.get(url).context["cl"]
    listed = list(first.queryset.values_list("pk", flat=True))
    assert len(listed) == 17
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"p": 5})
    cl = response.context["cl"]
    assert [h.pk for h in cl.result_list] == listed[16:]
    assert max(offsets(queries), default=0) == 0
    # Page 4 of 5: rows 13–16, one from the end; its members' counts shown as on page 1.
    cl = client.get(url, {"p": 4}).context["cl"]
    assert [h.pk for h in cl.result_list] == listed[12:16]
    assert {h.pk: h.n_members for h in cl.result_list} == {
        h.pk: h.n_members for h in first.queryset.filter(pk__in=listed[12:16])
    }
    assert sum(h.n_members for h in cl.result_list) > 0


def settlements_read(queries):
    """The settlement ids each query of a page was limited to (``IN (…)``)."""
    found = []
    for q in queries:
        match = re.search(r'"settlement_id" IN \(([^)]*)\)', q["sql"])
        if match:
            found.append(sorted(int(n) for n in match.group(1).split(",")))
    return found


@pytest.mark.parametrize("orphans", [0, 1, 2])
def test_a_list_known_per_settlement_reads_each_page_from_its_settlements(many, orphans):
    rows = Household.objects.filter(settlement__isnull=False).order_by("-settlement_id", "-id")
    per_settlement = Counter(rows.values_list("settlement_id", flat=True))
    assert sorted(per_settlement.values()) == [5, 5, 6]  # 16 households in three settlements
    expected = Paginator(rows, 3, orphans)
    known = CappedCountPaginator(rows, 3, orphans, known_counts=per_settlement)
    assert known.count == 16 and known.num_pages == expected.num_pages
    order = list(rows.values_list("settlement_id", flat=True))
    for number in expected.page_range:
        want = keys(expected.page(number))
        with CaptureQueriesContext(connection) as queries:
            assert keys(known.page(number)) == want, (number, orphans)
        page = expected.page(number)
        held = sorted(set(order[page.start_index() - 1 : page.end_index()]))
        read = settlements_read(queries)
        assert read and all(ids == held for ids in read), (number, read)
        # It skips at most half the rows of the settlements holding it (read from their
        # end when it lies in their second half), never a whole settlement.
        held_rows = sum(per_settlement[s] for s in held)
        assert 2 * max(offsets(queries), default=0) <= held_rows, number


def test_a_list_in_another_order_or_with_rows_outside_settlements_is_not_read_so(many):
    """Sorted by another column the settlements are not the list's leading key; and
    rows without a settlement sort first on PostgreSQL, last on SQLite."""
    for rows in (
        Household.objects.filter(settlement__isnull=False).order_by("number", "-id"),
        Household.objects.order_by("-settlement_id", "-id"),
    ):
        counts = Counter(rows.values_list("settlement_id", flat=True))
        paginator = CappedCountPaginator(rows, 3, known_counts=counts)
        expected = Paginator(rows, 3)
        for number in expected.page_range:
            with CaptureQueriesContext(connection) as queries:
                assert keys(paginator.page(number)) == keys(expected.page(number))
            assert settlements_read(queries) == []
