"""Issue 9 item 9: on the embedded SQLite database, pages that only read never wait
for the job worker's write lock; transactions that write still take it up front.

The two-process test: one process holds the write lock (as the job worker
does while it commits an import); another, a logged-in user, opens pages.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext

from relocation.sqlite.base import deferred_transactions

ROOT = Path(__file__).resolve().parent.parent
HOLD_SECONDS = 10
SQLITE_TIMEOUT = 3  # what a request that wanted the lock would wait, then fail
PAGES = ["/admin/", "/admin/communities/household/", "/admin/imports/", "/dashboard/"]

SCRIPT = """
import json, sys, time, uuid, django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
role = sys.argv[1]
if role == "setup":
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    get_user_model().objects.create_superuser("admin", "a@example.com", "Ceshi-mima-2024")
elif role == "hold":
    with transaction.atomic():
        key = uuid.uuid4().hex
        Session.objects.create(session_key=key, session_data="", expire_date=timezone.now())
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
else:
    if role == "read-immediate":  # the control: every request takes the write lock
        import contextlib
        from relocation.sqlite import middleware
        middleware.deferred_transactions = contextlib.nullcontext
    from django.test import Client
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    print("ready", flush=True)
    sys.stdin.readline()
    timings = []
    for url in sys.argv[2:]:
        started = time.monotonic()
        try:
            status = client.get(url).status_code
        except Exception as exc:
            status = type(exc).__name__ + ": " + str(exc)
        timings.append([url, status, round(time.monotonic() - started, 3)])
    print(json.dumps(timings), flush=True)
"""


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory):
    db = tmp_path_factory.mktemp("sqlite-reads") / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        ENV_FILE=str(ROOT / "no-such.env"),
        DJANGO_SETTINGS_MODULE="relocation.test_settings",
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{db}",
        SQLITE_TIMEOUT=str(SQLITE_TIMEOUT),
    )
    setup = start(env, "setup")
    _out, err = setup.communicate(timeout=300)
    assert setup.returncode == 0, err
    return env


def start(env, *args):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def pages_while_the_worker_writes(env, role):
    reader = start(env, role, *PAGES)
    assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
    holder = start(env, "hold", str(HOLD_SECONDS))
    assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
    held_at = time.monotonic()
    out, err = reader.communicate("go\n", timeout=120)
    answered_in = time.monotonic() - held_at
    holder.communicate(timeout=60)
    assert reader.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), answered_in


def test_pages_answer_at_once_while_another_process_holds_the_write_lock(sqlite_env):
    timings, answered_in = pages_while_the_worker_writes(sqlite_env, "read")
    assert [status for _url, status, _s in timings] == [200] * len(PAGES), timings
    # None waited for the lock, and all answered while it was still held.
    assert max(seconds for _url, _status, seconds in timings) < SQLITE_TIMEOUT - 0.5, timings
    assert answered_in < HOLD_SECONDS - 1, timings


def test_the_control_with_the_write_lock_up_front_waits_and_fails(sqlite_env):
    """What the first test guards against: GET requests that begin IMMEDIATE."""
    timings, _answered_in = pages_while_the_worker_writes(sqlite_env, "read-immediate")
    first_url, status, seconds = timings[0]
    assert status != 200 and "database is locked" in str(status)
    assert seconds >= SQLITE_TIMEOUT  # waited for the lock, then failed


@pytest.mark.django_db  # pytest-django lets no connection open without it
def test_reads_begin_deferred_and_everything_else_immediate(tmp_path):
    """The backend itself, on a database file of its own (whatever the suite runs on)."""
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "relocation.sqlite",
                "NAME": str(tmp_path / "probe.sqlite3"),
                "OPTIONS": {"transaction_mode": "IMMEDIATE"},
            }
        }
    )
    probe = handler["default"]
    try:
        with CaptureQueriesContext(probe) as queries:
            for deferred in (False, True):
                with deferred_transactions() if deferred else contextlib.nullcontext():
                    # what transaction.atomic() does:
                    probe.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
                    probe.rollback()
                    probe.set_autocommit(True)
        begins = [q["sql"] for q in queries if q["sql"].startswith("BEGIN")]
        assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]
    finally:
        probe.close()


def test_the_settings_use_the_backend_and_the_middleware_for_sqlite(settings):
    from django.db import connection

    assert "relocation.sqlite.middleware.DeferredReadsMiddleware" in settings.MIDDLEWARE
    if connection.vendor == "sqlite":
        assert connection.settings_dict["ENGINE"] == "relocation.sqlite"
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    else:
        assert connection.settings_dict["ENGINE"] != "relocation.sqlite"
