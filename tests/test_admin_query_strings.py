"""What a list URL's query string can ask for (issue 9, items 1, 2 and 8).

Every scoped admin is taken from the admin site's registry, every sensitive
field (``communities.masking.SENSITIVE_FIELDS``) reached from its model, and
the answer to a lookup on it must be the same whether the guess is right or
wrong.  Every list filter parameter of every admin must survive huge and
malformed values.
"""

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import FieldError
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from communities import enums
from communities.admin_scope import ScopedAdminMixin
from communities.masking import SENSITIVE_FIELDS
from communities.models import GridWorker, Person, TenHouseholdGroup
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import PersonFactory
from employment import enums as eenums
from employment.models import BusinessLoan, InsuranceClaim
from employment.tests.conftest import jobs  # noqa: F401

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ScopedAdminMixin)
    ]


def all_admins():
    return list(admin.site._registry.items())


def _label(item):
    return item[0]._meta.label


def changelist_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def sensitive_paths(model):
    """Lookups reaching a sensitive field: on the model, or one relation away."""
    paths = []
    for field in model._meta.get_fields():
        if not field.is_relation and field.name in SENSITIVE_FIELDS:
            paths.append((field.name, field))
        elif field.is_relation and (field.many_to_one or field.one_to_many):
            for target in field.related_model._meta.get_fields():
                if not target.is_relation and target.name in SENSITIVE_FIELDS:
                    paths.append((f"{field.name}__{target.name}", target))
    return paths


def guesses(field, secret):
    """(suffix, right guess, wrong guess) triples for a hidden ``secret``."""
    if isinstance(field, models.DateField):
        other = secret + datetime.timedelta(days=1)
        return [
            ("exact", secret.isoformat(), other.isoformat()),
            ("year", str(secret.year), str(secret.year + 1)),
            ("lte", secret.isoformat(), (secret - datetime.timedelta(days=1)).isoformat()),
        ]
    if isinstance(field, models.IntegerField):
        return [("exact", str(secret), str(secret + 1)), ("lte", str(secret), str(secret - 1))]
    secret = str(secret)
    nudged = secret[:-1] + ("0" if secret[-1] != "0" else "1")
    return [
        ("exact", secret, nudged),
        ("startswith", secret[:7], nudged[:6] + ("0" if secret[6] != "0" else "1")),
        ("gte", secret, secret + "~"),
    ]


@pytest.fixture
def secrets(jobs, world):  # noqa: F811
    """Something to hide in every sensitive field of every scoped model in 兴义市."""
    head = world.heads["a"]
    PersonFactory(
        household=world.households["a"],
        relationship=enums.Relationship.SON,
        name="残疾成员",
        health=enums.Health.DISABLED,
        disability_grade=1,
        age=20,
    )
    grid = world.households["a"].grid
    # Users reach grid workers' phones (the user admin's list).
    GridWorker.objects.create(grid=grid, name="网格员", phone="13612345678", user=world.worker)
    TenHouseholdGroup.objects.create(grid=grid, name="一组", lead_household=world.households["a"])
    building = world.households["a"].building
    building.head_phone = "13712345678"
    building.save()
    InsuranceClaim.objects.create(
        person=head,
        reason=eenums.ClaimReason.choices[0][0],
        occurred_on=datetime.date(2025, 1, 2),
        claimed_on=datetime.date(2025, 1, 3),
        amount_claimed=100,
    )
    BusinessLoan.objects.create(
        person=head,
        lender="农商行",
        amount=50000,
        granted_on=datetime.date(2025, 1, 2),
        due_on=datetime.date(2027, 1, 2),
    )
    _services_and_governance(world, head)
    return world


def _services_and_governance(data, head):
    """One record of every scoped services and governance model, beside the same person."""
    from governance import models as governance
    from services import models as services

    household, settlement = data.households["a"], data.a
    day = datetime.date(2025, 3, 1)
    kind, _new = services.HonourKind.objects.get_or_create(code="test-honour", name="测试表彰")
    services.Honour.objects.create(household=household, person=head, kind=kind, awarded_on=day)
    services.BenefitRecord.objects.create(person=head, kind="medical", start_date=day)
    services.TemporaryAssistance.objects.create(person=head, granted_on=day, amount=500)
    category = services.RightsCategory.objects.create(
        province=data.regions.guizhou, name="测试类别", side="origin"
    )
    item = services.RightsItem.objects.create(category=category, name="测试事项")
    services.HouseholdRight.objects.create(household=household, item=item, state="secured")
    rule = governance.EarlyWarningRule.objects.create(
        kind="low_income", province=data.regions.guizhou, year=2025
    )
    alert = governance.EarlyWarningAlert.objects.create(
        rule=rule, kind="low_income", household=household, person=head, raised_on=day
    )
    governance.MonitoringRecord.objects.create(
        household=household,
        category="unstable",
        lead_source="application",
        procedure_started_on=day,
        due_on=day + datetime.timedelta(days=15),
        alert=alert,
    )
    organisation = governance.PartyOrganisation.objects.create(
        name="测试党支部", kind="working_committee", settlement=settlement
    )
    governance.PartyMember.objects.create(organisation=organisation, origin="moved_in", person=head)
    governance.StairLeader.objects.create(
        building=household.building, role="chief", name="楼长", phone="13512345678"
    )
    cadre = governance.Cadre.objects.create(
        name="帮扶干部", unit="县民政局", settlement=settlement, phone="13412345678"
    )
    governance.Pairing.objects.create(cadre=cadre, household=household, start_date=day)
    governance.Visit.objects.create(household=household, visited_on=day, way="home", cadre=cadre)
    petition_category = governance.PetitionCategory.objects.create(name="测试诉求", due_days=15)
    governance.Petition.objects.create(
        settlement=settlement,
        category=petition_category,
        channel="window",
        received_on=day,
        summary="测试",
        due_on=day + datetime.timedelta(days=15),
        household=household,
        person=head,
        phone="13312345678",
    )


def _answer(response):
    rows = None
    if response.status_code == 200 and response.context and "cl" in response.context:
        rows = [obj.pk for obj in response.context["cl"].result_list]
    return response.status_code, rows


@pytest.mark.parametrize("item", scoped_admins(), ids=_label)
def test_list_answer_never_depends_on_a_hidden_value(client, secrets, item):
    model, model_admin = item
    user = secrets.county  # no 可以查看完整的身份证号和电话
    client.force_login(user)
    url = changelist_url(model)
    probed = 0
    for path, field in sensitive_paths(model):
        rows = model._default_manager.exclude(**{f"{path}__isnull": True})
        for obj in rows.order_by("pk")[:1]:
            secret = rows.filter(pk=obj.pk).values_list(path, flat=True).first()
            if secret in (None, ""):
                continue
            for suffix, right, wrong in guesses(field, secret):
                lookup = f"{path}__{suffix}"
                # Only guesses the database tells apart are an oracle (a
                # household's other members may match a "wrong" guess too).
                try:
                    assert rows.filter(pk=obj.pk, **{lookup: right}).exists(), lookup
                    if rows.filter(pk=obj.pk, **{lookup: wrong}).exists():
                        continue
                except FieldError:
                    # Encrypted at rest (communities.crypto): the database cannot
                    # answer this lookup at all; the page must still answer the same.
                    pass
                answers = [
                    client.get(url, {"id__exact": obj.pk, lookup: guess})
                    for guess in (right, wrong)
                ]
                assert answers[0].status_code != 500
                assert _answer(answers[0]) == _answer(answers[1]), (model, lookup)
                probed += 1
    if sensitive_paths(model):
        assert probed, f"nothing to hide in {model._meta.label}: the fixture must fill it"


def test_the_issue_urls_are_refused_with_a_chinese_message(client, secrets):
    client.force_login(secrets.county)
    head = secrets.heads["a"]
    url = changelist_url(type(head))
    response = client.get(url, {"id__exact": head.pk, "id_number__startswith": head.id_number[:7]})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "不支持的筛选条件" in response.content.decode()
    for params in ({"health": "serious"}, {"disability_grade": "1"}, {"health__exact": "disabled"}):
        response = client.get(url, params)
        assert list(response.context["cl"].result_list) == [], params


def test_the_pages_own_filters_and_links_still_work(client, secrets, jobs):  # noqa: F811
    client.force_login(secrets.county)
    a = secrets.a
    person_url = changelist_url(type(secrets.heads["a"]))
    response = client.get(person_url, {"settlement": a.pk, "sex__exact": "M", "q": "户主A"})
    assert [p.name for p in response.context["cl"].result_list] == ["户主A"]
    household_url = changelist_url(type(secrets.households["a"]))
    response = client.get(household_url, {"settlement__id__exact": a.pk, "relocation_year": 2018})
    expected = type(secrets.households["a"]).objects.filter(settlement=a, relocation_year=2018)
    assert {h.pk for h in response.context["cl"].result_list} == {h.pk for h in expected}
    assert secrets.households["a"] in expected
    # The dashboards' 岗位推送人次 link: its date range is an allowed extra lookup.
    referral_url = changelist_url(type(jobs.referral_a))
    today = jobs.today.isoformat()
    response = client.get(
        referral_url,
        {"settlement": a.pk, "referred_on__gte": "2000-01-01", "referred_on__lte": today},
    )
    assert [r.pk for r in response.context["cl"].result_list] == [jobs.referral_a.pk]
    # Ordering, paging and search are the admin's own parameters.
    response = client.get(person_url, {"o": "1", "p": "1", "q": "户主A"})
    assert response.status_code == 200
    # A user who may see health still filters by it.
    client.force_login(secrets.worker)
    response = client.get(person_url, {"health__exact": "disabled"})
    assert [p.name for p in response.context["cl"].result_list] == ["残疾成员"]


def _sortable_columns(response):
    return [
        i
        for i, header in enumerate(response.context["cl"].list_display)
        if response.context["cl"].get_ordering_field(header) is not None
    ]


def test_sorting_never_orders_people_by_birth_date_for_masked_users(client, world):  # noqa: F811
    """Two people born in the same year, the later-born added first, alike otherwise."""
    household = world.households["a"]
    later = PersonFactory(
        household=household,
        relationship=enums.Relationship.OTHER,
        name="同年",
        sex="M",
        birth_date=datetime.date(1990, 11, 30),
    )
    earlier = PersonFactory(
        household=household,
        relationship=enums.Relationship.OTHER,
        name="同年",
        sex="M",
        birth_date=datetime.date(1990, 1, 2),
    )
    url = changelist_url(type(later))

    def order(user, column):
        client.force_login(user)
        pks = [
            [p.pk for p in client.get(url, {"o": o, "q": "同年"}).context["cl"].result_list]
            for o in (str(column), f"-{column}")
        ]
        return pks

    client.force_login(world.county)
    columns = _sortable_columns(client.get(url))
    assert columns
    for column in columns:
        ascending, descending = order(world.county, column)
        # Ties keep the same order both ways: nothing sorts within the year.
        assert ascending == descending, column
    # With the permission the age column does sort by birth date.
    client.force_login(world.worker)
    age_column = list(client.get(url).context["cl"].list_display).index("age")
    ascending, descending = order(world.worker, age_column)
    # (ascending by age: the later-born first)
    assert ascending == [later.pk, earlier.pk] and descending == [earlier.pk, later.pk]


# --- item 8: huge and malformed numbers --------------------------------------------


@pytest.mark.parametrize("item", all_admins(), ids=_label)
def test_every_list_filter_survives_huge_and_malformed_values(client, secrets, item):
    model, model_admin = item
    client.force_login(secrets.admin)
    url = changelist_url(model)
    response = client.get(url)
    assert response.status_code == 200
    parameters = {
        p for spec in response.context["cl"].filter_specs for p in spec.expected_parameters()
    }
    parameters |= {"settlement", "id", "pk__exact"}
    for parameter in sorted(parameters):
        for value in (HUGE, f"-{HUGE}", "²", "abc", "1.5"):
            response = client.get(url, {parameter: value})
            assert response.status_code in (200, 302), (parameter, value, response.status_code)
            if response.status_code == 302:
                response = client.get(response["Location"])
                assert response.status_code == 200
            if isinstance(model_admin, ScopedAdminMixin) and value in (HUGE, f"-{HUGE}", "²"):
                assert list(response.context["cl"].result_list) == [], (parameter, value)


@pytest.mark.parametrize("model_name", ["household", "person"])
def test_the_issue_overflow_answers_an_empty_list_with_a_message(client, secrets, model_name):
    client.force_login(secrets.county)
    url = reverse(f"admin:communities_{model_name}_changelist")
    response = client.get(url, {"settlement": HUGE})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "无效的编号" in response.content.decode()
    # …and its export is empty rather than the whole list.
    export = client.post(
        reverse(f"admin:communities_{model_name}_export") + f"?settlement={HUGE}", {"format": "0"}
    )
    assert export.status_code == 200
    lines = [line for line in export.content.decode("utf-8-sig").splitlines() if line]
    assert len(lines) == 1  # the header row only


@pytest.mark.parametrize("item", all_admins(), ids=_label)
def test_huge_and_malformed_ids_in_urls_answer_404(client, secrets, item):
    model, model_admin = item
    client.force_login(secrets.admin)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    request = RequestFactory().get("/")
    request.user = secrets.admin
    for object_id in (HUGE, "abc", "²"):
        for view in ("change", "delete", "history"):
            expected = {404, 302}
            if view == "delete" and not model_admin.has_delete_permission(request):
                expected.add(403)  # append-only logs: nobody may delete, found or not
            response = client.get(reverse(f"{name}_{view}", args=[object_id]))
            assert response.status_code in expected, (view, object_id, response.status_code)
            if response.status_code == 302:
                # Django's admin: "… with ID … doesn't exist" and back to the list.
                assert client.get(response["Location"]).status_code == 200


def test_dashboard_urls_with_huge_ids_answer_404(client, secrets):
    client.force_login(secrets.county)
    assert client.get(reverse("dashboards:settlement", args=[int(HUGE)])).status_code == 404
    assert client.get(reverse("dashboards:region", args=[HUGE])).status_code == 404


def test_full_id_number_search_needs_the_permission(client, secrets, jobs):  # noqa: F811
    """A masked number plus the birth year leaves a few dozen candidates: no confirming them."""
    head = secrets.heads["a"]
    for url in (
        changelist_url(Person),
        changelist_url(type(secrets.households["a"])),
        changelist_url(type(jobs.job_a)),
    ):
        client.force_login(secrets.county)
        for term in (head.id_number, head.id_number[:17] + "0", f" {head.id_number} "):
            response = client.get(url, {"q": term})
            assert response.status_code == 200
            assert list(response.context["cl"].result_list) == [], (url, term)
        assert "不能按完整身份证号查询" in response.content.decode()
        # Names and household numbers still work for them…
        assert list(client.get(url, {"q": "户主A"}).context["cl"].result_list)
        # …and the worker, who may see ID numbers, still finds the person.
        client.force_login(secrets.worker)
        assert list(client.get(url, {"q": head.id_number}).context["cl"].result_list), url


def test_autocomplete_by_full_id_number_needs_the_permission(client, secrets):
    head = secrets.heads["a"]
    params = {
        "app_label": "employment",
        "model_name": "employmentrecord",
        "field_name": "person",
        "term": head.id_number,
    }
    client.force_login(secrets.county)
    assert client.get(reverse("admin:autocomplete"), params).json()["results"] == []
    client.force_login(secrets.worker)
    results = client.get(reverse("admin:autocomplete"), params).json()["results"]
    assert [r["id"] for r in results] == [str(head.pk)]


def dropped_filters(response):
    """The parameters of the list's URL that a filter of its own took and then did not
    apply: Django leaves a ``SimpleListFilter`` that offers no choice out of the list, and
    the value given to it with it, so the list shows every row instead of the ones asked for."""
    cl = response.context["cl"]
    applied = {name for spec in cl.filter_specs for name in spec.expected_parameters()}
    own = {
        spec.parameter_name
        for spec in cl.model_admin.get_list_filter(response.wsgi_request)
        if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter)
    }
    return sorted((set(response.wsgi_request.GET) & own) - applied)


def test_every_dashboard_drill_down_link_is_accepted(client, secrets, jobs):  # noqa: F811
    """The dashboards link to filtered lists; none of their parameters may be refused or
    silently left out."""
    from relocation.dashboards.registry import Window, registry

    today = jobs.today
    window = Window(
        start=today - datetime.timedelta(days=30), reference_date=today, income_year=jobs.year
    )
    client.force_login(secrets.county)
    checked = 0
    for indicator in registry.indicators.values():
        if not indicator.link:
            continue
        if indicator.breakdown:
            url = indicator.link(secrets.a.pk, window, indicator.breakdown[0][0])
        else:
            url = indicator.link(secrets.a.pk, window)
        response = client.get(url)
        assert response.status_code == 200, url
        assert "不支持的筛选条件" not in response.content.decode(), url
        assert dropped_filters(response) == [], url
        checked += 1
    assert checked >= 10


def test_every_work_list_link_applies_its_filters(client, secrets, jobs):  # noqa: F811
    """工作清单 links each count to its list filtered on the day chosen: today's date (the
    page's default) and another day; every filter of the link is applied."""
    client.force_login(secrets.county)
    checked = 0
    for day in (datetime.date.today(), datetime.date.today() - datetime.timedelta(days=40)):
        page = client.get(reverse("worklists"), {"on": day.isoformat()})
        assert page.status_code == 200
        for row in page.context["rows"]:
            if not row["url"]:
                continue
            response = client.get(row["url"])
            assert response.status_code == 200, row["url"]
            assert dropped_filters(response) == [], row["url"]
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("item", scoped_admins(), ids=_label)
def test_no_sortable_column_sorts_by_a_hidden_value(client, secrets, item):
    model, _model_admin = item
    client.force_login(secrets.county)
    response = client.get(changelist_url(model))
    if response.status_code == 403:
        return  # nothing listed to this user at all
    cl = response.context["cl"]
    for column in cl.list_display:
        field = cl.get_ordering_field(column)
        if field is None:
            continue
        name = field if isinstance(field, str) else str(getattr(field, "name", field))
        parts = set(name.lstrip("-").split("__"))
        assert not parts & SENSITIVE_FIELDS, (column, name)
