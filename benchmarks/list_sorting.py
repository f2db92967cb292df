"""Benchmark: every list of a big table, sorted by each of its columns, as each level.

An official clicks a column's heading to sort a list (``?o=N``): each click is a
page, and a heading that sorts 2 million people by an unindexed column makes
PostgreSQL read and sort them all.  This times, in process (Django test
client, no network), the first page of every admin list whose table holds at
least ``BENCH_MIN_ROWS`` rows (default 100,000), sorted by each column its
heading offers, both ways, signed in as the demo's administrator (the whole
country), province and county officials, and as the county official narrowed to
one settlement (``?area=s<id>``, the county's largest).  Each line: the list,
the column, the direction, the level, p50 and max milliseconds over
``BENCH_REPEAT`` requests (default 3, after two warm-ups), and ``SLOW`` past
300 ms.  A list's headings that are not links (``sortable_by``) are listed as
not offered; a sort the list refuses because it holds more than
``SORTED_ROWS_MAX`` rows (``communities.admin_lookups``) as refused, with the
time of the page that says so.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python benchmarks/list_sorting.py

Like ``pages.py`` it runs only on an unedited demo database
(``benchmarks/guard.py``) and writes nothing (one ``READ ONLY`` transaction).
``BENCH_ONLY`` (a substring of the list's label, e.g. ``person``) runs some lists only.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

import guard  # noqa: E402  (benchmarks/guard.py)
import machine  # noqa: E402  (benchmarks/machine.py)
from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from pages import read_only  # noqa: E402  (benchmarks/pages.py)
from timing import measure  # noqa: E402  (benchmarks/timing.py)

from communities.models import Settlement  # noqa: E402

LEVELS = ("admin", "province", "county")
NARROWED = "county, one settlement"
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
MIN_ROWS = int(os.environ.get("BENCH_MIN_ROWS", "100000"))
GOAL_MS = 300


def estimated_rows(model):
    """The planner's estimate of the rows of ``model``'s table (PostgreSQL), or its count."""
    if connection.vendor != "postgresql":
        return model._default_manager.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        return cursor.fetchone()[0]


def big_lists():
    """(label, changelist URL) of the registered admins whose tables are big."""
    for model, _model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        if estimated_rows(model) >= MIN_ROWS:
            opts = model._meta
            yield opts.label, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def timed(client, url, params):
    """(median ms, max ms, the last response) of GET ``url`` (``timing.measure``)."""
    responses = []
    median, _p95, worst, _queries, _sql_ms = measure(
        client, url, params, repeat=REPEAT, responses=responses
    )
    return median, worst, responses[-1]


def main():
    guard.require_demo_data()
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    read_only()
    only = os.environ.get("BENCH_ONLY", "")
    users = {u.username: u for u in get_user_model().objects.filter(username__in=LEVELS)}
    missing = [name for name in LEVELS if name not in users]
    if missing:
        sys.exit(f"the demo logins {missing} are missing: run manage.py load_demo first")
    print(machine.describe())
    print(f"lists of tables with at least {MIN_ROWS:,} rows; repetitions: {REPEAT}")
    print(f"{'list':<34} {'column':<28} {'level':<22} {'p50 ms':>8} {'max ms':>8}")
    county = users["county"]
    settlement = (
        Settlement.objects.visible_to(county)
        .annotate(n=Count("households"))
        .order_by("-n", "pk")
        .first()
    )
    levels = [(level, users[level], {}) for level in LEVELS]
    levels.append((NARROWED, county, {"area": f"s{settlement.pk}"}))
    slow = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        for label, url in big_lists():
            if only in label:
                slow += sort_each_column(label, url, levels)
        transaction.set_rollback(True)
    print(f"sorted pages past {GOAL_MS} ms: {slow}")


def sort_each_column(label, url, levels):
    """Print the list at ``url`` sorted by each column, as each level; the pages past the goal."""
    slow = 0
    for level, user, narrowed in levels:
        client = Client()
        client.force_login(user)
        med, worst, response = timed(client, url, narrowed)
        print(f"{label:<34} {'(default order)':<28} {level:<22} {med:8.1f} {worst:8.1f}")
        cl = response.context["cl"]
        for number, name in enumerate(cl.list_display):
            if name == "action_checkbox":
                continue
            if name not in cl.model_admin.get_sortable_by(response.wsgi_request) or not (
                cl.get_ordering_field(name)
            ):
                if level == levels[0][0]:
                    print(f"{label:<34} {name:<28} not offered")
                continue
            for sign in ("", "-"):
                order = f"{sign}{number}"
                med, worst, response = timed(client, url, {**narrowed, "o": order})
                column = f"{name} {'desc' if sign else 'asc'}"
                refused = response.context["cl"].params.get("o") != order
                flag = "  refused: list too long" if refused else ""
                if worst > GOAL_MS:
                    flag += "  SLOW"
                    slow += 1
                print(f"{label:<34} {column:<28} {level:<22} {med:8.1f} {worst:8.1f}{flag}")
                sys.stdout.flush()
    return slow


if __name__ == "__main__":
    main()
