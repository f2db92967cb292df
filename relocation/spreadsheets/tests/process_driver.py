"""Steps the real-process tests run in child processes on a file SQLite database.

``python -m relocation.spreadsheets.tests.process_driver <step> [args]``, with
``DATABASE_URL`` pointing at the test's own database file.  Each step prints
one JSON line.
"""

import json
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from relocation.spreadsheets import services  # noqa: E402
from relocation.spreadsheets.tests.helpers import ROSTER_HEADERS, csv_bytes, person_row  # noqa: E402


def setup():
    call_command("migrate", verbosity=0)
    get_user_model().objects.create_superuser("admin", "admin@example.com", "Ceshi-mima-2024")
    return {"ok": True}


def enqueue(rows):
    """A roster of ``rows`` rows (for a settlement that does not exist) for the worker."""
    content = csv_bytes(
        ROSTER_HEADERS,
        [person_row(f"K{i:06d}", "9999999", seq=i % 500) for i in range(int(rows))],
    )
    with transaction.atomic():
        job = services.job_create(
            user=get_user_model().objects.get(username="admin"),
            kind_key="roster",
            upload=SimpleUploadedFile("大文件.csv", content),
        )
    return {"job": str(job.pk), "background": job.background, "state": job.state}


def page(url_name, *args):
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    response = client.get(reverse(f"spreadsheets:{url_name}", args=args))
    return {"status": response.status_code, "content": response.content.decode()}


STEPS = {"setup": setup, "enqueue": enqueue, "page": page}

if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](*sys.argv[2:]), ensure_ascii=False))
