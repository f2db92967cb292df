"""``relocation.rows.reserve_ids_of``: ids of several tables taken from their sequences in
one statement (the demo's communities step takes a settlement's nine tables' at once)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relocation.rows import reserve_ids, reserve_ids_of

pytestmark = pytest.mark.django_db

SETTLEMENTS, BUILDINGS, GRIDS = (
    "communities_settlement",
    "communities_building",
    "communities_gridunit",
)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("ids are reserved from sequences on PostgreSQL only (SQLite has none)")


def test_each_table_gets_its_own_next_ids_in_order_in_one_statement(postgresql):
    with connection.cursor() as cursor:
        before = {table: reserve_ids(cursor, table, 1)[0] for table in (SETTLEMENTS, BUILDINGS)}
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        settlements, buildings, grids = reserve_ids_of(
            cursor, [(SETTLEMENTS, "id", 3), (BUILDINGS, "id", 2), (GRIDS, "id", 0)]
        )
    with connection.cursor() as cursor:
        after = {table: reserve_ids(cursor, table, 1)[0] for table in (SETTLEMENTS, BUILDINGS)}
    assert len(queries) == 1
    first = before[SETTLEMENTS] + 1
    assert settlements == [first, first + 1, first + 2]
    assert buildings == [before[BUILDINGS] + 1, before[BUILDINGS] + 2]
    assert grids == []
    # The sequences moved on by exactly what was taken.
    assert after == {SETTLEMENTS: first + 3, BUILDINGS: before[BUILDINGS] + 3}
