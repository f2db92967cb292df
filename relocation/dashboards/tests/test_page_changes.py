"""Which settlements changed since the last refresh, as the page views ask it.

``engine.changed_settlements`` shares each read among the sources that ask it
(``changes.shared_reads``); ``live.page_changes`` keeps its answer from one page
view to the next and reads only the history written since, unless the range it
covered has gained or lost a history row (a late commit).
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Person
from employment import enums as eenums
from employment.models import EmploymentRecord
from relocation.dashboards import engine
from relocation.dashboards.live import PageChanges
from relocation.rows import IN_CHUNK, in_lists

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)


def job_of(person, stamped=None):
    """A new job of ``person``; its history row stamped at ``stamped`` (a transaction that
    stamped its rows then and commits now), or now."""
    record = EmploymentRecord.objects.create(
        person=person,
        kind=eenums.EmploymentKind.WAGE,
        place=eenums.WorkPlace.IN_COUNTY,
        employer_name="某厂",
        start_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    if stamped is not None:
        record.history.update(history_date=stamped)
    return record


def test_a_page_reads_only_the_history_written_since_the_answer_it_kept(dash, asked):
    pages = PageChanges()
    since = timezone.now()  # after the fixture's rows: nothing changed yet
    assert pages(since, now=since) == set()
    job_of(dash.p2)  # 配偶一, 阳光新区
    first = since + 10 * SECOND
    assert pages(since, now=first) == {dash.s1.pk} == engine.changed_settlements(since)
    kept = pages.kept
    assert kept.upto == first - PageChanges.MARGIN
    asked.clear()
    # Nothing written since: the range it covered is counted, no source is asked.
    second = first + 10 * SECOND
    assert pages(since, now=second) == {dash.s1.pk}
    assert asked == []
    # A job in 德坞新区 (H3) written after the kept range: only the rows from its end are read.
    job_of(dash.h3.members.first(), stamped=second)
    third = second + 10 * SECOND
    assert pages(since, now=third) == {dash.s1.pk, dash.s4.pk}
    assert asked and {since for _key, since in asked} == {second - PageChanges.MARGIN}
    assert pages.kept.upto == third - PageChanges.MARGIN
    assert engine.changed_settlements(since) == {dash.s1.pk, dash.s4.pk}


def test_a_late_commit_inside_the_kept_range_is_read_again(dash, asked):
    """A transaction that stamped its history rows inside the range a page already read
    and committed afterwards adds to that range's count: the page reads it all again."""
    pages = PageChanges()
    since = timezone.now()
    job_of(dash.p2)
    later = since + 60 * SECOND
    assert pages(since, now=later) == {dash.s1.pk}
    asked.clear()
    # Stamped inside [since, upto), committed now:
    job_of(dash.h3.members.first(), stamped=since + SECOND)
    assert pages(since, now=later + SECOND) == {dash.s1.pk, dash.s4.pk}
    assert asked and {s for _key, s in asked} == {since}  # read afresh from ``since``


def test_a_history_row_removed_from_the_kept_range_is_read_again(dash, asked):
    pages = PageChanges()
    since = timezone.now()
    job_of(dash.p2)
    gone = job_of(dash.h3.members.first())
    later = since + 60 * SECOND
    assert pages(since, now=later) == {dash.s1.pk, dash.s4.pk}
    EmploymentRecord.objects.filter(pk=gone.pk).delete()
    EmploymentRecord.history.filter(id=gone.pk).delete()  # as if it had never been
    asked.clear()
    assert pages(since, now=later + SECOND) == {dash.s1.pk} == engine.changed_settlements(since)
    assert {s for _key, s in asked} == {since}


def test_another_since_is_read_afresh(dash, asked):
    pages = PageChanges()
    since = timezone.now()
    job_of(dash.p2)
    assert pages(since, now=since + 60 * SECOND) == {dash.s1.pk}
    refreshed = timezone.now() + SECOND  # the worker's refresh moved on: nothing since
    asked.clear()
    assert pages(refreshed, now=refreshed + 60 * SECOND) == set()
    assert asked == []
    assert pages.kept.since == refreshed


def test_the_sources_share_their_reads(dash):
    """Every source watching people starts from the same question (which people changed,
    and in which households and settlements they are): each query runs once."""
    since = timezone.now() - datetime.timedelta(days=1)  # every row of the fixture
    with CaptureQueriesContext(connection) as queries:
        changed = engine.changed_settlements(since)
    assert {dash.s1.pk, dash.s2.pk, dash.s4.pk} <= changed
    sql = [q["sql"] for q in queries]
    repeated = {s for s in sql if sql.count(s) > 1}
    assert not repeated, repeated
    person_scans = [  # the scans of ``changes.changed``, not the count of every model
        s
        for s in sql
        if Person.history.model._meta.db_table in s
        and "history_date" in s
        and "model_label" not in s
    ]
    assert len(person_scans) == 1, person_scans


def test_in_lists_sends_many_ids_in_one_query_on_postgresql(dash):
    people = list(Person.objects.values_list("pk", flat=True))
    asked = [*people, *range(10**9, 10**9 + 2 * IN_CHUNK), None]
    with CaptureQueriesContext(connection) as queries:
        found = set()
        for ids in in_lists(asked):
            found |= set(Person.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert found == set(people)
    expected = 1 if connection.vendor == "postgresql" else 3  # 2 * 5,000 + the people
    assert len(queries) == expected
    assert list(in_lists([None])) == []


def test_in_lists_refuses_what_is_not_an_id():
    """The text "1,2" is not split into two ids: PostgreSQL's text is refused before it is sent,
    other databases' literals by the ORM."""
    with pytest.raises(ValueError):
        for ids in in_lists(["1,2"]):
            list(Person.objects.filter(pk__in=ids))
