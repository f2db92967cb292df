"""/healthz and /readyz: figures only, no sign-in, 503 with the reason when not ready."""

import datetime
import json
import os

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from relocation.dashboards.tasks import refresh_live_figures
from relocation.spreadsheets.models import WorkerHeartbeat
from relocation.spreadsheets.workers import HOST


@pytest.fixture
def production_like(settings):
    """DEBUG off, HTTPS redirect on, only the public host name allowed (as in production)."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["relocation.example.gov.cn"]


def beat(seconds_ago=0, host=HOST, pid=None, worker_id="w1"):
    seen = timezone.now() - datetime.timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, host=host, pid=pid or os.getpid(), started_at=seen, seen_at=seen
    )


def body(response):
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response  # no session, no CSRF cookie
    return json.loads(response.content)


def test_liveness_answers_without_the_database(client, production_like):
    """No django_db mark: any query would fail the test (pytest-django blocks them)."""
    """A probe on the loopback address (not an allowed host, plain http) gets the answer itself."""
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert body(response) == {"status": "alive"}


def test_liveness_answers_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(connection, "cursor", _broken_cursor)
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_ready_with_a_worker_and_an_empty_queue(client, production_like):
    beat(seconds_ago=5)
    response = client.get("/readyz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    data = body(response)
    assert data["status"] == "ready" and data["reasons"] == []
    checks = data["checks"]
    assert checks["database_default"]["ok"] is True
    assert checks["queue"] == {"ok": True, "oldest_ready_seconds": 0, "limit_seconds": 300}
    assert checks["worker"]["ok"] is True and checks["worker"]["workers"] == 1
    assert checks["worker"]["last_seen_seconds"] in (5, 6)
    # Figures only: no host name or process id of the worker.
    assert HOST not in response.content.decode() and str(os.getpid()) not in data.__repr__()


@pytest.mark.django_db
def test_not_ready_without_a_worker(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    data = body(response)
    assert data["status"] == "unavailable"
    assert data["checks"]["worker"] == {
        "ok": False,
        "workers": 0,
        "last_seen_seconds": None,
        "limit_seconds": 120,
    }
    assert data["reasons"] == ["没有正在运行的后台任务进程（120 秒内没有心跳）。"]


@pytest.mark.django_db
def test_not_ready_when_the_heartbeat_is_stale_or_the_process_gone(client, settings):
    settings.JOB_WORKER_STALE_SECONDS = 60
    beat(seconds_ago=61, host="other-host/1", worker_id="stale")  # another host, too old
    beat(seconds_ago=1, pid=2**22 + 7, worker_id="dead")  # this host, no such process
    response = client.get("/readyz")
    assert response.status_code == 503
    data = body(response)
    assert data["checks"]["worker"]["workers"] == 0
    assert data["checks"]["worker"]["last_seen_seconds"] in (1, 2)
    assert data["reasons"] == ["没有正在运行的后台任务进程（60 秒内没有心跳）。"]
    beat(seconds_ago=59, host="other-host/2", worker_id="fresh-elsewhere")
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_not_ready_when_the_oldest_ready_job_waited_too_long(client, settings):
    settings.HEALTH_QUEUE_MAX_AGE_SECONDS = 300
    beat()
    refresh_live_figures.enqueue()
    job = DBTaskResult.objects.get()
    old = timezone.now() - datetime.timedelta(seconds=299)
    DBTaskResult.objects.filter(pk=job.pk).update(enqueued_at=old)
    assert client.get("/readyz").status_code == 200
    DBTaskResult.objects.filter(pk=job.pk).update(enqueued_at=old - datetime.timedelta(seconds=2))
    response = client.get("/readyz")
    assert response.status_code == 503
    data = body(response)
    assert data["checks"]["queue"]["ok"] is False
    assert data["checks"]["queue"]["oldest_ready_seconds"] in (301, 302)
    (reason,) = data["reasons"]
    assert reason.startswith("最早的待处理后台任务已等待 30") and reason.endswith("超过 300 秒。")
    # A finished job does not count, however old.
    DBTaskResult.objects.filter(pk=job.pk).update(status="SUCCESSFUL")
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_a_job_scheduled_for_later_waits_from_its_run_after(client):
    beat()
    long_ago = timezone.now() - datetime.timedelta(days=2)
    refresh_live_figures.using(run_after=timezone.now() + datetime.timedelta(hours=1)).enqueue()
    DBTaskResult.objects.update(enqueued_at=long_ago)
    assert client.get("/readyz").status_code == 200  # not due yet
    DBTaskResult.objects.update(run_after=timezone.now() - datetime.timedelta(seconds=400))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert body(response)["checks"]["queue"]["oldest_ready_seconds"] in (400, 401)


def _broken_cursor(*args, **kwargs):
    raise OperationalError("connection refused")


@pytest.mark.django_db
def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    beat()
    monkeypatch.setattr(connection, "cursor", _broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    data = body(response)
    assert data["checks"] == {"database_default": {"ok": False}}
    assert data["reasons"] == ["数据库（default）无法连接。"]


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.post("/readyz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_other_paths_are_not_answered_by_the_health_check(client):
    """/healthz/ or /readyzz go through the site as usual (here: not found)."""
    assert client.get("/readyzz").status_code == 404
    assert client.get("/healthz/x").status_code == 404


def test_liveness_below_a_path_prefix(client):
    """A site mounted at /relocation/ (SCRIPT_NAME) answers /relocation/healthz."""
    response = client.get("/healthz", SCRIPT_NAME="/relocation")
    assert response.status_code == 200
    assert body(response) == {"status": "alive"}
