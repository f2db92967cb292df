"""``load_demo`` leaves the planner statistics a bulk load needs (PostgreSQL).

Right after COPY the planner believes every table is empty until autovacuum
analyses it, and a server may run with autovacuum off (this project's CI
server does): the dashboard refresh and the work lists were then planned for
empty tables.  Each step that writes rows is followed by ANALYZE.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relocation.demo.management.commands.load_demo import analyze


def _tables_with_statistics(*tables):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)", [list(tables)]
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_load_demo_analyses_what_it_wrote():
    tables = ("communities_household", "communities_person", "employment_employmentrecord")
    if connection.vendor == "postgresql":
        assert _tables_with_statistics(*tables) == set()
    call_command("load_demo", households=40, stdout=io.StringIO())
    if connection.vendor == "postgresql":
        assert _tables_with_statistics(*tables) == set(tables)


@pytest.mark.django_db
def test_analyze_is_postgresql_only():
    with CaptureQueriesContext(connection) as queries:
        analyze()
    expected = ["ANALYZE"] if connection.vendor == "postgresql" else []
    assert [q["sql"] for q in queries.captured_queries] == expected
