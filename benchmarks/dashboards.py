"""Benchmark: dashboards at 2 million people, against a hand-written SQL reference.

Measures, on whatever database ``DATABASE_URL`` points at (and prints its size
on disk, PostgreSQL):

1. the full refresh of the running year/quarter/month (the nightly job, on
   ``DASHBOARD_WORKERS`` connections as ``snapshot_indicators`` runs it) and,
   if asked, the snapshots of past periods (``--snapshot N`` months);
2. server time (Django test client, no network) and SQL queries of the
   province, prefecture, county and settlement dashboards and the county's
   Excel export, for the demo's province / prefecture / county officials;
3. the same figures (persons, households, labour force, employed, employment
   rate, per-capita net income, by prefecture) from ONE hand-written SQL
   aggregation over the raw tables, timed, and compared number by number;
4. the refresh after an import of 10,000 employment records (bulk_create with
   history, as the importer writes them), inside a transaction that is rolled
   back, so the database is left as it was.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... .venv/bin/python manage.py snapshot_indicators --months 12
    DATABASE_URL=... .venv/bin/python benchmarks/dashboards.py

(``--snapshot N`` stores the last N months first, timing each.)  On
PostgreSQL it runs ``ANALYZE`` first: right after ``load_demo`` the tables
have no planner statistics yet.
"""

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

sys.path.insert(0, str(Path(__file__).resolve().parent))
import guard  # noqa: E402
import machine  # noqa: E402  (benchmarks/machine.py)
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import REPEAT, measure  # noqa: E402  (benchmarks/timing.py)

from communities.models import Household, Person, Settlement  # noqa: E402
from employment import enums  # noqa: E402
from employment.models import EmploymentRecord  # noqa: E402
from relocation.dashboards import engine  # noqa: E402
from relocation.dashboards.models import Period  # noqa: E402
from relocation.dashboards.periods import PeriodKind, income_year, recent_periods  # noqa: E402

REFERENCE_SQL = """
WITH people AS (
    SELECT p.id, p.household_id, s.county_id,
           p.birth_date <= %(latest_birth)s AND p.birth_date > %(earliest_birth)s
           AND p.labour_ability NOT IN ('lost', 'none') AND p.school_stage = '' AS labour
    FROM communities_person p
    JOIN communities_household h ON h.id = p.household_id
    JOIN communities_settlement s ON s.id = h.settlement_id
), labour AS (
    SELECT people.*, EXISTS (
        SELECT 1 FROM employment_employmentrecord e
        WHERE e.person_id = people.id AND e.start_date <= %(day)s
          AND (e.end_date IS NULL OR e.end_date >= %(day)s)
          AND e.kind IN ('wage', 'self_employed', 'public_welfare', 'flexible')
    ) AS employed
    FROM people WHERE labour
), pop AS (
    SELECT substr(county_id, 1, 4) AS area, count(*) AS persons,
           count(DISTINCT household_id) AS households
    FROM people GROUP BY 1
), emp AS (
    SELECT substr(county_id, 1, 4) AS area, count(*) AS labour_force,
           count(*) FILTER (WHERE employed) AS employed
    FROM labour GROUP BY 1
), inc AS (
    SELECT substr(s.county_id, 1, 4) AS area, sum(i.net_income) AS net_income,
           sum(i.household_size) AS income_persons
    FROM employment_householdincome i
    JOIN communities_household h ON h.id = i.household_id
    JOIN communities_settlement s ON s.id = h.settlement_id
    WHERE i.year = %(year)s GROUP BY 1
)
SELECT pop.area || '00', pop.persons, pop.households, emp.labour_force, emp.employed,
       inc.net_income, inc.income_persons
FROM pop LEFT JOIN emp USING (area) LEFT JOIN inc USING (area)
WHERE pop.area LIKE %(prefix)s
"""


def timed(label, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.1f} s  {result if result is not None else ''}")
    return result, seconds


def time_sources(today):
    """Each source of every installed app, alone, for all settlements: what the nightly job pays."""
    from relocation.dashboards.registry import registry

    spec = recent_periods(PeriodKind.YEAR, today, 1)[-1]
    window = engine.window_for(spec, today)
    settlements = Settlement.objects.all()
    print(f"indicator sources over {settlements.count():,} settlements, {spec.code}:")
    total = 0.0
    for source in registry.sources.values():
        start = time.perf_counter()
        result = source.compute(settlements, window)
        seconds = time.perf_counter() - start
        total += seconds
        app = source.compute.__module__.split(".")[0]
        print(f"  {app:<12} {source.key:<28} {seconds:7.2f} s  {len(result):>6} settlements")
    print(f"  all sources: {total:.1f} s")


def reference(province_code, day):
    from communities.models import shift_years

    params = {
        "day": day,
        "latest_birth": shift_years(day, -settings.LABOUR_AGE_MIN),
        "earliest_birth": shift_years(day, -(settings.LABOUR_AGE_MAX + 1)),
        "year": income_year(day),
        "prefix": province_code[:2] + "%",
    }
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL, params)
        rows = cursor.fetchall()
    return rows, (time.perf_counter() - start) * 1000


def simulated_import(county, count=10_000):
    """10,000 flexible-work records for labour-force people of one county, in
    roster order (grouped by settlement, as a county's spreadsheet is), written
    like the importer writes them: ``bulk_create`` with history rows."""
    today = timezone.localdate()
    people = list(
        Person.objects.filter(household__settlement__county_id=county)
        .labour_force(today)
        .order_by("household__settlement_id", "pk")
        .values_list("pk", flat=True)[:count]
    )
    records = [
        EmploymentRecord(
            person_id=pk,
            kind=enums.EmploymentKind.FLEXIBLE,
            place=enums.WorkPlace.IN_COUNTY,
            employer_name="基准测试导入",
            start_date=today - datetime.timedelta(days=1),
        )
        for pk in people
    ]
    EmploymentRecord.objects.bulk_create(records, batch_size=2000)
    return len(records)


def main():
    guard.require_demo_data()
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshot", type=int, default=0, help="store the last N months first")
    parser.add_argument("--skip-refresh", action="store_true")
    parser.add_argument(
        "--sources",
        action="store_true",
        help="time each indicator source over all settlements (running year) first",
    )
    options = parser.parse_args()

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    if connection.vendor == "postgresql":
        # Right after a bulk load the planner has no statistics yet (autovacuum
        # gets there later); without them every figure here is meaningless.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{machine.describe()}\n"
        f"database: {connection.vendor}  households: {Household.objects.count():,}  "
        f"people: {Person.objects.count():,}  employment records: "
        f"{EmploymentRecord.objects.count():,}  settlements: {Settlement.objects.count():,}  "
        f"repetitions: {REPEAT}"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size on disk: {cursor.fetchone()[0]}")
    today = timezone.localdate()
    if options.sources:
        time_sources(today)
    cache = {}
    for spec in recent_periods(PeriodKind.MONTH, today, options.snapshot)[:-1]:
        timed(f"snapshot {spec.code}", engine.store_period, spec, spec.end, cache=cache)
    if not options.skip_refresh:
        workers = engine.setting("DASHBOARD_WORKERS")
        timed(
            f"full refresh of the running year, quarter and month (the nightly job, "
            f"{workers} connections)",
            engine.refresh_live,
            full=True,
        )
    print(f"stored periods: {Period.objects.count()}")

    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = {
        "admin": User.objects.get(username="admin"),
        "province": User.objects.get(username="province"),
        "prefecture": User.objects.get(username="prefecture"),
        "county": User.objects.get(username="county"),
    }
    county_code = users["county"].area_scopes.get().region_id
    province_code = users["province"].area_scopes.get().region_id
    settlement = Settlement.objects.filter(county_id=county_code).order_by("pk").first()

    settings.DEBUG = True  # record queries
    settings.DASHBOARD_MAX_AGE = 3600  # page time alone; the refresh is measured below
    scenarios = [
        ("national dashboard, every province (admin)", "admin", "/dashboard/"),
        ("province dashboard (province official)", "province", f"/dashboard/{province_code}/"),
        (
            "prefecture dashboard (prefecture official)",
            "prefecture",
            f"/dashboard/{users['prefecture'].area_scopes.get().region_id}/",
        ),
        ("county dashboard (county official)", "county", f"/dashboard/{county_code}/"),
        (
            "settlement dashboard (county official)",
            "county",
            f"/dashboard/settlement/{settlement.pk}/",
        ),
        ("county dashboard, quarter", "county", f"/dashboard/{county_code}/?kind=quarter"),
        ("county export .xlsx", "county", f"/dashboard/{county_code}/?format=xlsx"),
    ]
    # Each page twice: rendered every time (its kept body thrown away before each
    # request: the first view after a refresh), and as seen again until the next
    # refresh (relocation/dashboards/pagecache.py; the export is never kept).
    from relocation.dashboards import pagecache

    for title, before_each in (
        ("rendered afresh (first view after a refresh)", pagecache.clear),
        ("seen again before the next refresh (kept body)", None),
    ):
        print(title)
        print(f"{'page':<46} {'median':>8} {'p95':>8} {'max':>8} {'queries':>8} {'SQL ms':>8}")
        for label, who, url in scenarios:
            client = Client()
            client.force_login(users[who])
            median, p95, worst, queries, sql_ms = measure(client, url, before_each=before_each)
            print(f"{label:<46} {median:8.0f} {p95:8.0f} {worst:8.0f} {queries:8d} {sql_ms:8.0f}")

    # The same figures from one hand-written SQL aggregation over the raw tables.
    from relocation.dashboards import areas
    from relocation.dashboards.dashboard import build

    settings.DEBUG = False
    rows, ref_ms = reference(province_code, today)
    print(f"hand-written SQL over the raw tables (province, by prefecture): {ref_ms:.0f} ms")
    dash = build(areas.region_area(users["province"], province_code), users["province"])
    by_code = {row.key: row.values for row in dash.rows}
    mismatches = 0
    for code, persons, households, labour, employed, net, income_persons in rows:
        mine = by_code.get(code, {})
        expected = {
            "persons": persons,
            "households": households,
            "labour_force": labour or 0,
            "employed": employed or 0,
        }
        for key, value in expected.items():
            if Decimal(mine.get(key) or 0) != Decimal(value):
                mismatches += 1
                print(f"  MISMATCH {code} {key}: dashboard {mine.get(key)} reference {value}")
        if income_persons:
            ref_pc = Decimal(net) / Decimal(income_persons)
            if abs(Decimal(mine["per_capita_net_income"]) - ref_pc) > Decimal("0.01"):
                mismatches += 1
                print(f"  MISMATCH {code} per capita: {mine['per_capita_net_income']} vs {ref_pc}")
        rate = Decimal(employed or 0) / Decimal(labour) * 100 if labour else None
        print(
            f"  {code} persons {persons:,} households {households:,} labour {labour:,} "
            f"employed {employed:,} rate {rate:.2f}% per capita "
            f"{(Decimal(net) / Decimal(income_persons)) if income_persons else 0:,.0f}"
        )
    print(f"dashboard vs reference: {'all equal' if not mismatches else f'{mismatches} differ'}")

    # Refresh after an import of 10,000 rows (rolled back afterwards).
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            count, _s = timed("import of employment records", simulated_import, county_code)
            timed(
                f"refresh after importing {count:,} rows in county {county_code}",
                engine.refresh_live,
                now=timezone.now() + datetime.timedelta(seconds=61),
            )
            client = Client()
            client.force_login(users["county"])
            settings.DASHBOARD_MAX_AGE = 3600
            dash_after = build(areas.region_area(users["county"], county_code), users["county"])
            print(
                "county employed after the import: "
                f"{int(dash_after.total.values['employed']):,} (flexible work counts as employed)"
            )
            raise Rollback
    except Rollback:
        print("(import and refresh rolled back)")


if __name__ == "__main__":
    main()
