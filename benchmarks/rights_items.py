"""Benchmark: the per-item rights figures (source ``rights_items``) beside ``rights``.

Read-only: computes the two sources for every settlement and for one, on
whatever database ``DATABASE_URL`` points at, and stores nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench DEBUG=true \\
        DJANGO_SETTINGS_MODULE=relocation.settings .venv/bin/python benchmarks/rights_items.py

Prints the data's size, then per source and scope: median and max seconds
over ``BENCH_REPEAT`` runs (default 3, after one warm-up), SQL queries per
run, settlements in the result and the non-zero components it would store
(one stored row each per period).
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from communities.models import Household, Settlement  # noqa: E402
from relocation.dashboards.registry import Window, registry  # noqa: E402
from services.models import HouseholdRight, RightsItem  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def measure(source, settlements, window):
    times = []
    for i in range(REPEAT + 1):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            result = source.compute(settlements, window)
        if i:
            times.append(time.perf_counter() - start)
    stored = sum(1 for row in result.values() for value in row.values() if value)
    return statistics.median(times), max(times), len(ctx.captured_queries), len(result), stored


def main():
    day = timezone.localdate()
    window = Window(start=day.replace(day=1), reference_date=day, income_year=day.year - 1)
    print(
        f"{Settlement.objects.count()} settlements, {Household.objects.count()} households, "
        f"{RightsItem.objects.active().count()} active items, "
        f"{HouseholdRight.objects.count()} household-right rows ({connection.vendor})"
    )
    one = Settlement.objects.filter(pk=Settlement.objects.order_by("pk").values("pk")[:1])
    for key in ("rights", "rights_items"):
        source = registry.sources[key]
        for label, settlements in (("all settlements", Settlement.objects.all()), ("one", one)):
            median, worst, queries, n, stored = measure(source, settlements, window)
            print(
                f"{key:13} {label:16} median {median:6.2f} s  max {worst:6.2f} s  "
                f"{queries} queries  {n} settlements  {stored} components"
            )


if __name__ == "__main__":
    main()
