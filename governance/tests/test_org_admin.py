"""The organisation admin as an attacker with a legitimate but limited account.

A community worker of 一号 (s1) tries 二号's (s2) records by URL, by filter, by
autocomplete and through foreign-key choices; a county official without the
sensitive-data permission reads a petitioner's phone.  Bad input posted
through the forms is refused with the field named and nothing saved.
"""

import datetime

import pytest

from communities.roles import Role
from communities.tests.dates import today
from communities.tests.factories import (
    GridUnitFactory,
    GridWorkerFactory,
    HouseholdFactory,
    SettlementFactory,
)
from governance.models.organisation import (
    Cadre,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionState,
    PetitionTransition,
    Visit,
    VisitWay,
)


@pytest.fixture
def world(region_tree, make_user):
    s1 = SettlementFactory(name="一号安置点", county=region_tree.xingyi)
    s2 = SettlementFactory(name="二号安置点", county=region_tree.xingren)
    h1 = HouseholdFactory(settlement=s1, number="H1000001")
    h2 = HouseholdFactory(settlement=s2, number="H2000001")
    HouseholdFactory(settlement=s1, number="H1000002")  # no pairing
    c1 = Cadre.objects.create(
        name="本点干部", unit="兴义市民政局", settlement=s1, phone="13800001111"
    )
    c2 = Cadre.objects.create(name="他点干部", unit="兴仁市民政局", settlement=s2)
    Pairing.objects.create(
        cadre=c1, household=h1, start_date=today() - datetime.timedelta(days=200)
    )
    Pairing.objects.create(cadre=c2, household=h2, start_date=today())
    worker = GridWorkerFactory(grid=GridUnitFactory(settlement=s1), name="网格员甲")
    org2 = PartyOrganisation.objects.create(
        name="二号党支部", kind=PartyOrgKind.BRANCH, settlement=s2
    )
    cat = PetitionCategory.objects.create(name="物业管理", due_days=7)
    overdue = Petition.objects.create(
        settlement=s1,
        household=h1,
        category=cat,
        channel="window",
        received_on=today() - datetime.timedelta(days=30),
        summary="电梯坏了",
        phone="13912345678",
    )
    fresh = Petition.objects.create(
        settlement=s1,
        group="5栋住户",
        category=cat,
        channel="grid",
        received_on=today(),
        summary="路灯",
    )
    other = Petition.objects.create(
        settlement=s2,
        group="他点住户",
        category=cat,
        channel="phone",
        received_on=today(),
        summary="x",
    )
    worker_user = make_user(role=Role.COMMUNITY_WORKER, settlements=[s1])
    official = make_user(role=Role.COUNTY_OFFICIAL, regions=[region_tree.xingyi])
    return locals()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/governance/cadre/{c2.pk}/change/",
        "/admin/governance/partyorganisation/{org2.pk}/change/",
        "/admin/governance/petition/{other.pk}/change/",
        "/admin/governance/petition/{other.pk}/history/",
    ],
)
def test_other_settlements_records_are_404(client, world, url):
    client.force_login(world["worker_user"])
    assert client.get(url.format(**world)).status_code == 404


def test_the_counts_on_the_cadre_and_organisation_lists(client, world, superuser):
    """结对户数 counts a cadre's open pairings only, 党员数 an organisation's members:
    each read per row of the page (a subquery), not by grouping the whole table."""
    c1, h2 = world["c1"], world["h2"]
    Pairing.objects.create(cadre=c1, household=h2, start_date=today())
    Pairing.objects.create(
        cadre=c1,
        household=world["h1"],
        start_date=today() - datetime.timedelta(days=900),
        end_date=today() - datetime.timedelta(days=300),
    )
    org = world["org2"]
    for name in ("党员甲", "党员乙", "党员丙"):
        PartyMember.objects.create(organisation=org, name=name, origin="moved_in")
    client.force_login(superuser)
    response = client.get("/admin/governance/cadre/")
    counts = {c.name: c.n_households for c in response.context["cl"].result_list}
    assert counts == {"本点干部": 2, "他点干部": 1}
    response = client.get("/admin/governance/partyorganisation/")
    assert [o.n_members for o in response.context["cl"].result_list] == [3]


def test_lists_filters_and_autocomplete_are_in_scope(client, world):
    client.force_login(world["worker_user"])
    html = client.get("/admin/governance/cadre/").content.decode()
    assert "本点干部" in html and "他点干部" not in html
    html = client.get("/admin/governance/petition/").content.decode()
    assert "5栋住户" in html and "他点住户" not in html
    assert "二号安置点" not in html  # not even as a filter choice
    # The area token of another settlement lists nothing.
    html = client.get(f"/admin/governance/petition/?area=s{world['s2'].pk}").content.decode()
    assert "他点住户" not in html
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "governance",
            "model_name": "pairing",
            "field_name": "household",
            "term": "H",
        },
    )
    numbers = [r["text"] for r in response.json()["results"]]
    assert "H2000001" not in numbers and "H1000001" in numbers


def test_fk_choices_refuse_another_settlements_household(client, world):
    client.force_login(world["worker_user"])
    response = client.post(
        "/admin/governance/pairing/add/",
        {"cadre": world["c1"].pk, "household": world["h2"].pk, "start_date": today().isoformat()},
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert Pairing.objects.count() == 2


def test_visit_in_the_future_posted_is_refused(client, world):
    client.force_login(world["worker_user"])
    response = client.post(
        "/admin/governance/visit/add/",
        {
            "household": world["h1"].pk,
            "visited_on": (today() + datetime.timedelta(days=1)).isoformat(),
            "way": "home",
            "grid_worker": world["worker"].pk,
            "follow_up_state": "none",
        },
    )
    assert "走访日期不能晚于今天。" in response.content.decode()
    assert not Visit.objects.exists()


def test_petition_phone_is_masked_without_the_permission(client, world):
    client.force_login(world["official"])
    html = client.get(f"/admin/governance/petition/{world['overdue'].pk}/change/").content.decode()
    assert "13912345678" not in html
    assert "139****5678" in html
    html = client.get(f"/admin/governance/cadre/{world['c1'].pk}/change/").content.decode()
    assert "13800001111" not in html


def test_overdue_petition_is_highlighted_and_listed(client, world):
    client.force_login(world["worker_user"])
    html = client.get("/admin/governance/petition/").content.decode()
    assert html.count('class="petition-overdue"') == 1
    html = client.get("/admin/governance/petition/?overdue=yes").content.decode()
    assert "电梯坏了" not in html  # the summary is not a column; check by who
    assert "H1000001" in html and "5栋住户" not in html


def test_petition_transition_through_the_form_is_logged(client, world):
    client.force_login(world["worker_user"])
    p = world["overdue"]
    data = {
        "settlement": world["s1"].pk,
        "household": world["h1"].pk,
        "group": "",
        "phone": "",
        "category": world["cat"].pk,
        "channel": "window",
        "received_on": p.received_on.isoformat(),
        "summary": "电梯坏了",
        "handler": "物业公司",
        "action_date": today().isoformat(),
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
    }
    # Straight to 已办结: refused, nothing saved.
    response = client.post(
        f"/admin/governance/petition/{p.pk}/change/",
        {**data, "next_state": "resolved", "resolution": "修好了"},
    )
    assert response.status_code == 200
    p.refresh_from_db()
    assert p.state == PetitionState.ACCEPTED and p.handler == ""
    response = client.post(
        f"/admin/governance/petition/{p.pk}/change/", {**data, "next_state": "in_progress"}
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.state == PetitionState.IN_PROGRESS and p.handler == "物业公司"
    log = PetitionTransition.objects.get(petition=p)
    assert (log.from_state, log.to_state, log.by_id) == (
        "accepted",
        "in_progress",
        world["worker_user"].pk,
    )


def test_household_work_lists(client, world, settings):
    client.force_login(world["worker_user"])
    html = client.get("/admin/communities/household/?pairing=none").content.decode()
    assert "H1000002" in html and "H1000001" not in html
    # h1 paired 200 days ago, never visited: on the list at 90 days.
    html = client.get("/admin/communities/household/?pairing=unvisited").content.decode()
    assert "H1000001" in html
    Visit.objects.create(
        household=world["h1"],
        grid_worker=world["worker"],
        visited_on=today() - datetime.timedelta(days=100),
        way="home",
    )
    html = client.get("/admin/communities/household/?pairing=unvisited").content.decode()
    assert "H1000001" in html  # 100 days ago > 90
    settings.GOVERNANCE_VISIT_INTERVAL_DAYS = 120
    html = client.get("/admin/communities/household/?pairing=unvisited").content.decode()
    assert "H1000001" not in html


def test_petition_categories_are_read_only_for_workers(client, world):
    client.force_login(world["worker_user"])
    assert client.get("/admin/governance/petitioncategory/").status_code == 200
    assert client.get("/admin/governance/petitioncategory/add/").status_code == 403
    response = client.post(
        f"/admin/governance/petitioncategory/{world['cat'].pk}/change/",
        {"name": "物业管理", "due_days": "1", "active": "on"},
    )
    assert response.status_code == 403
    world["cat"].refresh_from_db()
    assert world["cat"].due_days == 7


def test_petition_history_keeps_the_phone_masked(client, world):
    p = world["overdue"]
    p.phone = "13700002222"
    p.save()
    client.force_login(world["official"])
    html = client.get(f"/admin/governance/petition/{p.pk}/history/").content.decode()
    assert "13700002222" not in html and "13912345678" not in html
    assert "137****2222" in html


def test_stair_leaders_in_scope(client, world):
    from communities.tests.factories import BuildingFactory
    from governance.models.organisation import StairLeader

    mine = StairLeader.objects.create(
        building=BuildingFactory(settlement=world["s1"]), role="chief", name="本点总楼长"
    )
    other = StairLeader.objects.create(
        building=BuildingFactory(settlement=world["s2"]), role="chief", name="他点总楼长"
    )
    client.force_login(world["worker_user"])
    html = client.get("/admin/governance/stairleader/").content.decode()
    assert "本点总楼长" in html and "他点总楼长" not in html
    assert client.get(f"/admin/governance/stairleader/{other.pk}/change/").status_code == 404
    assert client.get(f"/admin/governance/stairleader/{mine.pk}/change/").status_code == 200


def test_resident_group_takes_only_its_settlements_buildings(client, world, make_user):
    """A 居民小组 groups buildings of its own settlement; the buildings are searched, not
    listed, so the page does not grow with the buildings in scope."""
    from communities.tests.factories import BuildingFactory
    from governance.models.organisation import ResidentGroup

    s1, s3 = world["s1"], SettlementFactory(name="三号安置点", county=world["s1"].county)
    own = BuildingFactory(settlement=s1, name="1栋")
    across = BuildingFactory(settlement=s3, name="9栋")
    many = [BuildingFactory(settlement=s1, name=f"{n}号楼") for n in range(10, 40)]
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[s1, s3])
    client.force_login(user)
    response = client.post(
        "/admin/governance/residentgroup/add/",
        {"settlement": s1.pk, "name": "第一居民小组", "buildings": [own.pk, across.pk]},
    )
    assert response.status_code == 200
    assert "楼栋「9栋」不属于安置点「一号安置点」，居民小组只能包含本安置点的楼栋。" in (
        response.content.decode()
    )
    assert not ResidentGroup.objects.exists()
    response = client.post(
        "/admin/governance/residentgroup/add/",
        {"settlement": s1.pk, "name": "第一居民小组", "buildings": [own.pk]},
    )
    assert response.status_code == 302
    group = ResidentGroup.objects.get()
    assert list(group.buildings.all()) == [own]
    page = client.get(f"/admin/governance/residentgroup/{group.pk}/change/").content.decode()
    assert "1栋" in page
    assert not [b.name for b in many if b.name in page]  # only the chosen one is on the page
    # The search offers the user's buildings, not another county's.
    elsewhere = BuildingFactory(settlement=world["s2"], name="1栋")
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "governance",
            "model_name": "residentgroup",
            "field_name": "buildings",
            "term": "1栋",
        },
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert own.pk in ids and elsewhere.pk not in ids


def test_the_petition_add_page_has_no_empty_log_and_saves_without_it(client, world):
    """办理记录 lists what happened to a saved petition: the add page leaves it off
    (it showed as an empty table), and the form saves without its management data."""
    client.force_login(world["worker_user"])
    adding = client.get("/admin/governance/petition/add/").content.decode()
    assert "办理记录" not in adding and "transitions-TOTAL_FORMS" not in adding
    assert "增加利益诉求" in adding and "增加 利益诉求" not in adding  # title and breadcrumb
    response = client.post(
        "/admin/governance/petition/add/",
        {
            "settlement": world["s1"].pk,
            "household": world["h1"].pk,
            "category": world["cat"].pk,
            "channel": "window",
            "received_on": today().isoformat(),
            "summary": "楼道灯不亮",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    petition = Petition.objects.get(summary="楼道灯不亮")
    changing = client.get(f"/admin/governance/petition/{petition.pk}/change/").content.decode()
    assert "办理记录" in changing


def _work_rows(client, user, **params):
    """{key: row} of the 工作清单 page, each count checked against its linked list."""
    from django.urls import reverse

    client.force_login(user)
    rows = {row["key"]: row for row in client.get(reverse("worklists"), params).context["rows"]}
    for row in rows.values():
        if row["url"] is None:  # 低于监测线 without a monitoring line: nothing to list
            continue
        listed = client.get(row["url"])
        assert listed.status_code == 200, row["url"]
        assert listed.context["cl"].result_count == row["count"], row
    return rows


def test_the_work_list_page_lists_unvisited_pairings_and_overdue_petitions_in_scope(
    client, world, make_user
):
    """一号's worker and 兴义市's official see 一号's household paired 200 days ago and never
    visited, and its petition past its 7 days; 二号's (兴仁市) are not counted, and a visit
    takes the household off the list.  An account without the view permission gets no row."""
    for user in (world["worker_user"], world["official"]):
        rows = _work_rows(client, user)
        assert (rows["pairing_unvisited"]["count"], rows["petitions_overdue"]["count"]) == (1, 1)
        assert rows["pairing_unvisited"]["url"].endswith("?pairing=unvisited")
    other = make_user(role=Role.COUNTY_OFFICIAL, regions=[world["s2"].county])
    rows = _work_rows(client, other)
    # 二号's household was paired today and not visited yet; its petition is not overdue.
    assert (rows["pairing_unvisited"]["count"], rows["petitions_overdue"]["count"]) == (1, 0)

    Visit.objects.create(
        household=world["h1"], cadre=world["c1"], visited_on=today(), way=VisitWay.HOME
    )
    rows = _work_rows(client, world["official"])
    assert rows["pairing_unvisited"]["count"] == 0

    bare = make_user(
        regions=[world["s1"].county],
        perms=["communities.view_household", "communities.view_person"],
    )
    rows = _work_rows(client, bare)
    assert "petitions_overdue" not in rows and "pairing_unvisited" in rows


def test_the_work_list_page_reads_todays_stored_figures(client, world, settings):
    """Today's counts come from the dashboards' stored figures (结对户超过N天未走访, 超期诉求),
    equal to the live counts, so a province's page scans no visits."""
    from django.db.models import F
    from django.utils import timezone

    from relocation.dashboards.engine import refresh_live
    from relocation.dashboards.models import Period, SettlementFigure

    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    rows = _work_rows(client, world["official"])  # the lists agree with the stored counts
    assert (rows["pairing_unvisited"]["count"], rows["petitions_overdue"]["count"]) == (1, 1)
    period = Period.objects.get(kind="year", start=datetime.date(timezone.localdate().year, 1, 1))
    for key in ("pairings_unvisited", "petitions_overdue"):
        stored = SettlementFigure.objects.filter(period=period, settlement=world["s1"], key=key)
        assert stored.exists(), key
        stored.update(value=F("value") + 100)
    client.force_login(world["official"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("worklists")).context["rows"]
    counts = {row["key"]: row["count"] for row in page}
    assert (counts["pairing_unvisited"], counts["petitions_overdue"]) == (101, 101)
    # Whether today's figures are stored, and which settlements changed since, is asked
    # once by employment's lists and once for all the others', not once per list.
    periods = [q["sql"] for q in ctx.captured_queries if 'FROM "dashboards_period"' in q["sql"]]
    assert len(periods) == 2, periods


def test_the_household_list_of_unvisited_pairings_is_counted_from_todays_figure(
    client, world, settings
):
    """结对户超过N天未走访 on the household list: when nothing else narrows it, its count is
    today's stored figure (corrected live for settlements changed since), as the 工作清单's."""
    from django.db.models import F
    from django.urls import reverse
    from django.utils import timezone

    from relocation.dashboards.engine import refresh_live
    from relocation.dashboards.models import Period, SettlementFigure

    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    households = reverse("admin:communities_household_changelist")
    client.force_login(world["official"])

    def listed(query):
        cl = client.get(households + query).context["cl"]
        return cl.result_count, {h.number for h in cl.result_list}

    assert listed("?pairing=unvisited") == (1, {"H1000001"})
    period = Period.objects.get(kind="year", start=datetime.date(timezone.localdate().year, 1, 1))
    SettlementFigure.objects.filter(
        period=period, settlement=world["s1"], key="pairings_unvisited"
    ).update(value=F("value") + 100)
    assert listed("?pairing=unvisited") == (101, {"H1000001"})  # read from the figure
    assert listed("?pairing=unvisited&q=H1000001") == (1, {"H1000001"})  # narrowed: counted
    assert listed("?pairing=none")[0] == len(listed("?pairing=none")[1])  # no figure: counted
    # A visit marks 一号 changed: its households are counted live again.
    Visit.objects.create(
        household=world["h1"], cadre=world["c1"], visited_on=today(), way=VisitWay.HOME
    )
    assert listed("?pairing=unvisited") == (0, set())


def test_the_petition_list_exports_the_overdue_in_scope_and_masked(client, world):
    """工作清单's 超期诉求 → 导出: the official's overdue petitions only, the phone masked
    (the official may not see personal data), in the import template's columns."""
    official = world["official"]
    client.force_login(official)
    page = client.get("/admin/worklists/").content.decode()
    assert "/admin/governance/petition/export/?overdue=yes" in page
    response = client.post(
        "/admin/governance/petition/export/?overdue=yes", {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert "户编号" in header and "诉求内容" in header
    assert "电梯坏了" in text
    assert "路灯" not in text  # not overdue
    assert "他点住户" not in text and "x\r" not in text  # another county's
    assert "13912345678" not in text and "139****5678" in text


def test_the_petition_export_refuses_a_ticked_row_outside_the_users_area(client, world):
    client.force_login(world["worker_user"])
    response = client.post(
        "/admin/governance/petition/export/",
        {"format": "0", "resource": "0", "export_items": [world["other"].pk]},
    )
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]  # the form again, no file
    assert "他点住户" not in response.content.decode()
