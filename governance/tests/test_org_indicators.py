"""The Governance figures of INDICATORS.md on a hand-made world.

Two settlements of 兴义 (s1, s2) and one of 钟山 (s3); every expected figure
is counted by hand from the comments of ``org_world``.  The period is
2026-01-01 .. D (2026-06-30).
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from communities.tests.factories import (
    BuildingFactory,
    GridUnitFactory,
    GridWorkerFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
)
from governance.models.organisation import (
    Cadre,
    MemberOrigin,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionState,
    Visit,
    VisitWay,
)
from relocation.dashboards.engine import compute
from relocation.dashboards.registry import Window, registry

D = datetime.date(2026, 6, 30)
START = datetime.date(2026, 1, 1)
WINDOW = Window(start=START, reference_date=D, income_year=2025)


def day(month, dd, year=2026):
    return datetime.date(year, month, dd)


def petition(settlement, category, received, state=PetitionState.ACCEPTED, **fields):
    """A petition stored directly in ``state`` (the figures read the stored dates)."""
    p = Petition(
        settlement=settlement,
        group="住户",
        category=category,
        channel=PetitionChannel.WINDOW,
        received_on=received,
        summary="诉求",
        state=state,
        **fields,
    )
    p.save()
    return p


@pytest.fixture
def org_world(region_tree):
    rt = region_tree
    s1 = SettlementFactory(name="一号", county=rt.xingyi, township=rt.huangcao)
    s2 = SettlementFactory(name="二号", county=rt.xingyi, township=rt.xingtai)
    s3 = SettlementFactory(name="三号", county=rt.zhongshan, township=rt.huangtupo)
    # Households: s1 4, s2 2, s3 0.
    h1 = [HouseholdFactory(settlement=s1, number=f"S1H{i}") for i in range(4)]
    h2 = [HouseholdFactory(settlement=s2, number=f"S2H{i}") for i in range(2)]
    # Grids: s1 2 grids with 3 workers; s2 1 grid, no worker.
    g1, g2 = GridUnitFactory(settlement=s1), GridUnitFactory(settlement=s1)
    GridUnitFactory(settlement=s2)
    w1 = GridWorkerFactory(grid=g1)
    GridWorkerFactory(grid=g1)
    GridWorkerFactory(grid=g2)
    # Buildings: s1 3 (2 with a head), s2 1 with a head.
    BuildingFactory(settlement=s1, head_name="张楼长")
    BuildingFactory(settlement=s1, head_name="李楼长")
    BuildingFactory(settlement=s1, head_name="")
    BuildingFactory(settlement=s2, head_name="王楼长")
    # Party: s1 a 党工委, a 党总支 and 2 党支部 (one founded after D: not counted);
    # s2 1 党支部.
    K = PartyOrgKind
    wc = PartyOrganisation.objects.create(name="党工委", kind=K.WORKING_COMMITTEE, settlement=s1)
    gb = PartyOrganisation.objects.create(
        name="党总支", kind=K.GENERAL_BRANCH, settlement=s1, parent=wc
    )
    b1 = PartyOrganisation.objects.create(name="一支部", kind=K.BRANCH, settlement=s1, parent=gb)
    PartyOrganisation.objects.create(
        name="新支部", kind=K.BRANCH, settlement=s1, parent=gb, founded_on=day(7, 1)
    )
    b2 = PartyOrganisation.objects.create(name="二号支部", kind=K.BRANCH, settlement=s2)
    # Members: s1 5 counted (2 developed) + 1 inactive + 1 joining after D; s2 1 developed.
    member_person = PersonFactory(household=h1[0], name="党员甲")
    PartyMember.objects.create(organisation=b1, person=member_person, origin=MemberOrigin.MOVED_IN)
    for name in ("乙", "丙"):
        PartyMember.objects.create(organisation=b1, name=name, origin=MemberOrigin.MOVED_IN)
    PartyMember.objects.create(
        organisation=b1, name="丁", origin=MemberOrigin.DEVELOPED, joined_on=day(6, 30)
    )
    PartyMember.objects.create(organisation=gb, name="戊", origin=MemberOrigin.DEVELOPED)
    PartyMember.objects.create(
        organisation=b1, name="已转出", origin=MemberOrigin.MOVED_IN, active=False
    )
    PartyMember.objects.create(
        organisation=b1, name="明天入党", origin=MemberOrigin.DEVELOPED, joined_on=day(7, 1)
    )
    PartyMember.objects.create(organisation=b2, name="己", origin=MemberOrigin.DEVELOPED)
    # Cadres: s1 A (2 households), B (1 ended before D), C (starts after D); s2 E (1).
    a = Cadre.objects.create(name="A", unit="县住建局", settlement=s1)
    b = Cadre.objects.create(name="B", unit="县教育局", settlement=s1)
    c = Cadre.objects.create(name="C", unit="县财政局", settlement=s1)
    e = Cadre.objects.create(name="E", unit="县人社局", settlement=s2)
    Pairing.objects.create(cadre=a, household=h1[0], start_date=day(1, 5, 2025))
    Pairing.objects.create(cadre=a, household=h1[1], start_date=day(1, 5, 2025))
    Pairing.objects.create(cadre=b, household=h1[0], start_date=day(1, 5, 2025), end_date=day(3, 1))
    Pairing.objects.create(cadre=c, household=h1[2], start_date=day(7, 1))
    Pairing.objects.create(cadre=e, household=h2[0], start_date=D)  # starts on D: counted
    # → paired: s1 cadres {A} households {h1_0, h1_1}; s2 cadres {E} households {h2_0}.
    # Visits in the period: s1 2 (one on D, one on START), one before START; s2 1.
    Visit.objects.create(household=h1[0], cadre=a, visited_on=D, way=VisitWay.HOME)
    Visit.objects.create(household=h1[1], grid_worker=w1, visited_on=START, way=VisitWay.PHONE)
    Visit.objects.create(household=h1[1], cadre=a, visited_on=day(12, 31, 2025), way="home")
    Visit.objects.create(household=h2[0], cadre=e, visited_on=day(3, 3), way=VisitWay.WECHAT)
    # Petitions (category 10 days).
    cat = PetitionCategory.objects.create(name="物业", due_days=10)
    P = PetitionState
    # s1: received in period 4; resolved in period 2 (10 days and 4 days) + 1
    # received last year resolved in the period (20 days); 1 rejected (not resolved).
    petition(s1, cat, day(3, 1), P.RESOLVED, closed_on=day(3, 11), handling_days=10, resolution="x")
    petition(
        s1,
        cat,
        day(4, 1),
        P.FOLLOWED_UP,
        closed_on=day(4, 5),
        handling_days=4,
        resolution="x",
        followed_up_on=day(4, 20),
        satisfaction="satisfied",
    )
    petition(s1, cat, day(5, 1), P.REJECTED, closed_on=day(5, 2), reject_reason="x")
    # Open, received 6-10, due 6-20 < D: overdue on D.
    petition(s1, cat, day(6, 10), P.IN_PROGRESS)
    petition(
        s1,
        cat,
        day(12, 22, 2025),
        P.FOLLOWED_UP,
        closed_on=day(1, 11),
        handling_days=20,
        resolution="x",
        followed_up_on=day(1, 20),
        satisfaction="unsatisfied",
    )
    # s2: received 2 in the period; one open due on D+? received 6-25 → due 7-5: not overdue;
    # one received 6-20 → due 6-30 = D: not overdue (due on the day).
    petition(s2, cat, day(6, 25))
    petition(s2, cat, day(6, 20))
    # s3: one received before the period, due 2025-12-11, closed after D: overdue on D.
    petition(s3, cat, day(12, 1, 2025), P.RESOLVED, closed_on=day(7, 2), handling_days=213)
    return SimpleNamespace(s1=s1, s2=s2, s3=s3, rt=rt, h1=h1, h2=h2, cat=cat)


def sums(figures, *settlements):
    total = {}
    for s in settlements:
        for key, value in figures.get(s.pk, {}).items():
            total[key] = total.get(key, 0) + (value or 0)
    return total


def value(key, total):
    return registry.indicators[key].evaluate(total)


def test_stock_figures_per_settlement(org_world):
    w = org_world
    from communities.models import Settlement

    figures = compute(Settlement.objects.all(), WINDOW)
    s1, s2, s3 = figures[w.s1.pk], figures[w.s2.pk], figures.get(w.s3.pk, {})
    assert (s1["grid_units"], s1["grid_workers"], s1["building_heads"]) == (2, 3, 2)
    assert (s2["grid_units"], s2.get("grid_workers", 0), s2["building_heads"]) == (1, 0, 1)
    assert s1["party_orgs_working_committee"] == 1
    assert s1["party_orgs_general_branch"] == 1
    assert s1["party_orgs_branch"] == 1  # 新支部 founded after D
    assert s2["party_orgs_branch"] == 1
    assert (s1["party_members"], s1["party_members_developed"]) == (5, 2)
    assert (s2["party_members"], s2["party_members_developed"]) == (1, 1)
    assert (s1["paired_cadres"], s1["paired_households"]) == (1, 2)
    assert (s2["paired_cadres"], s2["paired_households"]) == (1, 1)
    assert (s1["petitions_overdue"], s2.get("petitions_overdue", 0)) == (1, 0)
    assert s3["petitions_overdue"] == 1
    # 结对户超过90天未走访 on D (visits after 2026-04-01 count): s1's h1_0 was visited on D,
    # h1_1 last on START; s2's h2_0 (paired from D) last on 3-3; s1's h1_2 is paired
    # only from 7-1, and B's pairing of h1_0 ended before D.
    assert (s1["pairings_unvisited"], s2["pairings_unvisited"]) == (1, 1)
    assert s3.get("pairings_unvisited", 0) == 0


def test_flow_figures_per_settlement(org_world):
    w = org_world
    from communities.models import Settlement

    figures = compute(Settlement.objects.all(), WINDOW)
    s1, s2 = figures[w.s1.pk], figures[w.s2.pk]
    assert (s1["visits"], s2["visits"]) == (2, 1)
    assert (s1["petitions_received"], s2["petitions_received"]) == (4, 2)
    # Resolved in the period: the 3-11 (10 days), 4-5 (4 days) and 1-11 (20 days) ones.
    assert (s1["petitions_resolved"], s1["petition_days"]) == (3, 34)
    assert (s1["petitions_followed_up"], s1["petitions_satisfied"]) == (2, 1)
    assert s2.get("petitions_resolved", 0) == 0


def test_rates_roll_up_from_summed_components(org_world):
    w = org_world
    from communities.models import Settlement

    figures = compute(Settlement.objects.all(), WINDOW)
    county = sums(figures, w.s1, w.s2)  # 兴义: s1 + s2
    # pairing: (2 + 1) / (4 + 2) = 50 %, not the mean of 50 % and 50 %… check with
    # a case where they differ: resolution rate s1 3/4 = 75 %, s2 0/2 = 0 %;
    # rolled up 3/6 = 50 % (the mean of rates would be 37.5 %).
    assert value("pairing_rate", county) == Decimal(50)
    assert value("petition_resolution_rate", county) == Decimal(50)
    # households per grid worker: 6 households / 3 workers = 2 (s2 alone: —).
    assert value("households_per_grid_worker", county) == Decimal(2)
    assert value("households_per_grid_worker", sums(figures, w.s2)) is None
    assert value("petition_avg_days", county) == Decimal(34) / Decimal(3)
    assert value("petition_satisfaction", county) == Decimal(50)
    assert value("party_members", county) == Decimal(6)
    assert value("party_members_developed", county) == Decimal(3)
    assert dict(value("party_orgs_by_kind", county)) == {
        "街道党工委": Decimal(1),
        "社区党委": Decimal(0),
        "党总支": Decimal(1),
        "党支部": Decimal(2),
        "党小组": Decimal(0),
    }


def test_empty_denominators_are_dashes(org_world):
    w = org_world
    from communities.models import Settlement

    figures = compute(Settlement.objects.filter(pk=w.s3.pk), WINDOW)
    s3 = sums(figures, w.s3)
    for key in (
        "pairing_rate",
        "households_per_grid_worker",
        "petition_resolution_rate",
        "petition_avg_days",
        "petition_satisfaction",
    ):
        assert value(key, s3) is None, key
    assert value("petitions_overdue", s3) == Decimal(1)


def test_grouped_queries_whatever_the_number_of_settlements(
    org_world, django_assert_max_num_queries
):
    from communities.models import Settlement

    from ..indicators.organisation import governance_flows, governance_org

    with django_assert_max_num_queries(8):
        governance_org(Settlement.objects.all(), [WINDOW])
    # Several dates: organisations, members and pairings once for all, two per date.
    windows = [Window(start=START, reference_date=d, income_year=2025) for d in (D, day(7, 1))]
    with django_assert_max_num_queries(10):
        governance_org(Settlement.objects.all(), windows)
    with django_assert_max_num_queries(4):
        governance_flows(Settlement.objects.all(), [WINDOW])
    # Several windows: still one query per kind of date for all of them.
    with django_assert_max_num_queries(4):
        governance_flows(
            Settlement.objects.all(),
            [*windows, Window(start=day(6, 1), reference_date=day(7, 1), income_year=2025)],
        )


def _non_zero(figures):
    """The figures a period stores: its non-zero values."""
    kept = {sid: {k: v for k, v in values.items() if v} for sid, values in figures.items()}
    return {sid: values for sid, values in kept.items() if values}


def test_several_dates_in_one_pass_are_each_date_alone(org_world):
    """The past periods' dates counted together (``Source.dates``) give each date's own
    figures: on 2-28 B's pairing (ended 3-1) still counts and E's (from D) not yet; on 7-1
    新支部, 明天入党 and C's pairing count, B's no longer."""
    from communities.models import Settlement

    from ..indicators.organisation import governance_org

    w = org_world
    windows = [
        Window(start=START, reference_date=d, income_year=2025) for d in (day(2, 28), D, day(7, 1))
    ]
    together = governance_org(Settlement.objects.all(), windows)
    for window in windows:
        alone = governance_org(Settlement.objects.all(), [window])(window)
        assert _non_zero(together(window)) == _non_zero(alone), window.reference_date
    before, _on_d, after = (together(window) for window in windows)
    assert (before[w.s1.pk]["paired_cadres"], before[w.s1.pk]["paired_households"]) == (2, 2)
    assert before.get(w.s2.pk, {}).get("paired_cadres", 0) == 0
    assert (after[w.s1.pk]["paired_cadres"], after[w.s1.pk]["paired_households"]) == (2, 3)
    assert (after[w.s2.pk]["paired_cadres"], after[w.s2.pk]["paired_households"]) == (1, 1)
    assert after[w.s1.pk]["party_orgs_branch"] == 2
    assert (after[w.s1.pk]["party_members"], after[w.s1.pk]["party_members_developed"]) == (6, 3)
    # Grids and building heads carry no date: the same on every date.
    assert before[w.s1.pk]["grid_units"] == after[w.s1.pk]["grid_units"] == 2


def test_several_flow_windows_in_one_pass_are_each_window_alone(org_world):
    """The periods' windows counted together (``Source.dates`` of a flow: windows that
    share an end and differ by start, overlapping ones, one day, an empty one) give each
    window's own figures, counted by hand."""
    from communities.models import Settlement

    from ..indicators.organisation import governance_flows

    w = org_world
    spans = {
        "half": (START, D),
        "quarter": (day(4, 1), D),
        "march": (day(3, 1), day(3, 31)),
        "a day": (day(3, 3), day(3, 3)),
        "december": (day(12, 1, 2025), day(12, 31, 2025)),
        "april-january": (day(4, 1, 2025), day(1, 31)),
        "empty": (day(8, 1), day(8, 31)),
    }
    windows = {
        name: Window(start=start, reference_date=end, income_year=2025)
        for name, (start, end) in spans.items()
    }
    together = governance_flows(Settlement.objects.all(), list(windows.values()))
    for name, window in windows.items():
        alone = governance_flows(Settlement.objects.all(), [window])(window)
        assert _non_zero(together(window)) == _non_zero(alone), name
    got = {name: _non_zero(together(window)) for name, window in windows.items()}
    s1, s2 = w.s1.pk, w.s2.pk
    assert got["empty"] == {}
    # Visits: s1 on START, D and 2025-12-31; s2 on 3-3.
    assert got["a day"] == {s2: {"visits": 1}}
    assert got["march"][s2]["visits"] == 1
    assert got["march"][s1] == {
        "petitions_received": 1,
        "petitions_resolved": 1,
        "petition_days": 10,
    }
    assert got["quarter"][s1]["visits"] == 1
    assert got["december"][s1] == {"visits": 1, "petitions_received": 1}
    # Visits on 2025-12-31 and START; received 2025-12-22, closed 1-11 (20 days),
    # followed up 1-20, unsatisfied.
    assert got["april-january"][s1] == {
        "visits": 2,
        "petitions_received": 1,
        "petitions_resolved": 1,
        "petition_days": 20,
        "petitions_followed_up": 1,
    }
    # In the quarter: the petition followed up on 4-20 (satisfied), closed 4-5 in 4 days.
    assert got["quarter"][s1]["petitions_followed_up"] == 1
    assert got["quarter"][s1]["petitions_satisfied"] == 1
    assert got["quarter"][s1]["petition_days"] == 4
    assert got["half"][s1]["visits"] == 2


def test_changes_name_the_settlements_touched(org_world):
    from django.utils import timezone

    from ..indicators.organisation import flow_changes, org_changes

    w = org_world
    since = timezone.now()
    Visit.objects.create(
        household=w.h2[1], cadre=Cadre.objects.get(name="E"), visited_on=D, way="home"
    )
    assert flow_changes(since) == {w.s2.pk}
    assert org_changes(since) == {w.s2.pk}  # a visit changes 结对户超过N天未走访
    since = timezone.now()
    member = PartyMember.objects.filter(name="乙").get()
    member.save()  # nothing changed: no history entry, nothing to refresh
    assert org_changes(since) == set()
    member.notes = "更正入党时间"
    member.save()
    assert org_changes(since) == {w.s1.pk}


def test_every_indicator_has_direction_and_link():
    keys = [i.key for i in registry.in_section("governance")]
    assert {
        "grid_units",
        "grid_workers",
        "households_per_grid_worker",
        "building_heads",
        "party_orgs_by_kind",
        "party_members",
        "party_members_developed",
        "paired_cadres",
        "paired_households",
        "pairing_rate",
        "visits",
        "petitions_received",
        "petitions_resolved",
        "petition_resolution_rate",
        "petition_avg_days",
        "petitions_overdue",
        "petition_satisfaction",
    } <= set(keys)
    assert registry.indicators["petitions_overdue"].direction == "down"
    assert registry.indicators["pairing_rate"].direction == "up"


def test_the_party_breakdown_links_its_items_in_english_too():
    # The item's value is found from the label shown, in the reader's language
    # (the labels were once read in Chinese when the module was imported).
    from django.utils import translation

    from governance.indicators.organisation import _org_kind_link
    from governance.models.organisation import PartyOrgKind
    from relocation.dashboards.registry import Window

    window = Window(
        start=datetime.date(2025, 1, 1),
        reference_date=datetime.date(2025, 6, 30),
        income_year=2024,
    )
    for language in ("zh-hans", "en"):
        with translation.override(language):
            label = str(PartyOrgKind.COMMUNITY_COMMITTEE.label)
            url = _org_kind_link("5223", window, label)
            assert "kind__exact=community_committee" in url, (language, url)
