"""近30天离岗 counted for several dates in one query (``recently_ended_counts``), as the
dashboards' past periods store it, against the list's own rule (``recently_ended``).

The fixture is employment's ``jobs`` (see conftest): 户主B (栗坪) held a wage job until
yesterday, 配偶C (the other prefecture) one until ten days ago; 配偶B and 户主D only
farm, which is not a job.
"""

import datetime

import pytest
from django.db.models import Count

from communities.models import Person
from employment import enums
from employment.models import EmploymentRecord
from employment.querysets import recently_ended, recently_ended_counts

pytestmark = pytest.mark.django_db

GROUP = "household__settlement_id"


def one_by_one(people, days):
    """The list's rule, one query per date."""
    return {
        day: dict(recently_ended(people, day).values_list(GROUP).annotate(n=Count("pk")).order_by())
        for day in days
    }


def test_each_date_counts_the_jobs_that_ended_in_its_own_thirty_days(world, jobs):
    today = jobs.today
    b = jobs.households["b"].settlement_id
    c = jobs.households["c"].settlement_id
    day = datetime.timedelta(days=1)
    counts = recently_ended_counts(
        Person.objects.all(),
        [today - day, today, today + 20 * day, today + 29 * day, today + 30 * day],
        GROUP,
    )
    assert counts == {
        # 户主B's job still covers yesterday (end dates are inclusive); 配偶C's ended.
        today - day: {c: 1},
        today: {b: 1, c: 1},
        # Thirty days back from the 20th day reach 配偶C's last day, from the 29th only 户主B's.
        today + 20 * day: {b: 1, c: 1},
        today + 29 * day: {b: 1},
        today + 30 * day: {},
    }
    assert counts == one_by_one(Person.objects.all(), counts)


def test_a_job_covering_the_date_or_a_farm_does_not_change_the_count(world, jobs):
    today = jobs.today
    b = jobs.households["b"].settlement_id
    head_b = jobs.heads["b"]
    # 户主B starts again in a week; farming is not a job, so it does not count as one.
    EmploymentRecord.objects.create(
        person=head_b,
        kind=enums.EmploymentKind.WAGE,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=today + datetime.timedelta(days=7),
    )
    EmploymentRecord.objects.create(
        person=head_b,
        kind=enums.EmploymentKind.FARMING,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=today - datetime.timedelta(days=400),
    )
    days = [today, today + datetime.timedelta(days=7)]
    counts = recently_ended_counts(Person.objects.filter(household__settlement_id=b), days, GROUP)
    assert counts == {days[0]: {b: 1}, days[1]: {}}
    assert counts == one_by_one(Person.objects.filter(household__settlement_id=b), days)


def test_the_people_given_bound_the_count(world, jobs):
    """Only the queryset's people count: a settlement's own, not its neighbours'."""
    c = jobs.households["c"].settlement_id
    people = Person.objects.filter(household__settlement_id=c)
    assert recently_ended_counts(people, [jobs.today], GROUP) == {jobs.today: {c: 1}}
