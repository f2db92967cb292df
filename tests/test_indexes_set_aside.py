"""``relocation.rows.set_aside_plain_indexes`` and ``restore_plain_indexes``: a load
that commits in many transactions (the national demo, a province at a time) builds
the plain indexes of its tables once at the end instead of updating them row by row.

Only plain indexes go (neither unique nor behind a constraint): primary keys,
unique indexes and foreign keys stay, so every transaction is still checked.  The
definitions are committed with the drops, so an interrupted load's indexes are
built again, the same, by the run that finishes it.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from communities.demo import build_demo
from communities.demo.generate import tables_with_history
from communities.models import Household, Person
from communities.tests.factories import PersonFactory
from relocation import rows
from relocation.rows import SET_ASIDE_TABLE, restore_plain_indexes, set_aside_plain_indexes

from .test_bulk_load import definitions

TABLES = tables_with_history(Household, Person)
PEOPLE = Person._meta.db_table


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("indexes are set aside only on PostgreSQL (see the SQLite test)")


def _all_definitions():
    return {table: definitions(table) for table in TABLES}


def _set_aside_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [SET_ASIDE_TABLE])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT name, definition FROM {SET_ASIDE_TABLE} ORDER BY name")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_plain_indexes_go_and_come_back_the_same_while_keys_and_unique_indexes_stay():
    _postgresql_only()
    before = _all_definitions()
    dropped = set_aside_plain_indexes(TABLES)
    # The people's plain indexes went; their key, unique indexes and constraints did not.
    assert {"person_name_prefix", "person_birth_date", "household_settlement_order"} <= set(dropped)
    after = _all_definitions()
    for table in TABLES:
        gone = set(before[table]) - set(after[table])
        assert gone == {name for name in dropped if name in before[table]}
        for name, definition in after[table].items():
            assert before[table][name] == definition
    assert {
        "communities_person_pkey",
        "communities_person_id_number_hash_d5467978_uniq",
        "person_one_head_per_household",
    } <= set(after[PEOPLE])
    assert any("FOREIGN KEY" in d for d in after[PEOPLE].values())
    # Their definitions were kept as PostgreSQL printed them.
    kept = _set_aside_rows()
    assert set(kept) == set(dropped)
    assert kept["person_name_prefix"] == before[PEOPLE]["person_name_prefix"]

    assert sorted(restore_plain_indexes()) == sorted(dropped)
    assert _all_definitions() == before
    assert _set_aside_rows() is None  # its table went with the restore
    assert restore_plain_indexes() == []  # nothing left to do


@pytest.mark.django_db
def test_a_unique_index_still_refuses_a_duplicate_while_the_others_are_aside():
    _postgresql_only()
    first, second = PersonFactory(), PersonFactory()
    set_aside_plain_indexes(TABLES)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person._base_manager.filter(pk=second.pk).update(id_number_hash=first.id_number_hash)
    assert Person._base_manager.filter(id_number_hash=first.id_number_hash).count() == 1
    assert Person._base_manager.get(pk=second.pk).id_number_hash == second.id_number_hash


@pytest.mark.django_db
def test_a_second_set_aside_keeps_the_first_definitions_and_one_restore_builds_all():
    """An interrupted load, run again, sets aside again: nothing is lost between."""
    _postgresql_only()
    before = _all_definitions()
    first = set_aside_plain_indexes(TABLES)
    assert set_aside_plain_indexes(TABLES) == []  # nothing plain is left to drop
    assert set(_set_aside_rows()) == set(first)
    assert sorted(restore_plain_indexes()) == sorted(first)
    assert _all_definitions() == before


@pytest.mark.django_db
def test_restore_builds_only_what_is_missing():
    _postgresql_only()
    before = _all_definitions()
    set_aside_plain_indexes(TABLES)
    with connection.cursor() as cursor:
        cursor.execute(_set_aside_rows()["person_name_prefix"])  # someone built it already
    restored = restore_plain_indexes()
    assert "person_name_prefix" not in restored and "person_birth_date" in restored
    assert _all_definitions() == before


@pytest.mark.django_db
def test_tables_another_session_uses_are_left_alone(monkeypatch, other_session):
    """The other session's read is not made to wait for the load, nor the load for it."""
    _postgresql_only()
    other_session.execute(f"SELECT count(*) FROM {PEOPLE}")  # ACCESS SHARE until rollback
    monkeypatch.setattr(rows, "BULK_LOCK_TIMEOUT", "200ms")
    before = _all_definitions()
    assert set_aside_plain_indexes(TABLES) == []
    assert _all_definitions() == before
    assert _set_aside_rows() is None


@pytest.mark.django_db
def test_on_sqlite_nothing_is_set_aside():
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite side of it")
    with connection.cursor() as cursor:
        before = connection.introspection.get_constraints(cursor, PEOPLE)
    assert set_aside_plain_indexes(TABLES) == []
    assert restore_plain_indexes() == []
    with connection.cursor() as cursor:
        assert connection.introspection.get_constraints(cursor, PEOPLE) == before


@pytest.mark.django_db
def test_a_demo_that_is_not_national_builds_what_an_interrupted_national_one_set_aside(settings):
    _postgresql_only()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    before = _all_definitions()
    assert set_aside_plain_indexes(TABLES)  # as a national build interrupted leaves them
    build_demo(seed=5, households=30)
    assert _all_definitions() == before
    assert _set_aside_rows() is None
