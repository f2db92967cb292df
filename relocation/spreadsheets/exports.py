"""Large exports, made by the job worker while the page follows their progress.

An export of more than ``EXPORT_INLINE_MAX_ROWS`` rows — an admin list's 导出, or
a whole kind from the import page — would keep a web process busy for minutes: a
prefecture's 229,219 households took 83 s, and a province's list would pass the
server's timeout.  Such an export becomes an ``ExportJob``:

* **The same export, not a second implementation.**  For a list the worker
  repeats the user's request as the user: the list's address with its filters
  and search, and the form they submitted (format, layout, columns, ticked rows)
  go to the list's own ``export_action``.  Scope, filters, masking and the read
  audit are those of an export made in the request, checked again when it runs
  (an account disabled or stripped of the permission meanwhile gets nothing).
* **Only its user** sees the job and downloads the file, which is kept for
  ``EXPORT_KEEP_HOURS`` and then deleted (``expire``; the record stays).
* **Progress**: the rows the export has written, counted as they are read
  (``progress.counting``, used by the resources and the kind exports).
"""

import contextlib
import datetime
import logging
import time

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

from relocation.sqlite.base import write_after_reads

from . import workers
from .kinds import get_kind
from .models import ExportFile, ExportJob, ExportSource, ExportState
from .progress import current, expect

logger = logging.getLogger(__name__)

#: Of the progress bar, the part that counts rows; the rest is writing the file.
ROWS_PERCENT = 90


class ExportRefused(Exception):
    """The export may not (or no longer) be made; its message is shown on the job page."""


class TooManyExports(Exception):
    """The user already has ``EXPORT_MAX_WAITING`` exports waiting or being made."""


# --- progress -------------------------------------------------------------------


class Progress:
    """The rows of one export job, written to it at most once a second."""

    def __init__(self, job):
        self.pk = job.pk
        self.total = 0
        self.done = 0
        self.written_at = time.monotonic()

    def expect(self, total):
        self.total = total
        ExportJob.objects.filter(pk=self.pk).update(total_rows=total)

    def tick(self):
        self.done += 1
        if self.done % 500 == 0 and time.monotonic() - self.written_at >= 1:
            self.written_at = time.monotonic()
            percent = ROWS_PERCENT * self.done // max(self.total, self.done, 1)
            # Best effort: on SQLite the export's open read (its snapshot) may not write
            # once the worker's heartbeat has written since; the next tick will do.
            with contextlib.suppress(DatabaseError):
                ExportJob.objects.filter(pk=self.pk).update(progress=percent, done_rows=self.done)


# --- in the request ---------------------------------------------------------------


def too_many_rows(queryset):
    """More rows than an export made inside the request may have (one bounded count)."""
    limit = settings.EXPORT_INLINE_MAX_ROWS
    return queryset.order_by()[: limit + 1].count() > limit


def _start(user, **fields):
    """A new export job (raises ``TooManyExports``: one user's exports queue behind each
    other and before everyone's imports, so a user waits for their own first)."""
    from . import tasks

    waiting = ExportJob.objects.filter(
        user=user, state__in=(ExportState.QUEUED, ExportState.RUNNING)
    ).count()
    if waiting >= settings.EXPORT_MAX_WAITING:
        raise TooManyExports(
            _("您已有 %(n)d 个导出正在排队或生成。请等它们完成后再导出（在“我的导出”中查看）。")
            % {"n": waiting}
        )
    job = ExportJob(user=user, language=translation.get_language() or "", **fields)

    def store():
        job.save(force_insert=True)
        # After the transaction that stored the job: the worker must find it.
        transaction.on_commit(lambda: tasks.run_export.enqueue(str(job.pk)))

    # The import page's export links are GETs, whose SQLite transaction has read (the
    # count) without the write lock: the job is then stored as that transaction ends.
    write_after_reads(store)
    return job


def start_list_export(request, model, *, name, file_name, file_format):
    """An admin list's export, to be repeated by the worker as ``request`` asked it."""
    post = {key: request.POST.getlist(key) for key in request.POST if key != "csrfmiddlewaretoken"}
    return _start(
        request.user,
        source=ExportSource.ADMIN,
        target=model._meta.label_lower,
        params={"query": request.GET.urlencode(), "post": post},
        path=request.path[:500],
        name=str(name)[:255],
        file_name=file_name[:255],
        file_format=file_format,
    )


def start_kind_export(request, kind, *, file_name, file_format):
    return _start(
        request.user,
        source=ExportSource.KIND,
        target=kind.key,
        path=request.path[:500],
        name=str(kind.label)[:255],
        file_name=file_name[:255],
        file_format=file_format,
    )


# --- on the worker ------------------------------------------------------------------


def run(job):
    """Make ``job``'s file (on the job worker); a refusal or an error fails the job."""
    started = time.monotonic()
    updated = ExportJob.objects.filter(pk=job.pk, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, progress=1
    )
    if not updated:
        return  # taken, or gone
    workers.claim_job(job)
    progress = Progress(job)
    token = current.set(progress)
    try:
        with job.in_its_language():
            if not job.user.is_active:
                raise ExportRefused(_("导出人的账号已停用，没有生成文件。"))
            make = _kind_file if job.source == ExportSource.KIND else _list_file
            content, content_type = make(job)
        # Inside the failure handling too: a file the database refuses (too large, the
        # connection lost) fails the job instead of leaving it 「正在生成」 for ever.
        with transaction.atomic():
            ExportFile.objects.create(job=job, content=content, content_type=content_type)
            ExportJob.objects.filter(pk=job.pk).update(
                state=ExportState.DONE,
                progress=100,
                total_rows=max(progress.total, progress.done),
                done_rows=progress.done,
                file_size=len(content),
                finished_at=timezone.now(),
                seconds=round(time.monotonic() - started, 2),
            )
    except ExportRefused as refused:
        _fail(job, str(refused))
    except Exception:
        logger.exception("export job %s failed", job.pk)
        with job.in_its_language():
            message = _("生成文件时发生内部错误。请稍后重试；如果再次发生，请联系系统管理员。")
        try:
            _fail(job, message)
        except DatabaseError:  # the connection is what failed: a new one says so
            connection.close()
            _fail(job, message)
        raise
    finally:
        current.reset(token)


def _fail(job, message):
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.FAILED, progress=100, failure=message, finished_at=timezone.now()
    )


def _kind_file(job):
    """``(content, content type)`` of a kind's export, as the import page makes it."""
    from .workbooks import export_file

    kind = get_kind(job.target)
    if kind is None or not kind.may_export(job.user):
        raise ExportRefused(_("您已没有导出这类表格的权限，没有生成文件。"))
    expect(kind.export_queryset(job.user))
    return export_file(kind, job.user, job.file_format)


def _list_file(job):
    """``(content, content type)`` of the list's export, as its own export page makes it."""
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(job.target))
    except (LookupError, admin.sites.NotRegistered):
        raise ExportRefused(_("这个列表已不存在，没有生成文件。")) from None
    request = _repeated_request(job)
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = request  # the read audit reads the request it serves
    try:
        response = model_admin.export_action(request)
    except PermissionDenied:
        raise ExportRefused(_("您已没有导出这个列表的权限，没有生成文件。")) from None
    finally:
        context.request = previous
    if response.status_code != 200 or not response.has_header("Content-Disposition"):
        said = "；".join(str(message) for message in request._messages)
        raise ExportRefused(said or _("导出条件已无效，没有生成文件。请回到列表重新导出。"))
    return response.content, response["Content-Type"]


def _repeated_request(job):
    """The POST the user made to the list's export page, made again as them."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = job.path
    request.META = {"SERVER_NAME": "job-worker", "SERVER_PORT": "80", "REQUEST_METHOD": "POST"}
    request.GET = QueryDict(job.params.get("query", ""))
    post = QueryDict(mutable=True)
    for key, values in job.params.get("post", {}).items():
        post.setlist(key, values)
    request.POST = post
    request.COOKIES = {}
    request.user = job.user
    request.LANGUAGE_CODE = translation.get_language()
    request._messages = CookieStorage(request)
    return request


# --- keeping -----------------------------------------------------------------------------


def expire(now=None):
    """Delete the files kept longer than ``EXPORT_KEEP_HOURS``; returns how many."""
    before = (now or timezone.now()) - datetime.timedelta(hours=settings.EXPORT_KEEP_HOURS)
    old = ExportJob.objects.filter(state=ExportState.DONE, finished_at__lt=before)
    with transaction.atomic():
        ExportFile.objects.filter(job__in=old).delete()
        return old.update(state=ExportState.EXPIRED)


def fail_dead(jobs=None):
    """Fail the export jobs being made whose worker is gone; returns how many."""
    running = ExportJob.objects.filter(state=ExportState.RUNNING)
    if jobs is not None:
        running = running.filter(pk__in=jobs)
    return workers.fail_jobs_of_dead_workers(running, ExportState.FAILED, _dead_worker_message)


def _dead_worker_message():
    return _("生成文件的后台任务进程意外终止，没有生成文件。请重新导出。")


def job_url(job):
    return reverse("spreadsheets:export_job", args=[job.pk])
