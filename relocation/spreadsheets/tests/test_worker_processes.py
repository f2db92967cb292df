"""Issue 9 items 5 and 9 with real processes: a job worker killed mid-job, and restarted.

Each test runs ``manage.py job_worker`` / ``run_worker`` as child processes on
a file SQLite database of its own (migrated once for the module), kills them
with SIGKILL as the kernel's OOM killer would, and reads the outcome from the
database and from the pages.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relocation.spreadsheets.workers import pid_alive

ROOT = Path(__file__).resolve().parents[3]
DEAD_WORKER = "处理这个文件的后台任务进程意外终止"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("workers") / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        ENV_FILE=str(ROOT / "no-such.env"),
        DJANGO_SETTINGS_MODULE="relocation.test_settings",
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{path}",
        SPREADSHEET_INLINE_MAX_BYTES="100",  # every upload goes to the worker
        JOB_WORKER_HEARTBEAT_SECONDS="1",
    )
    db = type("Database", (), {"path": path, "env": env})
    assert step(db, "setup") == {"ok": True}
    return db


def step(db, *args):
    result = subprocess.run(
        [sys.executable, "-m", "relocation.spreadsheets.tests.process_driver", *args],
        cwd=ROOT,
        env=db.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(db, *args):
    """A ``manage.py`` child; its output goes to ``<database>.log`` (read on failure)."""
    with open(f"{db.path}.log", "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT,
            env=db.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def log(db):
    return Path(f"{db.path}.log").read_text()[-3000:]


def query(db, sql, *params):
    with sqlite3.connect(db.path, timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def wait_for(condition, timeout=120, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")


def job_row(db, job_id):
    rows = query(
        db,
        "SELECT state, worker_pid, failure FROM spreadsheets_importjob WHERE id = ?",
        job_id.replace("-", ""),
    )
    return rows[0] if rows else None


WORKER = (
    "job_worker",
    "--queue-name",
    "*",
    "--no-reload",
    "--no-startup-delay",
    "--interval",
    "0.1",
)


def test_a_worker_killed_mid_check_leaves_its_job_failed_with_a_message(database):
    worker = manage(database, *WORKER)
    try:
        wait_for(lambda: query(database, "SELECT pid FROM spreadsheets_workerheartbeat"))
        index = step(database, "page", "index")["content"]
        assert "后台任务进程运行中" in index and f"进程号 {worker.pid}" in index
        # Queued only now, and large (a few seconds of checking even on a fast
        # machine), so that the test sees the check under way however long the
        # page above took.
        job = step(database, "enqueue", "120000")
        assert job["background"]
        # The worker has claimed the job and is checking it: kill it there.
        state = wait_for(lambda: (job_row(database, job["job"]) or [None])[0] == "validating")
        assert state
        assert job_row(database, job["job"])[1] == worker.pid
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=30)
    assert not pid_alive(worker.pid)
    assert job_row(database, job["job"])[0] == "validating"  # stuck, until someone looks

    page = step(database, "page", "job", job["job"])
    assert page["status"] == 200
    assert DEAD_WORKER in page["content"] and "失败，未导入" in page["content"]
    state, _pid, failure = job_row(database, job["job"])
    assert state == "failed" and failure.startswith(DEAD_WORKER)

    index = step(database, "page", "index")["content"]
    assert "后台任务进程没有运行" in index and "最近一次心跳" in index


def test_run_worker_starts_a_killed_worker_again_and_stops_it_on_sigterm(database):
    query(database, "DELETE FROM spreadsheets_workerheartbeat")
    supervisor = manage(database, "run_worker", "--delay", "0.1")
    try:

        def worker_pids():
            rows = query(database, "SELECT pid FROM spreadsheets_workerheartbeat")
            return [pid for (pid,) in rows if pid_alive(pid)]

        first = wait_for(worker_pids)[0]
        assert first != supervisor.pid
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: [p for p in worker_pids() if p != first])[0]
        assert pid_alive(second) and not pid_alive(first)

        # A job enqueued now is run by the restarted worker.
        job = step(database, "enqueue", "5")
        state = wait_for(lambda: job_row(database, job["job"])[0] in ("invalid", "ready"))
        assert state and job_row(database, job["job"])[1] == second

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0, log(database)
        wait_for(lambda: not pid_alive(second), timeout=30)
        # A worker that stops cleanly takes its heartbeat with it.
        assert query(database, "SELECT pid FROM spreadsheets_workerheartbeat") == []
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
