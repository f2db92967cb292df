"""The communities demo's households and people formatted for COPY where they are made
(PostgreSQL): the same rows, live and history, as written from dicts."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from communities.demo import generate
from communities.history_pii import tokenize
from communities.models import Household, Person
from communities.validators import check_digit

#: Columns that differ between two builds of the same demo: ids, and the build's time
#: (the rows they refer to are in the natural keys).
VARYING = {
    "id",
    "created_at",
    "updated_at",
    "history_id",
    "history_date",
    *("settlement_id", "building_id", "grid_id", "ten_group_id", "household_id"),
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _rows(model, key):
    """Every row of ``model`` and of its history, by ``key`` (a row's natural key from
    its live id), without the columns that differ between builds."""
    keys = {}
    live = {}
    for obj in model.objects.all():
        keys[obj.pk] = key(obj)
        live[keys[obj.pk]] = {
            f.attname: getattr(obj, f.attname)
            for f in model._meta.concrete_fields
            if f.attname not in VARYING
        }
    history = {}
    for record in model.history.all():
        history[keys[record.id]] = {
            f.attname: getattr(record, f.attname)
            for f in model.history.model._meta.concrete_fields
            if f.attname not in VARYING
        }
    return live, history


def _snapshot():
    households = _rows(
        Household,
        lambda h: (h.number, h.settlement.code, h.building.name, h.grid.name, h.ten_group.name),
    )
    people = _rows(Person, lambda p: (p.household.number, p.id_number))
    return households, people


@pytest.mark.django_db(transaction=True)
def test_households_and_people_formatted_where_they_are_made_are_those_written_from_dicts(
    monkeypatch,
):
    if connection.vendor != "postgresql":
        pytest.skip("the demo writes with COPY only on PostgreSQL (bulk_create elsewhere)")
    args = ["--households=300", "--only=communities", "--seed=5"]
    for workers in ("--workers=2", "--workers=1"):
        with monkeypatch.context() as patch:
            patch.setattr(generate._Builder, "PACK", False)
            call_command("load_demo", *args, workers, "--reset", stdout=io.StringIO())
        from_dicts = _snapshot()
        call_command("load_demo", *args, workers, "--reset", stdout=io.StringIO())
        packed = _snapshot()
        (households, household_history), (people, people_history) = packed
        assert len(households) == 300 and len(people) > 900
        assert len(household_history) == 300 and len(people_history) == len(people)
        assert packed == from_dicts
        # Encrypted at rest; the history holds tokens, the live rows the hash.
        some = next(iter(people.values()))
        assert some["id_number_hash"] and "*" in people_history[next(iter(people))]["id_number"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM communities_person WHERE id_number LIKE '52%%'")
            assert cursor.fetchone() == (0,)


def _id_numbers():
    """{household number and name: ID number} of the demo's people (decrypted)."""
    return {(p.household.number, p.name): p.id_number for p in Person.objects.all()}


@pytest.mark.django_db(transaction=True)
def test_an_id_number_someone_has_is_given_again_with_the_next_free_order_code(monkeypatch):
    """The ID numbers are made with their settlements, apart; the writing process gives
    each out unless someone has it.  Here everyone's is taken: each person gets the next
    free order code of their sex, sealed again, the same whether the people were
    formatted where they were made or written from dicts."""
    if connection.vendor != "postgresql":
        pytest.skip("the demo writes with COPY only on PostgreSQL (bulk_create elsewhere)")
    args = ["--households=120", "--only=communities", "--seed=7", "--workers=2"]
    call_command("load_demo", *args, stdout=io.StringIO())
    first = _id_numbers()
    assert len(set(first.values())) == len(first) > 300

    def everyone_taken(self):
        self.taken_ids = {n[:17] for n in first.values()}

    monkeypatch.setattr(generate._Builder, "_load_taken_ids", everyone_taken)
    snapshots = []
    for pack in (False, True):
        monkeypatch.setattr(generate._Builder, "PACK", pack)
        call_command("load_demo", *args, "--reset", stdout=io.StringIO())
        again = _id_numbers()
        assert again.keys() == first.keys()
        assert len(set(again.values())) == len(again)
        for who, number in again.items():
            before = first[who]
            # Same origin county and birth date; a higher order code of the same sex.
            assert number[:14] == before[:14]
            order, was = int(number[14:17]), int(before[14:17])
            assert order > was and (order - was) % 2 == 0, (who, before, number)
            assert number[:17] not in {n[:17] for n in first.values()}
            assert number[17] == check_digit(number[:17])
        snapshots.append(_snapshot())
        # Sealed again: found by its hash, tokenized in the history.
        some = Person.objects.get(id_number=number)
        record = some.history.get()
        assert record.id_number == tokenize("id", number)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM communities_person WHERE id_number LIKE '52%%'")
            assert cursor.fetchone() == (0,)
    assert snapshots[0] == snapshots[1]
