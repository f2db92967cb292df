"""Bad input through the admin: each case gets a clear Chinese message and saves nothing."""

import datetime

import pytest
from django.urls import reverse

from communities.models import Person
from communities.tests.factories import make_id_number
from communities.tests.forms import empty_inlines
from employment.models import (
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    InsuranceClaim,
    JobPosting,
    Referral,
    TrainingAttendance,
)

from .conftest import form_post_data

pytestmark = pytest.mark.django_db


def add_url(model):
    return reverse(f"admin:employment_{model}_add")


def person_change(person):
    return reverse("admin:communities_person_change", args=[person.pk])


def household_change(household):
    return reverse("admin:communities_household_change", args=[household.pk])


def form_errors(response):
    assert response.status_code == 200, response
    return str(response.context["adminform"].form.errors)


def inline_errors(response):
    """All errors of the page's tables: per row and for the table as a whole."""
    assert response.status_code == 200, response
    text = []
    for inline in response.context["inline_admin_formsets"]:
        text.append(str(inline.formset.errors))
        text.append(str(inline.formset.non_form_errors()))
    return " ".join(text)


def job_post(person, **extra):
    data = {
        "person": person.pk,
        "kind": "wage",
        "place": "in_county",
        "start_date": "2025-03-01",
        "found_via": "self",
    }
    data.update(extra)
    return data


# --- the employment ledger ------------------------------------------------------------------


def test_end_before_start(client, world, jobs):
    client.force_login(world.worker)
    before = EmploymentRecord.objects.count()
    response = client.post(
        add_url("employmentrecord"),
        job_post(jobs.spouses["a"], start_date="2025-03-01", end_date="2025-02-01"),
    )
    assert "结束日期不能早于开始日期" in form_errors(response)
    assert EmploymentRecord.objects.count() == before


def test_end_before_start_in_the_person_table(client, world, jobs):
    client.force_login(world.worker)
    head = jobs.heads["a"]
    data = form_post_data(client.get(person_change(head)))
    data["jobs-0-end_date"] = "2024-01-01"  # the job began 2024-03-01
    response = client.post(person_change(head), data)
    assert "结束日期不能早于开始日期" in inline_errors(response)
    jobs.job_a.refresh_from_db()
    assert jobs.job_a.end_date is None


def test_second_open_job_of_an_exclusive_kind(client, world, jobs):
    client.force_login(world.worker)
    before = EmploymentRecord.objects.count()
    response = client.post(
        add_url("employmentrecord"),
        job_post(jobs.heads["a"], kind="self_employed", employer_name="小吃店"),
    )
    errors = form_errors(response)
    assert "时间与本记录重叠" in errors and "请先填写那份工作的结束日期" in errors
    assert EmploymentRecord.objects.count() == before


def test_flexible_work_beside_a_job_is_allowed(client, world, jobs):
    client.force_login(world.worker)
    response = client.post(
        add_url("employmentrecord"),
        job_post(jobs.heads["a"], kind="flexible", employer_name="外卖配送"),
    )
    assert response.status_code == 302
    assert jobs.heads["a"].jobs.filter(kind="flexible").exists()


def new_job_row(**values):
    row = {"kind": "wage", "place": "in_county", "found_via": "self", "start_date": "2025-06-01"}
    row.update(values)
    return row


def test_two_new_overlapping_jobs_in_one_submit(client, world, jobs):
    client.force_login(world.worker)
    spouse = jobs.spouses["a"]  # no job yet
    data = form_post_data(
        client.get(person_change(spouse)),
        {
            "jobs": [
                new_job_row(employer_name="甲公司", start_date="2025-01-01"),
                new_job_row(employer_name="乙公司", start_date="2025-06-01", kind="public_welfare"),
            ]
        },
    )
    response = client.post(person_change(spouse), data)
    errors = inline_errors(response)
    assert "时间与本记录重叠" in errors and "甲公司" in errors
    assert not spouse.jobs.exists()


def test_new_job_overlapping_a_stored_open_job_in_the_table(client, world, jobs):
    client.force_login(world.worker)
    head = jobs.heads["a"]
    data = form_post_data(
        client.get(person_change(head)), {"jobs": [new_job_row(employer_name="丙公司")]}
    )
    response = client.post(person_change(head), data)
    errors = inline_errors(response)
    assert "2024-03-01起已有一份“务工”就业记录（阳光帮扶车间）" in errors
    assert head.jobs.count() == 1


def test_out_of_scope_person_posted_by_hand(client, world, jobs):
    client.force_login(world.worker)
    before = EmploymentRecord.objects.count()
    response = client.post(add_url("employmentrecord"), job_post(jobs.heads["b"]))
    assert "选择一个有效的选项" in str(response.context["adminform"].form.errors["person"])
    assert EmploymentRecord.objects.count() == before


@pytest.mark.parametrize(
    ("model", "data", "field", "count"),
    [
        (
            "referral",
            lambda j: {
                "person": j.heads["c"].pk,
                "posting": j.posting_a.pk,
                "referred_on": "2025-05-01",
                "outcome": "pending",
            },
            "person",
            lambda: Referral.objects.count(),
        ),
        (
            "trainingattendance",
            lambda j: {"course": j.course_a.pk, "person": j.heads["b"].pk},
            "person",
            lambda: TrainingAttendance.objects.count(),
        ),
        (
            "insuranceclaim",
            lambda j: {
                "person": j.heads["c"].pk,
                "reason": "injury",
                "occurred_on": "2025-05-01",
                "claimed_on": "2025-05-02",
                "amount_claimed": "100",
                "state": "submitted",
            },
            "person",
            lambda: InsuranceClaim.objects.count(),
        ),
        (
            "householdincome",
            lambda j: {
                "household": j.households["b"].pk,
                "year": "2024",
                "wage_income": "100",
                "business_income": "0",
                "transfer_income": "0",
                "property_income": "0",
                "costs": "0",
                "household_size": "3",
            },
            "household",
            lambda: HouseholdIncome.objects.count(),
        ),
        (
            "trainingattendance",
            lambda j: {"course": j.course_c.pk, "person": j.heads["a"].pk},
            "course",
            lambda: TrainingAttendance.objects.count(),
        ),
    ],
)
def test_records_outside_the_scope_posted_by_hand(client, world, jobs, model, data, field, count):
    client.force_login(world.worker)
    before = count()
    response = client.post(add_url(model), data(jobs))
    assert "选择一个有效的选项" in str(response.context["adminform"].form.errors[field])
    assert count() == before


def test_employer_of_another_county_posted_by_hand(client, world, jobs):
    client.force_login(world.worker)
    before = EmploymentRecord.objects.count()
    response = client.post(
        add_url("employmentrecord"), job_post(jobs.spouses["a"], employer=jobs.factory.pk)
    )
    assert "选择一个有效的选项" in str(response.context["adminform"].form.errors["employer"])
    assert EmploymentRecord.objects.count() == before
    # …also in the person's table, and for a job posting.
    data = form_post_data(
        client.get(person_change(jobs.spouses["a"])),
        {"jobs": [new_job_row(employer=jobs.factory.pk)]},
    )
    response = client.post(person_change(jobs.spouses["a"]), data)
    assert "选择一个有效的选项" in inline_errors(response)
    assert EmploymentRecord.objects.count() == before
    postings = JobPosting.objects.count()
    response = client.post(
        add_url("jobposting"),
        {
            "employer": jobs.factory.pk,
            "title": "普工",
            "openings": "3",
            "place": "in_county",
            "posted_on": "2025-05-01",
            "state": "open",
            "referrals-TOTAL_FORMS": "0",
            "referrals-INITIAL_FORMS": "0",
        },
    )
    assert "选择一个有效的选项" in form_errors(response)
    assert JobPosting.objects.count() == postings


def test_employer_registered_in_another_county_by_hand(client, world, jobs):
    client.force_login(world.worker)
    before = Employer.objects.count()
    response = client.post(
        add_url("employer"),
        {
            "name": "外县企业",
            "kind": "enterprise",
            "county": "520201",
            "location": "nearby",
            "active": "on",
        },
    )
    assert "选择一个有效的选项" in str(response.context["adminform"].form.errors["county"])
    assert Employer.objects.count() == before


# --- household income ---------------------------------------------------------------------


def income_post(household, **extra):
    data = {
        "household": household.pk,
        "year": "2024",
        "wage_income": "12000",
        "business_income": "0",
        "transfer_income": "2000",
        "property_income": "0",
        "costs": "0",
        "household_size": "3",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("part", ["wage_income", "business_income", "transfer_income", "costs"])
def test_negative_income_part(client, world, jobs, part):
    client.force_login(world.worker)
    before = HouseholdIncome.objects.count()
    response = client.post(
        add_url("householdincome"), income_post(jobs.households["a"], **{part: "-1"})
    )
    assert "金额不能为负数" in str(response.context["adminform"].form.errors[part])
    assert HouseholdIncome.objects.count() == before


@pytest.mark.parametrize("year_offset", [None, 1])
def test_income_year_outside_2016_to_this_year(client, world, jobs, year_offset):
    year = "2015" if year_offset is None else str(jobs.today.year + year_offset)
    client.force_login(world.worker)
    before = HouseholdIncome.objects.count()
    response = client.post(add_url("householdincome"), income_post(jobs.households["a"], year=year))
    assert f"收入年度应在2016年至{jobs.today.year}年之间" in form_errors(response)
    assert HouseholdIncome.objects.count() == before


def test_bad_income_rows_in_the_household_table(client, world, jobs):
    client.force_login(world.worker)
    household = jobs.households["a"]
    row = {
        "year": "2015",
        "wage_income": "-5",
        "business_income": "0",
        "transfer_income": "0",
        "property_income": "0",
        "costs": "0",
    }
    data = form_post_data(client.get(household_change(household)), {"incomes": [row]})
    data["room"] = "9-909"
    response = client.post(household_change(household), data)
    errors = inline_errors(response)
    assert "金额不能为负数" in errors
    assert HouseholdIncome.objects.filter(household=household).count() == 1
    household.refresh_from_db()
    assert household.room != "9-909"  # nothing of the page was saved
    row["wage_income"] = "5"
    data = form_post_data(client.get(household_change(household)), {"incomes": [row]})
    response = client.post(household_change(household), data)
    assert "收入年度应在2016年至" in inline_errors(response)
    assert HouseholdIncome.objects.filter(household=household).count() == 1


def test_same_year_twice_for_a_household(client, world, jobs):
    client.force_login(world.worker)
    response = client.post(
        add_url("householdincome"), income_post(jobs.households["a"], year=str(jobs.year))
    )
    assert "该户该年度的收入已登记" in form_errors(response)
    assert HouseholdIncome.objects.filter(household=jobs.households["a"]).count() == 1


def test_overlapping_jobs_when_adding_a_person(client, world, jobs):
    client.force_login(world.worker)
    id_number = make_id_number(datetime.date(1990, 5, 5), "F", prefix="522301")
    data = {
        "household": jobs.households["a"].pk,
        "name": "新成员",
        "id_number": id_number,
        "relationship": "daughter",
        "ethnicity": "01",
        "health": "healthy",
        "labour_ability": "ordinary",
        "medical_insurance": "on",
        "jobs-TOTAL_FORMS": "2",
        "jobs-INITIAL_FORMS": "0",
        "jobs-MIN_NUM_FORMS": "0",
        "jobs-MAX_NUM_FORMS": "1000",
    }
    for index, (name, start) in enumerate((("甲公司", "2025-01-01"), ("乙公司", "2025-02-01"))):
        for key, value in new_job_row(employer_name=name, start_date=start).items():
            data[f"jobs-{index}-{key}"] = value
    data = empty_inlines(client.get(reverse("admin:communities_person_add")), data)
    response = client.post(reverse("admin:communities_person_add"), data)
    assert "时间与本记录重叠" in inline_errors(response)
    assert not Person.objects.filter(id_number=id_number).exists()
    # The same person with the first job closed before the second is fine.
    data["jobs-0-end_date"] = "2025-01-31"
    response = client.post(reverse("admin:communities_person_add"), data)
    assert response.status_code == 302, inline_errors(response)
    person = Person.objects.get(id_number=id_number)
    assert person.jobs.count() == 2
