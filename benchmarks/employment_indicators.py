"""Benchmark: employment and income indicators and work lists at scale.

Times the QuerySet methods every dashboard and work list of the employment
app is built on (``employment.querysets``), on whatever database
``DATABASE_URL`` points at.  Build the data first (``load_demo`` also builds
the employment and income demo):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... .venv/bin/python benchmarks/employment_indicators.py

Prints the demo's headline indicators, then one line per scenario: median,
p95 and max milliseconds over ``BENCH_REPEAT`` runs (default 5, after one
warm-up), SQL queries per run and the size of the result.  ``BENCH_EXPLAIN=1``
also prints PostgreSQL's EXPLAIN ANALYZE of each scenario's slowest query.
"""

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.utils import timezone  # noqa: E402

from communities.models import Household, Person, Settlement  # noqa: E402
from employment.models import HouseholdIncome  # noqa: E402
from employment.querysets import employment_figures, income_figures  # noqa: E402
from relocation.dashboards.demo import DEMO_HISTORY  # noqa: E402
from relocation.dashboards.periods import recent_periods  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
EXPLAIN = os.environ.get("BENCH_EXPLAIN") == "1"
PAGE = 100
COUNTY = os.environ.get("BENCH_COUNTY", "522301")  # 兴义市, the largest demo county
PROVINCE = "52"


def measure(fn):
    times, queries, result = [], 0, None
    for i in range(REPEAT + 1):
        reset_queries()
        start = time.perf_counter()
        result = fn()
        elapsed = (time.perf_counter() - start) * 1000
        if i:  # one warm-up run
            times.append(elapsed)
            queries = list(connection.queries)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, times[-1], queries, result


def explain(queries):
    if not queries or connection.vendor != "postgresql":
        return
    slowest = max(queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        for (line,) in cursor.fetchall():
            print("      " + line)


def size(result):
    if isinstance(result, tuple):
        return "count {:,}, page {}".format(*result)
    if isinstance(result, dict) and result and isinstance(next(iter(result)), datetime.date):
        return f"{len(result)} dates × {len(next(iter(result.values()))):,} areas"
    if isinstance(result, dict) and result and isinstance(next(iter(result.values())), dict):
        return f"{len(result):,} areas"
    return "1 row"


def work_list(qs, ordering):
    """What a work-list page runs: the count, then the first page of ``PAGE`` rows."""
    return qs.count(), len(list(qs.order_by(*ordering)[:PAGE]))


def main():
    settings.DEBUG = True  # record queries
    today = timezone.localdate()
    year = today.year - 1
    print(
        f"database: {connection.vendor}  households: {Household.objects.count():,}  "
        f"people: {Person.objects.count():,}  settlements: {Settlement.objects.count():,}  "
        f"date: {today}  income year: {year}  repetitions: {REPEAT}"
    )

    # Headline indicators (province level).
    start = time.perf_counter()
    emp = employment_figures(Person.objects.employment_summary(today))
    inc = income_figures(HouseholdIncome.objects.income_summary(year))
    below = Household.objects.below_monitoring_line(year).count()
    elapsed = time.perf_counter() - start
    employed = emp["employed"] or 1
    print(
        f"headline ({elapsed:.1f} s): labour force {emp['labour_force']:,}, "
        f"employed {emp['employed']:,} ({emp['employment_rate']:.2%}), "
        f"nearby {emp['employed_nearby']:,} ({emp['employed_nearby'] / employed:.1%}), "
        f"outside province {emp['employed_outside_province']:,}, "
        f"public-welfare {emp['public_welfare_posts']:,}, self-employed {emp['self_employed']:,}, "
        f"workshop {emp['workshop_employed']:,}, farming {emp['farming']:,}, "
        f"households with labour {emp['households_with_labour']:,}, "
        f"zero-employment households {emp['zero_employment_households']:,}"
    )
    growth = inc["per_capita_income_growth"]
    print(
        f"income {year}: per-capita net {inc['per_capita_net_income']:,.0f} yuan, growth "
        f"{growth:.2%}, wage share {inc['income_share_wage']:.1%}, "
        f"transfer share {inc['income_share_transfer']:.1%}, households below line {below:,}"
    )

    county = Household.objects.filter(settlement__county_id=COUNTY)
    province = Household.objects.filter(settlement__county__code__startswith=PROVINCE)
    county_people = Person.objects.filter(household__settlement__county_id=COUNTY)
    province_people = Person.objects.filter(
        household__settlement__county__code__startswith=PROVINCE
    )
    order_h = ("settlement_id", "number")
    order_p = ("household__settlement_id", "household__number", "id")
    scenarios = [
        (
            f"employment_summary({level})",
            lambda level=level: Person.objects.employment_summary(today, level),
        )
        for level in ("settlement", "county", "prefecture", "province")
    ]
    # The dates the demo's dashboards count in one pass: its past periods' last days and
    # today (relocation.dashboards.demo), one query.
    past = sorted(
        {
            spec.end
            for kind, n in DEMO_HISTORY.items()
            for spec in recent_periods(kind, today, n)
            if not spec.is_current(today)
        }
        | {today}
    )
    scenarios.append(
        (
            f"employment_summaries({len(past)} dates, settlement)",
            lambda: Person.objects.employment_summaries(past, "settlement"),
        )
    )
    scenarios += [
        (
            f"income_summary({level})",
            lambda level=level: HouseholdIncome.objects.income_summary(year, level),
        )
        for level in ("settlement", "county", "prefecture", "province")
    ]
    scenarios += [
        (
            f"zero_employment county {COUNTY}",
            lambda: work_list(county.zero_employment(today), order_h),
        ),
        ("zero_employment province", lambda: work_list(province.zero_employment(today), order_h)),
        (
            f"unemployed_labour county {COUNTY}",
            lambda: work_list(county_people.unemployed_labour(today), order_p),
        ),
        (
            "unemployed_labour province",
            lambda: work_list(province_people.unemployed_labour(today), order_p),
        ),
        (
            f"below_monitoring_line county {COUNTY}",
            lambda: work_list(county.below_monitoring_line(year), order_h),
        ),
        (
            "below_monitoring_line province",
            lambda: work_list(province.below_monitoring_line(year), order_h),
        ),
    ]
    print(f"{'scenario':<44} {'median':>9} {'p95':>9} {'max':>9} {'SQL':>4}  result")
    for label, fn in scenarios:
        med, p95, worst, queries, result = measure(fn)
        print(f"{label:<44} {med:9.1f} {p95:9.1f} {worst:9.1f} {len(queries):4d}  {size(result)}")
        if EXPLAIN:
            explain(queries)


if __name__ == "__main__":
    main()
