"""Large files run on the job worker: a real ``db_worker`` processes them here."""

import pytest
from django.urls import reverse
from django.utils import translation

from communities.models import Person
from relocation.spreadsheets.models import ImportJob
from relocation.spreadsheets.workers import run_queued_jobs as run_worker

from .helpers import ROSTER_HEADERS, csv_bytes, person_row


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "accept, expected, other",
    [
        ("en", "An ID number has 18 characters; this one has 5.", "身份证号应为18位"),
        ("zh-hans", "身份证号应为18位，当前为5位。", "An ID number has 18 characters"),
    ],
)
def test_the_worker_writes_a_jobs_messages_in_its_uploaders_language(
    client, world, settings, accept, expected, other
):
    """The job worker has no request: it writes the errors in the language of the
    pages the file was uploaded from, not in the site's default."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.SPREADSHEET_INLINE_MAX_BYTES = 100  # every file counts as large
    client.force_login(world.admin)
    rows = [person_row("L001", world.a.code, seq=1, name="语言"), person_row("L002", world.a.code)]
    rows[1]["身份证号"] = "52230"
    client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile("big.csv", csv_bytes(ROSTER_HEADERS, rows))},
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    job = ImportJob.objects.get()
    assert job.language == accept
    # The worker runs in whatever language its process has: here the other one.
    with translation.override("zh-hans" if accept == "en" else "en"):
        run_worker()
    job.refresh_from_db()
    assert job.state == "invalid"
    messages = [message for _row, _column, message in job.errors]
    assert expected in messages and not any(other in m for m in messages), messages
    assert not Person.objects.filter(name="语言").exists()


@pytest.mark.django_db
def test_a_dead_workers_job_fails_in_its_uploaders_language(world):
    from relocation.spreadsheets import workers

    from .test_dead_workers import make_job

    gone = 2**22 + 1  # above Linux's largest possible pid: never a live process
    english = make_job(world.admin, pid=gone)
    english.language = "en"
    english.save(update_fields=["language"])
    chinese = make_job(world.admin, pid=gone)
    assert workers.fail_dead_jobs() == 2
    english.refresh_from_db()
    chinese.refresh_from_db()
    assert english.failure.startswith("The job worker processing this file stopped")
    assert chinese.failure.startswith("处理这个文件的后台任务进程意外终止")


@pytest.mark.django_db(transaction=True)
def test_a_large_workbook_s_sheets_are_read_together_by_the_worker(client, world, settings):
    """The second check of a large workbook runs on the worker too, in the language of the
    page that asked for it."""
    from .test_workbook_sheets import group_workbook

    settings.SPREADSHEET_INLINE_MAX_BYTES = 100
    groups = {
        "一组": [person_row("B401", world.a.code, name="后台甲", seq=401)],
        "二组": [person_row("B402", world.a.code, name="后台乙", seq=402, 民族="火星族")],
    }
    client.force_login(world.admin)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile("分组.xlsx", group_workbook(groups))},
    )
    run_worker()
    job = ImportJob.objects.get()
    assert (job.state, job.changes["other_sheets"]) == ("ready", ["二组"])
    response = client.post(
        reverse("spreadsheets:sheets", args=[job.pk]), headers={"accept-language": "en"}
    )
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.url == reverse("spreadsheets:job", args=[new.pk])
    assert (new.state, new.background, new.sheets, new.language) == (
        "queued",
        True,
        ["一组", "二组"],
        "en",
    )
    run_worker()
    new.refresh_from_db()
    assert new.state == "invalid"
    [(number, header, message)] = new.errors
    assert (number, header) == (10_000_002, "民族")
    assert not message.startswith("民族") and "火星族" in message
    assert not Person.objects.filter(name__startswith="后台").exists()
