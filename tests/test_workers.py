"""Several job workers on one queue never take the same job.

django-tasks-db's worker takes a job in one transaction: ``SELECT … FOR UPDATE
SKIP LOCKED LIMIT 1`` on the ready jobs, then marks it running (``claim``) and
commits; a second worker's select skips the row the first one holds, and once
committed the job is no longer ready.  On PostgreSQL this module proves it
twice: deterministically (a job locked by one connection is skipped, not waited
for, by another) and for real (two ``manage.py job_worker`` processes on one
queue run 40 jobs that each record the worker's process id: every job ran
exactly once, and both workers took some).

On SQLite the backend serialises workers with an exclusive transaction instead
(one writer at a time); the test database there is in memory, out of reach of
other processes, so only the PostgreSQL run proves it with processes.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from relocation.spreadsheets.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parent.parent
JOBS = 40


@task()
def record_worker(number, path):
    """A job of the test: note which process ran it (one line each, appended)."""
    time.sleep(0.05)
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{number} {os.getpid()}\n")
    return os.getpid()


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "two worker processes need a database other processes can open; the SQLite "
            "test database is in memory. Run with DATABASE_URL=postgres://… (SKIP LOCKED)."
        )


@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_one_worker_is_skipped_by_another():
    _postgresql_only()
    first, second = (record_worker.enqueue(n, "/dev/null").id for n in (1, 2))
    ready = DBTaskResult.objects.ready()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        held = ready.get_locked()
        assert str(held.pk) == first
        assert "FOR UPDATE SKIP LOCKED" in queries[-1]["sql"]
        taken = {}

        def other_worker():
            with transaction.atomic():
                taken["job"] = ready.get_locked()
            connections.close_all()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the second worker waited for the lock instead of skipping"
    assert str(taken["job"].pk) == second


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_never_run_the_same_job(tmp_path):
    _postgresql_only()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "relocation.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    logs = [(tmp_path / f"worker-{n}.log").open("w") for n in (1, 2)]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "job_worker",
                *(
                    "--queue-name",
                    "default",
                    "--interval",
                    "0.02",
                    "--no-startup-delay",
                    "--no-reload",
                ),
                *("--worker-id", f"test-worker-{n}"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for n, log in zip((1, 2), logs, strict=True)
    ]
    for worker in workers:
        worker.logs = logs
    ran = tmp_path / "ran.txt"
    try:
        _wait(lambda: WorkerHeartbeat.objects.count() == 2, "both workers to start", workers)
        with transaction.atomic():  # all ready at once: both workers compete for every job
            ids = {record_worker.enqueue(n, str(ran)).id for n in range(JOBS)}
        _wait(lambda: DBTaskResult.objects.successful().count() == JOBS, "the jobs to run", workers)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        for log in logs:
            log.close()

    runs = [line.split() for line in ran.read_text().splitlines()]
    times_run = Counter(int(number) for number, _pid in runs)
    assert times_run == dict.fromkeys(range(JOBS), 1)  # every job, each exactly once
    pids = Counter(pid for _number, pid in runs)
    assert set(pids) == {str(w.pid) for w in workers}  # both workers took jobs
    results = DBTaskResult.objects.filter(id__in=ids)
    assert all(len(r.worker_ids) == 1 for r in results)  # each claimed once
    assert {r.worker_ids[0] for r in results} == {"test-worker-1", "test-worker-2"}
    assert all(r.status == "SUCCESSFUL" for r in results)


def _wait(check, what, workers, seconds=120):
    deadline = time.monotonic() + seconds
    while not check():
        for worker in workers:
            if worker.poll() is not None:
                logs = [Path(log.name).read_text() for log in worker.logs]
                raise AssertionError(f"a worker exited while waiting for {what}: {logs}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
