"""Benchmark: what the read audit costs an export of 10,000 people.

Exports the 家庭成员 list (.csv and .xlsx) as a superuser, who sees every row in
clear, with the read audit on and off, and prints the time of each export, the
audit rows written and their share of the time.  Build the data first:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py load_demo \\
        --households 2700
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python benchmarks/read_audit.py
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import guard  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from communities.audit import AuditedExportMixin, ExportAuditor  # noqa: E402
from communities.models import Person  # noqa: E402
from communities.read_audit import ReadAuditEntry  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def export(client, fmt_index):
    start = time.perf_counter()
    response = client.post(
        reverse("admin:communities_person_export"), {"format": fmt_index, "resource": "0"}
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    return elapsed


def main():
    guard.require_demo_data()
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(is_superuser=True).first()
    client = Client()
    client.force_login(user)
    people = Person.objects.count()
    formats = [f().get_title() for f in admin.site._registry[Person].get_export_formats()]
    print(f"database: {connection.vendor}  people: {people:,}  repetitions: {REPEAT}")
    original = AuditedExportMixin._export_auditor
    write_times = []
    original_write = ExportAuditor.write

    def timed_write(self):
        start = time.perf_counter()
        try:
            return original_write(self)
        finally:
            write_times.append(time.perf_counter() - start)

    ExportAuditor.write = timed_write
    for title in ("csv", "xlsx"):
        index = str(formats.index(title))
        timings = {}
        for audited in (False, True):
            if not audited:
                AuditedExportMixin._export_auditor = lambda self, kwargs: None
            else:
                AuditedExportMixin._export_auditor = original
            runs = []
            write_times.clear()
            for _ in range(REPEAT):
                before = ReadAuditEntry.objects.count()
                runs.append(export(client, index))
                written = ReadAuditEntry.objects.count() - before
            timings[audited] = statistics.median(runs)
            print(
                f"{title:5} audit {'on ' if audited else 'off'}  "
                f"{timings[audited]:6.2f} s  audit rows written: {written:,}"
                + (
                    f"  of which writing them: {statistics.median(write_times):.2f} s"
                    if audited
                    else ""
                )
            )
        extra = timings[True] - timings[False]
        print(f"{title:5} audit cost {extra:+.2f} s ({extra / timings[False]:+.0%})")
    AuditedExportMixin._export_auditor = original
    ExportAuditor.write = original_write


if __name__ == "__main__":
    main()
