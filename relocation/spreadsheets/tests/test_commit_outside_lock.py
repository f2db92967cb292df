"""SQLite: a large commit plans without the write lock and writes only a plan that still holds.

Signing in and saving need SQLite's single write lock; planning a 50,000-row
roster takes minutes.  The commit therefore plans first, lock-free, and under
the lock checks the change history for records the plan read: a change
elsewhere lets the plan through unplanned again; a change to a record the plan
relied on re-plans under the lock, finds the preview no longer matches and
writes nothing.  (PostgreSQL writes the plan kept since the check, or plans
again inside its transaction: ``test_kept_plan.py``.)
"""

import pytest
from django.db import connection

from communities.models import Household, Person
from relocation.spreadsheets import engine, services
from relocation.spreadsheets.models import ImportJob

from .helpers import ROSTER_HEADERS, csv_bytes, person_row, upload

pytestmark = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL has no write lock to plan outside of"
)


@pytest.fixture
def checked(world, settings):
    """A checked roster for settlement A (two new households, one updated head) and its job."""
    settings.SPREADSHEET_INLINE_MAX_BYTES = 10  # a background job: confirm only queues it
    head_a = world.heads["a"]
    rows = [
        person_row("N001", world.a.code, seq=1, name="新户一"),
        person_row("N002", world.a.code, seq=2, name="新户二"),
    ]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    services.job_check(ImportJob.objects.get(pk=job.pk))
    job = ImportJob.objects.get(pk=job.pk)
    assert job.state == "ready", job.errors
    job.state = "committing"
    job.save()
    return job, head_a


def _plans(monkeypatch, after_first=None):
    """Count the plans made; run ``after_first`` right after the lock-free one."""
    calls = []
    original = engine.plan_rows

    def plan_rows(*args, **kwargs):
        plan = original(*args, **kwargs)
        calls.append(connection.in_atomic_block)
        if len(calls) == 1 and after_first:
            after_first()
        return plan

    monkeypatch.setattr(engine, "plan_rows", plan_rows)
    return calls


def test_the_plan_is_made_without_the_lock_and_written_once(world, checked, monkeypatch):
    job, _head = checked
    calls = _plans(monkeypatch)
    services.job_commit(job)
    job.refresh_from_db()
    assert job.state == "committed", job.failure
    # SQLite planned once, outside any transaction; PostgreSQL wrote the plan
    # kept since the check without planning again (test_kept_plan.py).
    assert calls == ([False] if connection.vendor == "sqlite" else [])
    assert set(Person.objects.filter(name__startswith="新户").values_list("name", flat=True)) == {
        "新户一",
        "新户二",
    }


@sqlite_only
def test_a_change_elsewhere_does_not_force_a_second_plan(world, checked, monkeypatch):
    job, _head = checked
    other = world.households["c"]  # another county's settlement: not read by the plan

    def someone_saves_elsewhere():
        other.phone = "13912345678"
        other.save()

    calls = _plans(monkeypatch, someone_saves_elsewhere)
    services.job_commit(job)
    job.refresh_from_db()
    assert job.state == "committed", job.failure
    assert calls == [False]


@sqlite_only
def test_a_change_to_what_the_plan_read_replans_under_the_lock(world, checked, monkeypatch):
    job, _head = checked

    def someone_takes_the_number():  # a household N001 appears in settlement A meanwhile
        Household.objects.create(number="N001", settlement=world.a, relocation_year=2019)

    calls = _plans(monkeypatch, someone_takes_the_number)
    before = set(Person.objects.values_list("pk", flat=True))
    services.job_commit(job)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "预览之后系统中的数据发生了变化" in job.failure
    assert calls == [False, True]  # the second plan ran under the write lock
    assert set(Person.objects.values_list("pk", flat=True)) == before
    assert not Person.objects.filter(name__startswith="新户").exists()


@sqlite_only
def test_a_new_person_in_a_household_of_the_file_is_noticed(world, checked, monkeypatch):
    """A change the plan did not load by key but lies in a settlement it read."""
    job, _head = checked
    from communities.tests.factories import PersonFactory

    def someone_adds_a_member():
        PersonFactory(household=world.households["a"], name="后来者")

    calls = _plans(monkeypatch, someone_adds_a_member)
    services.job_commit(job)
    assert calls == [False, True]
    job.refresh_from_db()
    # The file does not touch household A: the re-plan still matches and commits.
    assert job.state == "committed", job.failure


@sqlite_only
def test_raw_inserts_never_reuse_the_id_of_a_deleted_row(world, checked):
    """SQLite AUTOINCREMENT: ids after the highest ever given, like the ORM's."""
    job, _head = checked
    from communities.tests.factories import PersonFactory

    gone = PersonFactory(household=world.households["b"], name="已删除")
    gone_id = gone.pk
    gone.delete()
    services.job_commit(job)
    job.refresh_from_db()
    assert job.state == "committed", job.failure
    new = Person.objects.filter(name__startswith="新户")
    assert min(new.values_list("pk", flat=True)) > gone_id
    for person in new:  # stored as the ORM stores them: encrypted, dated, with history
        assert person.id_number and len(person.id_number) == 18
        assert person.birth_date.year == 1980
        assert person.history.get().history_type == "+"
