"""The production start: gunicorn with several workers, DEBUG off, whitenoise, the documented settings.

The web server is started for real (``deploy/gunicorn.conf.py`` on a free
loopback port) and asked over HTTP, as the reverse proxy would.
"""

import base64
import gzip
import http.client
import json
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from relocation.ops.ensure_database import ensure_database
from tests.test_deploy_settings import run_manage

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def _key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def production_env(tmp_path, **extra):
    """The documented settings file (deploy/relocation.env.example) with real keys filled in."""
    text = (DEPLOY / "relocation.env.example").read_text()
    values = {"SECRET_KEY": secrets.token_urlsafe(50), "PII_ENCRYPTION_KEYS": _key()}
    values["PII_HASH_KEY"] = _key()
    for name, value in values.items():
        text, count = re.subn(rf"^{name}=change-me$", f"{name}={value}", text, flags=re.M)
        assert count == 1, name
    env_file = tmp_path / "relocation.env"
    env_file.write_text(text)
    return {"ENV_FILE": str(env_file), **extra}


def test_the_documented_settings_pass_check_deploy(tmp_path):
    env = production_env(tmp_path)
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "relocation.example.gov.cn", **headers})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _workers(master):
    """Process ids of the gunicorn workers (children of the master)."""
    children = set()
    for status_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            children.add(int(status_file.parent.name))
    return children


def _wait(check, what, process, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        assert process.poll() is None, f"gunicorn exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_gunicorn_serves_with_several_workers_debug_off_and_static_files(tmp_path, django_db_setup):
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        database = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    port = _free_port()
    env = production_env(
        tmp_path,
        DATABASE_URL=database,
        STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        DASHBOARD_CACHE_URL=f"filecache://{tmp_path / 'dashboards'}",
    )
    collected = run_manage("collectstatic", "--noinput", "--verbosity", "0", **env)
    assert collected.returncode == 0, collected.stderr
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py")],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}},
            **env,
            "DJANGO_SETTINGS_MODULE": "relocation.settings",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(lambda: _get(port, "/healthz")[0] == 200, "/healthz", server)
        _wait(lambda: len(_workers(server.pid)) == 2, "two workers", server)

        # Liveness and readiness over plain http on the loopback address (no redirect).
        status, _headers, body = _get(port, "/healthz", Host=f"127.0.0.1:{port}")
        assert (status, json.loads(body)) == (200, {"status": "alive"})
        status, _headers, body = _get(port, "/readyz")
        assert status == 503 and json.loads(body)["status"] == "unavailable"  # no job worker

        # DEBUG off: plain http is sent to https; the proxy's https gets the page.
        status, headers, _body = _get(port, "/admin/login/")
        assert status == 301 and headers["Location"].startswith("https://")
        https = {"X-Forwarded-Proto": "https"}
        status, headers, body = _get(port, "/no-such-page/", **https)
        assert status == 404 and b"DEBUG = True" not in body and b"Traceback" not in body
        assert "Strict-Transport-Security" in headers

        # Static files by whitenoise: fingerprinted, compressed, cached for ever.
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["dashboards/dashboard.css"]
        assert hashed != "dashboards/dashboard.css"
        status, headers, body = _get(
            port, f"/static/{hashed}", **https, **{"Accept-Encoding": "gzip"}
        )
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        assert b"@media print" in gzip.decompress(body)

        # A worker that dies is replaced by the master.
        first = _workers(server.pid)
        os.kill(min(first), signal.SIGKILL)
        _wait(
            lambda: len(_workers(server.pid)) == 2 and _workers(server.pid) != first,
            "a new worker",
            server,
        )
        assert _get(port, "/healthz")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert server.returncode == 0


@pytest.mark.django_db
def test_ensure_database_creates_a_missing_postgresql_database_once():
    if connection.vendor != "postgresql":
        assert ensure_database("sqlite:///x.sqlite3").startswith("数据库不是 PostgreSQL")
        return
    db = connection.settings_dict
    name = f"{db['NAME']}_ensure"
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        try:
            assert ensure_database(f"{base}/{name}") == f"已创建数据库 {name}。"
            assert ensure_database(f"{base}/{name}") == f"数据库 {name} 已存在。"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_the_service_units_restart_and_use_the_shipped_configuration():
    web = (DEPLOY / "relocation-web.service").read_text()
    worker = (DEPLOY / "relocation-worker.service").read_text()
    for unit in (web, worker):
        assert "\nRestart=always\n" in unit
        assert "\nEnvironmentFile=/etc/relocation/relocation.env\n" in unit
    assert "gunicorn --config deploy/gunicorn.conf.py" in web
    assert "manage.py job_worker --queue-name * --no-reload" in worker
    imports = (DEPLOY / "relocation-worker-imports.service").read_text()
    assert "\nRestart=always\n" in imports and "\nKillSignal=SIGTERM\n" in imports
    assert "manage.py job_worker --queue-name imports --no-reload" in imports
    assert (ROOT / "relocation/spreadsheets/management/commands/job_worker.py").exists()


def test_the_web_processes_share_dashboard_bodies_in_a_private_directory(tmp_path):
    """The documented settings keep the rendered dashboard bodies in one directory for all
    gunicorn workers (relocation/dashboards/pagecache.py), which systemd creates for the
    service's user alone; a body one process keeps is read by another."""
    web = (DEPLOY / "relocation-web.service").read_text()
    assert "\nCacheDirectory=relocation\nCacheDirectoryMode=0700\n" in web
    show = (
        "from django.core.cache import caches; c = caches['dashboards']; "
        "print(type(c).__name__, c._dir, c._max_entries)"
    )
    result = run_manage("shell", "-v", "0", "-c", show, **production_env(tmp_path))
    assert result.stdout.split() == ["FileBasedCache", "/var/cache/relocation/dashboards", "500"]

    shared = tmp_path / "dashboards"
    env = production_env(tmp_path, DASHBOARD_CACHE_URL=f"filecache://{shared}")
    keep = (
        "from relocation.dashboards import pagecache; "
        "pagecache.put('dashboard-body:x', '<p>兴义市 50.00%</p>')"
    )
    read = "from relocation.dashboards import pagecache; print(pagecache.get('dashboard-body:x'))"
    assert run_manage("shell", "-v", "0", "-c", keep, **env).returncode == 0
    result = run_manage("shell", "-v", "0", "-c", read, **env)
    assert result.stdout.strip() == "<p>兴义市 50.00%</p>", result.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in shared.iterdir())
    serve = (DEPLOY / "serve.sh").read_text()
    assert (
        'DASHBOARD_CACHE_URL="${DASHBOARD_CACHE_URL:-filecache://$PWD/.make/dashboards}"' in serve
    )


def test_in_production_the_job_worker_refreshes_the_dashboards(tmp_path):
    """The documented settings leave every dashboard refresh to the job worker, and the
    dashboard settings the README lists are read from the environment."""
    code = (
        "from relocation.dashboards.engine import setting; "
        "print(setting('DASHBOARD_INLINE_LIMIT'), setting('DASHBOARD_MAX_AGE'), "
        "setting('DASHBOARD_CHANGE_LOOKBACK'))"
    )
    result = run_manage("shell", "-v", "0", "-c", code, **production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "60", "900"]
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        **production_env(tmp_path, DASHBOARD_MAX_AGE="120", DASHBOARD_CHANGE_LOOKBACK="1800"),
    )
    assert result.stdout.split() == ["0", "120", "1800"], result.stderr
    serve = (DEPLOY / "serve.sh").read_text()
    assert 'export DASHBOARD_INLINE_LIMIT="${DASHBOARD_INLINE_LIMIT:-0}"' in serve
