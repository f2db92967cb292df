"""``relocation.rows.keys_referring_checked_once``: deleting many referred-to rows with
the keys that refer to them checked once, by adding them again, not per row at commit.

The demo's removal (``load_demo --reset``) deletes millions of people and households;
a row still referring to a deleted one must fail the transaction as before.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from communities.models import Building, Settlement
from communities.tests.factories import BuildingFactory, SettlementFactory
from relocation.rows import keys_referring_checked_once

SETTLEMENTS = Settlement._meta.db_table


def referring_keys(table):
    """(table, name, definition) of every foreign key that refers to ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass ORDER BY 1, 2",
            [table],
        )
        return cursor.fetchall()


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the keys are dropped and added again only on PostgreSQL")


@pytest.mark.django_db
def test_the_keys_are_gone_inside_and_back_after_the_same():
    _postgresql_only()
    building = BuildingFactory()
    keys = referring_keys(SETTLEMENTS)
    assert any(table == "communities_building" for table, _name, _definition in keys)
    with transaction.atomic():
        with keys_referring_checked_once([SETTLEMENTS]):
            assert referring_keys(SETTLEMENTS) == []
            Building.objects.filter(pk=building.pk)._raw_delete(connection.alias)
            Settlement.objects.filter(pk=building.settlement_id)._raw_delete(connection.alias)
        assert referring_keys(SETTLEMENTS) == keys
    assert not Settlement.objects.exists()


@pytest.mark.django_db
def test_a_row_left_referring_to_a_deleted_one_fails_the_transaction():
    _postgresql_only()
    building = BuildingFactory()
    keys = referring_keys(SETTLEMENTS)
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        keys_referring_checked_once([SETTLEMENTS]),
    ):
        Settlement.objects.filter(pk=building.settlement_id)._raw_delete(connection.alias)
    assert Settlement.objects.filter(pk=building.settlement_id).exists()
    assert Building.objects.filter(pk=building.pk).exists()
    assert referring_keys(SETTLEMENTS) == keys


@pytest.mark.django_db
def test_rows_written_earlier_in_the_transaction_are_checked_first():
    """A key whose checks wait for the commit cannot be dropped: they run first, and a
    row that breaks one still fails."""
    _postgresql_only()
    settlement = SettlementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Building.objects.create(settlement_id=settlement.pk + 1000, name="1栋")
        with keys_referring_checked_once([SETTLEMENTS]):
            pass
    assert not Building.objects.exists()


@pytest.mark.django_db
def test_a_key_of_a_table_another_session_uses_stays_and_is_checked_per_row(
    monkeypatch, other_session
):
    """The key of a table another session reads is left in place (its lock would make that
    session wait for the whole removal): the others are still dropped and added again,
    and a row left referring to a deleted one still fails, through the kept key."""
    _postgresql_only()
    from relocation import rows

    building = BuildingFactory()
    keys = referring_keys(SETTLEMENTS)
    building_key = next(name for table, name, _d in keys if table == "communities_building")
    other_session.execute("SELECT count(*) FROM communities_building")  # ACCESS SHARE held
    monkeypatch.setattr(rows, "BULK_LOCK_TIMEOUT", "200ms")
    with (
        pytest.raises(IntegrityError, match=building_key),
        transaction.atomic(),
        keys_referring_checked_once([SETTLEMENTS]),
    ):
        inside = referring_keys(SETTLEMENTS)
        assert [table for table, _n, _d in inside] == ["communities_building"]
        assert len(keys) > 1  # the other tables' keys were dropped
        Settlement.objects.filter(pk=building.settlement_id)._raw_delete(connection.alias)
    assert Settlement.objects.filter(pk=building.settlement_id).exists()
    assert referring_keys(SETTLEMENTS) == keys
