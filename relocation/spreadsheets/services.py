"""Import jobs: create (upload), check (dry run), commit, cancel.

Small files are checked and committed inside the request; files larger than
``SPREADSHEET_INLINE_MAX_BYTES`` run on the job worker (django-tasks,
``manage.py db_worker``) and the page follows their progress.  Either way the
same functions run, and a commit writes everything or nothing.
"""

import contextlib
import datetime
import gc
import hashlib
import logging
import time
import zlib

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import engine, reading
from .kinds import get_kind
from .models import ImportJob, ImportUpload, JobState

logger = logging.getLogger(__name__)
MAX_STORED_ERRORS = 5000
UPLOAD_KEEP_DAYS = 7


class StalePlan(Exception):
    pass


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector off while a file is checked or written (a decorator).

    A 100,000-row roster keeps about a million dicts, lists and rows alive at
    once; every few thousand new ones the collector walks them all again to
    find cycles that this code does not make (about 1.5 s of a check and a
    commit, `benchmarks/imports.py`).  Whatever the job leaves behind is
    collected as usual once the collector is back on.
    """
    if not gc.isenabled():  # nested, or paused by the caller
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def job_create(*, user, kind_key, upload):
    """Store an uploaded file as a job and start its check.  Raises ``FileRejected``."""
    kind = get_kind(kind_key)
    if kind is None or not kind.may_import(user):
        raise PermissionDenied
    fmt = reading.file_format(upload.name)
    reading.check_size(upload.size)  # before a byte is read into memory
    content = upload.read()
    reading.check_size(len(content))
    fmt = reading.true_format(fmt, content)
    job = ImportJob.objects.create(
        kind=kind.key,
        user=user,
        file_name=upload.name[-255:],
        file_sha256=hashlib.sha256(content).hexdigest(),
        file_size=len(content),
        file_format=fmt,
        background=len(content) > settings.SPREADSHEET_INLINE_MAX_BYTES,
        language=translation.get_language() or "",
    )
    # zlib level 1: a 100,000-row CSV is 12 MB of text; compressed it costs the
    # database a fraction of the time to store (and PostgreSQL no TOAST work).
    # An .xlsx is a zip archive, deflated already: stored as it is (level 0),
    # not compressed again for 15 % in a quarter of a second.
    _store_upload(job, zlib.compress(content, 0 if fmt == "xlsx" else 1))
    # Uploads of files never committed are kept for a week (to fix and compare), then dropped.
    ImportUpload.objects.filter(
        job__created_at__lt=timezone.now() - datetime.timedelta(days=UPLOAD_KEEP_DAYS)
    ).delete()
    _start_check(job)
    return job


def _start_check(job):
    """Check a new job here, or on the job worker when its file is large."""
    if job.background:
        _enqueue("check", job)
    else:
        job_check(job)


def job_read_sheets(job, user):
    """A new check of ``job``'s file reading together the sheet it read and the other
    sheets its preview named (``changes["other_sheets"]``), which the user asked for on
    that preview.  ``job`` is cancelled: its preview no longer stands for what would be
    imported.  Only the uploader, and only before a commit."""
    changes = job.changes or {}
    kind = get_kind(job.kind)
    if (
        job.user_id != user.pk
        or job.state not in (JobState.READY, JobState.INVALID)
        or not changes.get("other_sheets")
        or kind is None
        or not kind.may_import(user)
    ):
        raise PermissionDenied
    upload = ImportUpload.objects.filter(job=job).first()
    if upload is None:
        raise PermissionDenied
    new = ImportJob.objects.create(
        kind=job.kind,
        user=user,
        file_name=job.file_name,
        file_sha256=job.file_sha256,
        file_size=job.file_size,
        file_format=job.file_format,
        background=job.background,
        language=translation.get_language() or job.language,
        sheets=[changes["sheet"], *changes["other_sheets"]],
    )
    _store_upload(new, bytes(upload.content))
    job.state = JobState.CANCELLED
    job.save(update_fields=["state"])
    upload.delete()
    _start_check(new)
    return new


def _store_upload(job, payload):
    """The upload's bytes, sent to PostgreSQL as one binary parameter.

    Django's psycopg cursors bind parameters on the client, which writes bytes
    into the SQL text as hex: twice the size, scanned again by the server (a
    13 MB workbook: 0.46 s, against 0.1 s sent as binary).
    """
    if connection.vendor != "postgresql":
        ImportUpload.objects.create(job=job, content=payload)
        return
    import psycopg

    connection.ensure_connection()
    table = connection.ops.quote_name(ImportUpload._meta.db_table)
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(f"INSERT INTO {table} (job_id, content) VALUES (%s, %b)", [job.pk, payload])


def _enqueue(action, job):
    from . import tasks

    task = tasks.check_import if action == "check" else tasks.commit_import
    # After the transaction that stored the job: the worker must find it.
    transaction.on_commit(lambda: task.enqueue(str(job.pk)))


def _progress_writer(job):
    last = {"at": 0.0}

    def report(percent, phase):
        now = time.monotonic()
        if now - last["at"] < 0.5 and percent < 100:
            return
        last["at"] = now
        ImportJob.objects.filter(pk=job.pk).update(progress=min(percent, 99), phase=str(phase))

    return report


def _read(job, ctx):
    ctx.progress(1, _("正在读取文件"))
    sheet = read_upload(job, ImportUpload.objects.get(job=job))
    job.encoding = sheet.encoding
    ctx.progress(5, _("正在逐格检查"))
    return sheet


def read_upload(job, upload):
    """The job's stored file, read as its kind's (its columns size the guards; its column
    names find the data sheet).  Raises ``reading.FileRejected``."""
    kind = get_kind(job.kind)
    content = zlib.decompress(bytes(upload.content))
    return reading.read(
        content,
        job.file_format,
        columns=len(kind.columns),
        known=kind.header_mapping(),
        sheets=job.sheets,
    )


def _context(job):
    return engine.Context(
        job.user,
        reason=job.history_reason,
        progress=_progress_writer(job) if job.background else None,
    )


@collector_paused()
def job_check(job):
    """The dry run: parse, validate and plan; store counts, errors and the plan digest."""
    kind = get_kind(job.kind)
    started = time.monotonic()
    job.state = JobState.VALIDATING
    job.save(update_fields=["state"])
    ctx = _context(job)
    # Before the plan reads anything: a commit compares the history with this.
    basis = history_basis() if connection.vendor == "postgresql" else None
    try:
        sheet = _read(job, ctx)
        plan = engine.plan_file(kind, sheet, ctx)
    except reading.FileRejected as exc:
        _finish(job, JobState.INVALID, started, errors=[(1, "", str(exc))])
        return job
    _store_plan(job, plan)
    if not plan.errors and plan.rows:
        if basis is not None and plan.kept is not None:
            # The commit writes this plan; only when something it relied on
            # has changed by then does it plan again, from the file (a second
            # copy of the parsed cells would cost every check a second).
            kept, parsed = engine.pack_kept(plan, basis), None
        else:
            kept, parsed = None, engine.pack_rows(kind, plan)
        ImportUpload.objects.filter(job=job).update(parsed=parsed, kept=kept)
    _finish(job, JobState.INVALID if plan.errors else JobState.READY, started)
    return job


def _store_plan(job, plan):
    counts = plan.counts()
    job.total_rows = plan.total_rows
    job.new_rows, job.updated_rows = counts["new"], counts["updated"]
    job.unchanged_rows, job.error_rows = counts["unchanged"], counts["error"]
    job.errors = [list(e) for e in plan.errors.sorted()[:MAX_STORED_ERRORS]]
    job.changes = plan.changes
    job.plan_digest = plan.digest


def _finish(job, state, started, errors=None, failure=""):
    job.state = state
    job.progress = 100
    job.phase = ""
    job.failure = failure
    if errors is not None:
        job.errors = [list(e) for e in errors]
        job.error_rows = len({e[0] for e in errors})
    now = timezone.now()
    if state in (JobState.READY, JobState.INVALID):
        job.checked_at = now
    if state == JobState.COMMITTED:
        job.committed_at = now
    job.seconds = round(time.monotonic() - started, 3)
    job.save()


def job_confirm(job, user):
    """The user confirmed the preview: commit now or on the worker."""
    if job.user_id != user.pk or job.state != JobState.READY:
        raise PermissionDenied
    if not get_kind(job.kind).may_import(user):
        raise PermissionDenied
    if job.background:
        job.state = JobState.COMMIT_QUEUED
        job.progress = 0
        job.save(update_fields=["state", "progress"])
        _enqueue("commit", job)
        return job
    return job_commit(job)


@collector_paused()
def job_commit(job):
    """Write the previewed plan, all or nothing, only if it is still the one previewed.

    PostgreSQL writes the plan kept since the check (``ImportUpload.kept``)
    when nothing it relied on has changed since the check began
    (``changes_since``, inside the writing transaction); otherwise it plans
    again inside that transaction.  SQLite has one writer for the whole
    database, and planning a large file takes minutes during which nobody
    could sign in or save: it notes where the change history stands, plans
    without a lock, then takes the write lock and writes that plan only if
    nothing the plan read has changed since the note (``_still_valid``);
    otherwise it plans again under the lock.  A plan made again must have the
    preview's digest, or nothing is written.
    """
    kind = get_kind(job.kind)
    started = time.monotonic()
    job.state = JobState.COMMITTING
    job.save(update_fields=["state"])
    ctx = _context(job)
    try:
        source = {}

        def make_plan():
            if not source:  # the check's parsed cells, else the file
                source["parsed"] = _parsed(job, kind)
                source["sheet"] = None if source["parsed"] else _read(job, ctx)
            parsed = source["parsed"]
            plan = (
                engine.plan_rows(kind, *parsed, ctx)
                if parsed
                else engine.plan_file(kind, source["sheet"], ctx)
            )
            if plan.errors or plan.digest != job.plan_digest:
                raise StalePlan
            if parsed:  # packed by the check, after reading the file noted its rows
                plan.restore_file_notes(job.changes or {})
            return plan

        plan = marks = None
        kept = _kept(job) if connection.vendor == "postgresql" else None
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            # Outside any transaction: every read sees the latest data, and
            # whatever changes after the marks shows above them.
            marks = history_marks()
            plan = make_plan()
        with transaction.atomic():
            if kept is not None and _kept_still_valid(kept, job):
                ctx.progress(80, _("正在写入数据库"))
                kind.write_kept(kept.data, ctx)
            else:
                if plan is None or not _still_valid(plan, marks):
                    plan = make_plan()
                ctx.progress(80, _("正在写入数据库"))
                engine.commit(plan, ctx)
    except (StalePlan, IntegrityError):
        # IntegrityError: someone created the same household number or ID
        # number between the check and the write; the transaction rolled back.
        _finish(
            job,
            JobState.FAILED,
            started,
            failure=_(
                "预览之后系统中的数据发生了变化，结果可能与预览不同，因此没有写入任何数据。请重新上传文件预览。"
            ),
        )
        return job
    except reading.FileRejected as exc:
        _finish(job, JobState.FAILED, started, failure=str(exc))
        return job
    except Exception:
        logger.exception("import %s failed", job.pk)
        _finish(
            job,
            JobState.FAILED,
            started,
            failure=_("导入时发生内部错误，没有写入任何数据。请联系系统管理员。"),
        )
        return job
    if plan is not None:  # planned again: the same counts, stored as they came out
        _store_plan(job, plan)
    ImportUpload.objects.filter(job=job).delete()
    _finish(job, JobState.COMMITTED, started)
    return job


def history_marks():
    """{history model: its largest history id}: where the change history stands now."""
    marks = {}
    for model in _history_models():
        marks[model] = model.objects.aggregate(top=Max("history_id"))["top"] or 0
    return marks


def _history_models():
    """Every model's history table (many-to-many changes also add a row to their owner's)."""
    from simple_history.models import registered_models

    return [m.history.model for m in registered_models.values() if hasattr(m, "history")]


def _still_valid(plan, marks):
    """True when no record ``plan`` relied on changed after ``marks`` (call under the write lock).

    Every write path records history (the models' querysets and the bulk
    writers do), and on SQLite history ids grow in commit order, so the rows
    above the marks are exactly the changes since they were taken.
    """
    changes = {
        history_model: set(
            history_model.objects.filter(history_id__gt=mark).values_list("id", flat=True)
        )
        for history_model, mark in marks.items()
    }
    return _unchanged(plan.relied_on, plan.settlements, changes)


def _unchanged(relied_on, settlements, changes):
    """Whether ``changes`` ({history model: ids of changed records}) spare what a plan read.

    A kind that declares what it read (``Plan.relies_on``) declares all of it:
    the records by id, and every record with an area scope inside the
    settlements it read.  A kind that declares nothing accepts no change at all.
    """
    for history_model, changed in changes.items():
        if not changed:
            continue
        if relied_on is None:
            return False
        model = history_model.instance_type
        if changed & relied_on.get(model._meta.label, set()):
            return False
        path = getattr(model._default_manager.all(), "scope_path", None)
        if path is not None and settlements:
            lookup = f"{path}__in" if path else "pk__in"
            if model._default_manager.filter(pk__in=changed, **{lookup: settlements}).exists():
                return False
    return True


# --- PostgreSQL: the checked plan, written at commit when it still holds ----------
# History ids come from sequences when a row is inserted, not when its
# transaction commits: a transaction that was writing while the check read can
# commit later with ids below any mark taken then.  So the check notes its
# snapshot (``pg_current_snapshot()``) and the commit looks for history rows
# written by a transaction the snapshot may not have seen.
XID_WRAP = 2**32
# How far an application server's clock may be from the database's, and how
# long before its transaction began a writer may date its history rows.
CLOCK_MARGIN = datetime.timedelta(minutes=5)


def history_basis():
    """Where the change history stands as a check begins (PostgreSQL), or None.

    Taken before the plan reads anything, in this order:

    1. ``marks``: each history table's sequence (``pg_sequence_last_value``):
       ids handed out later, to any transaction, are above it.
    2. The transactions holding an id now (``pg_stat_activity``).  ``since`` is
       when the oldest of them connected to this database began (or now),
       less ``CLOCK_MARGIN``: a transaction that wrote a history row before
       this moment is among them, and any other wrote after it, so every row
       the check may not see is dated after ``since``.
    3. A snapshot S (``pg_current_snapshot()``).  A transaction S does not see
       was running then (listed in S, or at or above S's ``xmax``) or began
       later.  Transaction ids are shared by every database of the server;
       those listed in S that step 2 found connected to another database
       cannot write our tables.  ``xmin`` is the oldest other one listed in S,
       else S's ``xmax``: every transaction that could have written a row S
       does not see is that one or newer, and so is each of its
       subtransactions (S lists only top-level transactions, and a
       subtransaction's id is newer than its parent's), which is why the
       commit compares ids with ``xmin`` rather than asking whether S sees one.

    None (the commit then plans again) when a transaction of this database
    hides when it began (another role's session).
    """
    tables = {m._meta.label: m._meta.db_table for m in _history_models()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, pg_sequence_last_value(pg_get_serial_sequence(t, 'history_id')::regclass)"
            " FROM unnest(%s::text[]) AS t",
            [list(tables.values())],
        )
        top = dict(cursor.fetchall())
        cursor.execute("SELECT pg_stat_clear_snapshot(), statement_timestamp()")
        since = cursor.fetchone()[1]
        cursor.execute(
            "SELECT backend_xid::text::bigint, datname = current_database(), xact_start"
            " FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
        )
        elsewhere = set()
        for xid, ours, began in cursor.fetchall():
            if not ours:
                elsewhere.add(xid)
            elif began is None:
                return None
            else:
                since = min(since, began)
        cursor.execute(
            "SELECT pg_snapshot_xmax(s)::text::bigint,"
            " ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x)"
            " FROM pg_current_snapshot() AS s"
        )
        xmax, running = cursor.fetchone()
    xmin = min([xid for xid in running if xid % XID_WRAP not in elsewhere] + [xmax])
    return {
        "xmin": xmin,
        "since": (since - CLOCK_MARGIN).isoformat(),
        "marks": {label: top.get(table) or 0 for label, table in tables.items()},
    }


def changes_since(basis):
    """{history model: ids of records changed since ``basis``}, or None when unknown.

    A history row counts when its id is above the mark, or when it is dated
    after ``since`` (the ``history_date`` index bounds the scan) and was
    written by the transaction ``xmin`` or a newer one.  Row ``xmin`` is a
    32-bit transaction id: it is widened against the current one, which is
    exact for any transaction younger than 2³¹ (older rows are frozen and
    long before ``since``).  Every change the check may not have seen counts;
    so may a few it did see (transactions newer than the oldest running one
    that committed before S), which costs a second plan, never a wrong write.
    Call inside the writing transaction.
    """
    quote = connection.ops.quote_name
    since = datetime.datetime.fromisoformat(basis["since"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        now = cursor.fetchone()[0]
        span = now - basis["xmin"]
        if not 0 <= span < XID_WRAP // 2:
            return None
        changes = {}
        for model in _history_models():
            mark = basis["marks"].get(model._meta.label)
            if mark is None:  # a history table added since the check
                return None
            opts = model._meta
            cursor.execute(
                f"SELECT DISTINCT {quote(opts.get_field('id').column)}"
                f" FROM {quote(opts.db_table)}"
                f" WHERE {quote(opts.pk.column)} > %s"
                f" OR ({quote(opts.get_field('history_date').column)} >= %s"
                f" AND (%s - xmin::text::bigint) %% {XID_WRAP} <= %s)",
                [mark, since, now, span],
            )
            changes[model] = {pk for (pk,) in cursor.fetchall()}
    return changes


def _kept(job):
    blob = ImportUpload.objects.filter(job=job).values_list("kept", flat=True).first()
    return engine.unpack_kept(blob) if blob else None


def _kept_still_valid(kept, job):
    """Whether the kept plan may be written as it is (inside the writing transaction)."""
    if kept.digest != job.plan_digest:
        return False
    changes = changes_since(kept.basis)
    return changes is not None and _unchanged(kept.relied_on, kept.settlements, changes)


def _parsed(job, kind):
    blob = ImportUpload.objects.filter(job=job).values_list("parsed", flat=True).first()
    return engine.unpack_rows(kind, blob) if blob else None


def job_cancel(job, user):
    if job.user_id != user.pk or job.state not in (JobState.READY, JobState.INVALID):
        raise PermissionDenied
    job.state = JobState.CANCELLED
    job.save(update_fields=["state"])
    ImportUpload.objects.filter(job=job).delete()
    return job


def job_error_workbook(job):
    from .columns import find_header_row
    from .workbooks import error_workbook

    upload = ImportUpload.objects.filter(job=job).first()
    if upload is None:
        return None
    try:
        sheet = read_upload(job, upload)
    except reading.FileRejected:
        sheet = reading.SheetData(headers=[], rows=[])
    mapping = get_kind(job.kind).header_mapping()
    parts = []
    for part in (sheet, *sheet.more):
        part.headers, part.rows, header_row = find_header_row(part.headers, part.rows, mapping)
        parts.append((part, header_row))
    sheets = (job.changes or {}).get("sheets", [])
    return error_workbook(parts, [tuple(e) for e in job.errors], sheets=sheets)
