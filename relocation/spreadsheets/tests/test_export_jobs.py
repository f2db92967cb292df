"""Large exports are made by the job worker: a real ``db_worker`` runs them here.

The export is the same one the request would have made (scope, filters, ticked
rows, masking, read audit), its page and file are its user's alone, and what may
not be made any more (a disabled account, a permission taken away) gives a clear
message and no file.
"""

import datetime
import io
import os
import subprocess

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from communities.read_audit import AuditChannel, ReadAuditEntry
from relocation.spreadsheets import workers
from relocation.spreadsheets.models import ExportFile, ExportJob

pytestmark = pytest.mark.django_db(transaction=True)

HOUSEHOLDS = "admin:communities_household_export"
PEOPLE = "admin:communities_person_export"
CSV, XLSX = "0", "1"  # the export form's format choices (settings.EXPORT_FORMATS)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run_worker():
    workers.run_queued_jobs()


@pytest.fixture
def large(settings):
    """Every export of more than one row counts as large."""
    settings.EXPORT_INLINE_MAX_ROWS = 1
    return settings


def _export(client, url, data, query=""):
    return client.post(f"{reverse(url)}{query}", data)


def _job_of(response):
    assert response.status_code == 302, response.content[:500]
    job = ExportJob.objects.get()
    assert response.url == reverse("spreadsheets:export_job", args=[job.pk])
    return job


def _downloaded(client, job):
    response = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_large_list_export_runs_on_the_worker_and_is_the_export_the_request_makes(
    client, world, large
):
    client.force_login(world.county)
    # The list filtered to one settlement, as the 导出 button passes the list's query.
    query = f"?area=s{world.a.pk}"
    data = {"format": CSV, "resource": "0"}
    response = _export(client, PEOPLE, data, query)
    job = _job_of(response)
    assert (job.state, job.source, job.target, job.file_format) == (
        "queued",
        "admin",
        "communities.person",
        "csv",
    )
    assert job.file_name.startswith("家庭成员基本信息-") and job.file_name.endswith(".csv")
    page = client.get(response.url).content.decode()
    assert 'id="job-progress"' in page and "progress.js" in page
    progress = client.get(reverse("spreadsheets:export_progress", args=[job.pk])).json()
    assert progress["running"] is True and progress["label"] == "排队中"

    run_worker()
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert (job.total_rows, job.done_rows, job.progress) == (3, 3, 100)
    made = _downloaded(client, job)
    assert job.file_size == len(made)

    # The same export made inside the request, under the limit, is the same file.
    large.EXPORT_INLINE_MAX_ROWS = 10_000
    inline = _export(client, PEOPLE, data, query)
    assert inline.status_code == 200
    assert made == inline.content
    text = made.decode("utf-8-sig")
    assert "户主A" in text and "户主B" not in text and "户主C" not in text

    page = client.get(reverse("spreadsheets:export_job", args=[job.pk])).content.decode()
    assert 'id="download-export"' in page and "保留到" in page
    listing = client.get(reverse("spreadsheets:exports")).content.decode()
    assert job.file_name in listing and "已完成，可下载" in listing


def test_the_worker_keeps_the_users_scope_and_the_ticked_rows(client, world, large):
    client.force_login(world.county)
    own = [world.households["a"].pk, world.households["b"].pk]
    outside = world.households["c"].pk  # 钟山区: not the county's
    refused = _export(client, HOUSEHOLDS, {"format": XLSX, "export_items": [*own, outside]})
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    assert not ExportJob.objects.exists()
    job = _job_of(_export(client, HOUSEHOLDS, {"format": XLSX, "export_items": own}))
    run_worker()
    job.refresh_from_db()
    assert job.state == "done", job.failure
    sheet = load_workbook(io.BytesIO(_downloaded(client, job))).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {"522301000001", "522301000002"}
    assert job.done_rows == 2


def test_no_one_else_sees_the_job_or_its_file(client, world, large):
    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    run_worker()
    for other in (world.other_county, world.prefecture, world.admin):
        client.force_login(other)
        for name in ("export_job", "export_progress", "export_download"):
            response = client.get(reverse(f"spreadsheets:{name}", args=[job.pk]))
            assert response.status_code == 404, (other.username, name)
        listing = client.get(reverse("spreadsheets:exports")).content.decode()
        assert job.file_name not in listing
    client.logout()
    response = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert response.status_code == 302 and "/login/" in response.url


@pytest.mark.parametrize("user, clear", [("worker", True), ("worker_nopii", False)])
def test_the_workers_file_is_masked_as_for_its_user_and_what_it_shows_is_audited(
    client, world, large, user, clear
):
    account = getattr(world, user)
    client.force_login(account)
    head = world.heads["a"]
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    run_worker()
    job.refresh_from_db()
    assert job.state == "done", job.failure
    text = _downloaded(client, job).decode("utf-8-sig")
    assert (head.id_number in text) is clear
    assert (head.phone in text) is clear
    entries = ReadAuditEntry.objects.filter(user=account, channel=AuditChannel.EXPORT)
    if clear:
        entry = entries.filter(object_id=head.pk, field="id_number").get()
        assert (entry.export_format, entry.path) == ("csv", reverse(PEOPLE))
    else:
        assert not entries.exists()


def test_an_account_disabled_meanwhile_gets_no_file(client, world, large):
    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    world.county.is_active = False
    world.county.save()
    run_worker()
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.failure == "导出人的账号已停用，没有生成文件。"
    assert not ExportFile.objects.exists()
    assert not ReadAuditEntry.objects.exists()


def test_a_permission_taken_away_meanwhile_gets_no_file(client, world, large):
    client.force_login(world.worker)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    perm = Permission.objects.get(codename="export_person")
    world.worker.groups.first().permissions.remove(perm)
    world.worker.user_permissions.remove(perm)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.failure) == ("failed", "您已没有导出这个列表的权限，没有生成文件。")
    assert not ExportFile.objects.exists()
    client.force_login(world.worker)
    page = client.get(reverse("spreadsheets:export_job", args=[job.pk])).content.decode()
    assert 'id="export-failure"' in page and "您已没有导出这个列表的权限" in page
    response = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert response.status_code == 302


def test_the_workers_message_is_in_the_language_the_export_was_asked_in(client, world, large):
    client.force_login(world.county)
    response = client.post(
        reverse(PEOPLE), {"format": CSV, "resource": "0"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    job = _job_of(response)
    assert job.language == "en"
    world.county.is_active = False
    world.county.save()
    run_worker()
    job.refresh_from_db()
    assert job.failure == "The account that asked for the export is disabled; no file was made."


def test_a_large_kind_export_runs_on_the_worker(client, world, large):
    client.force_login(world.county)
    response = client.get(reverse("spreadsheets:export", args=["roster", "xlsx"]))
    job = _job_of(response)
    assert (job.source, job.target, job.file_format) == ("kind", "roster", "xlsx")
    run_worker()
    job.refresh_from_db()
    assert job.state == "done", job.failure
    download = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert download["Content-Type"] == XLSX_TYPE  # as the import page sends it
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("户编号")
    numbers = [row[column] for row in rows[1:]]
    # The county's two households of three people each; not 钟山区's, nor the orphan.
    assert sorted(numbers) == ["522301000001"] * 3 + ["522301000002"] * 3
    assert job.done_rows == job.total_rows == 6


def test_a_file_past_its_hours_is_deleted_and_not_served(client, world, large):
    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    run_worker()
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - datetime.timedelta(hours=large.EXPORT_KEEP_HOURS, minutes=1)
    )
    response = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == "expired"
    assert not ExportFile.objects.exists()
    page = client.get(response.url).content.decode()
    assert "这个导出文件不能下载：已过期删除。" in page and "重新导出" in page


def test_a_job_whose_worker_died_is_failed(client, world, large):
    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    gone = subprocess.Popen(["true"])
    gone.wait()
    ExportJob.objects.filter(pk=job.pk).update(
        state="running", worker_host=workers.HOST, worker_pid=gone.pid
    )
    assert gone.pid != os.getpid()
    page = client.get(reverse("spreadsheets:export_job", args=[job.pk])).content.decode()
    job.refresh_from_db()
    assert job.state == "failed"
    assert "生成文件的后台任务进程意外终止" in page


def test_a_small_export_is_still_made_in_the_request(client, world):
    client.force_login(world.county)
    response = _export(client, PEOPLE, {"format": CSV, "resource": "0"})
    assert response.status_code == 200 and "户主A" in response.content.decode("utf-8-sig")
    assert not ExportJob.objects.exists()


def _lists_with_exports():
    from django.contrib import admin

    from communities.admin_export import ScopedExportMixin

    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ScopedExportMixin)
    ]


@pytest.mark.parametrize("username", ["county", "worker_nopii"])
def test_every_lists_every_layout_on_the_worker_is_its_export_in_the_request(
    client, world, settings, username
):
    """Every list with 导出, every layout, as a scoped and as a masked account: the
    worker's file is byte for byte the file the request makes."""
    from django.test import RequestFactory

    user = getattr(world, username)
    client.force_login(user)
    request = RequestFactory().get("/")
    request.user = user
    tried = 0
    for model, model_admin in _lists_with_exports():
        if not model_admin.has_export_permission(request):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
        for index, _resource in enumerate(model_admin.get_export_resource_classes(request)):
            data = {"format": CSV, "resource": str(index)}
            settings.EXPORT_INLINE_MAX_ROWS = 10_000
            inline = client.post(url, data)
            assert inline.status_code == 200, (url, index)
            settings.EXPORT_INLINE_MAX_ROWS = -1  # every export, even of no rows
            job = _job_of(client.post(url, data))
            run_worker()
            job.refresh_from_db()
            assert job.state == "done", (url, index, job.failure)
            download = client.get(reverse("spreadsheets:export_download", args=[job.pk]))
            assert download.content == inline.content, (url, index)
            assert download["Content-Type"] == inline["Content-Type"], (url, index)
            job.delete()
            tried += 1
    assert tried >= 4  # households, people (two layouts) and more


def test_progress_is_written_as_rows_are_counted_and_a_failed_write_is_skipped(
    client, world, large, monkeypatch
):
    from django.db import DatabaseError
    from django.db.models import QuerySet

    from relocation.spreadsheets.exports import ROWS_PERCENT, Progress

    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    progress = Progress(job)
    total = 1000
    progress.expect(total)
    progress.done, progress.written_at = 499, float("-inf")
    progress.tick()
    job.refresh_from_db()
    assert (job.total_rows, job.done_rows, job.progress) == (total, 500, ROWS_PERCENT // 2)

    def locked(self, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(QuerySet, "update", locked)
    progress.done, progress.written_at = 999, float("-inf")
    progress.tick()  # SQLite's stale snapshot: skipped, the export goes on
    assert progress.done == 1000


def test_a_user_with_exports_waiting_is_asked_to_wait(client, world, large):
    large.EXPORT_MAX_WAITING = 2
    client.force_login(world.county)
    for _ in range(2):
        _export(client, PEOPLE, {"format": CSV, "resource": "0"})
    assert ExportJob.objects.count() == 2
    response = _export(client, PEOPLE, {"format": CSV, "resource": "0"})
    assert (response.status_code, response.url) == (302, reverse("spreadsheets:exports"))
    page = client.get(response.url).content.decode()
    assert "您已有 2 个导出正在排队或生成。请等它们完成后再导出" in page
    kind = client.get(reverse("spreadsheets:export", args=["roster", "csv"]))
    assert kind.url == reverse("spreadsheets:exports")
    assert ExportJob.objects.count() == 2
    # Another user is not held up by them.
    client.force_login(world.prefecture)
    assert _job_of_any(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))
    run_worker()
    client.force_login(world.county)
    _export(client, PEOPLE, {"format": CSV, "resource": "0"})  # done: room again
    assert ExportJob.objects.filter(user=world.county).count() == 3


def _job_of_any(response):
    assert response.status_code == 302
    return response.url.startswith("/admin/imports/exports/")


def test_a_file_the_database_refuses_fails_the_job(client, world, large, monkeypatch):
    """Storing the finished file is part of the job: when it fails, the page says so
    (not 「正在生成」 for ever) and nothing is kept."""
    from django.db import DatabaseError

    from relocation.spreadsheets import exports
    from relocation.spreadsheets.models import ExportFile as File

    client.force_login(world.county)
    job = _job_of(_export(client, PEOPLE, {"format": CSV, "resource": "0"}))

    def refused(*args, **kwargs):
        raise DatabaseError("value too large")

    monkeypatch.setattr(File.objects, "create", refused)
    job.refresh_from_db()
    with pytest.raises(DatabaseError):
        exports.run(ExportJob.objects.select_related("user").get(pk=job.pk))
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.failure.startswith("生成文件时发生内部错误")
    assert not File.objects.exists()
