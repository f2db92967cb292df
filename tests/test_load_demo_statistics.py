"""``load_demo`` leaves the planner statistics a bulk load needs (PostgreSQL).

Right after COPY the planner believes every table is empty until autovacuum
analyses it, and a server may run with autovacuum off (this project's CI
server does): the dashboard refresh and the work lists were then planned for
empty tables.  Each step that writes rows is followed by ANALYZE of the tables it
changed.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Household, Person
from employment.models import EmploymentRecord
from relocation.demo.management.commands.load_demo import (
    HISTORY_STATISTICS_TARGET,
    analyze,
    database_now,
    history_tables,
    table_sizes,
)


def _fresh_statistics(*models):
    """The tables of ``models`` whose planner row count is their row count (just analysed)."""
    fresh = set()
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            if cursor.fetchone()[0] == model._base_manager.count():
                fresh.add(table)
    return fresh


@pytest.mark.django_db
def test_load_demo_analyses_what_it_wrote():
    models = (Household, Person, EmploymentRecord)
    call_command("load_demo", households=40, stdout=io.StringIO())
    if connection.vendor == "postgresql":
        assert _fresh_statistics(*models) == {m._meta.db_table for m in models}


@pytest.mark.django_db
def test_analyze_does_nothing_off_postgresql():
    """Elsewhere no statement is sent (on PostgreSQL: the next test)."""
    with CaptureQueriesContext(connection) as queries:
        analysed = analyze(table_sizes())
    if connection.vendor != "postgresql":
        assert analysed == [] and queries.captured_queries == []
    else:
        # Reads, ANALYZE and the settings and savepoints around them: nothing written.
        reads = ("SELECT", "ANALYZE", "SET LOCAL", "SAVEPOINT", "RELEASE SAVEPOINT")
        assert all(q["sql"].lstrip().startswith(reads) for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_after_a_step_only_the_tables_it_changed_are_analysed(request):
    """Every table whose size changed is analysed, and a table nobody wrote is not."""
    if connection.vendor != "postgresql":
        return  # the test above: nothing to do elsewhere
    call_command("load_demo", "--households=30", "--only=communities", stdout=io.StringIO())
    untouched = "public.demo_analyse_canary"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {untouched} (n integer)")
    request.addfinalizer(lambda: connection.cursor().execute(f"DROP TABLE {untouched}"))
    sizes = table_sizes()
    household = f"public.{Household._meta.db_table}"
    assert sizes[household] > 0 and sizes[untouched] == 0
    _grow_households(400, 0)  # more than the table's free space: it grows
    analysed = analyze(sizes)
    assert household in analysed
    assert untouched not in analysed
    assert _fresh_statistics(Household) == {Household._meta.db_table}


def _grow_households(n, first):
    """``n`` more households, copies of the first but for their numbers."""
    template = Household.objects.order_by("pk").first()
    fields = [f.attname for f in Household._meta.concrete_fields if not f.primary_key]
    rows = [Household(**{f: getattr(template, f) for f in fields}) for _n in range(n)]
    for place, row in enumerate(rows):
        row.number = f"T{first + place:06d}"
    Household.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        # Counted now, not up to a second later, after an ANALYZE that follows.
        cursor.execute("SELECT pg_stat_force_next_flush()")


@pytest.mark.django_db(transaction=True)
def test_a_table_analysed_since_the_step_began_at_its_size_is_not_analysed_again():
    """``since``: a table the step analysed itself after it grew (as the employment step
    does), or that ``load_demo`` analysed when a step beside ended, is left alone; once it
    grows again, or without ``since``, it is analysed."""
    if connection.vendor != "postgresql":
        return  # no statistics to take elsewhere (test_analyze_does_nothing_off_postgresql)
    call_command("load_demo", "--households=30", "--only=communities", stdout=io.StringIO())
    household = f"public.{Household._meta.db_table}"
    since, sizes = database_now(), table_sizes()
    _grow_households(400, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {household}")
    assert household not in analyze(sizes, since=since)
    assert household in analyze(sizes)  # the size changed; nothing tells when it was analysed
    # Analysed before the step began: analysed again.
    assert household in analyze(sizes, since=database_now())
    since, sizes = database_now(), table_sizes()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {household}")
    _grow_households(400, 400)  # grew after its ANALYZE
    assert household in analyze(sizes, since=since)
    assert _fresh_statistics(Household) == {Household._meta.db_table}


@pytest.mark.django_db(transaction=True)
def test_history_tables_get_coarser_statistics_than_the_live_tables():
    """The live tables keep the server's statistics target (100: a histogram of up to
    101 bounds); the history tables, which pages only look up by id or time, are
    analysed at ``HISTORY_STATISTICS_TARGET`` (10), ten times cheaper."""
    if connection.vendor != "postgresql":
        return  # no statistics to take elsewhere (test_analyze_does_nothing_off_postgresql)
    call_command("load_demo", "--households=40", "--only=communities", stdout=io.StringIO())
    assert Person._base_manager.count() > 101  # enough distinct ids for a full histogram
    history = f"public.{Person.history.model._meta.db_table}"
    assert history in history_tables()
    assert f"public.{Person._meta.db_table}" not in history_tables()

    def bounds(model):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT cardinality(histogram_bounds) FROM pg_stats "
                "WHERE tablename = %s AND attname = 'id'",
                [model._meta.db_table],
            )
            return cursor.fetchone()[0]

    assert bounds(Person) == 101
    assert bounds(Person.history.model) == HISTORY_STATISTICS_TARGET + 1
    with connection.cursor() as cursor:  # the coarser target held for that ANALYZE only
        cursor.execute("SHOW default_statistics_target")
        assert cursor.fetchone()[0] == "100"


@pytest.mark.django_db
def test_a_table_locked_after_the_look_at_the_locks_is_left_out_without_waiting(monkeypatch):
    """A step that starts beside another may lock a table between the query's look at
    ``pg_locks`` and ``pg_relation_size``, which waits for that lock: the command's
    process once waited there for a whole step.  The size waits ``SIZE_LOCK_TIMEOUT``
    at most, and the query looks again, when the lock is seen and the table left out."""
    if connection.vendor != "postgresql":
        assert table_sizes() == {}
        return
    import psycopg

    from relocation.demo.management.commands import load_demo

    table = f"public.{Household._meta.db_table}"
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
    )
    try:
        other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # held: not committed
        real, looks = load_demo._sizes, []

        def racing():
            # The first look misses the lock, as when it is taken just after the look.
            query = load_demo._TABLE_SIZES
            if not looks:
                monkeypatch.setattr(load_demo, "_TABLE_SIZES", query.split("AND NOT EXISTS")[0])
            looks.append(query)
            try:
                return real()
            finally:
                monkeypatch.setattr(load_demo, "_TABLE_SIZES", query)

        monkeypatch.setattr(load_demo, "_sizes", racing)
        sizes = table_sizes()
    finally:
        other.close()
    assert len(looks) == 2  # timed out once, then looked again
    assert table not in sizes
    assert f"public.{Person._meta.db_table}" in sizes
