"""Scope, masking and bad input on the protection screens, as users with limited accounts.

The communities ``world``: settlements A and B in 兴义市, C in 钟山区 (another
prefecture of 贵州).  ``county`` is 兴义市, ``other_county`` 钟山区, ``worker``
works in A (and may see health); ``nopii`` works in A without the permission
to see ID numbers, phones and health.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities import enums as cenums
from communities.models import Household, Region
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import COVERING, PersonFactory, birth_date_for_age, periods_around
from employment.tests.conftest import form_post_data
from relocation.dashboards.engine import refresh_live
from services.models import (
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightSide,
    RightsItem,
    RightState,
    TemporaryAssistance,
)
from services.models.protection import rights_complete, rights_incomplete

pytestmark = pytest.mark.django_db

SERVICES_PERMS = [
    f"services.{action}_{model}"
    for model in ("benefitrecord", "temporaryassistance", "householdright")
    for action in ("view", "add", "change")
] + ["services.view_rightsitem", "services.view_rightscategory"]
COMMUNITY_PERMS = [
    f"communities.{action}_{model}"
    for model in ("household", "person")
    for action in ("view", "add", "change")
]


@pytest.fixture
def prot(world, make_user):  # noqa: F811
    rt = world.regions
    today = timezone.localdate()
    yunnan = Region.objects.create(code="530000", name="云南省", level=cenums.RegionLevel.PROVINCE)
    origin = RightsCategory.objects.create(
        province=rt.guizhou, name="迁出地权益", side=RightSide.ORIGIN, order=1
    )
    land = RightsItem.objects.create(category=origin, name="承包地", order=1)
    forest = RightsItem.objects.create(category=origin, name="林地", order=2)
    foreign = RightsItem.objects.create(
        category=RightsCategory.objects.create(
            province=yunnan, name="迁出地权益", side=RightSide.ORIGIN
        ),
        name="宅基地复垦",
    )
    head_a, head_c = world.heads["a"], world.heads["c"]
    sick = PersonFactory(
        household=world.households["a"],
        name="病人A",
        health=cenums.Health.SERIOUS,
        medical_insurance=False,
    )
    child = PersonFactory(
        household=world.households["a"], name="孩子A", birth_date=birth_date_for_age(9)
    )
    elder = PersonFactory(household=world.households["a"], name="老人A", age=72)
    disabled = PersonFactory(
        household=world.households["a"],
        name="残疾A",
        health=cenums.Health.DISABLED,
        disability_grade=1,
    )
    care = BenefitRecord.objects.create(
        person=disabled, kind=BenefitKind.DISABILITY_CARE, start_date=datetime.date(2024, 1, 1)
    )
    dibao_a = BenefitRecord.objects.create(
        person=head_a, kind=BenefitKind.DIBAO_URBAN, start_date=datetime.date(2024, 1, 1)
    )
    dibao_c = BenefitRecord.objects.create(
        person=head_c, kind=BenefitKind.DIBAO_RURAL, start_date=datetime.date(2024, 1, 1)
    )
    aid_c = TemporaryAssistance.objects.create(
        person=head_c, granted_on=today, amount=Decimal("800")
    )
    right_c = HouseholdRight.objects.create(
        household=world.households["c"], item=land, state=RightState.SECURED, recorded_on=today
    )
    nopii = make_user(settlements=[world.a], perms=COMMUNITY_PERMS + SERVICES_PERMS)
    return locals()


def test_another_countys_records_are_404_by_url(client, world, prot):  # noqa: F811
    client.force_login(world.county)
    for model, obj in (
        ("benefitrecord", prot["dibao_c"]),
        ("temporaryassistance", prot["aid_c"]),
        ("householdright", prot["right_c"]),
    ):
        for view in ("change", "history", "delete"):
            url = reverse(f"admin:services_{model}_{view}", args=[obj.pk])
            assert client.get(url).status_code == 404, (model, view)
    # Their own county's record opens.
    url = reverse("admin:services_benefitrecord_change", args=[prot["dibao_a"].pk])
    assert client.get(url).status_code == 200


def test_lists_filters_and_autocomplete_stay_in_scope(client, world, prot):  # noqa: F811
    client.force_login(world.county)
    body = client.get(reverse("admin:services_benefitrecord_changelist")).content.decode()
    assert "户主A" in body and "户主C" not in body
    assert "德坞新区" not in body  # the settlement filter offers their settlements only
    body = client.get(reverse("admin:services_householdright_changelist")).content.decode()
    assert "520201000001" not in body
    # Asking for the other county's area by the dashboards' parameter lists nothing.
    url = reverse("admin:services_temporaryassistance_changelist") + f"?area=s{world.c.pk}"
    assert "户主C" not in client.get(url).content.decode()
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "services",
            "model_name": "benefitrecord",
            "field_name": "person",
            "term": "户主",
        },
    )
    names = {r["text"] for r in response.json()["results"]}
    assert "户主A" in names and "户主C" not in names


ITEMS = reverse("admin:services_rightsitem_changelist")


def test_benefit_records_in_their_list_order(client, world, prot):  # noqa: F811
    """Newest settlement and household first (as on the person list, from the households'
    index), each person's records together, by kind, the latest start first."""
    head_b = world.heads["b"]
    older = BenefitRecord.objects.create(
        person=head_b,
        kind=BenefitKind.DIBAO_URBAN,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2021, 1, 1),
    )
    newer = BenefitRecord.objects.create(
        person=head_b, kind=BenefitKind.DIBAO_URBAN, start_date=datetime.date(2023, 1, 1)
    )
    client.force_login(world.admin)
    response = client.get(reverse("admin:services_benefitrecord_changelist"))
    shown = list(response.context["cl"].result_list)
    ordered = sorted(
        shown,
        key=lambda r: (
            -r.person.household.settlement_id,
            -r.person.household_id,
            r.person_id,
            r.kind,
            -r.start_date.toordinal(),
        ),
    )
    assert shown == ordered and len(shown) == 5
    assert shown.index(newer) + 1 == shown.index(older)


def item_columns(client, user):
    """{item name: (适用, 已落实, 待落实或未核实, 不适用)} as the coverage page shows them."""
    client.force_login(user)
    response = client.get(ITEMS)
    assert response.status_code == 200
    table = re.search(r'<table id="result_list">(.*?)</table>', response.content.decode(), re.S)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        name = next(c for c in cells if c)
        rows[name] = tuple(int(c) if c.isdigit() else c for c in cells[-4:])
    return rows


@pytest.fixture
def coverage(world, prot):  # noqa: F811
    """承包地: A secured, B not applicable, C secured (prot); 林地: B pending, and A secured
    from tomorrow (not counted today).  By hand, 兴义市 (A, B): 承包地 applicable 1, secured
    1, n/a 1; 林地 applicable 2, secured 0 (open 2).  钟山区 (C): 承包地 1 and 1, 林地 1 and 0.
    The province and the administrator: 承包地 applicable 2 (A, C), secured 2, n/a 1;
    林地 applicable 3, secured 0.  The household without a settlement counts nowhere."""
    today = timezone.localdate()
    land, forest = prot["land"], prot["forest"]
    a, b = world.households["a"], world.households["b"]
    yesterday = today - datetime.timedelta(days=1)
    HouseholdRight.objects.create(
        household=a, item=land, state=RightState.SECURED, recorded_on=yesterday
    )
    HouseholdRight.objects.create(
        household=b, item=land, state=RightState.NOT_APPLICABLE, recorded_on=yesterday
    )
    HouseholdRight.objects.create(
        household=b, item=forest, state=RightState.PENDING, recorded_on=today
    )
    HouseholdRight.objects.create(
        household=a,
        item=forest,
        state=RightState.SECURED,
        recorded_on=today + datetime.timedelta(days=1),
    )
    return prot


COUNTY = {"承包地": (1, 1, 0, 1), "林地": (2, 0, 2, 0)}
OTHER_COUNTY = {"承包地": (1, 1, 0, 0), "林地": (1, 0, 1, 0)}
WHOLE = {"承包地": (2, 2, 0, 1), "林地": (3, 0, 3, 0)}


def test_per_item_coverage_counts_only_the_users_households(client, world, coverage):  # noqa: F811
    """Counted live: today's figures are not stored yet."""
    assert item_columns(client, world.county) == COUNTY  # 宅基地复垦 is 云南's
    assert item_columns(client, world.other_county) == OTHER_COUNTY
    assert item_columns(client, world.province) == WHOLE
    admin_rows = item_columns(client, world.admin)
    assert admin_rows == {**WHOLE, "宅基地复垦": (0, 0, 0, 0)}  # no 云南 household


def test_per_item_coverage_from_stored_figures_with_changes_counted_live(
    client,
    world,  # noqa: F811
    coverage,
    settings,
):
    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    client.force_login(world.county)
    with CaptureQueriesContext(connection) as queries:
        assert item_columns(client, world.county) == COUNTY
    # Read from the stored figures: no household's rights row is read.
    assert not [q for q in queries.captured_queries if "services_householdright" in q["sql"]]
    assert item_columns(client, world.province) == WHOLE
    # A change after the refresh: A's 林地 secured today.  Its settlement is counted
    # live, the others still from the figures.
    right = HouseholdRight.objects.get(household=world.households["a"], item=coverage["forest"])
    right.recorded_on = timezone.localdate()
    right.save()
    assert item_columns(client, world.county) == {**COUNTY, "林地": (2, 1, 1, 0)}
    assert item_columns(client, world.province) == {**WHOLE, "林地": (3, 1, 2, 0)}
    assert item_columns(client, world.other_county) == OTHER_COUNTY


def test_per_item_coverage_links_to_the_lists_it_counts(client, world, coverage):  # noqa: F811
    client.force_login(world.county)
    body = client.get(ITEMS).content.decode()
    forest = coverage["forest"].pk
    households = reverse("admin:communities_household_changelist")
    url = f"{households}?rights_item={forest}&amp;rights_item_state=open"
    assert f'<a href="{url}">2</a>' in body
    listed = client.get(url.replace("&amp;", "&")).context["cl"].result_list
    assert sorted(h.number for h in listed) == sorted(
        world.households[k].number for k in ("a", "b")
    )


def test_disability_records_and_health_lists_hidden_without_the_permission(client, world, prot):  # noqa: F811
    client.force_login(prot["nopii"])
    body = client.get(reverse("admin:services_benefitrecord_changelist")).content.decode()
    assert "户主A" in body and "残疾A" not in body
    assert "重度残疾人护理补贴" not in body  # not even as a filter choice
    url = reverse("admin:services_benefitrecord_change", args=[prot["care"].pk])
    assert client.get(url).status_code == 404
    people = reverse("admin:communities_person_changelist")
    body = client.get(people).content.decode()
    assert "60周岁以上未参加养老保险" in body and "患大病或残疾但未参加医保" not in body
    response = client.get(people + "?protection=sick_no_medical")
    assert list(response.context["cl"].result_list) == []
    assert "涉及健康信息" in response.content.decode()
    # The same list for a worker who may see health finds the sick person.
    client.force_login(world.worker)
    response = client.get(people + "?protection=sick_no_medical")
    assert [p.name for p in response.context["cl"].result_list] == ["病人A"]
    body = client.get(reverse("admin:services_benefitrecord_changelist")).content.decode()
    assert "残疾A" in body


def test_a_disability_subsidy_shown_is_in_the_read_audit(client, world, prot):  # noqa: F811
    """A disability subsidy tells the person's disability: its list row, its page and its
    history page record that person's 健康状况 for a worker who may see health; a 低保
    record tells nothing."""
    from communities.read_audit import ReadAuditEntry

    care, disabled = prot["care"], prot["disabled"]
    client.force_login(world.worker)
    for channel, name in (("list", "changelist"), ("page", "change"), ("page", "history")):
        ReadAuditEntry.objects.all()._raw_delete("default")
        args = [] if name == "changelist" else [care.pk]
        address = reverse(f"admin:services_benefitrecord_{name}", args=args)
        assert client.get(address).status_code == 200
        recorded = {
            (e.content_type.model, e.object_id, e.field, e.channel, e.path)
            for e in ReadAuditEntry.objects.select_related("content_type")
        }
        assert recorded == {("person", str(disabled.pk), "health", channel, address)}, name
    ReadAuditEntry.objects.all()._raw_delete("default")
    dibao = reverse("admin:services_benefitrecord_change", args=[prot["dibao_a"].pk])
    assert client.get(dibao).status_code == 200
    assert not ReadAuditEntry.objects.exists()
    # The import page's export of 待遇记录: each row's ID number, and the subsidy's health.
    response = client.get(reverse("spreadsheets:export", args=["benefit_records", "csv"]))
    assert response.status_code == 200 and "残疾A" in response.content.decode("utf-8-sig")
    recorded = {
        (e.content_type.model, e.object_id, e.field, e.channel)
        for e in ReadAuditEntry.objects.select_related("content_type")
    }
    assert ("person", str(disabled.pk), "health", "export") in recorded
    health = {object_id for model, object_id, field, _c in recorded if field == "health"}
    assert health == {str(disabled.pk)}  # the 低保 rows tell no health
    assert ("person", str(prot["head_a"].pk), "id_number", "export") in recorded


def test_work_lists(client, world, prot):  # noqa: F811
    client.force_login(world.worker)
    people = reverse("admin:communities_person_changelist")

    def names(query):
        return {p.name for p in client.get(people + query).context["cl"].result_list}

    # The world's son of household A (12) is not in school either.
    son = world.households["a"].members.get(relationship=cenums.Relationship.SON)
    assert names("?protection=child_not_in_school") == {"孩子A", son.name}
    assert names("?protection=elderly_no_pension") == {"老人A"}
    assert names("?protection=dibao_urban") == {"户主A"}
    response = client.get(people + "?protection=dibao_urban&protection_on=2025-02-30")
    assert list(response.context["cl"].result_list) == []
    assert "日期“2025-02-30”无效" in response.content.decode()
    # The day before the 低保 record started: nobody; employment's own ``on`` does not interfere.
    assert names("?protection=dibao_urban&protection_on=2023-12-31") == set()
    assert names("?protection=dibao_urban&protection_on=2024-01-01&on=2023-12-31") == {"户主A"}
    response = client.get(people + "?protection=nonsense")
    assert list(response.context["cl"].result_list) == []


def test_household_rights_list(client, world, prot):  # noqa: F811
    client.force_login(world.other_county)
    households = reverse("admin:communities_household_changelist")

    def numbers(query):
        return {h.number for h in client.get(households + query).context["cl"].result_list}

    # C: 承包地 secured, 林地 not recorded yet (counts as not secured).
    assert numbers("?rights=incomplete") == {"520201000001"}
    assert numbers("?rights=complete") == set()
    HouseholdRight.objects.create(
        household=world.households["c"],
        item=prot["forest"],
        state=RightState.NOT_APPLICABLE,
        recorded_on=timezone.localdate(),
    )
    assert numbers("?rights=complete") == {"520201000001"}
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert numbers(f"?rights=complete&rights_on={yesterday}") == set()


def test_rights_lists_by_hand(world, prot):  # noqa: F811
    """适用权益全部落实 / 尚有适用权益未落实 (``rights_complete``, ``rights_incomplete``), by hand.

    贵州's checklist: 承包地 and 林地.  C has 承包地 secured today; A has no row.
    """
    a, c = world.households["a"], world.households["c"]
    both = Household.objects.filter(pk__in=[a.pk, c.pk])
    today = timezone.localdate()

    def lists(on_date=today):
        return (
            {h.number for h in rights_complete(both, on_date)},
            {h.number for h in rights_incomplete(both, on_date)},
        )

    # Without a record, an item applies and is not secured.
    assert lists() == (set(), {a.number, c.number})
    forest = HouseholdRight.objects.create(
        household=c, item=prot["forest"], state=RightState.NOT_APPLICABLE, recorded_on=today
    )
    assert lists() == ({c.number}, {a.number})
    # Recorded later than the day asked for: as if there were no record.
    assert lists(today - datetime.timedelta(days=1)) == (set(), {a.number, c.number})
    # Nothing applies: in neither list.
    HouseholdRight.objects.filter(pk=prot["right_c"].pk).update(state=RightState.NOT_APPLICABLE)
    assert lists() == (set(), {a.number})
    # A secured row of another province's item does not make the household complete:
    # secured 2 of applicable 1 (2 items less 1 not applicable), as the dashboards count.
    HouseholdRight.objects.filter(pk=prot["right_c"].pk).update(state=RightState.SECURED)
    HouseholdRight.objects.create(
        household=c, item=prot["foreign"], state=RightState.SECURED, recorded_on=today
    )
    assert lists() == (set(), {a.number})
    # An inactive item counts neither in the checklist nor in the household's rows.
    HouseholdRight.objects.filter(item=prot["foreign"]).delete()
    forest.state = RightState.PENDING
    forest.save()
    assert lists() == (set(), {a.number, c.number})
    RightsItem.objects.filter(pk=prot["forest"].pk).update(active=False)
    assert lists() == ({c.number}, {a.number})
    # A province without a checklist: in neither list.
    RightsItem.objects.filter(pk=prot["land"].pk).update(active=False)
    assert lists() == (set(), set())


def test_recording_a_benefit_that_ends_before_it_starts_is_refused(client, world, prot):  # noqa: F811
    client.force_login(world.worker)
    head = world.heads["a"]
    url = reverse("admin:communities_person_change", args=[head.pk])
    data = form_post_data(
        client.get(url),
        {"benefits": [{"kind": "pension", "start_date": "2025-03-01", "end_date": "2025-02-01"}]},
    )
    before = BenefitRecord.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "停止日期不能早于开始日期。" in response.content.decode()
    assert BenefitRecord.objects.count() == before
    head.refresh_from_db()
    assert head.pension_insurance is False
    # A correct record is saved, with history, and the person's field follows it.
    data["benefits-1-end_date"] = ""
    response = client.post(url, data)
    assert response.status_code == 302
    record = BenefitRecord.objects.get(person=head, kind=BenefitKind.PENSION)
    assert record.history.count() == 1
    head.refresh_from_db()
    assert head.pension_insurance is True


def test_household_page_lists_the_province_checklist(client, world, prot):  # noqa: F811
    client.force_login(world.worker)
    household = world.households["a"]
    url = reverse("admin:communities_household_change", args=[household.pk])
    response = client.get(url)
    body = response.content.decode()
    assert "权益保障" in body and "承包地" in body and "林地" in body
    assert "宅基地复垦" not in body  # 云南's item is not offered
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "rights"
    )
    # The extra rows come prefilled with the province's items, each 待落实.
    assert [(f.initial["item"], f.initial["state"]) for f in formset.forms] == [
        (prot["land"].pk, RightState.PENDING),
        (prot["forest"].pk, RightState.PENDING),
    ]
    data = form_post_data(response)
    today = timezone.localdate().isoformat()
    for i, (item, state) in enumerate(
        ((prot["land"], RightState.SECURED), (prot["forest"], RightState.PENDING))
    ):
        data.update(
            {
                f"rights-{i}-item": str(item.pk),
                f"rights-{i}-state": state,
                f"rights-{i}-recorded_on": today,
            }
        )
    data["rights-TOTAL_FORMS"] = "2"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    states = dict(
        HouseholdRight.objects.filter(household=household).values_list("item__name", "state")
    )
    assert states == {"承包地": RightState.SECURED, "林地": RightState.PENDING}


def test_household_page_shows_and_edits_the_saved_checklist(client, world, prot):  # noqa: F811
    """Once saved, the household's rights are its section's rows, to read and to change.

    Django reads an inline's rows after asking for its view permission without
    the household; the section used to refuse that (to stay off the add page),
    so a saved checklist showed as an empty table."""
    household = world.households["a"]
    today = timezone.localdate()
    land = HouseholdRight.objects.create(
        household=household, item=prot["land"], state=RightState.SECURED, recorded_on=today
    )
    HouseholdRight.objects.create(
        household=household, item=prot["forest"], state=RightState.PENDING, recorded_on=today
    )
    url = reverse("admin:communities_household_change", args=[household.pk])
    for user in (world.worker, world.county):  # who may change it, who may only read it
        client.force_login(user)
        response = client.get(url)
        formset = next(
            f.formset
            for f in response.context["inline_admin_formsets"]
            if f.formset.prefix == "rights"
        )
        assert [(f.instance.item, f.instance.state) for f in formset.forms] == [
            (prot["land"], RightState.SECURED),
            (prot["forest"], RightState.PENDING),
        ], user
        section = response.content.decode().partition('id="rights-group"')[2]
        assert 'name="rights-INITIAL_FORMS" value="2"' in section
        assert "承包地" in section and "林地" in section
    client.force_login(world.worker)
    data = form_post_data(client.get(url))
    assert data["rights-INITIAL_FORMS"] == "2"
    forest_row = next(
        k for k, v in data.items() if k.endswith("-item") and v == str(prot["forest"].pk)
    )
    data[forest_row.replace("-item", "-state")] = RightState.SECURED
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    states = dict(
        HouseholdRight.objects.filter(household=household).values_list("item__name", "state")
    )
    assert states == {"承包地": RightState.SECURED, "林地": RightState.SECURED}
    land.refresh_from_db()
    assert land.state == RightState.SECURED
    # The add page has no rights section: the checklist is the saved household's province's.
    adding = client.get(reverse("admin:communities_household_add"))
    assert not [f for f in adding.context["inline_admin_formsets"] if f.formset.prefix == "rights"]
    assert "权益保障（迁出地" not in adding.content.decode()


def test_household_page_reads_the_saved_rights_in_the_same_queries_for_any_number(
    client,
    world,  # noqa: F811
    prot,
):
    """A row of the rights section is not labelled with str(right), which read its household,
    item and category once per row (70 queries for a household's 23 items); a read-only row
    shows its item, category and all, read with the rows."""
    household = world.households["a"]
    today = timezone.localdate()
    url = reverse("admin:communities_household_change", args=[household.pk])
    category = prot["land"].category

    def items(n, start):
        return [
            RightsItem.objects.create(category=category, name=f"事项{i}", order=10 + i)
            for i in range(start, start + n)
        ]

    def queries_with(items):
        for item in items:
            HouseholdRight.objects.create(
                household=household, item=item, state=RightState.SECURED, recorded_on=today
            )
        client.get(url)  # warm the session and permission caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    client.force_login(world.worker)  # the rows are forms
    two = queries_with([prot["land"], prot["forest"]])
    assert queries_with(items(8, 0)) == two
    client.force_login(world.county)  # the rows are read-only text
    ten = queries_with([])
    assert queries_with(items(4, 8)) == ten


def test_household_page_reads_the_checklist_once_for_all_its_rows(client, world, prot):  # noqa: F811
    # The rows offered from the checklist name their items; the options are read once
    # for the page (communities.admin_scope.share_select_choices), not per row, and
    # serve both those names and the drop-down of a row the worker adds.
    extra = [
        RightsItem.objects.create(category=prot["land"].category, name=f"事项{i}", order=10 + i)
        for i in range(6)
    ]
    client.force_login(world.worker)
    household = world.households["a"]
    url = reverse("admin:communities_household_change", args=[household.pk])
    client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "rights"
    )
    assert len(formset.forms) == 8
    reads = [q["sql"] for q in ctx.captured_queries if 'FROM "services_rightsitem"' in q["sql"]]
    # The formset's initial rows, and the drop-down's options once; the rows offered are
    # as many as the initial ones, not counted again.
    assert len(reads) == 2 and not [q for q in reads if "COUNT(" in q], reads
    rights_reads = [
        q["sql"] for q in ctx.captured_queries if 'FROM "services_householdright"' in q["sql"]
    ]
    assert len(rights_reads) == 2, rights_reads  # whether it has records, and its records
    body = response.content.decode()
    items = [prot["land"], prot["forest"], *extra]
    # Each offered row sends its own item, hidden, and shows its name; no drop-down.
    for row, item in enumerate(items):
        assert (
            f'<input type="hidden" name="rights-{row}-item" value="{item.pk}"'
            f' id="id_rights-{row}-item"><span class="checklist-item">{item.name}</span>'
        ) in body, row
    assert not re.findall(r'<select name="rights-\d+-item"', body)
    # A row added by the worker chooses among every item of the province, and no other.
    (select,) = re.findall(r'<select name="rights-__prefix__-item".*?</select>', body, re.S)
    for item in items:
        assert f'<option value="{item.pk}">{item.name}</option>' in select, item
    assert "宅基地复垦" not in select


def test_a_saved_rows_item_stays_whatever_is_posted(client, world, prot):  # noqa: F811
    """A saved row names its item as text and takes no item from the request: another
    item posted by hand for it changes nothing, its state still saves. An item the
    province has since retired (no longer among the choices) keeps its row editable."""
    today = timezone.localdate()
    household = world.households["a"]
    land = HouseholdRight.objects.create(
        household=household, item=prot["land"], state=RightState.PENDING, recorded_on=today
    )
    HouseholdRight.objects.create(
        household=household, item=prot["forest"], state=RightState.PENDING, recorded_on=today
    )
    RightsItem.objects.filter(pk=prot["land"].pk).update(active=False)
    client.force_login(world.worker)
    url = reverse("admin:communities_household_change", args=[household.pk])
    response = client.get(url)
    section = response.content.decode().partition('id="rights-group"')[2]
    assert '<span class="checklist-item">承包地</span>' in section
    assert '<span class="checklist-item">林地</span>' in section
    assert not re.findall(r'<select name="rights-\d+-item"', section)
    data = form_post_data(response)
    row = next(
        k
        for k, v in data.items()
        if k.startswith("rights-") and k.endswith("-id") and v == str(land.pk)
    )
    data[row.replace("-id", "-item")] = str(prot["forest"].pk)
    data[row.replace("-id", "-state")] = RightState.SECURED
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    land.refresh_from_db()
    assert (land.item, land.state) == (prot["land"], RightState.SECURED)
    assert HouseholdRight.objects.filter(household=household).count() == 2


def test_saving_the_household_checks_its_rights_rows_in_the_same_queries_for_any_number(
    client,
    world,  # noqa: F811
    prot,
):
    """A save checks each row's key and item against what the formset and the drop-down
    read once (communities.admin_scope.RowKeyField, ScopedModelChoiceField), not with a
    query per row: a household's 23 rights rows read 23 rows and 23 items before.
    What each changed row still costs is its writing (its UPDATE, its history) and
    Django's model check that its item exists (``SELECT 1``)."""
    household = world.households["a"]
    today = timezone.localdate()
    url = reverse("admin:communities_household_change", args=[household.pk])
    category = prot["land"].category
    client.force_login(world.worker)

    def reads_in_save(new_items):
        for item in new_items:
            HouseholdRight.objects.create(
                household=household, item=item, state=RightState.PENDING, recorded_on=today
            )
        data = form_post_data(client.get(url))
        for key in [k for k in data if k.startswith("rights-") and k.endswith("-state")]:
            data[key] = RightState.SECURED
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert set(
            HouseholdRight.objects.filter(household=household).values_list("state", flat=True)
        ) == {RightState.SECURED}
        return [
            q["sql"]
            for q in ctx.captured_queries
            if q["sql"].startswith("SELECT")
            and not q["sql"].startswith('SELECT 1 AS "a"')
            and "historical" not in q["sql"]
        ]

    two = reads_in_save([prot["land"], prot["forest"]])
    more = [
        RightsItem.objects.create(category=category, name=f"事项{i}", order=10 + i)
        for i in range(8)
    ]
    ten = reads_in_save(more)
    assert len(ten) == len(two), "\n".join(ten)
    # A saved row's item is fixed (services.admin.protection.SavedItemField): not even read.
    assert not [q for q in ten if 'FROM "services_rightsitem"' in q]


def test_a_row_key_of_another_households_right_changes_nothing_there(
    client,
    world,  # noqa: F811
    prot,
):
    """A saved row's hidden key is found among the page's own rows. A key of another
    household's right posted by hand (a household of the same settlement, which the
    worker may open) does not reach that right, as with Django's own lookup."""
    from communities.tests.factories import HouseholdFactory

    today = timezone.localdate()
    household = world.households["a"]
    neighbour = HouseholdFactory(number="522301000066", settlement=world.a)
    mine = HouseholdRight.objects.create(
        household=household, item=prot["land"], state=RightState.PENDING, recorded_on=today
    )
    theirs = HouseholdRight.objects.create(
        household=neighbour, item=prot["forest"], state=RightState.PENDING, recorded_on=today
    )
    client.force_login(world.worker)
    assert (
        client.get(reverse("admin:communities_household_change", args=[neighbour.pk])).status_code
        == 200
    )
    url = reverse("admin:communities_household_change", args=[household.pk])
    data = form_post_data(client.get(url))
    row = next(
        k
        for k, v in data.items()
        if k.startswith("rights-") and k.endswith("-id") and v == str(mine.pk)
    )
    data[row] = str(theirs.pk)
    data[row.replace("-id", "-state")] = RightState.SECURED
    data[row.replace("-id", "-notes")] = "伪造"

    def rows():
        return list(
            HouseholdRight.objects.order_by("pk").values_list(
                "pk", "household", "item", "state", "notes"
            )
        )

    before = rows()
    client.post(url, data)
    assert rows() == before


def test_another_provinces_item_posted_by_hand_is_refused(client, world, prot):  # noqa: F811
    client.force_login(world.worker)
    household = world.households["a"]
    url = reverse("admin:communities_household_change", args=[household.pk])
    data = form_post_data(client.get(url))
    data.update(
        {
            "rights-TOTAL_FORMS": "1",
            "rights-INITIAL_FORMS": "0",
            "rights-0-item": str(prot["foreign"].pk),
            "rights-0-state": RightState.SECURED,
            "rights-0-recorded_on": timezone.localdate().isoformat(),
        }
    )
    for key in [k for k in data if k.startswith("rights-1-")]:
        del data[key]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not HouseholdRight.objects.filter(household=household).exists()


def test_temporary_assistance_bad_input(client, world, prot):  # noqa: F811
    client.force_login(world.worker)
    url = reverse("admin:services_temporaryassistance_add")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    today = timezone.localdate().isoformat()
    response = client.post(
        url, {"person": world.heads["a"].pk, "granted_on": today, "amount": "-5"}
    )
    assert "救助金额必须大于0。" in response.content.decode()
    response = client.post(
        url, {"person": world.heads["a"].pk, "granted_on": tomorrow.isoformat(), "amount": "500"}
    )
    assert "救助日期不能晚于今天。" in response.content.decode()
    # Another county's person posted by hand.
    response = client.post(
        url,
        {
            "person": world.heads["c"].pk,
            "granted_on": today,
            "amount": "500",
        },
    )
    assert response.status_code == 200
    assert TemporaryAssistance.objects.filter(person__household=world.households["a"]).count() == 0
    assert TemporaryAssistance.objects.count() == 1


def test_in_force_filter_is_the_records_covering_today_and_scoped(client, world):  # noqa: F811
    """?in_force=yes|no: covering today (both ends inclusive) or not, as a condition on
    the row (no subquery of the whole table), in the user's area only."""
    periods = periods_around(timezone.localdate())
    for notes, (start, end) in periods.items():
        for key in ("a", "c"):
            BenefitRecord.objects.create(
                person=world.heads[key],
                kind=BenefitKind.PENSION,
                notes=notes,
                start_date=start,
                end_date=end,
            )
    client.force_login(world.county)
    listed = {}
    for value in ("yes", "no"):
        url = reverse("admin:services_benefitrecord_changelist") + f"?in_force={value}"
        with CaptureQueriesContext(connection) as queries:
            rows = client.get(url).context["cl"].result_list
        assert {r.person_id for r in rows} == {world.heads["a"].pk}  # 兴义市 only
        listed[value] = {r.notes for r in rows}
        assert not any(
            re.search(r'IN \(SELECT \S+\."id" AS "pk" FROM "services_benefitrecord"', q["sql"])
            for q in queries.captured_queries
        )
    assert listed == COVERING
