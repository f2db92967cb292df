"""The 服务保障 and 文化 figures of the places world, counted by hand.

See ``places_world`` for the world and the hand counts; the edges are a
facility opened on the reference date, one opening the day after, a closed
one, a facility also serving a second settlement (coverage for both, counted
once), kinds added by an administrator (其他), and activities, honours and
funds on the period's first and last day and just outside it.
"""

import datetime
from decimal import Decimal

import pytest

from communities.models import Settlement
from relocation.dashboards import engine
from relocation.dashboards.models import AreaFigure
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.registry import Window, registry
from services.indicators.places import service_flows, service_places
from services.models import Facility, ServiceStandard

from .places_world import Q2, D, places_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
WINDOW = Window(start=Q2, reference_date=D, income_year=2025)


def total(figures, key, ids=None):
    return sum(v.get(key, 0) for sid, v in figures.items() if ids is None or sid in ids)


def value(key, sums):
    return registry.indicators[key].evaluate(sums)


def test_facility_stocks_per_settlement(places_world):
    w = places_world
    figures = service_places(Settlement.objects.all(), WINDOW)
    s1, s2, s3 = figures[w.s1.pk], figures[w.s2.pk], figures[w.s3.pk]
    # F3 opened on D counts; F5 (opens D+1) and F7 (停用) do not.
    assert (s1["facilities"], s2["facilities"], s3["facilities"]) == (3, 2, 1)
    assert s1["facility_party_centre"] == 1 and s1["facility_kindergarten"] == 1
    assert s2.get("facility_kindergarten", 0) == 0
    assert s2["facility_other"] == 1  # 洗衣房, a kind added later
    assert s2.get("facility_clinic", 0) == 0  # F2 serves S2 but stands in S1
    assert s3.get("facility_party_centre", 0) == 0
    assert total(figures, "teachers") == 15  # 5 + 10; F5's 4 not yet
    assert total(figures, "medical_staff") == 3
    assert w.s4.pk not in figures or figures[w.s4.pk].get("facilities", 0) == 0


def test_the_day_before_the_kindergarten_opens(places_world):
    w = places_world
    before = Window(start=Q2, reference_date=D - datetime.timedelta(days=1), income_year=2025)
    figures = service_places(Settlement.objects.all(), before)
    assert figures[w.s1.pk]["facilities"] == 2
    assert figures[w.s1.pk].get("teachers", 0) == 0
    # Without its kindergarten S1 no longer meets 十个一.
    assert figures[w.s1.pk]["standard_lacking"] == 1


def test_coverage_counts_a_facility_for_every_settlement_it_serves(places_world):
    w = places_world
    figures = service_places(Settlement.objects.all(), WINDOW)
    covered = {sid for sid, v in figures.items() if v.get("standard_covered")}
    lacking = {sid for sid, v in figures.items() if v.get("standard_lacking")}
    assert covered == {w.s1.pk}
    # S2 has 卫生室 through F2 but no 幼儿园 yet; S3 (省标准) lacks 党群服务中心; S4 all.
    assert lacking == {w.s2.pk, w.s3.pk, w.s4.pk}
    w.f.f2.also_serves.clear()
    Facility.objects.create(settlement=w.s2, kind=w.f.f3.kind, name="二号临时幼儿园", opened_on=Q2)
    figures = service_places(Settlement.objects.all(), WINDOW)
    # S2 now has 幼儿园 but lost 卫生室: still lacking.
    assert figures[w.s2.pk]["standard_lacking"] == 1
    w.f.f2.also_serves.set([w.s2])
    figures = service_places(Settlement.objects.all(), WINDOW)
    assert figures[w.s2.pk]["standard_covered"] == 1


def test_the_later_standard_applies_from_its_year(places_world):
    w = places_world
    in_2027 = Window(
        start=datetime.date(2027, 1, 1), reference_date=datetime.date(2027, 3, 1), income_year=2026
    )
    figures = service_places(Settlement.objects.all(), in_2027)
    # 2027's 十个一 adds 警务室, which S1 lacks.
    assert figures[w.s1.pk]["standard_lacking"] == 1
    ServiceStandard.objects.filter(year=2027).delete()
    figures = service_places(Settlement.objects.all(), in_2027)
    assert figures[w.s1.pk]["standard_covered"] == 1


def test_rates_roll_up_from_sums_not_averages(places_world):
    spec = period_containing(PeriodKind.QUARTER, D)
    period = engine.store_period(spec, D)

    def area(code):
        rows = AreaFigure.objects.filter(period=period, area_code=code)
        return {row.key: row.value for row in rows}

    xingyi, province = area("522301"), area("520000")
    assert value("standard_coverage_rate", xingyi) == Decimal(50)  # S1 of S1, S2
    # 1 of 4, not the mean of the counties' 50 %, 0 % and 0 % (16.7 %).
    assert value("standard_coverage_rate", province) == Decimal(25)
    assert value("settlements_lacking_facilities", province) == 3
    assert value("standard_coverage_rate", area("520201")) == 0  # S3 lacks
    # F2 serves S1 and S2 but is one facility of 兴义市.
    assert value("facilities", xingyi) == 5
    assert value("facilities", province) == 6
    assert value("teachers", province) == 15
    assert value("medical_staff", province) == 3
    assert value("funding_total", xingyi) == Decimal("310.75")
    assert value("activities", province) == 4
    assert value("activity_participants", province) == 190


def test_no_standard_gives_no_rate(region_tree):
    window = WINDOW
    figures = service_places(Settlement.objects.all(), window)
    assert figures == {}
    assert value("standard_coverage_rate", {}) is None  # shown as "—"


def test_flows_count_the_first_and_last_day_of_the_period(places_world):
    w = places_world
    figures = service_flows(Settlement.objects.all(), WINDOW)
    s1, s2, s3 = figures[w.s1.pk], figures[w.s2.pk], figures[w.s3.pk]
    # A1 on 04-01 and A2 on 06-30 count; A3 (03-31) and A6 (07-01) do not.
    assert s1["activities"] == 2 and s1["activity_participants"] == 130
    assert s1["activity_fire_drill"] == 1 and s1["activity_gratitude"] == 1
    assert s1.get("activity_safety_training", 0) == 0
    assert s2["activity_safety_training"] == 1 and s2["activities"] == 1
    assert s3["activity_other"] == 1  # 广场舞
    sums = engine.add_sums(figures.values())
    assert value("activities", sums) == 4
    assert value("activity_participants", sums) == 190
    assert value("safety_trainings", sums) == 1
    assert value("fire_drills", sums) == 1
    by_kind = {str(label): n for label, n in value("activities_by_kind", sums)}
    assert by_kind["感恩教育"] == 1 and by_kind["其他"] == 1 and by_kind["普法教育"] == 0
    # Honours: H1 (04-01) and H2 (06-30), not H3 (03-31).
    assert value("honours", sums) == 2
    honours = {str(label): n for label, n in value("honours_by_kind", sums)}
    assert honours["文明家庭"] == 1 and honours["身边好人"] == 1 and honours["勤劳致富模范户"] == 0
    # Funds: P1 100.50 (04-01) + P4 10.25 + P2 200 (06-30); P3 (07-01) is outside.
    assert value("funding_total", sums) == Decimal("310.75")
    by_source = {str(label): n for label, n in value("funding_by_source", sums)}
    assert by_source["中央衔接资金"] == Decimal("100.50")
    assert by_source["东西部协作"] == Decimal("200")
    assert by_source["市县级"] == Decimal("10.25")
    assert by_source["社会帮扶"] == 0


def test_sources_use_a_few_queries_whatever_the_number_of_settlements(
    places_world,
    django_assert_max_num_queries,
):
    from communities.tests.factories import SettlementFactory

    w = places_world
    for n in range(20):
        s = SettlementFactory(county=w.rt.xingyi)
        Facility.objects.create(settlement=s, kind=w.f.f1.kind, name=f"中心{n}")
    with django_assert_max_num_queries(6):
        service_places(Settlement.objects.all(), WINDOW)
    with django_assert_max_num_queries(3):
        service_flows(Settlement.objects.all(), WINDOW)


def test_changes_name_the_settlements_to_refresh(places_world):
    from django.utils import timezone

    from services.indicators.places import facility_changes, flow_changes

    w = places_world
    since = timezone.now()
    assert facility_changes(since) == set()
    w.f.f2.also_serves.set([w.s1.pk])  # S2 no longer served: both must refresh
    assert facility_changes(since) >= {w.s1.pk, w.s2.pk}
    since = timezone.now()
    from services.models import Honour

    Honour.objects.filter(household=w.h3).update(notes="改")
    assert flow_changes(since) == {w.s3.pk}


def test_every_drill_down_link_lists_the_rows_behind_the_figure(client, places_world, make_user):
    from communities.roles import Role

    w = places_world
    client.force_login(make_user(Role.COUNTY_OFFICIAL, regions=[w.rt.xingyi]))
    keys = [
        i.key
        for i in registry.indicators.values()
        if i.section in ("services", "culture") and i.link is not None
    ]
    for key in keys:
        indicator = registry.indicators[key]
        labels = [label for label, _c in indicator.breakdown] if indicator.breakdown else [None]
        for label in labels:
            args = ("522301", WINDOW) if label is None else ("522301", WINDOW, label)
            response = client.get(indicator.link(*args))
            assert response.status_code == 200, (key, label)
            assert "cl" in response.context, (key, label)
    # The figures and their lists agree (兴义市, Q2 ending on D).
    facilities = client.get(registry.indicators["facilities"].link("522301", WINDOW))
    assert facilities.context["cl"].result_count == 5
    police = registry.indicators["facilities_by_kind"].link("522301", WINDOW, "卫生室/医疗机构")
    assert [f.name for f in client.get(police).context["cl"].result_list] == ["一号卫生室"]
    other = registry.indicators["facilities_by_kind"].link("522301", WINDOW, "其他")
    assert [f.name for f in client.get(other).context["cl"].result_list] == ["二号洗衣房"]
    activities = client.get(registry.indicators["activities"].link("522301", WINDOW))
    assert activities.context["cl"].result_count == 3  # A1, A2, A4 (A5 is 钟山区's)
    fire = client.get(registry.indicators["fire_drills"].link("522301", WINDOW))
    assert fire.context["cl"].result_count == 1
    funds = registry.indicators["funding_by_source"].link("522301", WINDOW, "东西部协作")
    assert client.get(funds).context["cl"].result_count == 1
    lacking = client.get(
        registry.indicators["settlements_lacking_facilities"].link("522301", WINDOW)
    )
    assert [s.pk for s in lacking.context["cl"].result_list] == [w.s2.pk]
    honours = client.get(registry.indicators["honours"].link("522301", WINDOW))
    assert honours.context["cl"].result_count == 2
