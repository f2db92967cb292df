"""Benchmark: the read-only API at scale (keyset pages, lists, indicators).

Times, in process (Django test client, no network), as the demo's county,
prefecture and province officials with an API key each:

* the first page of people (500 rows), and a page deep in the table (a cursor
  positioned 90 % of the way), against what ``OFFSET`` would cost for the same
  deep page (the query alone);
* a synchronisation in step: people changed since now (none), and the first page of
  a synchronisation a day behind (every demo row changed since);
* the first page of households and of employment records;
* the indicators of the official's area for the running month.

Build the data first (the demo, then the running periods):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... .venv/bin/python benchmarks/api.py

It creates, for the areas of the demo's county, prefecture and province
officials, a system account with view permissions only (personal data masked, so
nothing is written to the read audit) and an API key, and deletes them at the
end; it runs only on an unedited demo database (``benchmarks/guard.py``).
"""

import base64
import datetime
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

import guard  # noqa: E402  (benchmarks/guard.py)
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import REPEAT, measure  # noqa: E402  (benchmarks/timing.py)

from communities.audit import reveals  # noqa: E402
from communities.models import AreaScope, Person  # noqa: E402
from relocation.api.auth import ApiRateThrottle  # noqa: E402
from relocation.api.models import ApiToken  # noqa: E402
from relocation.api.pagination import keys_for  # noqa: E402

PAGE = 500


KEYS = keys_for(Person.objects.all())  # the API's order of people


def cursor_at(position):
    text = ".".join(str(value) for value in position)  # the values of KEYS
    return base64.b64encode(f"p={text}".encode()).decode()


def offset_query_ms(user, offset):
    """What an OFFSET page would cost: the same rows by position (the query alone)."""
    queryset = Person.objects.visible_to(user).order_by(*KEYS)
    times = []
    for _ in range(max(3, REPEAT // 4)):
        start = time.perf_counter()
        list(queryset.values_list("pk", flat=True)[offset : offset + PAGE])
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def main():
    guard.require_demo_data()
    setup_test_environment()
    settings.DEBUG = True  # record queries
    settings.ALLOWED_HOSTS = ["testserver"]
    ApiRateThrottle.THROTTLE_RATES = {"api": "1000000/min"}
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = User.objects.filter(is_superuser=False)
    areas = {
        "county": users.filter(area_scopes__region__level=3).first(),
        "prefecture": users.filter(area_scopes__region__level=2).first(),
        "province": users.filter(area_scopes__region__level=1).first(),
    }
    # System accounts of the same areas that read without personal data in clear (so
    # nothing is written to the read audit); removed again at the end.
    view = Permission.objects.filter(
        codename__in=[
            "view_person",
            "view_household",
            "view_settlement",
            "view_employmentrecord",
            "view_householdincome",
        ]
    )
    officials = {}
    for role, official in areas.items():
        if official is None:
            continue
        system = User.objects.create_user(f"bench-api-{role}", is_staff=True)
        system.user_permissions.set(view)
        for entry in AreaScope.objects.filter(user=official):
            AreaScope.objects.create(
                user=system, region_id=entry.region_id, settlement_id=entry.settlement_id
            )
        officials[role] = system
    print(
        f"database: {connection.vendor}  people: {Person.objects.count():,}  "
        f"repetitions: {REPEAT}  page: {PAGE} rows"
    )
    print(f"{'scenario':58} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4} {'SQL ms':>8}")
    tokens = []
    try:
        for role, user in officials.items():
            if user is None:
                continue
            assert not reveals(user), "the benchmark must not write read-audit rows"
            token, key = ApiToken.issue(name=f"benchmark {role}", user=user)
            tokens.append(token.pk)
            client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
            visible = Person.objects.visible_to(user).order_by(*KEYS).values_list(*KEYS)
            count = visible.count()
            deep = int(count * 0.9)
            deep_position = visible[deep]
            since = (timezone.now() + datetime.timedelta(minutes=1)).isoformat()
            behind = (timezone.now() - datetime.timedelta(days=1)).isoformat()
            scenarios = [
                (f"{role}: people, first page of {count:,}", "/api/v1/people/", {}),
                (
                    f"{role}: people, page at row {deep:,} (cursor)",
                    "/api/v1/people/",
                    {"cursor": cursor_at(deep_position)},
                ),
                (
                    f"{role}: people changed since now (none: a sync in step)",
                    "/api/v1/people/",
                    {"updated_since": since},
                ),
                (
                    f"{role}: people changed in the last day, first page",
                    "/api/v1/people/",
                    {"updated_since": behind},
                ),
                (f"{role}: households, first page", "/api/v1/households/", {}),
                (f"{role}: employment records, first page", "/api/v1/employment-records/", {}),
                (f"{role}: indicators of the area, running month", "/api/v1/indicators/", {}),
            ]
            for label, url, params in scenarios:
                if url != "/api/v1/indicators/":
                    params = {"page_size": PAGE, **params}
                median, p95, worst, queries, sql_ms = measure(client, f"{url}?{urlencode(params)}")
                print(
                    f"{label:58} {median:8.1f} {p95:8.1f} {worst:8.1f} {queries:4d} {sql_ms:8.1f}"
                )
            print(
                f"{role + ': the same deep page by OFFSET (query only)':58} "
                f"{offset_query_ms(user, deep):8.1f}"
            )
    finally:
        ApiToken.objects.filter(pk__in=tokens).delete()
        for system in officials.values():
            AreaScope.objects.filter(user=system).delete()
            system.delete()


if __name__ == "__main__":
    main()
