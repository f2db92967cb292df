"""Settings: production variables pass ``check --deploy``; nothing insecure by default."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean["ENV_FILE"] = str(ROOT / "no-such.env")  # ignore a developer's .env
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "relocation.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "-production-secret-key-with-enough-entropy-9876",
        ALLOWED_HOSTS="relocation.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_embedded_sqlite_lets_the_web_server_and_the_job_worker_write(tmp_path):
    """Two processes on the default SQLite file: a writer waits, it does not fail.

    Process A holds the write lock for a second; process B, a Django
    transaction that reads and then writes (as a login does), must wait and
    succeed instead of failing at once with "database is locked".
    """
    db = tmp_path / "db.sqlite3"
    script = """
import sys, time, django
django.setup()
from django.db import connection, transaction
from django.contrib.sessions.models import Session
from django.utils import timezone
role = sys.argv[1]
if role == "setup":
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
elif role == "hold":
    with transaction.atomic():
        Session.objects.create(session_key="a" * 32, session_data="", expire_date=timezone.now())
        print("holding", flush=True)
        time.sleep(1.5)
else:
    with transaction.atomic():
        Session.objects.count()  # a read first, then a write: the lock upgrade
        Session.objects.create(session_key="b" * 32, session_data="", expire_date=timezone.now())
    print("wrote")
"""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        ENV_FILE=str(ROOT / "no-such.env"),
        DJANGO_SETTINGS_MODULE="relocation.settings",
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{db}",
    )

    def start(role):
        return subprocess.Popen(
            [sys.executable, "-c", script, role],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    setup = start("setup")
    _out, err = setup.communicate(timeout=120)
    assert setup.returncode == 0, err
    holder = start("hold")
    assert holder.stdout.readline().strip() == "holding"
    writer = start("write")
    out, err = writer.communicate(timeout=60)
    holder.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert out.strip() == "wrote"
