"""Issue 9 item 5: a job whose worker died is marked failed; the import page says
whether a job worker runs.  (The same with real, killed processes:
``test_worker_processes.py``.)"""

import datetime
import os
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone

from relocation.spreadsheets import workers
from relocation.spreadsheets.models import ImportJob, WorkerHeartbeat

pytestmark = pytest.mark.django_db
DEAD_WORKER = "处理这个文件的后台任务进程意外终止"


@pytest.fixture(scope="module")
def dead_pid():
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def make_job(user, state="committing", host=workers.HOST, pid=None, background=True):
    return ImportJob.objects.create(
        kind="roster",
        user=user,
        file_name="大文件.xlsx",
        file_sha256="0" * 64,
        file_size=1,
        file_format="xlsx",
        background=background,
        state=state,
        progress=80,
        worker_host=host,
        worker_pid=pid,
    )


def test_a_job_whose_worker_process_is_gone_fails_when_its_page_is_opened(client, world, dead_pid):
    job = make_job(world.admin, pid=dead_pid)
    client.force_login(world.admin)
    progress = client.get(reverse("spreadsheets:progress", args=[job.pk])).json()
    assert (progress["state"], progress["running"]) == ("failed", False)
    page = client.get(reverse("spreadsheets:job", args=[job.pk])).content.decode()
    assert DEAD_WORKER in page and "失败，未导入" in page
    job.refresh_from_db()
    assert (job.state, job.progress) == ("failed", 100)


@pytest.mark.parametrize(
    "state, background, alive",
    [
        ("validating", True, True),  # the worker is still at it
        ("committing", False, False),  # inline: the request's own transaction
        ("queued", True, False),  # not started: waits for a worker
        ("ready", True, False),  # finished
    ],
)
def test_jobs_left_alone(client, world, dead_pid, state, background, alive):
    job = make_job(
        world.admin, state, pid=os.getpid() if alive else dead_pid, background=background
    )
    client.force_login(world.admin)
    client.get(reverse("spreadsheets:index"))
    client.get(reverse("spreadsheets:job", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == state and job.failure == ""


def test_a_worker_on_another_host_counts_as_gone_when_its_heartbeat_is_stale(world, settings):
    settings.JOB_WORKER_STALE_SECONDS = 60
    now = timezone.now()
    fresh = make_job(world.admin, host="worker-a", pid=101)
    stale = make_job(world.admin, host="worker-b", pid=102)
    WorkerHeartbeat.objects.create(
        worker_id="a", host="worker-a", pid=101, started_at=now, seen_at=now
    )
    WorkerHeartbeat.objects.create(
        worker_id="b",
        host="worker-b",
        pid=102,
        started_at=now,
        seen_at=now - datetime.timedelta(seconds=61),
    )
    assert workers.fail_dead_jobs() == 1
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert (fresh.state, stale.state) == ("committing", "failed")
    assert stale.failure.startswith(DEAD_WORKER)


def test_the_import_page_says_whether_a_worker_runs(client, world, dead_pid):
    client.force_login(world.admin)
    index = reverse("spreadsheets:index")
    page = client.get(index).content.decode()
    assert "后台任务进程没有运行" in page and "最近一次心跳" not in page
    seen = timezone.now() - datetime.timedelta(minutes=5)
    beat = WorkerHeartbeat.objects.create(
        worker_id="w1", host=workers.HOST, pid=dead_pid, started_at=seen, seen_at=seen
    )
    page = client.get(index).content.decode()
    assert "后台任务进程没有运行" in page and "最近一次心跳" in page
    assert timezone.localtime(seen).strftime("%Y-%m-%d %H:%M:%S") in page
    beat.pid = os.getpid()
    beat.save()
    page = client.get(index).content.decode()
    assert "后台任务进程运行中" in page and f"进程号 {os.getpid()}" in page
    assert "没有运行" not in page


def test_the_worker_status_is_not_shown_to_those_who_only_export(client, world):
    client.force_login(world.county)  # an official: may export, may not import
    page = client.get(reverse("spreadsheets:index")).content.decode()
    assert "后台任务进程" not in page


def test_a_heartbeat_stamps_this_process(settings):
    settings.JOB_WORKER_HEARTBEAT_SECONDS = 0.05
    beat = workers.Heartbeat("test-worker")
    beat.beat()
    row = WorkerHeartbeat.objects.get(worker_id="test-worker")
    assert (row.host, row.pid) == (workers.HOST, os.getpid())
    assert workers.worker_status()["running"] is True


# --- the periodic sweep and the job queue's own rows --------------------------------


def make_result(worker_id, started_minutes_ago=10):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    started = timezone.now() - datetime.timedelta(minutes=started_minutes_ago)
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": ["x"], "kwargs": {}},
        task_path="relocation.spreadsheets.tasks.commit_import",
        backend_name="default",
        queue_name="default",
        run_after=started,
        started_at=started,
        worker_ids=[worker_id],
    )


def make_beat(worker_id, pid, host=workers.HOST, minutes_ago=0):
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        host=host,
        pid=pid,
        started_at=timezone.now() - datetime.timedelta(hours=1),
        seen_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


def test_the_sweep_fails_a_dead_workers_job_and_its_queue_row(world, dead_pid):
    from django_tasks_db.models import TaskResultStatus

    make_beat("dead-worker", dead_pid)
    make_beat("live-worker", os.getpid())
    make_beat("far-worker", 1, host="another-host", minutes_ago=1)  # fresh heartbeat elsewhere
    job = make_job(world.admin, pid=dead_pid)
    kept_job = make_job(world.admin, pid=os.getpid())
    dead = make_result("dead-worker")
    live = make_result("live-worker")
    far = make_result("far-worker")
    young = make_result("no-heartbeat-yet", started_minutes_ago=0)
    old = make_result("no-heartbeat-at-all", started_minutes_ago=30)

    workers.sweep()  # what a living worker's heartbeat thread does every few beats

    job.refresh_from_db()
    kept_job.refresh_from_db()
    assert job.state == "failed" and DEAD_WORKER in job.failure
    assert kept_job.state == "committing"
    for result in (dead, live, far, young, old):
        result.refresh_from_db()
    assert dead.status == old.status == TaskResultStatus.FAILED
    assert DEAD_WORKER in dead.traceback and dead.finished_at is not None
    assert live.status == far.status == young.status == TaskResultStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_sweeps(settings, monkeypatch):
    """Outside a test transaction: on SQLite that holds the write lock, and the thread's
    last act (deleting its row) waited for it until ``stop()`` gave up after 30 s."""
    swept = []
    monkeypatch.setattr(workers, "sweep", lambda: swept.append(1))
    monkeypatch.setattr(workers, "SWEEP_EVERY", 2)
    settings.JOB_WORKER_HEARTBEAT_SECONDS = 0.01
    beat = workers.Heartbeat("sweeping-worker")
    beat.beat = lambda: None  # the thread's own connection would not see the test's data
    beat.start()
    import time

    deadline = time.monotonic() + 5
    while len(swept) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    beat.stop()
    assert not beat.is_alive()  # it ended, its row deleted, within stop()
    assert len(swept) >= 2  # on the first beat, then every SWEEP_EVERY beats
