"""The demo steps that make their rows in other processes (``load_demo --workers``)."""

import io
import os
import signal
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from communities.demo.generate import in_processes
from communities.models import Household, Person
from employment.models import EmploymentRecord, InsuranceClaim, Referral
from governance.models import (
    Pairing,
    PartyMember,
    PartyOrganisation,
    PetitionTransition,
    ResidentGroup,
    Visit,
)
from relocation.demo import WorkerLost
from services.models import TemporaryAssistance
from services.tests.test_protection_demo import _snapshot as protection_snapshot


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_results_come_in_order_from_other_processes():
    table = {n: n * n for n in range(50)}  # built before the processes fork: they see it
    readers = set()

    def tasks():
        for n in range(50):
            readers.add(threading.get_ident())
            yield n

    def square(n):
        return n, table[n], os.getpid()

    made = list(in_processes(square, tasks(), workers=2, depth=3))
    assert [(n, value) for n, value, _pid in made] == [(n, n * n) for n in range(50)]
    assert {pid for _n, _v, pid in made} - {os.getpid()}  # not made here
    assert readers == {threading.get_ident()}  # the tasks are read in the caller's thread
    # One worker: made here, the same results.
    inline = list(in_processes(square, iter(range(50)), workers=1))
    assert [(n, v) for n, v, _pid in inline] == [(n, v) for n, v, _pid in made]
    assert {pid for _n, _v, pid in inline} == {os.getpid()}


def test_an_error_in_a_process_reaches_the_caller():
    def fails(n):
        if n == 3:
            raise ValueError(f"bad task {n}")
        return n

    with pytest.raises(ValueError, match="bad task 3"):
        list(in_processes(fails, iter(range(10)), workers=2))


def test_a_killed_worker_stops_the_step_with_a_clear_error():
    """A worker killed by the system (out of memory) used to leave its parent waiting for ever."""

    def dies_on_three(n):
        if n == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    made = []
    with pytest.raises(WorkerLost, match="ended without finishing its task"):
        for n in in_processes(dies_on_three, iter(range(10)), workers=2, depth=2):
            made.append(n)
    assert made == list(range(len(made))) and len(made) <= 3


def _signal_handlers(n):
    """Whether SIGTERM ends this process and SIGINT is ignored (handlers do not pickle)."""
    term, interrupt = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    return n, term == signal.SIG_DFL, interrupt == signal.SIG_IGN


def test_the_workers_stop_though_their_parent_catches_sigterm():
    """A parent that handles SIGTERM (the job worker does) must not pass that on.

    A worker that inherited such a handler outlived the ``terminate`` meant to end
    it, and its parent waited for it for ever: CI hung there once, after the job
    worker's tests.
    """
    caught = []

    def own_interrupt(signum, frame):  # the parent's own Ctrl-C handler, whatever it inherited
        caught.append(signum)

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: caught.append(signum))
    # Set here, not assumed: a suite started in the background inherits SIGINT ignored.
    previous_interrupt = signal.signal(signal.SIGINT, own_interrupt)
    try:
        made = list(in_processes(_signal_handlers, iter(range(6)), workers=2))
        assert [n for n, _term, _int in made] == list(range(6))
        assert all(term for _n, term, _int in made), "a worker kept its parent's SIGTERM handler"
        assert all(interrupt for _n, _term, interrupt in made), "a worker would take Ctrl-C"

        # A caller that stops reading early: the tasks not begun are dropped, the workers end.
        stopped = threading.Event()

        def read_one_and_stop():
            results = in_processes(_signal_handlers, iter(range(200)), workers=2, depth=2)
            assert next(results)[0] == 0
            results.close()
            stopped.set()

        reader = threading.Thread(target=read_one_and_stop, daemon=True)
        reader.start()
        reader.join(60)
        assert stopped.is_set(), "the terminated workers did not end"
        assert signal.getsignal(signal.SIGINT) is own_interrupt  # its own, untouched
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_interrupt)
    assert caught == []  # the parent itself was sent nothing


@pytest.mark.django_db
def test_the_processes_leave_the_database_connection_alone():
    with transaction.atomic():
        Household.objects.exists()  # the connection is open, in a transaction
        assert list(in_processes(abs, iter(range(-20, 0)), workers=2)) == list(range(20, 0, -1))
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


#: What is compared, model by model: rows sorted in Python (ID numbers and phones are
#: stored encrypted, with a random nonce: ordering by them in SQL orders ciphertexts).
COMPARED = (
    (Household, ("number", "room", "origin_village", "moved_in_date", "phone")),
    (Person, ("household__number", "name", "id_number", "birth_date", "phone", "health")),
    (
        EmploymentRecord,
        ("person__id_number", "kind", "start_date", "end_date", "monthly_income"),
    ),
    (Referral, ("person__id_number", "posting__title", "outcome", "employment__start_date")),
    (InsuranceClaim, ("policy_number", "person__id_number")),
    (PartyOrganisation, ("settlement__code", "name", "parent__name")),
    (PartyMember, ("organisation__name", "person__id_number", "joined_on")),
    (Pairing, ("cadre__name", "household__number", "start_date")),
    (Visit, ("household__number", "cadre__name", "grid_worker__name", "visited_on", "needs")),
    (PetitionTransition, ("petition__number", "petition__household__number", "to_state")),
    (TemporaryAssistance, ("person__id_number", "granted_on", "amount")),
)


def _snapshot():
    groups = sorted(
        (group.name, group.leader_name, sorted(b.name for b in group.buildings.all()))
        for group in ResidentGroup.objects.prefetch_related("buildings")
    )
    return (
        *(sorted(model.objects.values_list(*fields), key=str) for model, fields in COMPARED),
        groups,
        protection_snapshot(),  # benefit records and rights
    )


@pytest.mark.django_db(transaction=True)
def test_the_demo_is_the_same_for_any_number_of_workers():
    args = [
        "--households=400",
        "--only=employment,governance_org,services_protection",
        "--seed=11",
    ]
    call_command("load_demo", *args, "--workers=1", stdout=io.StringIO())
    alone = _snapshot()
    assert all(alone), [len(part) for part in alone]
    # Every ID number is unique and valid though processes made the people.
    numbers = [row[2] for row in alone[1]]
    assert len(set(numbers)) == len(numbers)
    call_command("load_demo", *args, "--workers=2", "--reset", stdout=io.StringIO())
    assert _snapshot() == alone
    # Rows that refer to rows made with them point at the right ones.
    for referral in Referral.objects.exclude(employment=None).select_related("employment"):
        assert referral.employment.person_id == referral.person_id
    for org in PartyOrganisation.objects.exclude(parent=None).select_related("parent"):
        assert org.parent.settlement_id == org.settlement_id
    for visit in Visit.objects.exclude(cadre=None).select_related("cadre", "household"):
        assert visit.cadre.settlement_id == visit.household.settlement_id
        assert Pairing.objects.filter(cadre=visit.cadre, household=visit.household).exists()
    for member in PartyMember.objects.select_related("organisation", "person__household"):
        assert member.organisation.settlement_id == member.person.household.settlement_id


@pytest.mark.django_db(transaction=True)
def test_the_demo_is_the_same_whether_rows_are_formatted_where_they_are_made(monkeypatch):
    from communities.demo import generate

    args = ["--households=400", "--only=employment,governance_org,services_protection"]
    with monkeypatch.context() as patch:  # every row written from dicts, as before
        patch.setattr(generate.PendingRows, "packing", lambda self, function: function)
        call_command("load_demo", *args, "--workers=2", stdout=io.StringIO())
    from_dicts = _snapshot()
    assert all(from_dicts), [len(part) for part in from_dicts]
    call_command("load_demo", *args, "--workers=2", "--reset", stdout=io.StringIO())
    assert _snapshot() == from_dicts


def test_workers_must_be_positive():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--workers"):
        call_command("load_demo", "--workers=0", stdout=io.StringIO())


def _killed(task):
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.django_db(transaction=True)
def test_load_demo_says_which_step_lost_a_worker(monkeypatch):
    from django.core.management import CommandError

    from communities.demo import generate

    monkeypatch.setattr(generate, "_run_forked", _killed)
    with pytest.raises(CommandError, match=r"演示步骤 communities 中断.*更少的 --workers"):
        call_command(
            "load_demo",
            "--households=40",
            "--only=communities",
            "--workers=2",
            stdout=io.StringIO(),
        )
