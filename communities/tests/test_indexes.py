"""The indexes every new household and person writes: each one is read by something.

A roster import writes 25,000 households and 100,000 people with their history
rows; every index on those tables is paid for on each of them.  These tests
keep out the ones nothing reads (migration 0009).  On PostgreSQL a LIKE twin
(``varchar_pattern_ops``) is one more index on the same column, so the counts
below catch those too.
"""

import pytest
from django.db import connection

from communities.models import Household, Person

pytestmark = pytest.mark.django_db


def indexes(model):
    """{index name: (columns, is unique)} of the model's table, as the database has them."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: (tuple(info["columns"]), info["unique"])
        for name, info in found.items()
        if info["index"] or info["unique"]
    }


def test_households_by_settlement_use_the_ordered_index_alone():
    columns = [c for c, _u in indexes(Household).values()]
    assert ("settlement_id", "id") in columns
    assert ("settlement_id",) not in columns


def test_where_households_moved_from_is_indexed_once_each():
    columns = [c for c, _u in indexes(Household).values()]
    assert columns.count(("origin_county_id",)) == 1
    assert columns.count(("origin_township_id",)) == 1


def test_household_history_indexes_only_what_history_is_read_by():
    columns = {c for c, _u in indexes(Household.history.model).values()}
    for unread in ("building_id", "grid_id", "origin_county_id", "origin_township_id"):
        assert (unread,) not in columns
    for read in ("id", "history_date", "settlement_id"):
        assert (read,) in columns


def test_the_id_number_hash_has_its_unique_index_and_no_other():
    on_hash = [u for c, u in indexes(Person).values() if c == ("id_number_hash",)]
    assert on_hash == [True]


def test_the_id_number_hash_compares_byte_by_byte():
    """Migration 0013: a hash is matched whole, so its column (and unique index) compare
    bytes, not language rules (three times faster to build, cheaper on every write).  An
    ``AlterField`` of the field would lose the collation: this says so."""
    if connection.vendor != "postgresql":
        return  # SQLite compares text byte by byte already
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'id_number_hash'",
            [Person._meta.db_table],
        )
        assert cursor.fetchone() == ("C",)
        # The unique index compares the same way (it was rebuilt with the column).
        cursor.execute(
            "SELECT co.collname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_collation co ON co.oid = i.indcollation[0] "
            "WHERE i.indrelid = %s::regclass AND i.indisunique "
            "AND pg_get_indexdef(i.indexrelid) LIKE '%%id_number_hash%%'",
            [Person._meta.db_table],
        )
        assert cursor.fetchall() == [("C",)]
