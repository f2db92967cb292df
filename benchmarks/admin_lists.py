"""Benchmark: the household and person admin lists at scale.

Measures server time (Django test client, no network) and SQL queries per
page for the lists community workers and officials open every day, on
whatever database ``DATABASE_URL`` points at.  Build the data first:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... .venv/bin/python benchmarks/admin_lists.py

Prints one line per scenario: median, p95 and max milliseconds over the
repetitions, SQL queries and their total time.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from timing import REPEAT, measure  # noqa: E402  (benchmarks/timing.py)

from communities.models import Household, Person, Settlement  # noqa: E402


def main():
    setup_test_environment()
    settings.DEBUG = True  # record queries
    settings.ALLOWED_HOSTS = ["testserver"]
    people = Person.objects.count()
    households = Household.objects.count()
    print(
        f"database: {connection.vendor}  households: {households:,}  people: {people:,}  "
        f"settlements: {Settlement.objects.count():,}  repetitions: {REPEAT}"
    )

    from django.contrib.auth import get_user_model

    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).first()
    county_user = User.objects.filter(area_scopes__region__level=3, is_superuser=False).first()
    prefecture_user = User.objects.filter(area_scopes__region__level=2, is_superuser=False).first()
    worker = User.objects.filter(area_scopes__settlement__isnull=False).first()
    big_settlement = Settlement.objects.order_by("-planned_people").first()
    sample = (
        Person.objects.filter(household__settlement=big_settlement)
        .order_by("pk")[
            people // 100 if people > 1000 else 0 : (people // 100 if people > 1000 else 0) + 1
        ]
        .first()
        or Person.objects.first()
    )

    scenarios = [
        ("admin", admin, "/admin/communities/household/", None),
        ("admin", admin, "/admin/communities/household/", {"p": "50"}),
        (
            "admin",
            admin,
            "/admin/communities/household/",
            {"settlement__id__exact": big_settlement.pk},
        ),
        (
            "admin",
            admin,
            "/admin/communities/household/",
            {"relocation_year": "2018", "occupancy_state__exact": "moved_in"},
        ),
        ("admin", admin, "/admin/communities/household/", {"q": sample.id_number}),
        ("admin", admin, "/admin/communities/household/", {"q": sample.name}),
        ("admin", admin, "/admin/communities/household/", {"q": sample.household.number}),
        ("admin", admin, "/admin/communities/person/", None),
        ("admin", admin, "/admin/communities/person/", {"q": sample.id_number}),
        ("admin", admin, f"/admin/communities/household/{sample.household_id}/change/", None),
    ]
    for label, user in (
        ("prefecture", prefecture_user),
        ("county", county_user),
        ("worker", worker),
    ):
        if user is not None:
            scenarios.append((label, user, "/admin/communities/household/", None))
            scenarios.append((label, user, "/admin/communities/person/", None))
    print(f"{'user':<11} {'page':<58} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4} {'SQL ms':>7}")
    for label, user, url, params in scenarios:
        client = Client()
        client.force_login(user)
        med, p95, worst, queries, sql_ms = measure(client, url, params)
        shown = url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        if len(shown) > 58:
            shown = shown[:55] + "..."
        print(
            f"{label:<11} {shown:<58} {med:8.1f} {p95:8.1f} {worst:8.1f} {queries:4d} {sql_ms:7.1f}"
        )


if __name__ == "__main__":
    main()
