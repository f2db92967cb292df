"""Benchmark: the nightly full refresh of the running year, quarter and month, phase by phase.

Runs ``engine.refresh_live(full=True)`` on ``DASHBOARD_WORKERS`` connections (as
``snapshot_indicators`` does) on whatever database ``DATABASE_URL`` points at, and
prints where the time went: each source (summed over the threads that ran it), the
compute pass (``compute_ahead``), writing the settlement rows (``write_figures``),
the region sums (``rollup``), deleting the previous rows, and the rest (mostly the
commit).  It writes only the dashboards' own derived figures, as the nightly job does.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_national \\
        .venv/bin/python manage.py load_demo --national --no-history
    DATABASE_URL=... .venv/bin/python benchmarks/refresh_phases.py [--workers N]

Each refresh deletes the previous figures: where autovacuum is off, ``VACUUM`` the
tables ``dashboards_settlementfigure`` and ``dashboards_areafigure`` between runs, as
autovacuum would (the README's national figures say how much the dead rows cost).
"""

import argparse
import collections
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.db.models.query import QuerySet  # noqa: E402

from relocation.dashboards import engine  # noqa: E402
from relocation.dashboards.registry import registry  # noqa: E402

PHASES = ("compute_ahead", "store_period", "write_figures", "rollup", "settlement_places")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=engine.setting("DASHBOARD_WORKERS"))
    options = parser.parse_args()
    seconds = collections.Counter()

    def timed(name, function):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start

        return run

    for key, source in list(registry.sources.items()):
        app = source.compute.__module__.split(".")[0]
        label = f"source {app}:{key}{' (flow)' if source.flow else ''}"
        # A flow that counts several windows in one pass (``Source.dates``) does the
        # running year, quarter and month so: its time is that pass's.
        registry.sources[key] = dataclasses.replace(
            source,
            compute=timed(label, source.compute),
            dates=timed(label, source.dates) if source.dates is not None else None,
        )
    for name in PHASES:
        setattr(engine, name, timed(name, getattr(engine, name)))
    QuerySet.delete = timed("delete (the previous rows)", QuerySet.delete)

    start = time.perf_counter()
    result = engine.refresh_live(full=True, workers=options.workers)
    total = time.perf_counter() - start
    print(f"full refresh on {options.workers} connection(s): {result}")
    for name, value in seconds.most_common():
        print(f"  {value:8.1f} s  {name}")
    rest = total - seconds["compute_ahead"] - seconds["store_period"]
    print(f"  {rest:8.1f} s  the rest (the commit, locking, the stale marks)")
    print(f"total {total:.1f} s")


if __name__ == "__main__":
    main()
