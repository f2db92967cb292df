"""Admin pages for spreadsheet import and export (served under /admin/imports/)."""

import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from . import engine, exports, reading, services, workers
from .kinds import get_kind, kinds
from .models import ExportFile, ExportJob, ExportState, ImportJob, JobState
from .workbooks import XLSX, export_file, template_workbook

ERRORS_SHOWN = 500


def _context(request, **extra):
    return {**admin.site.each_context(request), **extra}


def _download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _visible_job(request, pk):
    job = get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)
    if job.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    if workers.fail_dead_jobs([job.pk]):
        job.refresh_from_db()
    return job


def index(request):
    user = request.user
    available = [
        {"kind": k, "import": k.may_import(user), "export": k.may_export(user)} for k in kinds()
    ]
    available = [a for a in available if a["import"] or a["export"]]
    if not available:
        raise PermissionDenied
    jobs = ImportJob.objects.select_related("user")
    if not user.is_superuser:
        jobs = jobs.filter(user=user)
    workers.fail_dead_jobs(jobs.filter(state__in=workers.WORKING_STATES).values("pk"))
    return TemplateResponse(
        request,
        "spreadsheets/index.html",
        _context(
            request,
            title=_("表格导入导出"),
            available=available,
            importable=[a["kind"] for a in available if a["import"]],
            jobs=jobs[:30],
            labels={k.key: k.label for k in kinds()},
            max_mb=settings.SPREADSHEET_MAX_UPLOAD_BYTES // 2**20,
            max_rows=settings.SPREADSHEET_MAX_ROWS,
            inline_rows=settings.EXPORT_INLINE_MAX_ROWS,
            selected=request.GET.get("kind", ""),
            worker=workers.worker_status(),
        ),
    )


@require_POST
def upload(request):
    kind = get_kind(request.POST.get("kind", ""))
    if kind is None or not kind.may_import(request.user):
        raise PermissionDenied
    # Refuse an oversize body before Django reads the upload at all.
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    try:
        if declared > settings.SPREADSHEET_MAX_UPLOAD_BYTES + 64 * 1024:
            reading.check_size(declared)
        upload = request.FILES.get("file")
        if upload is None:
            raise reading.FileRejected(_("请选择要上传的文件。"))
        job = services.job_create(user=request.user, kind_key=kind.key, upload=upload)
    except reading.FileRejected as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('spreadsheets:index')}?kind={kind.key}")
    return redirect("spreadsheets:job", pk=job.pk)


def job_detail(request, pk):
    job = _visible_job(request, pk)
    kind = get_kind(job.kind)
    changes = job.changes or {}
    sheets = changes.get("sheets", [])
    return TemplateResponse(
        request,
        "spreadsheets/job.html",
        _context(
            request,
            title=_("导入：%(name)s") % {"name": job.file_name},
            job=job,
            kind=kind,
            errors=_sheet_errors(job.errors[:ERRORS_SHOWN], sheets),
            errors_more=max(len(job.errors) - ERRORS_SHOWN, 0),
            sheets=sheets,
            sheets_read=_quoted(sheets),
            total_rows=_row_numbers(changes.get("totals", []), sheets),
            filled_note=_filled_note(kind, changes),
            other_sheets=_quoted(changes.get("other_sheets", [])),
            may_read_sheets=job.state in (JobState.READY, JobState.INVALID)
            and job.user_id == request.user.pk
            and bool(changes.get("other_sheets")),
            may_confirm=job.state == JobState.READY
            and job.user_id == request.user.pk
            and (job.new_rows or job.updated_rows),
            may_cancel=job.state in (JobState.READY, JobState.INVALID)
            and job.user_id == request.user.pk,
            has_error_file=job.state == JobState.INVALID and job.errors,
        ),
    )


def _row_numbers(numbers, sheets=(), shown=20, more=False):
    """「第 10、25 行」 for the rows ``numbers`` (the first ``shown``, then 「等」; 「等」
    too when ``more`` rows were left out of ``numbers``); each sheet's named when several
    ``sheets`` were read (``engine.rows_text``)."""
    if not numbers:
        return ""
    text = engine.rows_text(
        numbers[:shown],
        sheets,
        words=lambda n: ngettext("第 %(rows)s 行", "第 %(rows)s 行", n),
    )
    if len(numbers) > shown or more:
        return _("%(rows)s等") % {"rows": text}
    return text


def _sheet_errors(errors, sheets):
    """The errors as the table shows them: (sheet, row in it, column, reason); the sheet is
    "" unless several were read."""
    shown = []
    for number, header, message in errors:
        sheet, row = engine.sheet_row(number, sheets)
        shown.append((sheet, row, header, message))
    return shown


def _quoted(names):
    """「“二组”、“三组”」 for the sheet names ``names``."""
    return engine.listed(_("“%(name)s”") % {"name": n} for n in names)


def _filled_note(kind, changes):
    """What the preview says of the rows whose blank cells were filled from above."""
    count = changes.get("filled", 0)
    if not count or kind is None or not kind.filled_note:
        return ""
    rows = changes.get("filled_rows", [])
    rows_text = _row_numbers(rows, changes.get("sheets", []), more=count > len(rows))
    return kind.filled_note % {"count": count, "rows": rows_text}


def job_progress(request, pk):
    job = _visible_job(request, pk)
    return JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "progress": job.progress,
            "phase": job.phase,
            "running": job.running,
        }
    )


@require_POST
def job_confirm(request, pk):
    job = _visible_job(request, pk)
    job = services.job_confirm(job, request.user)
    if job.state == JobState.COMMITTED:
        messages.success(
            request,
            _("导入完成：新增 %(new)d 行，更新 %(updated)d 行。")
            % {"new": job.new_rows, "updated": job.updated_rows},
        )
    return redirect("spreadsheets:job", pk=job.pk)


@require_POST
def job_sheets(request, pk):
    """Check the same file again with the sheets the preview named read together."""
    job = _visible_job(request, pk)
    new = services.job_read_sheets(job, request.user)
    return redirect("spreadsheets:job", pk=new.pk)


@require_POST
def job_cancel(request, pk):
    job = _visible_job(request, pk)
    services.job_cancel(job, request.user)
    return redirect("spreadsheets:job", pk=job.pk)


def job_errors(request, pk):
    job = _visible_job(request, pk)
    content = services.job_error_workbook(job)
    if content is None:
        raise Http404
    stem = job.file_name.rsplit(".", 1)[0]
    return _download(content, f"{stem}-错误清单.xlsx", XLSX)


def template(request, kind):
    found = get_kind(kind)
    if found is None:
        raise Http404
    if not (found.may_import(request.user) or found.may_export(request.user)):
        raise PermissionDenied
    return _download(template_workbook(found), f"{found.label}导入模板.xlsx", XLSX)


def export(request, kind, fmt):
    found = get_kind(kind)
    if found is None or fmt not in ("xlsx", "csv"):
        raise Http404
    if not found.may_export(request.user):
        raise PermissionDenied
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if exports.too_many_rows(found.export_queryset(request.user)):
        try:
            job = exports.start_kind_export(
                request, found, file_name=f"{found.label}-{stamp}.{fmt}", file_format=fmt
            )
        except exports.TooManyExports as refused:
            messages.error(request, str(refused))
            return redirect("spreadsheets:exports")
        return redirect(exports.job_url(job))
    content, content_type = export_file(found, request.user, fmt)
    return _download(content, f"{found.label}-{stamp}.{fmt}", content_type)


# --- export jobs (exports) -------------------------------------------------------------


def _own_export(request, pk):
    """The user's own export job (anyone else's is not found: the file is theirs alone)."""
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    if job.state == ExportState.RUNNING and exports.fail_dead([job.pk]):
        job.refresh_from_db()
    return job


def export_jobs(request):
    jobs = ExportJob.objects.filter(user=request.user)
    exports.fail_dead(jobs.filter(state=ExportState.RUNNING).values("pk"))
    return TemplateResponse(
        request,
        "spreadsheets/exports.html",
        _context(
            request,
            title=_("我的导出"),
            jobs=jobs[:50],
            keep_hours=settings.EXPORT_KEEP_HOURS,
            worker=workers.worker_status(),
        ),
    )


def export_job(request, pk):
    job = _own_export(request, pk)
    return TemplateResponse(
        request,
        "spreadsheets/export_job.html",
        _context(
            request,
            title=_("导出：%(name)s") % {"name": job.name},
            job=job,
            expires_at=job.finished_at + datetime.timedelta(hours=settings.EXPORT_KEEP_HOURS)
            if job.state == ExportState.DONE
            else None,
            worker=workers.worker_status() if job.state == ExportState.QUEUED else None,
        ),
    )


def _export_phase(job):
    if job.state == ExportState.QUEUED:
        return _("等待后台任务进程")
    if job.total_rows and job.progress >= exports.ROWS_PERCENT:
        return _("正在写入文件")
    if job.total_rows:
        return _("已生成 %(done)s / %(total)s 行") % {
            "done": f"{job.done_rows:,}",
            "total": f"{job.total_rows:,}",
        }
    return _("正在统计行数")


def export_progress(request, pk):
    job = _own_export(request, pk)
    return JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "progress": job.progress,
            "phase": _export_phase(job) if job.running else "",
            "running": job.running,
        }
    )


def export_download(request, pk):
    exports.expire()  # a file kept past its hours is deleted now, not served
    job = _own_export(request, pk)
    if job.state != ExportState.DONE:
        messages.error(
            request,
            _("这个导出文件不能下载：%(state)s。") % {"state": job.get_state_display()},
        )
        return redirect(exports.job_url(job))
    file = get_object_or_404(ExportFile, job=job)
    return _download(bytes(file.content), job.file_name, file.content_type)
