"""The demo steps that make their rows in other processes (``load_demo --workers``)."""

import io
import os
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from communities.demo.generate import in_processes
from communities.models import Household, Person
from employment.models import EmploymentRecord, InsuranceClaim, Referral


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


@pytest.mark.django_db
def test_the_processes_leave_the_database_connection_alone():
    with transaction.atomic():
        Household.objects.exists()  # the connection is open, in a transaction
        assert list(in_processes(abs, iter(range(-20, 0)), workers=2)) == list(range(20, 0, -1))
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


def _snapshot():
    return (
        list(
            Household.objects.order_by("number").values_list(
                "number", "room", "origin_village", "moved_in_date", "phone"
            )
        ),
        sorted(  # in Python: ID numbers and phones are stored encrypted
            Person.objects.values_list(
                "household__number", "name", "id_number", "birth_date", "phone", "health"
            ),
            key=str,
        ),
        sorted(
            EmploymentRecord.objects.values_list(
                "person__id_number", "kind", "start_date", "end_date", "monthly_income"
            ),
            key=str,
        ),
        sorted(
            Referral.objects.values_list(
                "person__id_number", "posting__title", "outcome", "employment__start_date"
            ),
            key=str,
        ),
        sorted(InsuranceClaim.objects.values_list("policy_number", "person__id_number"), key=str),
    )


@pytest.mark.django_db(transaction=True)
def test_the_demo_is_the_same_for_any_number_of_workers():
    args = ["--households=400", "--only=employment", "--seed=11"]
    call_command("load_demo", *args, "--workers=1", stdout=io.StringIO())
    alone = _snapshot()
    assert alone[0] and alone[2] and alone[3]
    # Every ID number is unique and valid though processes made the people.
    numbers = [row[2] for row in alone[1]]
    assert len(set(numbers)) == len(numbers)
    call_command("load_demo", *args, "--workers=2", "--reset", stdout=io.StringIO())
    assert _snapshot() == alone
    # Referrals that led to a job point at that person's record.
    for referral in Referral.objects.exclude(employment=None).select_related("employment"):
        assert referral.employment.person_id == referral.person_id


def test_workers_must_be_positive():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--workers"):
        call_command("load_demo", "--workers=0", stdout=io.StringIO())
