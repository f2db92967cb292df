"""权益保障 lists (适用权益全部落实 / 尚有适用权益未落实) counted from today's dashboard figures.

Counting these lists reads every household's rights rows (about a second for a
county at two million people); the household list takes the count from the
stored figures of the dashboards' 权益保障 source when nothing but the area
narrows the list, and counts live only the settlements changed since
(``communities.admin_scope.CountedChangeList``).

By hand, after ``complete_a`` (贵州's checklist: 承包地 and 林地): household A has
both secured (complete); B has no row (incomplete); C has 承包地 secured and
林地 open (incomplete); the household without a settlement has no checklist
(in neither list).  兴义市: complete 1, incomplete 1; 贵州 1 and 2; 钟山区 0 and 1.
"""

import datetime

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from communities.tests.conftest import world  # noqa: F401  (the shared data set)
from relocation.dashboards.engine import refresh_live
from relocation.dashboards.models import LiveState, Period, SettlementFigure
from services.models.protection import HouseholdRight, RightState

from .test_protection_admin import prot  # noqa: F401  (the checklist fixture)

pytestmark = pytest.mark.django_db

HOUSEHOLDS = reverse("admin:communities_household_changelist")


@pytest.fixture
def complete_a(world, prot):  # noqa: F811
    today = timezone.localdate()
    for item in (prot["land"], prot["forest"]):
        HouseholdRight.objects.create(
            household=world.households["a"], item=item, state=RightState.SECURED, recorded_on=today
        )
    return prot


@pytest.fixture
def stored(complete_a, settings):
    """Today's figures computed after the fixture was written (no look-back window)."""
    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    return complete_a


def listed(client, user, query):
    """(the count the list shows, its rows' household numbers, whether it was capped)."""
    client.force_login(user)
    response = client.get(HOUSEHOLDS + query)
    assert response.status_code == 200
    cl = response.context["cl"]
    return cl.result_count, {h.number for h in cl.result_list}, cl.paginator.capped


def inflate(settlement, key, by):
    """Change a stored figure behind the engine's back: shows whether the list reads it."""
    today = timezone.localdate()
    period = Period.objects.get(kind="year", start=datetime.date(today.year, 1, 1))
    rows = SettlementFigure.objects.filter(period=period, settlement=settlement, key=key)
    assert rows.exists(), (settlement, key)
    rows.update(value=F("value") + by)


def numbers(world, *keys):  # noqa: F811
    return {world.households[key].number for key in keys}


def test_stored_counts_equal_the_rows_in_every_scope(client, world, stored):  # noqa: F811
    expected = {
        world.county: (("a",), ("b",)),
        world.worker: (("a",), ()),
        world.province: (("a",), ("b", "c")),
        world.other_county: ((), ("c",)),
        world.admin: (("a",), ("b", "c")),  # the household without a settlement: neither
    }
    for user, (complete, incomplete) in expected.items():
        for value, keys in (("complete", complete), ("incomplete", incomplete)):
            count, rows, capped = listed(client, user, f"?rights={value}")
            assert rows == numbers(world, *keys), (user.username, value)
            assert count == len(keys), (user.username, value)
            assert not capped


def test_the_list_reads_the_stored_figures(client, world, stored):  # noqa: F811
    inflate(world.b, "rights_households", 30_000)
    inflate(world.a, "rights_households_complete", 5)
    inflate(world.a, "rights_households", 5)
    assert listed(client, world.county, "?rights=incomplete") == (
        30_001,
        numbers(world, "b"),
        False,  # an exact count, not "more than 10,000"
    )
    assert listed(client, world.county, "?rights=complete")[0] == 6
    # Another county's figures do not reach this scope, nor another settlement's an area.
    inflate(world.c, "rights_households", 7)
    assert listed(client, world.county, "?rights=incomplete")[0] == 30_001
    assert listed(client, world.province, "?rights=incomplete")[0] == 30_009
    assert listed(client, world.county, f"?rights=incomplete&area=s{world.a.pk}")[0] == 0
    assert listed(client, world.province, "?rights=incomplete&area=520201")[0] == 8
    assert listed(client, world.worker, "?rights=incomplete")[0] == 0
    # Anything else narrowing the list: its rows are counted.
    for query in (
        "?rights=incomplete&q=522301",
        f"?rights=incomplete&relocation_year={world.households['b'].relocation_year}",
        f"?rights=incomplete&rights_on={timezone.localdate() - datetime.timedelta(days=1)}",
    ):
        count, rows, _capped = listed(client, world.county, query)
        assert count == len(rows) < 10, query


def test_a_settlement_changed_since_the_figures_is_counted_live(client, world, stored):  # noqa: F811
    inflate(world.a, "rights_households_complete", 40)  # 阳光新区 changes below: live
    inflate(world.b, "rights_households", 10)  # 栗坪 did not change: read from the figures
    HouseholdRight.objects.filter(household=world.households["a"], item=stored["forest"]).update(
        state=RightState.PENDING
    )
    right = HouseholdRight.objects.get(household=world.households["a"], item=stored["land"])
    right.state = RightState.PENDING
    right.save()  # a change the engine sees (its history)
    assert listed(client, world.county, "?rights=complete") == (0, set(), False)
    assert listed(client, world.county, "?rights=incomplete") == (
        1 + 10 + 1,
        numbers(world, "a", "b"),
        False,
    )
    assert listed(client, world.worker, "?rights=incomplete")[:2] == (1, numbers(world, "a"))


def test_without_todays_figures_the_rows_are_counted(client, world, stored):  # noqa: F811
    inflate(world.b, "rights_households", 10)
    LiveState.objects.all().delete()
    assert listed(client, world.county, "?rights=incomplete") == (1, numbers(world, "b"), False)


def test_the_item_lists_read_their_figures(client, world, stored):  # noqa: F811
    """承包地: applies to A, B and C (no one recorded it as not applicable), secured for A and C."""
    land = stored["land"]
    query = f"?rights_item={land.pk}&rights_item_state="
    expected = {"applicable": ("a", "b", "c"), "secured": ("a", "c"), "open": ("b",)}
    for state, keys in expected.items():
        assert listed(client, world.province, query + state) == (
            len(keys),
            numbers(world, *keys),
            False,
        ), state
    inflate(world.b, f"rights_item_{land.pk}_applicable", 20)
    assert listed(client, world.county, query + "applicable")[0] == 2 + 20
    assert listed(client, world.county, query + "open")[0] == 1 + 20
    assert listed(client, world.county, query + "secured")[0] == 1
    # An item no longer on the checklist has no figures: its rows are counted.
    type(land).objects.filter(pk=land.pk).update(active=False)
    assert listed(client, world.county, query + "open")[:2] == (1, numbers(world, "b"))


def test_each_page_is_read_from_its_settlements(client, world, stored, monkeypatch):  # noqa: F811
    """One household a page: each page holds the list's row in its place, read from
    the stored figures (栗坪, 钟山区's settlement) or live (阳光新区, changed since)."""
    from communities.admin import HouseholdAdmin

    right = HouseholdRight.objects.get(household=world.households["a"], item=stored["land"])
    right.state = RightState.PENDING
    right.save()  # 阳光新区 changed since the figures: counted live
    monkeypatch.setattr(HouseholdAdmin, "list_per_page", 1)
    client.force_login(world.province)
    first = client.get(HOUSEHOLDS + "?rights=incomplete").context["cl"]
    in_order = list(first.queryset.values_list("number", flat=True))
    assert sorted(in_order) == sorted(numbers(world, "a", "b", "c"))
    # The first page takes the count alone (summed by the database), the next ones
    # the rows per settlement.
    assert first.result_count == 3 and first.paginator.known_counts is None
    assert first.paginator.known_count == 3
    pages = [h.number for h in first.result_list]
    for page in (2, 3):
        cl = client.get(HOUSEHOLDS + f"?rights=incomplete&p={page}").context["cl"]
        assert cl.result_count == 3
        assert cl.paginator.known_counts == {world.a.pk: 1, world.b.pk: 1, world.c.pk: 1}
        pages += [h.number for h in cl.result_list]
    assert pages == in_order


WORKLISTS = reverse("worklists")


def work_count(client, user, **params):
    """The 工作清单's 尚有适用权益未落实 count and link for ``user``."""
    client.force_login(user)
    rows = {row["key"]: row for row in client.get(WORKLISTS, params).context["rows"]}
    row = rows["rights_incomplete"]
    return row["count"], row["url"]


def test_the_work_list_page_counts_the_households_with_rights_open(client, world, complete_a):  # noqa: F811
    """Counted live (no figures stored yet), in each scope, as its linked list counts."""
    for user, keys in (
        (world.county, ("b",)),
        (world.worker, ()),
        (world.province, ("b", "c")),
        (world.other_county, ("c",)),
    ):
        count, url = work_count(client, user)
        assert count == len(keys), user.username
        assert url.startswith(HOUSEHOLDS + "?rights=incomplete&rights_on=")
        assert listed(client, user, url[len(HOUSEHOLDS) :])[:2] == (count, numbers(world, *keys))
    # On a day before A's rights were recorded, A counts too.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    count, url = work_count(client, world.admin, on=yesterday.isoformat())
    assert count == 3 and url.endswith(f"rights_on={yesterday.isoformat()}")


def test_the_work_list_page_reads_todays_stored_figures(client, world, stored):  # noqa: F811
    """At a province's scale the count comes from today's 权益保障 figures, as the list's."""
    assert work_count(client, world.province)[0] == 2
    inflate(world.b, "rights_households", 30_000)
    count, url = work_count(client, world.county)
    assert count == 30_001 == listed(client, world.county, url[len(HOUSEHOLDS) :])[0]
    assert work_count(client, world.other_county)[0] == 1
