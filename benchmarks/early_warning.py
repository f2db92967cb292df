"""Benchmark: the 防返贫 early-warning scan at province scale.

Times ``governance.monitoring_scan`` on whatever database ``DATABASE_URL``
points at, on the demo (``load_demo`` builds the monitoring demo, its rules and
a first scan):

    createdb -h 127.0.0.1 -U postgres relocation_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py load_demo --households 500000     # ~2 million people
    .venv/bin/python benchmarks/early_warning.py

Prints, for the current year's rules: the time of each rule's set-based query
alone (read only, ``BENCH_REPEAT`` runs, default 3, after one warm-up), then
the whole scan twice: a *first* scan (the demo's alerts removed first, so every
cause raises an alert) and a *repeat* scan (nothing new: the nightly case).

The scan writes alerts.  The script therefore refuses to run when the database
holds settlements the demo did not create (real data would get real alerts);
``BENCH_ALLOW_OTHER_DATA=1`` overrides that on a database you know to be a copy.
"""

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

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from communities.demo import demo_settlements  # noqa: E402
from communities.models import Household, Person, Settlement  # noqa: E402
from governance.models import EarlyWarningAlert, EarlyWarningRule  # noqa: E402
from governance.monitoring_scan import causes, scan  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def refuse_foreign_data():
    if os.environ.get("BENCH_ALLOW_OTHER_DATA") == "1":
        return
    foreign = Settlement.objects.exclude(pk__in=demo_settlements().values("pk")).count()
    if foreign:
        sys.exit(
            f"This database holds {foreign:,} settlements the demo did not create: the scan "
            "would raise alerts on them. Use a database built by `load_demo`, or set "
            "BENCH_ALLOW_OTHER_DATA=1 on a copy."
        )
    if not demo_settlements().exists():
        sys.exit("No demo data: run `manage.py load_demo --households 500000` first.")


def timed(fn):
    start = time.perf_counter()
    cpu = time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def main():
    refuse_foreign_data()
    today = timezone.localdate()
    rules = list(EarlyWarningRule.objects.for_year(today.year).select_related("province"))
    if not rules:
        sys.exit(f"No active early-warning rules for {today.year}: run `load_demo` first.")
    people = Person.objects.count()
    households = Household.objects.count()
    print(
        f"{connection.vendor}, {people:,} people, {households:,} households, "
        f"{Settlement.objects.count():,} settlements, {len(rules)} rules of {today.year}"
    )
    print("Each rule's query alone (seconds: median / max of the runs, causes found):")
    for rule in sorted(rules, key=lambda r: (r.province_id, r.kind)):
        times, found = [], 0
        for i in range(REPEAT + 1):
            elapsed, _cpu, result = timed(lambda rule=rule: causes(rule, today))
            found = len(result)
            if i:
                times.append(elapsed)
        print(
            f"  {rule.province.name} {rule.get_kind_display():<28} "
            f"{statistics.median(times):6.2f} / {max(times):6.2f} s  {found:>8,}"
        )

    demo = demo_settlements().values("pk")
    alerts = EarlyWarningAlert.objects.filter(household__settlement__in=demo)
    ids = list(alerts.values_list("pk", flat=True))
    history = EarlyWarningAlert.history.model.objects.filter(id__in=ids)
    history._raw_delete(history.db)
    gone = EarlyWarningAlert.objects.filter(pk__in=ids)
    removed = gone._raw_delete(gone.db)
    print(f"Removed the demo's {removed:,} alerts for a first scan.")
    for label in ("first scan", "repeat scan"):
        elapsed, cpu, result = timed(lambda: scan(today))
        raised = sum(r["raised"] for r in result.values())
        found = sum(r["found"] for r in result.values())
        print(
            f"{label:<12} {elapsed:7.1f} s wall ({cpu:.1f} s CPU in Python): "
            f"{found:,} causes, {raised:,} alerts raised"
        )


if __name__ == "__main__":
    main()
