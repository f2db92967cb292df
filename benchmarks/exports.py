"""Benchmark: large admin exports, asked for in a request and made by the job worker.

For the demo's county, prefecture and province officials, the list 工作清单 links to
most: 尚有适用权益未落实的搬迁户 (the household list with ``rights=incomplete``), as
``.xlsx``.  It prints, per level:

* the request that asks for the export (the page's POST): its time, and where it
  sent the browser (an export job, above ``EXPORT_INLINE_MAX_ROWS`` rows);
* the job as the worker runs it (``exports.run``, the code the job worker runs,
  here in this process): rows, seconds, rows per second, file size, and the
  growth of this process's peak memory.

Build the data first (the demo):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_demo --households 500000
    DATABASE_URL=... .venv/bin/python benchmarks/exports.py

It runs only on an unedited demo database (``benchmarks/guard.py``): it writes
beside the demo, and removes its export jobs and files at the end.  The read-audit
rows of officials who may see personal data stay, as those of ``read_audit.py`` do
(the audit is append-only).  ``BENCH_LEVELS`` (default ``county,prefecture,province``)
chooses the officials.
"""

import os
import resource
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
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from relocation.spreadsheets import exports  # noqa: E402
from relocation.spreadsheets.models import ExportJob  # noqa: E402

XLSX = "1"  # the export form's format choice (settings.EXPORT_FORMATS)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    guard.require_demo_data()
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    print(machine.describe())
    levels = os.environ.get("BENCH_LEVELS", "county,prefecture,province").split(",")
    url = reverse("admin:communities_household_export") + "?rights=incomplete"
    print(f"EXPORT_INLINE_MAX_ROWS={settings.EXPORT_INLINE_MAX_ROWS}")
    print("| level | request s | rows | job s | rows/s | file MB | peak memory +MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for level in levels:
        user = get_user_model().objects.get(username=level)
        client = Client()
        client.force_login(user)
        started = time.perf_counter()
        response = client.post(url, {"format": XLSX, "resource": "0"})
        asked = time.perf_counter() - started
        job = ExportJob.objects.filter(user=user).order_by("-created_at").first()
        try:
            if response.status_code != 302 or job is None:
                print(f"| {level} | {asked:.2f} | (made in the request: {response.status_code}) |")
                continue
            memory = peak_mb()
            started = time.perf_counter()
            exports.run(job)
            seconds = time.perf_counter() - started
            job.refresh_from_db()
            assert job.state == "done", job.failure
            print(
                f"| {level} | {asked:.2f} | {job.done_rows:,} | {seconds:.1f} | "
                f"{job.done_rows / seconds:,.0f} | {job.file_size / 2**20:.1f} | "
                f"{peak_mb() - memory:.0f} |"
            )
        finally:
            if job is not None:
                job.delete()  # and its file


if __name__ == "__main__":
    main()
