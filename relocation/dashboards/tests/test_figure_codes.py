"""Migration 0009: the stored figures' keys and codes compare bytes (PostgreSQL)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

COLUMNS = {
    ("dashboards_settlementfigure", "county_code"),
    ("dashboards_settlementfigure", "township_code"),
    ("dashboards_settlementfigure", "key"),
    ("dashboards_areafigure", "level"),
    ("dashboards_areafigure", "area_code"),
    ("dashboards_areafigure", "key"),
}


def test_the_figures_keys_and_codes_compare_byte_by_byte():
    """An ``AlterField`` of one of these columns would drop its collation: this says so.
    The indexes over them compare the same way (rebuilt with the columns)."""
    if connection.vendor != "postgresql":
        return  # SQLite compares text byte by byte already
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_name IN ('dashboards_settlementfigure', 'dashboards_areafigure') "
            "AND collation_name IS NOT NULL"
        )
        found = {(table, column): collation for table, column, collation in cursor.fetchall()}
        assert found == dict.fromkeys(COLUMNS, "C")
        cursor.execute(
            "SELECT DISTINCT co.collname FROM pg_index i "
            "CROSS JOIN unnest(i.indcollation) AS u(coll) "
            "JOIN pg_collation co ON co.oid = u.coll "
            "WHERE i.indrelid IN ('dashboards_settlementfigure'::regclass, "
            "'dashboards_areafigure'::regclass)"
        )
        assert cursor.fetchall() == [("C",)]


def test_a_county_prefix_is_a_range_of_the_index():
    """``county_code LIKE '5223%'`` is read as a range of the (period, county_code, key)
    index, not as a filter over every figure of the period."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT key, SUM(value) FROM dashboards_settlementfigure "
            "WHERE period_id = 1 AND county_code LIKE '5223%' GROUP BY key"
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    bounds = plan.replace("(", "").replace(")", "").replace("::text", "")
    assert "Index Cond" in plan and "county_code >= '5223' AND county_code < '5224'" in bounds
