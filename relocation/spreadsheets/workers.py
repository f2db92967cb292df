"""Is the job worker alive, and did the one running a job die?

A job worker (``manage.py job_worker``) stamps a ``WorkerHeartbeat`` row every
``JOB_WORKER_HEARTBEAT_SECONDS`` from a thread of its own, and records its host
and process id on every import job it starts.  A job whose worker is gone —
killed, out of memory — would otherwise stay 「正在检查」 or 「正在导入」 for
ever; ``fail_dead_jobs`` marks it failed with a message the user reads on the
job page.  On the worker's own host (and process-id namespace) the process id
decides (the process is there or not); elsewhere a heartbeat older than
``JOB_WORKER_STALE_SECONDS``.  Every living worker also sweeps now and then
(``sweep``): dead workers' import jobs and their rows in the job queue are
marked failed even when nobody opens their pages.
"""

import contextlib
import datetime
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ImportJob, JobState, WorkerHeartbeat

logger = logging.getLogger(__name__)


def _host():
    """This machine and process-id namespace: where a process id means this process.

    Two containers may share a host name; their process ids are not comparable.
    """
    name = socket.gethostname()
    with contextlib.suppress(OSError):
        name += f"/{os.stat('/proc/self/ns/pid').st_ino}"
    return name[:255]


HOST = _host()
#: Every this many heartbeats a worker sweeps up after dead ones (``sweep``).
SWEEP_EVERY = 6
#: The states in which a worker is working on the job (not merely queued).
WORKING_STATES = (JobState.VALIDATING, JobState.COMMITTING)


def pid_alive(pid):
    """Whether a process with this id runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: the signal said it exists


def stale_before(now=None):
    return (now or timezone.now()) - datetime.timedelta(seconds=settings.JOB_WORKER_STALE_SECONDS)


def heartbeat_alive(beat, now=None):
    if beat.host == HOST:
        return pid_alive(beat.pid)
    return beat.seen_at >= stale_before(now)


def worker_status(now=None):
    """``{"running": bool, "workers": [alive heartbeats], "last_seen": datetime or None}``."""
    beats = list(WorkerHeartbeat.objects.all()[:50])
    alive = [beat for beat in beats if heartbeat_alive(beat, now)]
    return {
        "running": bool(alive),
        "workers": alive,
        "last_seen": max((beat.seen_at for beat in beats), default=None),
    }


def job_worker_gone(job, now=None):
    """Whether the worker process that claimed ``job`` (``claim_job``) is gone.

    False while no worker has claimed it.  The caller picks the jobs a worker is
    working on (an import's check or commit, an export being made).
    """
    if not job.worker_pid:
        return False
    if job.worker_host == HOST:
        return not pid_alive(job.worker_pid)
    return not WorkerHeartbeat.objects.filter(
        host=job.worker_host, pid=job.worker_pid, seen_at__gte=stale_before(now)
    ).exists()


def dead_worker_message():
    return _(
        "处理这个文件的后台任务进程意外终止（可能是内存不足或被强制结束），"
        "没有写入任何数据。请重新上传；如果再次发生，请联系系统管理员。"
    )


def fail_jobs_of_dead_workers(working, failed_state, message, **fields):
    """Mark ``failed_state`` each job of ``working`` (a queryset of import or export jobs
    a worker is working on) whose worker is gone; returns how many.

    ``message()`` is the failure the job's page shows, written in the job's language;
    ``fields`` are further values to set.  A page that cannot write just now (another
    process holds the SQLite write lock) leaves it to the next look.
    """
    model = working.model
    failed = 0
    for job in working.only("pk", "state", "worker_host", "worker_pid", "language"):
        if not job_worker_gone(job):
            continue
        with job.in_its_language():
            text = message()
        try:
            with transaction.atomic():
                failed += model.objects.filter(pk=job.pk, state=job.state).update(
                    state=failed_state, progress=100, failure=text, **fields
                )
        except DatabaseError:
            logger.warning("could not mark %s %s failed yet", model.__name__, job.pk, exc_info=True)
            continue
        logger.error(
            "%s %s: worker %s:%s is gone", model.__name__, job.pk, job.worker_host, job.worker_pid
        )
    return failed


def fail_dead_jobs(jobs=None):
    """Mark failed every working import job whose worker is gone; returns how many.

    Called by the import pages (for the jobs they show) and by a starting
    worker (for all).
    """
    working = ImportJob.objects.filter(state__in=WORKING_STATES, background=True)
    if jobs is not None:
        working = working.filter(pk__in=jobs)
    return fail_jobs_of_dead_workers(working, JobState.FAILED, dead_worker_message, phase="")


def fail_orphaned_task_results(now=None):
    """Mark FAILED the job queue's rows still RUNNING on a worker that is gone; returns how many.

    django-tasks leaves a task RUNNING for ever when its worker is killed; the
    import it ran is failed by ``fail_dead_jobs``, and this makes the queue
    agree (an operator reading ``DBTaskResult`` or the readiness check sees no
    phantom work).  A worker counts as gone when its heartbeat is dead, or when
    it has none and the task started longer than ``JOB_WORKER_STALE_SECONDS`` ago.
    """
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    now = now or timezone.now()
    beats = {beat.worker_id: beat for beat in WorkerHeartbeat.objects.all()}
    gone = []
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    for result in running.only("id", "worker_ids", "started_at"):
        worker = (result.worker_ids or [""])[-1][:64]
        beat = beats.get(worker)
        if beat is not None:
            if heartbeat_alive(beat, now):
                continue
        elif result.started_at is None or result.started_at >= stale_before(now):
            continue
        gone.append(result.pk)
    if not gone:
        return 0
    return DBTaskResult.objects.filter(pk__in=gone, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="relocation.spreadsheets.workers.WorkerGone",
        traceback=str(dead_worker_message()),
    )


def sweep():
    """What a living worker does now and then: fail the work of dead ones (see above),
    and delete the export files kept long enough (``exports.expire``)."""
    from . import exports

    try:
        fail_dead_jobs()
        exports.fail_dead()
        fail_orphaned_task_results()
        exports.expire()
    except DatabaseError:
        logger.info("sweep skipped: the database is busy")


def forget_dead_workers():
    """Drop the heartbeat rows of workers on this host that are gone (a new one starts)."""
    gone = [b.pk for b in WorkerHeartbeat.objects.filter(host=HOST) if not pid_alive(b.pid)]
    WorkerHeartbeat.objects.filter(pk__in=gone).delete()


def claim_job(job):
    """Record this process as the one working on ``job`` (before it starts)."""
    job.worker_host, job.worker_pid = HOST, os.getpid()
    job.save(update_fields=["worker_host", "worker_pid"])


class Heartbeat(threading.Thread):
    """Stamps this worker's ``WorkerHeartbeat`` row until stopped; removes it at the end."""

    def __init__(self, worker_id):
        super().__init__(name="job-worker-heartbeat", daemon=True)
        self.worker_id = worker_id[:64]
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def beat(self):
        try:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id,
                defaults={
                    "host": HOST,
                    "pid": os.getpid(),
                    "started_at": self.started_at,
                    "seen_at": timezone.now(),
                },
            )
        except DatabaseError:
            # SQLite: the worker's own import holds the write lock; the next beat will do.
            logger.info("heartbeat skipped: the database is busy")

    def run(self):
        beats = 0
        try:
            while not self.stopping.is_set():
                self.beat()
                if beats % SWEEP_EVERY == 0:
                    # Jobs of dead workers fail even when nobody opens their page.
                    sweep()
                beats += 1
                close_old_connections()  # this thread's own connection
                self.stopping.wait(settings.JOB_WORKER_HEARTBEAT_SECONDS)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            logger.warning("could not remove the heartbeat row", exc_info=True)
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def run_queued_jobs(queue_name="*"):
    """Run the queued jobs of ``queue_name`` (every queue: ``*``) in this process until none
    is ready, without a heartbeat (tests and benchmarks; a server runs ``job_worker``)."""
    from django.core.management import call_command

    call_command(
        "db_worker",
        queue_name=queue_name,
        batch=True,
        no_startup_delay=True,
        interval=0,
        verbosity=0,
        reload=False,
    )
