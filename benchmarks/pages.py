"""Benchmark: the pages officials and workers open every day, as the demo logins.

Times, in process (Django test client, no network), p50/p95 and SQL queries per
page, signed in as the demo's administrator, province, prefecture and county
officials and the community worker (``relocation/demo``, ``communities/demo``):

* 工作清单 (the work-list page with its four counts): each level;
* the household edit form (a household of the worker's first settlement, with
  its members), as the county official and the worker;
* the household and person change lists: county, prefecture, province and the
  whole country (``admin``, the superuser of the demo);
* drill-downs of the dashboards and the 工作清单: 适用权益全部落实, 尚有适用权益未落实
  and 零就业家庭 on the household list, 未就业劳动力 on the person list (county,
  prefecture, province), and the middle and last page of 适用权益全部落实;
* the search on both lists: a full name and a full ID number (county,
  prefecture, whole country).

Build the data first (the demo):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... DEBUG=true DJANGO_SETTINGS_MODULE=relocation.settings \\
        .venv/bin/python benchmarks/pages.py

It runs only on an unedited demo database (``benchmarks/guard.py``) and writes
nothing: every request runs inside one ``READ ONLY`` transaction (PostgreSQL
refuses any write in it), sessions are signed cookies, the sign-in time is not
recorded nor logged as a sign-in event, and the read-audit rows that officials who may see personal data
cause are counted instead of written (that COPY of at most 50 rows is the only
work of a real request left out).
``BENCH_REPEAT`` (default 20) sets the requests per page; ``BENCH_ONLY`` (a
substring of the page label, e.g. ``工作清单``) runs some pages only.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

import guard  # noqa: E402  (benchmarks/guard.py)
import machine  # noqa: E402  (benchmarks/machine.py)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from timing import REPEAT, measure  # noqa: E402  (benchmarks/timing.py)

from communities import audit  # noqa: E402
from communities.models import Household, Person, Settlement  # noqa: E402

LEVELS = ("admin", "province", "prefecture", "county", "worker")


def sample_person(user):
    """A member of a household in ``user``'s scope, about half-way through their rows."""
    people = Person.objects.visible_to(user)
    first = people.order_by("pk").values_list("pk", flat=True).first()
    last = people.order_by("-pk").values_list("pk", flat=True).first()
    return people.filter(pk__gte=(first + last) // 2).order_by("pk").first()


def last_page(user, url, params):
    """The number of the last page of a list, as its first page gives it."""
    client = Client()
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.context["cl"].paginator.num_pages


def scenarios(users):
    worklists = reverse("worklists")
    households = reverse("admin:communities_household_changelist")
    people = reverse("admin:communities_person_changelist")
    for level in ("county", "prefecture", "province", "worker"):
        yield f"工作清单 {level}", level, worklists, None
    worker_person = sample_person(users["worker"])
    household = reverse("admin:communities_household_change", args=[worker_person.household_id])
    for level in ("county", "worker"):
        yield f"household form {level}", level, household, None
    for level in ("county", "prefecture", "province", "admin"):
        yield f"household list {level}", level, households, None
        yield f"person list {level}", level, people, None
    for level in ("county", "prefecture", "province"):
        # Drill-downs of the dashboards' cards and the 工作清单.
        for value in ("complete", "incomplete"):
            yield f"household list rights={value} {level}", level, households, {"rights": value}
        yield (
            f"household list employment=zero_employment {level}",
            level,
            households,
            {"employment": "zero_employment"},
        )
        yield (
            f"person list employment=unemployed {level}",
            level,
            people,
            {"employment": "unemployed"},
        )
        yield (
            f"household list pairing=unvisited {level}",
            level,
            households,
            {"pairing": "unvisited"},
        )
        # The middle and the last page of the longest of them (its count is exact:
        # stored figures).
        complete = {"rights": "complete"}
        last = last_page(users[level], households, complete)
        for name, number in (("middle", (last + 1) // 2), ("last", last)):
            yield (
                f"household list rights=complete {name} page ({number}) {level}",
                level,
                households,
                {**complete, "p": number},
            )
    for level in ("county", "prefecture", "admin"):
        person = sample_person(users[level])
        yield f"person search name {level}", level, people, {"q": person.name}
        yield f"person search ID {level}", level, people, {"q": person.id_number}
        yield f"household search name {level}", level, households, {"q": person.name}
        yield f"household search ID {level}", level, households, {"q": person.id_number}


AUDITED = []


def read_only():
    """Nothing the pages do is written: see the module docstring."""
    from django.contrib.auth import user_logged_in

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    # No sign-in time, no sign-in event: the test client's force_login is not a sign-in.
    user_logged_in.receivers.clear()
    user_logged_in.sender_receivers_cache.clear()
    audit._insert = AUDITED.extend


def main():
    guard.require_demo_data()
    setup_test_environment()
    settings.DEBUG = True  # record queries
    settings.ALLOWED_HOSTS = ["testserver"]
    read_only()
    only = os.environ.get("BENCH_ONLY", "")
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=LEVELS)}
    missing = [name for name in LEVELS if name not in users]
    if missing:
        sys.exit(f"the demo logins {missing} are missing: run manage.py load_demo first")
    print(machine.describe())
    print(
        f"database: {connection.vendor}  households: {Household.objects.count():,}  "
        f"people: {Person.objects.count():,}  settlements: {Settlement.objects.count():,}  "
        f"repetitions: {REPEAT}"
    )
    print(
        f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>4} {'SQL ms':>7} "
        f"{'CPU ms':>7}"
    )
    started = time.process_time()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        for label, level, url, params in scenarios(users):
            if only not in label:
                continue
            client = Client()
            client.force_login(users[level])
            cpu = time.process_time()
            med, p95, worst, queries, sql_ms = measure(client, url, params)
            # This process's CPU per request (Python and templates, not the database's):
            # on a shared machine the wall-clock times also hold the waits for a core.
            cpu = (time.process_time() - cpu) * 1000 / (REPEAT + 2)
            print(
                f"{label:<32} {med:8.1f} {p95:8.1f} {worst:8.1f} {queries:4d} {sql_ms:7.1f} "
                f"{cpu:7.1f}"
            )
            sys.stdout.flush()
        transaction.set_rollback(True)
    print(f"read-audit rows not written: {len(AUDITED):,}")
    print(f"CPU time of this process: {time.process_time() - started:.1f} s")


if __name__ == "__main__":
    main()
