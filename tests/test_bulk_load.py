"""``relocation.rows.empty_tables_loaded_whole``: bulk loads that build indexes once.

The demo steps fill empty tables with millions of rows inside one transaction.
On PostgreSQL the helper drops those tables' foreign keys and indexes (the
primary keys and unique indexes too, unless another table's foreign key refers
to them) for the load and creates them again, with the same names and
definitions, before the transaction commits; the keys and unique indexes are
then checked over every row, so a row that breaks one still fails the whole load.  Tables with rows, tables
another session holds, SQLite and code outside a transaction are left alone.
"""

import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from communities.models import Region, Settlement
from relocation import rows
from relocation.rows import empty_tables_loaded_whole

SETTLEMENTS = Settlement._meta.db_table
REGIONS = "communities_region"


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("indexes and foreign keys are dropped only on PostgreSQL (see the SQLite test)")


def definitions(table):
    """{name: definition} of ``table``'s indexes and constraints, as PostgreSQL prints them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [table],
        )
        found = dict(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            [table],
        )
        found.update(cursor.fetchall())
    return found


def foreign_keys(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


#: Whether the session may turn the keys' triggers off (a superuser, as CI's): the keys
#: to other tables are then kept and checked at the end; otherwise they are dropped.
BOTH_WAYS = pytest.mark.parametrize(
    "triggers_off", [True, False], indirect=True, ids=["keys-kept", "keys-dropped"]
)


@pytest.fixture
def triggers_off(request, monkeypatch):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            assert rows.may_skip_key_triggers(cursor), "the test server's user is a superuser"
    monkeypatch.setattr(rows, "may_skip_key_triggers", lambda cursor: request.param)
    return request.param


def replication_role():
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.mark.django_db
@BOTH_WAYS
def test_an_empty_table_loads_without_its_foreign_keys_and_plain_indexes_then_gets_them_back(
    region_tree, triggers_off
):
    _postgresql_only()
    before = definitions(SETTLEMENTS)
    keys = foreign_keys(SETTLEMENTS)
    assert keys and len(before) > len(keys) + 1  # foreign keys, and indexes besides the key
    checks = {n for n, d in before.items() if d.startswith("CHECK")}
    with empty_tables_loaded_whole([SETTLEMENTS]) as loaded:
        assert loaded == [SETTLEMENTS]
        during = definitions(SETTLEMENTS)
        # The keys refer to the regions, another table: kept with their triggers off,
        # or dropped.
        assert foreign_keys(SETTLEMENTS) == (keys if triggers_off else set())
        assert replication_role() == ("replica" if triggers_off else "origin")
        # Other tables' foreign keys refer to the primary key: it stays, as do the checks.
        # No other key refers to the unique code: it is built again at the end.
        assert set(during) == {f"{SETTLEMENTS}_pkey"} | checks | (keys if triggers_off else set())
        Settlement.objects.create(
            code="AZD1", name="测试安置点", county=region_tree.xingyi, township=region_tree.xingtai
        )
    assert definitions(SETTLEMENTS) == before
    assert replication_role() == "origin"  # the triggers run again
    assert Settlement.objects.filter(code="AZD1").exists()


@pytest.mark.django_db
@BOTH_WAYS
@pytest.mark.parametrize(
    "settlements",
    [
        pytest.param([("AZD1", "测试安置点", "999999")], id="breaks-a-foreign-key"),
        pytest.param(
            [("AZD1", "测试安置点", "522301"), ("AZD1", "另一个安置点", "522301")],
            id="duplicate-in-a-dropped-unique-index",
        ),
    ],
)
def test_a_row_that_breaks_a_key_or_unique_index_still_fails_the_load(
    region_tree, settlements, triggers_off
):
    _postgresql_only()
    before = definitions(SETTLEMENTS)
    with (
        pytest.raises(IntegrityError) as failure,
        transaction.atomic(),
        empty_tables_loaded_whole([SETTLEMENTS]),
    ):
        for code, name, county in settlements:
            Settlement.objects.create(code=code, name=name, county_id=county)
    if settlements[0][2] == "999999":
        assert "county_id" in str(failure.value) and "(999999)" in str(failure.value)
    assert not Settlement.objects.exists()  # nothing of the load is kept
    assert definitions(SETTLEMENTS) == before  # and the definitions are back


@pytest.mark.django_db
@pytest.mark.parametrize("triggers_off", [True], indirect=True, ids=["keys-kept"])
def test_with_the_triggers_off_a_bad_row_of_another_table_is_caught_too(region_tree, triggers_off):
    """Every table the transaction wrote has its keys checked, not only the loaded ones."""
    _postgresql_only()
    with (
        pytest.raises(IntegrityError, match="parent_id.*(000999)"),
        transaction.atomic(),
        empty_tables_loaded_whole([SETTLEMENTS]),
    ):
        Region.objects.create(code="520299", name="孤儿区划", level=3, parent_id="000999")
    assert not Region.objects.filter(code="520299").exists()


@pytest.mark.django_db
@BOTH_WAYS
def test_the_table_the_keys_refer_to_stays_readable_only_when_they_are_kept(
    region_tree, other_session, triggers_off
):
    """Two demo steps load side by side: each reads the people the other's keys refer to."""
    _postgresql_only()
    other_session.execute("SET lock_timeout = '500ms'")
    with empty_tables_loaded_whole([SETTLEMENTS]):
        try:
            other_session.execute(f"SELECT count(*) FROM {REGIONS}").fetchone()
            waited = False
        except psycopg.errors.LockNotAvailable:
            waited = True
    assert waited is not triggers_off


@pytest.mark.django_db
def test_a_user_who_may_not_turn_triggers_off_is_told_so():
    _postgresql_only()
    with connection.cursor() as cursor:
        assert rows.may_skip_key_triggers(cursor)  # the test server's superuser
        cursor.execute("CREATE ROLE relocation_test_plain NOLOGIN")  # gone with the rollback
        cursor.execute("SET LOCAL ROLE relocation_test_plain")
        try:
            assert not rows.may_skip_key_triggers(cursor)
        finally:
            cursor.execute("RESET ROLE")


@pytest.mark.django_db
def test_a_primary_key_no_key_refers_to_is_built_again_at_the_end(region_tree):
    _postgresql_only()
    history = Settlement.history.model._meta.db_table
    before = definitions(history)
    assert f"{history}_pkey" in before
    with empty_tables_loaded_whole([history]) as loaded:
        assert loaded == [history]
        # No index and no key left: only the checks.
        assert definitions(history) == {n: d for n, d in before.items() if d.startswith("CHECK")}
        Settlement.objects.create(
            code="AZD1", name="测试安置点", county=region_tree.xingyi, township=region_tree.xingtai
        )
    assert definitions(history) == before
    assert Settlement.history.get().code == "AZD1"


@pytest.mark.django_db
def test_a_table_that_holds_rows_is_left_alone(region_tree):
    _postgresql_only()
    before = definitions(REGIONS)
    with empty_tables_loaded_whole([REGIONS]) as loaded:
        assert loaded == []
        assert definitions(REGIONS) == before


@pytest.mark.django_db
def test_a_table_another_session_uses_is_left_alone_and_not_locked(
    monkeypatch, region_tree, other_session
):
    """The other session's read is not made to wait for the load, nor the load for it."""
    _postgresql_only()
    other_session.execute(f"SELECT count(*) FROM {SETTLEMENTS}")  # ACCESS SHARE until rollback
    monkeypatch.setattr(rows, "BULK_LOCK_TIMEOUT", "200ms")
    before = definitions(SETTLEMENTS)
    with empty_tables_loaded_whole([SETTLEMENTS]) as loaded:
        assert loaded == []
        assert definitions(SETTLEMENTS) == before
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = %s::regclass AND mode = 'AccessExclusiveLock'",
                [SETTLEMENTS],
            )
            assert cursor.fetchone()[0] == 0  # the savepoint gave the lock attempt up
        read = {}
        thread = threading.Thread(
            target=lambda: read.update(
                n=other_session.execute(f"SELECT count(*) FROM {SETTLEMENTS}").fetchone()[0]
            )
        )
        thread.start()
        thread.join(timeout=10)
        assert read == {"n": 0}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("triggers_off", [False], indirect=True, ids=["keys-dropped"])
def test_outside_a_transaction_and_on_sqlite_nothing_is_dropped(region_tree, triggers_off):
    keys = {f.column for f in Settlement._meta.concrete_fields if f.is_relation}
    with empty_tables_loaded_whole([SETTLEMENTS]) as loaded:  # autocommit: no transaction
        assert loaded == []
    with transaction.atomic(), empty_tables_loaded_whole([SETTLEMENTS]) as loaded:
        assert loaded == ([SETTLEMENTS] if connection.vendor == "postgresql" else [])
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, SETTLEMENTS)
        found = {col for c in constraints.values() if c["foreign_key"] for col in c["columns"]}
        assert found == (set() if connection.vendor == "postgresql" else keys)


@pytest.mark.django_db
@pytest.mark.parametrize("triggers_off", [False], indirect=True, ids=["keys-dropped"])
def test_keys_to_rows_this_transaction_wrote_are_checked_then_dropped(region_tree, triggers_off):
    """The regions above were written in this transaction: their checks wait for the commit.

    PostgreSQL refuses to drop a foreign key whose referenced table has such checks
    pending; they are run first, whichever of the loaded tables comes first.
    """
    _postgresql_only()
    history = Settlement.history.model._meta.db_table  # sorted first: indexes, no keys
    with empty_tables_loaded_whole([SETTLEMENTS, history]) as loaded:
        assert loaded == sorted([SETTLEMENTS, history])
        assert not foreign_keys(SETTLEMENTS)
    assert foreign_keys(SETTLEMENTS)


@pytest.mark.django_db
@pytest.mark.parametrize("triggers_off", [True], indirect=True, ids=["keys-kept"])
def test_keys_of_a_table_only_added_to_are_checked_over_its_new_rows(region_tree, triggers_off):
    """``appended``: a table that holds rows and gets new ones from its sequence has
    its keys checked over the new rows alone; a new row that breaks one still fails."""
    _postgresql_only()
    # An older row that breaks the key (written with the triggers off): a check of the
    # whole table would find it, a check of the new rows does not.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        Settlement.objects.create(code="AZD0", name="已有安置点", county_id="999998")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    appended = rows.appended_ids([SETTLEMENTS])
    assert appended[SETTLEMENTS] == ("id", Settlement.objects.get(code="AZD0").pk + 1)
    with transaction.atomic(), empty_tables_loaded_whole([SETTLEMENTS], appended=appended):
        Settlement.objects.create(code="AZD1", name="新安置点", county_id="522301")
    assert Settlement.objects.filter(code="AZD1").exists()
    with (
        pytest.raises(IntegrityError, match=r"county_id.*\(999999\)"),
        transaction.atomic(),
        empty_tables_loaded_whole([SETTLEMENTS], appended=rows.appended_ids([SETTLEMENTS])),
    ):
        Settlement.objects.create(code="AZD2", name="坏安置点", county_id="999999")
    assert not Settlement.objects.filter(code="AZD2").exists()
    # Without ``appended`` the whole table is checked, and the older row is found.
    with (
        pytest.raises(IntegrityError, match=r"county_id.*\(999998\)"),
        transaction.atomic(),
        empty_tables_loaded_whole([SETTLEMENTS]),
    ):
        Settlement.objects.create(code="AZD3", name="又一个安置点", county_id="522301")
    assert not Settlement.objects.filter(code="AZD3").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("triggers_off", [True], indirect=True, ids=["keys-kept"])
def test_older_rows_are_checked_too_when_the_table_they_refer_to_lost_rows(
    region_tree, triggers_off
):
    """``appended`` does not narrow the check of a key whose target lost or changed rows
    in the transaction: an older row left pointing at nothing is found."""
    _postgresql_only()
    Region.objects.create(code="520298", name="将被删除的县", level=3, parent_id="520200")
    Settlement.objects.create(code="AZD0", name="已有安置点", county_id="520298")
    with (
        pytest.raises(IntegrityError, match=r"county_id.*\(520298\)"),
        transaction.atomic(),
        empty_tables_loaded_whole([SETTLEMENTS], appended=rows.appended_ids([SETTLEMENTS])),
    ):
        Settlement.objects.create(code="AZD1", name="新安置点", county_id="522301")
        with connection.cursor() as cursor:  # the triggers are off for the block
            cursor.execute("DELETE FROM communities_region WHERE code = '520298'")
    assert Region.objects.filter(code="520298").exists()
    assert not Settlement.objects.filter(code="AZD1").exists()
