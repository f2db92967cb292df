"""Scope, masking and permissions on every employment admin screen and export,
and the employment and income tables on the person and household pages."""

import csv
import io
import re

import pytest
from django.urls import reverse

from employment import enums
from employment.models import (
    BusinessLoan,
    EmploymentRecord,
    HouseholdIncome,
    InsuranceClaim,
    Referral,
)

from .conftest import form_post_data

pytestmark = pytest.mark.django_db

ID_RE = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
MOBILE_RE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")

MODELS = (
    "employer",
    "employmentrecord",
    "jobposting",
    "referral",
    "trainingcourse",
    "trainingattendance",
    "monitoringline",
    "householdincome",
    "insuranceclaim",
    "businessloan",
)


def url(model, action="changelist", *args):
    return reverse(f"admin:employment_{model}_{action}", args=args)


@pytest.fixture
def claims(world, jobs):
    import datetime

    today = jobs.today
    out = {}
    for key in ("a", "c"):
        person = jobs.heads[key]
        out[f"claim_{key}"] = InsuranceClaim.objects.create(
            person=person,
            reason=enums.ClaimReason.INJURY,
            occurred_on=today - datetime.timedelta(days=20),
            claimed_on=today - datetime.timedelta(days=10),
            amount_claimed=1000,
        )
        out[f"loan_{key}"] = BusinessLoan.objects.create(
            person=person,
            lender="农村信用社",
            amount=50000,
            granted_on=today - datetime.timedelta(days=100),
            due_on=today + datetime.timedelta(days=265),
        )
    return out


def in_scope_and_out(jobs, claims):
    """(model, record of 阳光新区 / 兴义市, record of 钟山区) for every admin with scope."""
    return [
        ("employer", jobs.workshop, jobs.factory),
        ("employmentrecord", jobs.job_a, jobs.job_c),
        ("jobposting", jobs.posting_a, jobs.posting_c),
        ("referral", jobs.referral_a, jobs.referral_c),
        ("trainingcourse", jobs.course_a, jobs.course_c),
        ("trainingattendance", jobs.attendance_a, jobs.attendance_c),
        ("householdincome", jobs.incomes["a"], jobs.incomes["c"]),
        ("insuranceclaim", claims["claim_a"], claims["claim_c"]),
        ("businessloan", claims["loan_a"], claims["loan_c"]),
    ]


# --- every screen, every role ------------------------------------------------------------


@pytest.mark.parametrize("role", ["worker", "worker_nopii", "county", "prefecture", "admin"])
def test_every_list_opens_and_never_shows_full_ids_or_mobiles(client, world, jobs, claims, role):
    user = getattr(world, role)
    client.force_login(user)
    for model in MODELS:
        response = client.get(url(model))
        if not user.has_perm(f"employment.view_{model}"):
            assert response.status_code == 403, model
            continue
        assert response.status_code == 200, model
        body = response.content.decode()
        assert ID_RE.findall(body) == [], model
        assert MOBILE_RE.findall(body) == [], model


def test_lists_show_only_the_users_area(client, world, jobs, claims):
    pairs = in_scope_and_out(jobs, claims)
    client.force_login(world.county)
    for model, own, other in pairs:
        rows = set(client.get(url(model)).context["cl"].result_list)
        assert own in rows and other not in rows, model
    # 钟山区 sees its own records, and the referral and training of 配偶C even
    # though the posting and the course belong to 兴义市.
    client.force_login(world.other_county)
    for model, own, other in pairs:
        rows = set(client.get(url(model)).context["cl"].result_list)
        assert other in rows and own not in rows, model


@pytest.mark.parametrize("action", ["change", "history", "delete"])
def test_records_of_another_area_are_404(client, world, jobs, claims, action):
    client.force_login(world.county)
    for model, own, other in in_scope_and_out(jobs, claims):
        assert client.get(url(model, action, other.pk)).status_code == 404, model
        expected = 403 if action == "delete" else 200  # officials may not delete
        assert client.get(url(model, action, own.pk)).status_code == expected, model
        assert client.get(url(model, action, 999999)).status_code == 404, model


def test_worker_sees_people_records_of_their_settlement_only(client, world, jobs, claims):
    client.force_login(world.worker)
    rows = set(client.get(url("employmentrecord")).context["cl"].result_list)
    assert rows == {jobs.job_a} | set(
        EmploymentRecord.objects.filter(person__household=jobs.households["d"])
    )
    # A 兴义市 employer's posting is visible; the referral of 配偶C on it is not.
    response = client.get(url("jobposting", "change", jobs.posting_a.pk))
    formset = response.context["inline_admin_formsets"][0].formset
    assert [f.instance for f in formset.forms if f.instance.pk] == [jobs.referral_a]
    listed = client.get(url("jobposting")).context["cl"].result_list
    assert [p.n_referrals for p in listed if p.pk == jobs.posting_a.pk] == [1]


def test_training_course_counts_only_trainees_in_scope(client, world, jobs):
    client.force_login(world.county)
    course = next(
        c
        for c in client.get(url("trainingcourse")).context["cl"].result_list
        if c.pk == jobs.course_a.pk
    )
    assert (course.n_attendees, course.n_completed) == (1, 0)
    client.force_login(world.province)
    course = next(
        c
        for c in client.get(url("trainingcourse")).context["cl"].result_list
        if c.pk == jobs.course_a.pk
    )
    assert course.n_attendees == 2


# --- filter and foreign-key choices -------------------------------------------------------


def test_filter_choices_are_in_scope(client, world, jobs):
    client.force_login(world.worker)
    body = client.get(url("employmentrecord")).content.decode()
    assert "阳光新区" in body and "栗坪安置点" not in body and "德坞新区" not in body
    client.force_login(world.county)
    body = client.get(url("employer")).content.decode()
    assert "?county=522301" in body and "county=520201" not in body and "钟山区" not in body
    body = client.get(url("householdincome")).content.decode()
    assert "栗坪安置点" in body and "德坞新区" not in body


def autocomplete(client, model, field, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "employment", "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200, response.content
    return [r["text"] for r in response.json()["results"]]


def test_autocomplete_choices_are_in_scope_and_carry_no_personal_data(client, world, jobs):
    client.force_login(world.worker)
    assert autocomplete(client, "employmentrecord", "employer") == ["阳光帮扶车间"]
    people = autocomplete(client, "employmentrecord", "person")
    assert "户主A" in people and "户主D" in people
    assert "户主B" not in people and "户主C" not in people
    assert autocomplete(client, "referral", "posting") == ["阳光帮扶车间 · 缝纫工"]
    households = autocomplete(client, "householdincome", "household")
    assert "522301000001" in households and "522301000002" not in households
    text = str(autocomplete(client, "referral", "employment"))
    assert ID_RE.findall(text) == [] and MOBILE_RE.findall(text) == []
    assert "户主C" not in text


def test_county_choices_of_an_employer_are_the_users_counties(client, world, jobs):
    client.force_login(world.worker)
    form = client.get(url("employer", "add")).context["adminform"].form
    assert [c.pk for c in form.fields["county"].queryset] == ["522301"]
    client.force_login(world.admin)
    form = client.get(url("employer", "add")).context["adminform"].form
    assert {c.pk for c in form.fields["county"].queryset} == {"520201", "522301", "522302"}


def test_monitoring_line_province_choices(client, world, make_user):
    from communities.roles import Role

    province_admin = make_user(Role.ADMINISTRATOR, regions=[world.regions.guizhou])
    client.force_login(province_admin)
    form = client.get(url("monitoringline", "add")).context["adminform"].form
    assert [r.pk for r in form.fields["province"].queryset] == ["520000"]
    county_admin = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    client.force_login(county_admin)
    # A province's line is not a county's to add (issue 9 item 6).
    assert client.get(url("monitoringline", "add")).status_code == 403


# --- officials read-only, monitoring lines for administrators -------------------------------


@pytest.mark.parametrize("role", ["county", "prefecture", "province"])
def test_officials_cannot_add_or_change(client, world, jobs, claims, role):
    client.force_login(getattr(world, role))
    for model, _own, _other in in_scope_and_out(jobs, claims):
        assert client.get(url(model, "add")).status_code == 403, model
        response = client.get(url(model))
        assert url(model, "add") not in response.content.decode(), model
    before = EmploymentRecord.objects.count()
    response = client.post(
        url("employmentrecord", "change", jobs.job_a.pk),
        {
            "person": jobs.heads["a"].pk,
            "kind": "wage",
            "place": "in_county",
            "start_date": "2024-03-01",
            "end_date": "2024-04-01",
        },
    )
    assert response.status_code == 403
    jobs.job_a.refresh_from_db()
    assert jobs.job_a.end_date is None and EmploymentRecord.objects.count() == before


def test_monitoring_lines_are_read_only_for_workers(client, world, jobs):
    client.force_login(world.worker)
    assert client.get(url("monitoringline")).status_code == 200
    assert client.get(url("monitoringline", "add")).status_code == 403
    client.force_login(world.admin)
    response = client.post(
        url("monitoringline", "add"),
        {"province": "520000", "year": str(jobs.year + 1), "amount": "8300", "source": "示例"},
    )
    assert response.status_code == 302


# --- masking on forms, history and exports ---------------------------------------------------


def test_employer_phone_is_masked_for_officials_and_users_without_permission(client, world, jobs):
    phone = jobs.workshop.contact_phone
    client.force_login(world.county)
    body = client.get(url("employer", "change", jobs.workshop.pk)).content.decode()
    assert phone not in body and "135****5678" in body
    client.force_login(world.worker_nopii)
    # worker_nopii has no employment permissions: grant change to see the editable form.
    from django.contrib.auth.models import Permission

    world.worker_nopii.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_employer", "change_employer"])
    )
    world.worker_nopii = type(world.worker_nopii).objects.get(pk=world.worker_nopii.pk)
    client.force_login(world.worker_nopii)
    response = client.get(url("employer", "change", jobs.workshop.pk))
    body = response.content.decode()
    assert phone not in body and 'placeholder="135****5678"' in body
    data = form_post_data(response)
    data["name"] = "阳光帮扶车间（一期）"
    response = client.post(url("employer", "change", jobs.workshop.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    jobs.workshop.refresh_from_db()
    assert jobs.workshop.contact_phone == phone and jobs.workshop.name.endswith("（一期）")
    client.force_login(world.worker)
    body = client.get(url("employer", "change", jobs.workshop.pk)).content.decode()
    assert phone in body


def test_history_masks_the_employer_phone_for_officials(client, world, jobs):
    jobs.workshop.contact_phone = "13911112222"
    jobs.workshop.save()
    client.force_login(world.county)
    body = client.get(url("employer", "history", jobs.workshop.pk)).content.decode()
    assert "13911112222" not in body and "139****2222" in body
    client.force_login(world.admin)
    body = client.get(url("employer", "history", jobs.workshop.pk)).content.decode()
    # The history keeps no clear phone (communities.history_pii): masked for all.
    assert "13911112222" not in body and "139****2222" in body


def export(client, model, query="", **data):
    response = client.post(url(model, "export") + query, {"format": "0", **data})
    return response


def rows_of(response):
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    return text, list(csv.DictReader(io.StringIO(text)))


def test_employment_record_export_is_scoped_masked_and_chinese(client, world, jobs):
    client.force_login(world.county)
    text, rows = rows_of(export(client, "employmentrecord"))
    assert {r["姓名"] for r in rows} == {"户主A", "户主B", "配偶B", "户主D"}
    assert ID_RE.findall(text) == [] and "就业类型" in text and "用工主体" in text
    client.force_login(world.worker)
    text, rows = rows_of(export(client, "employmentrecord", "?kind__exact=wage"))
    assert [r["姓名"] for r in rows] == ["户主A"]
    assert jobs.heads["a"].id_number in text


def test_employer_and_income_exports(client, world, jobs):
    client.force_login(world.county)
    text, rows = rows_of(export(client, "employer"))
    assert [r["单位名称"] for r in rows] == ["阳光帮扶车间"]
    assert MOBILE_RE.findall(text) == [] and "135****5678" in text
    text, rows = rows_of(export(client, "householdincome"))
    assert {r["户编号"] for r in rows} == {"522301000001", "522301000002", "522301000004"}
    by_number = {r["户编号"]: r for r in rows}
    assert by_number["522301000002"]["人均纯收入"] == "5000.00"


def test_export_of_selected_rows_refuses_rows_out_of_scope(client, world, jobs):
    client.force_login(world.county)
    response = export(client, "employmentrecord", export_items=[jobs.job_a.pk, jobs.job_c.pk])
    assert "attachment" not in response.get("Content-Disposition", "")
    _text, rows = rows_of(export(client, "employmentrecord", export_items=[jobs.job_a.pk]))
    assert [r["姓名"] for r in rows] == ["户主A"]


def test_exports_need_their_permission(client, world, jobs, make_user):
    viewer = make_user(settlements=[world.a], perms=["employment.view_employmentrecord"])
    client.force_login(viewer)
    assert export(client, "employmentrecord").status_code == 403


# --- the tables on the person and household pages ---------------------------------------------


def person_change(person):
    return reverse("admin:communities_person_change", args=[person.pk])


def household_change(household):
    return reverse("admin:communities_household_change", args=[household.pk])


def test_person_page_shows_the_jobs_table(client, world, jobs):
    client.force_login(world.worker)
    response = client.get(person_change(jobs.heads["a"]))
    body = response.content.decode()
    assert "就业台账（工作经历）" in body and "阳光帮扶车间" in body
    assert 'name="jobs-TOTAL_FORMS"' in body
    client.force_login(world.county)
    body = client.get(person_change(jobs.heads["a"])).content.decode()
    assert "阳光帮扶车间" in body
    assert 'name="jobs-0-kind"' not in body  # read-only for officials


def test_worker_closes_a_job_and_records_the_next_in_one_submit(client, world, jobs):
    client.force_login(world.worker)
    head = jobs.heads["a"]
    response = client.get(person_change(head))
    data = form_post_data(
        response,
        {
            "jobs": [
                {
                    "kind": "public_welfare",
                    "place": "in_county",
                    "employer_name": "社区保洁",
                    "monthly_income": "1800",
                    "start_date": "2026-01-01",
                    "found_via": "public_post",
                }
            ]
        },
    )
    data["jobs-0-end_date"] = "2025-12-31"
    response = client.post(person_change(head), data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    jobs.job_a.refresh_from_db()
    assert str(jobs.job_a.end_date) == "2025-12-31"
    new = head.jobs.get(kind="public_welfare")
    assert new.employer_name == "社区保洁" and new.end_date is None
    assert new.history.get().history_user == world.worker


def test_household_page_shows_and_edits_income(client, world, jobs):
    client.force_login(world.worker)
    household = jobs.households["a"]
    response = client.get(household_change(household))
    body = response.content.decode()
    assert "家庭收入" in body and "10000.00" in body
    data = form_post_data(
        response,
        {
            "incomes": [
                {
                    "year": str(jobs.year - 1),
                    "wage_income": "24000",
                    "business_income": "0",
                    "transfer_income": "3000",
                    "property_income": "0",
                    "costs": "0",
                }
            ]
        },
    )
    response = client.post(household_change(household), data)
    assert response.status_code == 302, [
        f.formset.errors for f in response.context["inline_admin_formsets"]
    ]
    income = HouseholdIncome.objects.get(household=household, year=jobs.year - 1)
    # Household size left empty: the current members (3).
    assert income.household_size == 3 and str(income.per_capita_net) == "9000.00"


def test_household_page_of_an_official_masks_and_is_read_only(client, world, jobs):
    client.force_login(world.county)
    body = client.get(household_change(jobs.households["b"])).content.decode()
    assert "15000.00" in body and 'name="incomes-0-year"' not in body
    assert MOBILE_RE.findall(body) == []


def test_posting_a_household_form_without_the_income_table_changes_no_income(client, world, jobs):
    client.force_login(world.worker)
    household = jobs.households["a"]
    data = form_post_data(client.get(household_change(household)))
    for key in [k for k in data if k.startswith("incomes-")]:
        del data[key]
    data["room"] = "1-101"
    response = client.post(household_change(household), data)
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.room == "1-101"
    assert HouseholdIncome.objects.filter(household=household).count() == 1


def test_list_exports_in_the_import_layout_reimport_unchanged(client, world):
    """Each list's second export layout is the import sheet's: re-importing changes nothing."""
    from employment import enums
    from employment.models import EmploymentRecord, HouseholdIncome
    from relocation.spreadsheets.tests.helpers import upload

    EmploymentRecord.objects.create(
        person=world.heads["a"],
        kind=enums.EmploymentKind.WAGE,
        place=enums.WorkPlace.IN_COUNTY,
        employer_name="兴义市某厂",
        start_date="2025-03-01",
    )
    HouseholdIncome.objects.create(
        household=world.households["a"], year=2025, wage_income=36000, household_size=3
    )
    client.force_login(world.admin)
    for model, kind in (("employmentrecord", "employment"), ("householdincome", "income")):
        response = export(client, model, resource="1")
        assert "attachment" in response["Content-Disposition"]
        assert "身份证号" in response.content.decode("utf-8-sig") or kind == "income"
        job = upload(world.admin, kind, response.content, f"{model}.csv")
        assert job.errors == []
        assert (job.new_rows, job.updated_rows, job.unchanged_rows) == (0, 0, 1)


def test_posting_page_reads_its_referrals_in_the_same_queries_for_any_number(client, world, jobs):
    """Each referral row shows its person and job, in autocompletes or as read-only text;
    those are read once for all rows (communities.admin_scope: RowsAutocompleteSelect, and
    an inline's shown foreign keys read with its rows), not once per row (a posting of 50
    referrals took 386 queries)."""
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from communities.tests.factories import PersonFactory
    from employment.models import Referral

    page = url("jobposting", "change", jobs.posting_a.pk)

    def refer(n):
        for i in range(n):
            person = PersonFactory(household=world.households["a"], name=f"推荐{i}")
            job = EmploymentRecord.objects.create(
                person=person,
                kind=enums.EmploymentKind.WAGE,
                employer_name="某厂",
                place=enums.WorkPlace.IN_COUNTY,
                start_date=datetime.date(2024, 3, 1),
            )
            Referral.objects.create(person=person, posting=jobs.posting_a, employment=job)
        client.get(page)  # warm the session and permission caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        return len(ctx.captured_queries), response.content.decode()

    # The worker's rows are forms (autocompletes); the county official's are read-only text.
    for user in (world.worker, world.county):
        client.force_login(user)
        few, _ = refer(2)
        many, body = refer(6)
        assert many == few, user
    client.force_login(world.worker)
    _, body = refer(0)
    for referral in Referral.objects.filter(posting=jobs.posting_a, employment__isnull=False):
        person, job = referral.person, referral.employment
        assert f'<option value="{person.pk}" selected>{person.name}</option>' in body
        assert f'<option value="{job.pk}" selected>{job}</option>' in body
    # The referral of 配偶C (another settlement) stays out of the worker's page.
    assert jobs.referral_c.person.name not in body


def test_current_filter_is_the_records_covering_today_and_scoped(client, world):
    """?current=yes|no: covering today (both ends inclusive) or not, as a condition on the
    row (no subquery of the whole table), in the user's area only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from communities.tests.factories import COVERING, periods_around

    periods = periods_around(timezone.localdate())
    for position, (start, end) in periods.items():
        for key in ("a", "c"):
            EmploymentRecord.objects.create(
                person=world.heads[key],
                kind=enums.EmploymentKind.WAGE,
                position=position,
                start_date=start,
                end_date=end,
            )
    client.force_login(world.county)
    listed = {}
    for value in ("yes", "no"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("employmentrecord") + f"?current={value}")
        rows = response.context["cl"].result_list
        assert {r.person_id for r in rows} == {world.heads["a"].pk}  # 兴义市 only
        listed[value] = {r.position for r in rows}
        record_queries = [
            q["sql"] for q in queries.captured_queries if "employment_employmentrecord" in q["sql"]
        ]
        assert record_queries and not any(
            re.search(r"IN \(SELECT \S+\.\"id\" AS \"pk\" FROM \"employment_employmentrecord\"", q)
            for q in record_queries
        )
    assert listed == COVERING


POSTING_PERMS = [
    f"employment.{action}_{model}"
    for model in ("jobposting", "referral")
    for action in ("view", "add", "change")
]


@pytest.fixture
def referrers(world, make_user):
    """Officials of 兴义市 and of 钟山区 who edit postings and their referrals."""
    rt = world.regions
    return (
        make_user(regions=[rt.xingyi], perms=POSTING_PERMS),
        make_user(regions=[rt.zhongshan], perms=POSTING_PERMS),
    )


@pytest.fixture
def busy_posting(world, jobs):
    """posting_a with 55 referrals of 兴义市 people (referral_a and 54 more, one a day back
    from today) and 6 of 钟山区's (referral_c and 5 more)."""
    import datetime

    from communities.tests.factories import PersonFactory

    posting = jobs.posting_a
    for i in range(54):
        person = PersonFactory(household=jobs.households["a"], name=f"推送{i:02d}")
        Referral.objects.create(
            person=person, posting=posting, referred_on=jobs.today - datetime.timedelta(days=i)
        )
    for _ in range(5):
        Referral.objects.create(
            person=PersonFactory(household=jobs.households["c"]), posting=posting
        )
    return posting


def test_a_posting_page_shows_50_referrals_and_links_to_all(
    client, world, jobs, busy_posting, referrers
):
    xingyi = referrers[0]
    client.force_login(xingyi)
    response = client.get(url("jobposting", "change", busy_posting.pk))
    assert response.status_code == 200, response
    (referrals,) = response.context["inline_admin_formsets"]
    shown = [form.instance for form in referrals.formset.initial_forms]
    # The first 50 in the list's order (newest first), all of 兴义市.
    expected = list(Referral.objects.visible_to(world.county).filter(posting=busy_posting)[:50])
    assert shown == expected
    body = response.content.decode()
    assert "此处显示前 50 条，共 55 条。" in body  # 钟山区's 6 are not counted
    link = f"{url('referral')}?posting__id__exact={busy_posting.pk}"
    assert f'href="{link}"' in body
    listed = client.get(link).context["cl"]
    assert listed.result_count == 55
    assert {r.person.household_id for r in listed.result_list} == {jobs.households["a"].pk}
    # With fewer rows than the cap, every row and no note.
    Referral.objects.filter(posting=busy_posting, person__name__startswith="推送").exclude(
        person__name__in=[f"推送{i:02d}" for i in range(10)]
    ).delete()
    response = client.get(url("jobposting", "change", busy_posting.pk))
    assert len(response.context["inline_admin_formsets"][0].formset.initial_forms) == 11
    assert "此处显示前" not in response.content.decode()


def test_a_posting_with_more_referrals_than_shown_saves_what_was_shown(
    client, world, jobs, busy_posting, referrers
):
    client.force_login(referrers[0])
    response = client.get(url("jobposting", "change", busy_posting.pk))
    data = form_post_data(response)
    assert int(data["referrals-TOTAL_FORMS"]) == 50
    data["title"] = "熟练缝纫工"
    data["referrals-0-outcome"] = enums.ReferralOutcome.INTERVIEW
    data["referrals-49-notes"] = "已电话联系"
    shown = response.context["inline_admin_formsets"][0].formset.initial_forms
    first, last = shown[0].instance, shown[49].instance
    # Meanwhile someone adds a newer referral: it is not on the submitted page.
    newer = Referral.objects.create(
        person=jobs.spouses["b"], posting=busy_posting, referred_on=jobs.today
    )
    before = {r.pk: (r.outcome, r.notes) for r in Referral.objects.filter(posting=busy_posting)}
    response = client.post(url("jobposting", "change", busy_posting.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    busy_posting.refresh_from_db()
    assert busy_posting.title == "熟练缝纫工"
    after = {r.pk: (r.outcome, r.notes) for r in Referral.objects.filter(posting=busy_posting)}
    assert after.pop(first.pk)[0] == enums.ReferralOutcome.INTERVIEW
    assert after.pop(last.pk)[1] == "已电话联系"  # the oldest shown, now 51st
    before.pop(first.pk)
    before.pop(last.pk)
    assert after == before  # the 5 not shown, 钟山区's and the newer one: untouched
    assert newer.pk in after


def test_incomes_listed_by_settlement_and_household_newest_first_then_year(client, world, jobs):
    """As on the household list, from the households' (settlement, id) index: a county's
    first page reads its own rows, not every household before them."""
    household = jobs.incomes["a"].household
    earlier = HouseholdIncome.objects.create(
        household=household, year=jobs.incomes["a"].year - 1, wage_income=1, household_size=3
    )
    client.force_login(world.admin)
    shown = list(client.get(url("householdincome")).context["cl"].result_list)
    keys = [(-i.household.settlement_id, -i.household_id, -i.year) for i in shown]
    assert keys == sorted(keys) and len(shown) == 5
    assert shown.index(earlier) == shown.index(jobs.incomes["a"]) + 1
