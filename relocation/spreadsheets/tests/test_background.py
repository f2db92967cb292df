"""Large files run on the job worker: a real ``db_worker`` processes them here."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from communities.models import Person
from relocation.spreadsheets.models import ImportJob

from .helpers import ROSTER_HEADERS, csv_bytes, person_row


def run_worker():
    call_command(
        "db_worker", batch=True, no_startup_delay=True, interval=0, verbosity=0, reload=False
    )


@pytest.mark.django_db(transaction=True)
def test_large_file_is_checked_and_committed_by_the_worker(client, world, settings):
    settings.SPREADSHEET_INLINE_MAX_BYTES = 100  # every file counts as large
    client.force_login(world.admin)
    rows = [person_row(f"W{i:03d}", world.a.code, seq=i, name=f"后台{i}") for i in range(30)]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile("big.csv", csv_bytes(ROSTER_HEADERS, rows))},
    )
    job = ImportJob.objects.get()
    assert job.background and job.state == "queued"
    page = client.get(response.url).content.decode()
    assert 'id="job-progress"' in page and "progress.js" in page
    assert client.get(reverse("spreadsheets:progress", args=[job.pk])).json()["running"] is True

    run_worker()
    job.refresh_from_db()
    assert (job.state, job.new_rows, job.progress) == ("ready", 30, 100)
    assert not Person.objects.filter(name__startswith="后台").exists()

    client.post(reverse("spreadsheets:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "commit_queued"
    run_worker()
    job.refresh_from_db()
    assert job.state == "committed", job.failure
    assert Person.objects.filter(name__startswith="后台").count() == 30
    assert "导入结果" in client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
