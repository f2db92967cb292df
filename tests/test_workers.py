"""Several job workers on one queue never take the same job.

django-tasks-db's worker takes a job in one transaction: ``SELECT … FOR UPDATE
SKIP LOCKED LIMIT 1`` on the ready jobs, then marks it running (``claim``) and
commits; a second worker's select skips the row the first one holds, and once
committed the job is no longer ready.  On PostgreSQL this module proves it
twice: deterministically (a job locked by one connection is skipped, not waited
for, by another) and for real (two ``manage.py job_worker`` processes on one
queue run 40 jobs that each record the worker's process id: every job ran
exactly once, and both workers took some).

On SQLite the backend takes a job inside an exclusive transaction instead (one
worker at a time); the two processes prove it there too, on a file copy of the
in-memory test database.
"""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks import task
from django_tasks_db.models import DBTaskResult

ROOT = Path(__file__).resolve().parent.parent
JOBS = 40


@task()
def record_worker(number, path):
    """A job of the test: note which process ran it (one line each, appended).

    It finishes only once the test has seen both workers holding a job (``<path>.go``).
    """
    deadline = time.monotonic() + 60
    while not os.path.exists(f"{path}.go") and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.02)
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{number} {os.getpid()}\n")
    return os.getpid()


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks with SKIP LOCKED are PostgreSQL's; on SQLite the backend takes jobs in an "
            "exclusive transaction, proved by test_two_worker_processes_never_run_the_same_job"
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


def _sqlite_file_copy(path):
    """The in-memory SQLite test database (migrated, with the queued jobs), as a file."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def _results(database_file):
    """``[(status, worker_ids)]`` of every queued job, read where the workers wrote them."""
    if database_file is None:
        return list(DBTaskResult.objects.values_list("status", "worker_ids"))
    with contextlib.closing(sqlite3.connect(database_file, timeout=20)) as db:
        rows = db.execute(f"SELECT status, worker_ids FROM {DBTaskResult._meta.db_table}")
        return [(status, json.loads(ids)) for status, ids in rows.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_never_run_the_same_job(tmp_path):
    """Both workers hold a job at once, then run the rest: each job once, by one worker.

    The jobs wait for a signal file before they finish, so that the test sees both
    workers holding a job at the same time before any finishes.
    """
    ran = tmp_path / "ran.txt"
    with transaction.atomic():  # all ready at once: both workers compete for every job
        for n in range(JOBS):
            record_worker.enqueue(n, str(ran))
    database_file = None
    if connection.vendor == "sqlite":
        # Other processes cannot open the in-memory test database: they get a copy.
        database_file = tmp_path / "jobs.sqlite3"
        url = _sqlite_file_copy(database_file)
    else:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relocation.test_settings", "DATABASE_URL": url}
    logs = [(tmp_path / f"worker-{n}.log").open("w") for n in (1, 2)]
    command = [sys.executable, "manage.py", "job_worker", "--queue-name", "default"]
    command += ["--interval", "0.02", "--no-startup-delay", "--no-reload"]
    workers = [
        subprocess.Popen(
            [*command, "--worker-id", f"test-worker-{n}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for n, log in zip((1, 2), logs, strict=True)
    ]
    for worker in workers:
        worker.logs = logs
    try:
        running = lambda: sum(status == "RUNNING" for status, _ in _results(database_file))  # noqa: E731
        _wait(lambda: running() == 2, "both workers to hold a job", workers)
        Path(f"{ran}.go").touch()
        _wait(
            lambda: all(status == "SUCCESSFUL" for status, _ in _results(database_file)),
            "the jobs to run",
            workers,
        )
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
    results = _results(database_file)
    assert len(results) == JOBS
    assert all(len(worker_ids) == 1 for _status, worker_ids in results)  # each claimed once
    assert {ids[0] for _status, ids in results} == {"test-worker-1", "test-worker-2"}


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


@pytest.mark.django_db(transaction=True)
def test_a_worker_stopped_inside_a_transaction_releases_it_before_waiting_for_its_heartbeat(
    monkeypatch,
):
    """SIGTERM's ``SystemExit`` can leave ``db_worker`` between ``BEGIN`` and its atomic block.

    The transaction it left open holds a lock on the worker's heartbeat row (SQLite: the
    write lock).  ``job_worker`` rolls it back before it waits for the heartbeat thread,
    which then deletes its row; before, the thread waited on the lock and the worker
    gave up on it after 30 s, leaving the row behind.
    """
    from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

    from relocation.spreadsheets.models import WorkerHeartbeat

    def interrupted(self, *args, **options):
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.filter(worker_id="stopped-worker").exists():
            assert time.monotonic() < deadline, "the heartbeat never wrote its row"
            time.sleep(0.05)
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")  # begun and never ended, as SystemExit may leave it
        locked = WorkerHeartbeat.objects.filter(worker_id="stopped-worker")
        assert locked.update(pid=os.getpid()) == 1  # the lock the heartbeat's delete waits for
        raise SystemExit(0)

    monkeypatch.setattr(DbWorkerCommand, "handle", interrupted)
    started = time.monotonic()
    with pytest.raises(SystemExit):
        call_command("job_worker", "--no-reload", "--worker-id", "stopped-worker")
    stopped = time.monotonic() - started
    assert not WorkerHeartbeat.objects.filter(worker_id="stopped-worker").exists()
    assert stopped < 25, f"the worker took {stopped:.0f} s to stop"


def test_run_worker_stops_a_worker_it_was_starting_when_the_signal_came(monkeypatch):
    """SIGTERM between ``run_worker``'s check and ``Popen``'s return: the new worker stops too."""
    from relocation.spreadsheets.management.commands import run_worker

    started = []

    class Child:
        pid = 4242

        def __init__(self, *args, **kwargs):
            started.append(self)
            self.terminated = False
            command.stop(signal.SIGTERM, None)  # arrives before ``self.child`` is this one

        def poll(self):
            return -15 if self.terminated else None

        def terminate(self):
            self.terminated = True

        def wait(self):
            assert self.terminated, "run_worker would wait for ever on a worker nobody stops"
            return -15

    monkeypatch.setattr(run_worker.subprocess, "Popen", Child)
    monkeypatch.setattr(run_worker.signal, "signal", lambda *args: None)
    command = run_worker.Command()
    command.handle(queue_name="*", delay=0.1, verbosity=1)
    assert len(started) == 1 and started[0].terminated


@pytest.mark.django_db(transaction=True)  # the worker closes its connection after a job
def test_the_imports_worker_takes_imports_and_leaves_the_rest_to_the_general_one():
    """Imports have a queue of their own (``settings.TASK_QUEUES``): a worker given
    ``--queue-name imports`` (deploy/relocation-worker-imports.service) checks and commits
    imports while a large export and a snapshot wait for the worker of every queue, which
    ``job_worker`` is unless told otherwise."""
    from django_tasks_db.models import TaskResultStatus

    from relocation.dashboards import tasks as dashboard_tasks
    from relocation.spreadsheets import tasks
    from relocation.spreadsheets.workers import run_queued_jobs

    # Ids of no job: each task finds nothing to do and ends (the queue is what is tested).
    check = tasks.check_import.enqueue(999_999)
    commit = tasks.commit_import.enqueue(999_999)
    export = tasks.run_export.enqueue("00000000-0000-0000-0000-000000000000")
    snapshot = dashboard_tasks.recompute_stale_periods.enqueue()
    assert [r.task.queue_name for r in (check, commit, export, snapshot)] == [
        "imports",
        "imports",
        "exports",
        "default",
    ]

    def status(result):
        return DBTaskResult.objects.get(pk=result.id).status

    run_queued_jobs("imports")
    assert [status(r) for r in (check, commit)] == [TaskResultStatus.SUCCESSFUL] * 2
    assert [status(r) for r in (export, snapshot)] == [TaskResultStatus.READY] * 2
    run_queued_jobs()
    assert [status(r) for r in (export, snapshot)] == [TaskResultStatus.SUCCESSFUL] * 2
    # job_worker without --queue-name takes every queue (db_worker's own default is
    # "default" alone, which would leave imports and exports waiting for ever).
    from relocation.spreadsheets.management.commands.job_worker import Command

    parser = Command().create_parser("manage.py", "job_worker")
    assert parser.parse_args([]).queue_name == "*"
    assert parser.parse_args(["--queue-name", "imports"]).queue_name == "imports"
