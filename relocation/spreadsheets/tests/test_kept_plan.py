"""PostgreSQL: the commit writes the plan kept since the check, unless what it relied on changed.

The check notes where the change history stands (``services.history_basis``)
before it reads; the commit, inside its writing transaction, looks for history
rows the check may not have seen (``services.changes_since``).  These tests
make the changes from another connection (a thread has its own), between the
check and the commit, and once from a transaction that was open while the
check read and commits only afterwards: its history id is below every mark
taken at the check, so only the snapshot can tell.
"""

import datetime
import threading

import pytest
from django.db import connection, transaction

from communities.models import Household, Person
from relocation.spreadsheets import engine, services
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.models import ImportJob, ImportUpload

from .helpers import ROSTER_HEADERS, csv_bytes, person_row, upload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite plans again under its write lock"
    ),
]
STALE = "预览之后系统中的数据发生了变化"


def elsewhere(action):
    """Run ``action`` on another database connection and commit it."""
    errors = []

    def run():
        from django.db import connection as own

        try:
            with transaction.atomic():
                action()
        except Exception as exc:
            errors.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not errors, errors


def check(world, rows):
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    job = ImportJob.objects.get(pk=job.pk)
    assert job.state == "ready", job.errors
    stored = ImportUpload.objects.get(job=job)
    # The plan is kept; the parsed cells are not stored a second time beside it.
    assert stored.kept is not None and stored.parsed is None
    return job


@pytest.fixture
def planned(monkeypatch):
    """Which way each commit went: ["kept"] or ["planned again"]."""
    ways, committing = [], []
    kind = get_kind("roster")
    original_plan, original_write = engine.plan_file, kind.write_kept
    original_commit = services.job_commit

    def plan_file(*args, **kwargs):  # at commit: planned again, from the file
        if committing:
            ways.append("planned again")
        return original_plan(*args, **kwargs)

    def write_kept(data, ctx):
        ways.append("kept")
        return original_write(data, ctx)

    def job_commit(job):
        committing.append(job.pk)
        try:
            return original_commit(job)
        finally:
            committing.clear()

    monkeypatch.setattr(engine, "plan_file", plan_file)
    monkeypatch.setattr(kind, "write_kept", write_kept)
    monkeypatch.setattr(services, "job_commit", job_commit)
    return ways


def new_rows(world):
    return [
        person_row("N001", world.a.code, seq=1, name="新户一"),
        person_row("N002", world.a.code, seq=2, name="新户二"),
    ]


def test_the_checked_plan_is_written_without_planning_again(world, planned):
    job = check(world, new_rows(world))
    job = services.job_commit(job)
    assert job.state == "committed", job.failure
    assert planned == ["kept"]
    people = Person.objects.filter(name__startswith="新户").select_related("household")
    assert {(p.name, p.household.number, p.household.settlement_id) for p in people} == {
        ("新户一", "N001", world.a.pk),
        ("新户二", "N002", world.a.pk),
    }
    for person in people:  # birth date and sex from the ID number, history with the reason
        assert person.birth_date.year == 1980 and person.sex == "F"
        entry = person.history.get()
        assert (entry.history_type, entry.history_change_reason) == ("+", job.history_reason)
    assert (job.new_rows, job.updated_rows) == (2, 0)


def test_updates_moves_and_a_head_swap_are_written_from_the_kept_plan(world, planned):
    """Changed households and people are loaded again by id and get the checked values."""
    from communities import enums
    from relocation.spreadsheets.workbooks import export_csv

    old = world.households["a"]
    head = world.heads["a"]
    spouse = old.members.get(relationship=enums.Relationship.SPOUSE)
    son = old.members.get(relationship=enums.Relationship.SON)
    text = export_csv(get_kind("roster"), world.admin).decode("utf-8-sig").splitlines()
    header, lines = text[0], [line for line in text[1:] if old.number in line]
    edited = []
    for line in lines:
        line = line.replace("13800000001", "13911112222")  # the household's phone
        if head.id_number in line:
            line = line.replace(",户主,", ",配偶,")
        elif spouse.id_number in line:
            line = line.replace(",配偶,", ",户主,")
        elif son.id_number in line:  # moves out and heads a household new in the file
            line = line.replace(old.number, "N010").replace(",子,", ",户主,")
        edited.append(line)
    job = upload(world.admin, "roster", "\n".join([header, *edited]).encode())
    assert job.state == "ready", job.errors
    assert ImportUpload.objects.get(job=job).kept is not None
    job = services.job_commit(ImportJob.objects.get(pk=job.pk))
    assert job.state == "committed", job.failure
    assert planned == ["kept"]
    for record in (old, head, spouse, son):
        record.refresh_from_db()
    assert old.phone == "13911112222"
    assert (head.relationship, spouse.relationship) == ("spouse", "head")
    assert son.household.number == "N010" and son.relationship == "head"
    assert son.household.settlement_id == world.a.pk
    for record in (old, head, spouse, son, son.household):
        assert record.history.first().history_change_reason == job.history_reason


def test_a_change_elsewhere_keeps_the_plan(world, planned):
    job = check(world, new_rows(world))
    other = world.households["c"]  # another county's settlement: not read by the plan

    def save_elsewhere():
        other.phone = "13912345678"
        other.save()

    elsewhere(save_elsewhere)
    job = services.job_commit(job)
    assert job.state == "committed", job.failure
    assert planned == ["kept"]


def test_a_change_to_what_the_plan_read_plans_again_and_writes_nothing(world, planned):
    job = check(world, new_rows(world))
    before = set(Person.objects.values_list("pk", flat=True))
    # A household N001 appears in settlement A meanwhile: the file's N001 is no longer new.
    elsewhere(
        lambda: Household.objects.create(number="N001", settlement=world.a, relocation_year=2019)
    )
    job = services.job_commit(job)
    assert job.state == "failed" and STALE in job.failure
    assert planned == ["planned again"]
    assert set(Person.objects.values_list("pk", flat=True)) == before


def test_a_change_to_a_relied_on_record_is_noticed(world, planned):
    """The head of a household in the file changes: planned again, and still the same outcome."""
    head = world.heads["a"]
    rows = [person_row("N001", world.a.code, seq=1, name="新户一")]
    job = check(world, rows)

    def rename():
        person = Person.objects.get(pk=head.pk)
        person.name = "改过名"
        person.save()

    elsewhere(rename)
    job = services.job_commit(job)
    # The file does not touch household A: planned again, same digest, written.
    assert planned == ["planned again"]
    assert job.state == "committed", job.failure


def test_a_transaction_open_during_the_check_that_commits_later_is_noticed(world, planned):
    """Its history row has an id below the check's marks: only the snapshot tells."""
    written, release, finished = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def slow_writer():
        from django.db import connection as own

        try:
            with transaction.atomic():
                Household.objects.create(number="N001", settlement=world.a, relocation_year=2019)
                written.set()
                release.wait(60)
        except Exception as exc:
            errors.append(exc)
        finally:
            own.close()
            finished.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(60)
    try:
        job = check(world, new_rows(world))  # does not see N001: it is not committed yet
        assert job.new_rows == 2
    finally:
        release.set()
        assert finished.wait(60)
        thread.join()
    assert not errors, errors
    kept = engine.unpack_kept(ImportUpload.objects.get(job=job).kept)
    history = Household.history.get(number="N001")
    label = Household.history.model._meta.label
    assert history.history_id <= kept.basis["marks"][label]  # below the mark
    before = set(Person.objects.values_list("pk", flat=True))
    job = services.job_commit(job)
    assert planned == ["planned again"]
    assert job.state == "failed" and STALE in job.failure
    assert set(Person.objects.values_list("pk", flat=True)) == before


def test_the_history_basis_covers_an_open_transaction(world):
    """While another transaction writes, the basis reaches back to it: its id and when it began."""
    started, release = threading.Event(), threading.Event()
    seen = []

    def open_writer():
        from django.db import connection as own

        try:
            with transaction.atomic():
                Household.objects.create(number="N077", settlement=world.b, relocation_year=2019)
                with own.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_current_xact_id()::text::bigint, xact_start"
                        " FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                    )
                    seen.append(cursor.fetchone())
                started.set()
                release.wait(60)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        finally:
            own.close()

    thread = threading.Thread(target=open_writer)
    thread.start()
    assert started.wait(60)
    try:
        basis = services.history_basis()
    finally:
        release.set()
        thread.join()
    xid, began = seen[0]
    assert basis is not None
    assert xid >= basis["xmin"]  # its rows would count as changes
    assert datetime.datetime.fromisoformat(basis["since"]) <= began - services.CLOCK_MARGIN
    # It rolled back: nothing changed.
    assert services.changes_since(basis)[Household.history.model] == set()
