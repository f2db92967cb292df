"""Corrections reach past periods: a change dated inside a stored period marks it stale,
the page says so, and the job worker recomputes only what the change touched."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from communities.models import Person
from employment import enums as eenums
from employment.models import (
    EmploymentRecord,
    HouseholdIncome,
    JobPosting,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)
from relocation.dashboards import areas, engine, live, stale, tasks
from relocation.dashboards.dashboard import build
from relocation.dashboards.models import LiveState, Period, SettlementFigure, StaleFigure
from relocation.dashboards.periods import PeriodKind, period_containing

pytestmark = pytest.mark.django_db

NOTICE = "本期数据已更正，正在重新计算…"


@pytest.fixture
def past(dash):
    """Last month and the month before stored as closed periods; the running ones computed."""
    last = period_containing(PeriodKind.MONTH, dash.today).previous()
    before = last.previous()
    for spec in (before, last):
        engine.store_period(spec, spec.end)
    start = timezone.now()
    engine.refresh_live(full=True, now=start)
    dash.last, dash.before, dash.start = last, before, start
    dash.last_period = Period.objects.get(kind=PeriodKind.MONTH, start=last.start)
    dash.before_period = Period.objects.get(kind=PeriodKind.MONTH, start=before.start)
    return dash


def county(dash, spec):
    return build(
        areas.region_area(dash.admin, "522301"), dash.admin, kind=spec.kind, period_code=spec.code
    ).total.values


def refresh(dash, seconds=90):
    return engine.refresh_live(now=dash.start + datetime.timedelta(seconds=seconds))


def stale_marks():
    return set(StaleFigure.objects.values_list("period__start", "settlement_id", "source"))


def person(name):
    return Person.objects.get(name=name)


def job(person, start_date, **kw):
    return EmploymentRecord.objects.create(
        person=person,
        kind=eenums.EmploymentKind.WAGE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="兴义某厂",
        start_date=start_date,
        **kw,
    )


def test_correcting_last_month_marks_it_and_the_worker_recomputes_it(client, past):
    # Last month 户主一 only was employed in 兴义市 (户主二's post began this month).
    assert county(past, past.last)["employed"] == 1
    assert county(past, past.before)["employed"] == 1
    # Found late: 配偶一 had a job from the 10th of last month.
    job(past.p2, past.last.start + datetime.timedelta(days=9))
    result = refresh(past)
    # A stock from that date on: last month (and the running periods), not the month before.
    assert result["stale"] == 1
    assert stale_marks() == {(past.last.start, past.s1.pk, "employment")}
    # Until the worker ran, the stored figure stands and the page says it is being corrected.
    assert county(past, past.last)["employed"] == 1
    client.force_login(past.admin)
    html = client.get(f"/dashboard/522301/?kind=month&period={past.last.code}").content.decode()
    assert NOTICE in html
    html = client.get(f"/dashboard/522301/?kind=month&period={past.before.code}").content.decode()
    assert NOTICE not in html
    # The job worker's task.
    done = tasks.recompute_stale_periods.call()
    assert done == {past.last.code: 1}
    values = county(past, past.last)
    assert values["employed"] == 2
    assert values["employment_rate"] == Decimal(50)  # 2 of 4, recomputed from the parts
    assert county(past, past.before)["employed"] == 1
    assert StaleFigure.objects.count() == 0
    html = client.get(f"/dashboard/522301/?kind=month&period={past.last.code}").content.decode()
    assert NOTICE not in html
    # The region sums follow: the province's stored total too.
    province = build(
        areas.region_area(past.admin, "520000"),
        past.admin,
        kind="month",
        period_code=past.last.code,
    ).total.values
    assert province["employed"] == 2 and province["labour_force"] == 7


def test_an_earlier_start_marks_every_later_stored_period(past):
    record = EmploymentRecord.objects.get(person=past.p5)  # 户主二's post, from this month
    record.start_date = past.before.start
    record.save()
    refresh(past)
    # The old version began this month, the new one the month before last: both months.
    assert stale_marks() == {
        (past.before.start, past.s2.pk, "employment"),
        (past.last.start, past.s2.pk, "employment"),
    }
    stale.recompute()
    assert county(past, past.before)["employed"] == 2
    assert county(past, past.last)["employed"] == 2


def test_changes_dated_after_a_period_or_undated_mark_nothing(past):
    job(past.p2, past.today)  # a job from today: the running periods only
    eldest = person("长子一")
    eldest.name = "长子一（更正）"  # a person's details: counted as they are now
    eldest.save()
    result = refresh(past)
    assert "stale" not in result and StaleFigure.objects.count() == 0
    assert county(past, past.last)["employed"] == 1


def test_a_flow_marks_only_the_period_containing_it(past):
    employer = Referral.objects.filter(person=past.p2).first().posting.employer
    posting = JobPosting.objects.create(
        employer=employer,
        title="保洁",
        place=eenums.WorkPlace.IN_COUNTY,
        posted_on=past.before.start,
    )
    Referral.objects.create(person=past.p2, posting=posting, referred_on=past.before.start)
    refresh(past)
    assert stale_marks() == {(past.before.start, past.s1.pk, "employment_flows")}
    assert county(past, past.before)["referrals"] == 0
    stale.recompute()
    assert county(past, past.before)["referrals"] == 1
    assert county(past, past.last)["referrals"] == 0


def test_an_income_correction_marks_the_periods_counting_that_year(past):
    year_spec = period_containing(PeriodKind.YEAR, past.today).previous()
    engine.store_period(year_spec, year_spec.end)
    income = HouseholdIncome.objects.get(household=past.h2, year=year_spec.start.year)
    # Hand-counted: 兴义市 H1 24,000 / 4 and H2 13,000 / 1 → 37,000 / 5 = 7,400.
    year_values = county(past, year_spec)
    assert year_values["per_capita_net_income"] == Decimal(7400)
    income.wage_income = Decimal(17000)  # H2 corrected: 18,000 net → 42,000 / 5 = 8,400
    income.save()
    refresh(past)
    marks = stale_marks()
    # Last year's period counts that income year; so do the stored months of this year
    # (their latest complete income year is last year).
    assert (year_spec.start, past.s2.pk, "income") in marks
    assert {source for _p, _s, source in marks} == {"income"}
    stale.recompute()
    year_values = county(past, year_spec)
    assert year_values["per_capita_net_income"] == Decimal(8400)


def test_recompute_rewrites_only_the_marked_settlement_and_source(past):
    others = set(
        SettlementFigure.objects.filter(period=past.last_period)
        .exclude(settlement=past.s1, key__in=engine.registry.sources["employment"].components)
        .values_list("pk", "key", "value")
    )
    job(past.p2, past.last.start)
    refresh(past)
    stale.recompute()
    after = set(
        SettlementFigure.objects.filter(period=past.last_period)
        .exclude(settlement=past.s1, key__in=engine.registry.sources["employment"].components)
        .values_list("pk", "key", "value")
    )
    assert after == others  # same rows, same ids: nothing else was rewritten


def test_the_notice_keeps_to_the_area(client, past):
    job(person("户主三"), past.last.start)  # 德坞新区, 钟山区
    refresh(past)
    client.force_login(past.admin)
    url = f"?kind=month&period={past.last.code}"
    assert NOTICE in client.get(f"/dashboard/520201/{url}").content.decode()
    assert NOTICE not in client.get(f"/dashboard/522301/{url}").content.decode()


def test_a_page_view_enqueues_one_recompute(past, django_capture_on_commit_callbacks):
    job(past.p2, past.last.start)
    later = past.start + datetime.timedelta(seconds=90)
    with django_capture_on_commit_callbacks(execute=True):
        live.ensure_fresh(now=later)
    assert StaleFigure.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="recompute_stale_periods").count() == 1
    # Another correction a minute later: the pending task will see it, no second task.
    job(person("长子一"), past.last.start + datetime.timedelta(days=2), end_date=past.last.end)
    with django_capture_on_commit_callbacks(execute=True):
        live.ensure_fresh(now=later + datetime.timedelta(seconds=90))
    assert DBTaskResult.objects.filter(task_path__endswith="recompute_stale_periods").count() == 1
    # The worker runs it: the marks are gone and the request is cleared.
    tasks.recompute_stale_periods.call()
    assert StaleFigure.objects.count() == 0
    assert LiveState.objects.get().stale_recompute_requested_at is None


def test_a_full_snapshot_of_the_period_clears_its_marks(past):
    job(past.p2, past.last.start)
    refresh(past)
    assert StaleFigure.objects.count() == 1
    engine.store_period(past.last, past.last.end)
    assert StaleFigure.objects.count() == 0
    assert county(past, past.last)["employed"] == 2


def test_moving_a_course_marks_the_months_of_both_dates(past):
    course = TrainingCourse.objects.create(
        name="电工培训",
        kind=eenums.TrainingKind.choices[0][0],
        county=past.regions.xingyi,
        start_date=past.last.start,
        end_date=past.last.start + datetime.timedelta(days=5),
    )
    TrainingAttendance.objects.create(course=course, person=past.p2)
    engine.refresh_live()  # on the real clock: the next refresh reads from this one on
    assert stale_marks() == {(past.last.start, past.s1.pk, "employment_flows")}
    stale.recompute()
    assert county(past, past.last)["training_attendances"] == 1
    # The course really began the month before: both months change.
    course.start_date = past.before.start
    course.end_date = past.before.start + datetime.timedelta(days=5)
    course.save()
    engine.refresh_live()
    assert stale_marks() == {
        (past.before.start, past.s1.pk, "employment_flows"),
        (past.last.start, past.s1.pk, "employment_flows"),
    }
    stale.recompute()
    assert county(past, past.last)["training_attendances"] == 0
    assert county(past, past.before)["training_attendances"] == 1


def test_a_past_period_page_stays_within_the_query_budget(client, past):
    job(past.p2, past.last.start)
    refresh(past)
    client.force_login(past.admin)
    url = f"/dashboard/522301/?kind=month&period={past.last.code}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    assert NOTICE in html
    assert len(ctx.captured_queries) <= 15
