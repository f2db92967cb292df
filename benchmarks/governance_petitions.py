"""Benchmark: the petition list, its filters and the 社区治理 counters at volume.

Seed 004 handles 6,000+ petitions a year per prefecture; kept for years, a
prefecture has tens of thousands and a province hundreds of thousands.  Build
the data first, then run:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 10000
    DATABASE_URL=... BENCH_PETITIONS=300000 .venv/bin/python benchmarks/governance_petitions.py

``BENCH_PETITIONS`` (default 60,000: 6,000 a year for five years in each of two
prefectures) tops the petitions up to that many with synthetic ones spread
over the demo settlements and the last five years (written without history
rows: this is a benchmark, not data).  Prints median, p95 and max ms per page
and the time of one computation of each counter source.
"""

import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The settings ``manage.py load_demo`` used: the same keys decrypt the demo's phones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import REPEAT, measure  # noqa: E402  (benchmarks/timing.py)

from communities.models import Settlement  # noqa: E402
from governance.indicators.organisation import governance_flows, governance_org  # noqa: E402
from governance.models.organisation import (  # noqa: E402
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionState,
)
from relocation.dashboards.registry import Window  # noqa: E402

TARGET = int(os.environ.get("BENCH_PETITIONS", "60000"))


def top_up():
    have = Petition.objects.count()
    if have >= TARGET:
        return
    rng = random.Random(4)
    today = timezone.localdate()
    settlements = list(Settlement.objects.values_list("pk", flat=True))
    categories = list(PetitionCategory.objects.all()) or [
        PetitionCategory.objects.create(name="物业管理", due_days=7)
    ]
    batch = []
    for i in range(have, TARGET):
        category = rng.choice(categories)
        age = rng.randint(0, 5 * 365)
        received = today - datetime.timedelta(days=age)
        days = rng.randint(1, 2 * category.due_days)
        closed = days < age and rng.random() < 0.97
        batch.append(
            Petition(
                settlement_id=rng.choice(settlements),
                number=f"B{i:08d}",
                group="住户",
                category=category,
                channel=rng.choice(PetitionChannel.values),
                received_on=received,
                due_on=received + datetime.timedelta(days=category.due_days),
                summary="诉求",
                state=PetitionState.FOLLOWED_UP if closed else PetitionState.IN_PROGRESS,
                resolution="已解决" if closed else "",
                closed_on=received + datetime.timedelta(days=days) if closed else None,
                handling_days=days if closed else None,
                followed_up_on=received + datetime.timedelta(days=days) if closed else None,
                satisfaction="satisfied" if closed else "",
            )
        )
        if len(batch) == 5000:
            models.QuerySet(Petition).bulk_create(batch)
            batch = []
    if batch:
        models.QuerySet(Petition).bulk_create(batch)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE governance_petition")


def timed(label, func, *args):
    start = time.perf_counter()
    func(*args)
    print(f"{label:<60} {(time.perf_counter() - start) * 1000:8.1f} ms")


def main():
    setup_test_environment()
    top_up()
    settings.DEBUG = True  # record queries
    settings.ALLOWED_HOSTS = ["testserver"]
    today = timezone.localdate()
    print(
        f"database: {connection.vendor}  petitions: {Petition.objects.count():,}  "
        f"settlements: {Settlement.objects.count():,}  repetitions: {REPEAT}"
    )
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = (
        ("admin", User.objects.filter(is_superuser=True).first()),
        (
            "prefecture",
            User.objects.filter(area_scopes__region__level=2, is_superuser=False).first(),
        ),
        ("county", User.objects.filter(area_scopes__region__level=3, is_superuser=False).first()),
        ("worker", User.objects.filter(area_scopes__settlement__isnull=False).first()),
    )
    category = PetitionCategory.objects.first()
    pages = (
        None,
        {"overdue": "yes"},
        {"state__exact": "in_progress"},
        {"category__id__exact": category.pk},
        {
            "received_on__gte": today.replace(month=1, day=1).isoformat(),
            "received_on__lte": today.isoformat(),
        },
        {"p": "5"},
    )
    url = "/admin/governance/petition/"
    print(f"{'user':<11} {'page':<58} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4} {'SQL ms':>7}")
    for label, user in users:
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        for params in pages:
            med, p95, worst, queries, sql_ms = measure(client, url, params)
            shown = url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
            print(
                f"{label:<11} {shown[:58]:<58} {med:8.1f} {p95:8.1f} {worst:8.1f} "
                f"{queries:4d} {sql_ms:7.1f}"
            )
    settings.DEBUG = False
    everything = Settlement.objects.all()
    year = Window(
        start=today.replace(month=1, day=1), reference_date=today, income_year=today.year - 1
    )
    timed("counters: governance_org, all settlements", governance_org, everything, year)
    timed(
        "counters: governance_flows, all settlements, this year", governance_flows, everything, year
    )
    five = Window(
        start=today - datetime.timedelta(days=5 * 365), reference_date=today, income_year=today.year
    )
    timed(
        "counters: governance_flows, all settlements, five years",
        governance_flows,
        everything,
        five,
    )


if __name__ == "__main__":
    main()
