"""Health endpoints for the service manager and the load balancer.

``/healthz`` (liveness): the process answers; it touches no database, so a
database outage never makes a supervisor restart healthy web workers.

``/readyz`` (readiness): this process can do its work — the database answers
(and the read replica, when one is configured), the job queue's oldest ready
job has waited no longer than ``HEALTH_QUEUE_MAX_AGE_SECONDS`` and a job worker
stamped its heartbeat within ``JOB_WORKER_STALE_SECONDS``.  503 with the
reasons otherwise.

Both answer JSON with figures only (no names, hosts, process ids or personal
data) and need no sign-in.  They are answered by a middleware placed first,
before the session, CSRF, locale, host and HTTPS-redirect machinery, so that a
probe on ``http://127.0.0.1:8000/readyz`` gets the answer itself (not a
redirect to HTTPS or a 400 for its Host header) and no session is ever opened.
"""

import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


def _database(alias):
    started = time.monotonic()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # Drop the broken connection so that the next probe reconnects.
        connections[alias].close_if_unusable_or_obsolete()
        return {"ok": False}, _("数据库（%(alias)s）无法连接。") % {"alias": alias}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}, None


def _queue(now):
    """The age of the oldest job that is ready to run (queued, not scheduled for later)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    limit = settings.HEALTH_QUEUE_MAX_AGE_SECONDS
    ready = DBTaskResult.objects.ready()
    # A job scheduled for later has been waiting since its run_after, not since it was queued.
    oldest = [
        ready.filter(run_after=get_date_max())
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)[:1],
        ready.exclude(run_after=get_date_max())
        .order_by("run_after")
        .values_list("run_after", flat=True)[:1],
    ]
    since = min((t for query in oldest for t in query), default=None)
    age = max(0, round((now - since).total_seconds())) if since else 0
    result = {"ok": age <= limit, "oldest_ready_seconds": age, "limit_seconds": limit}
    if result["ok"]:
        return result, None
    return result, _("最早的待处理后台任务已等待 %(age)d 秒，超过 %(limit)d 秒。") % {
        "age": age,
        "limit": limit,
    }


def _worker(now):
    from relocation.spreadsheets.models import WorkerHeartbeat
    from relocation.spreadsheets.workers import heartbeat_alive, stale_before

    fresh = [
        beat
        for beat in WorkerHeartbeat.objects.filter(seen_at__gte=stale_before(now))[:50]
        if heartbeat_alive(beat, now)
    ]
    last = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    result = {
        "ok": bool(fresh),
        "workers": len(fresh),
        "last_seen_seconds": round((now - last).total_seconds()) if last else None,
        "limit_seconds": settings.JOB_WORKER_STALE_SECONDS,
    }
    if fresh:
        return result, None
    return result, _("没有正在运行的后台任务进程（%(limit)d 秒内没有心跳）。") % {
        "limit": settings.JOB_WORKER_STALE_SECONDS
    }


def readiness():
    """``(ready, body)``: every check with its figures, and the reasons when not ready."""
    now = timezone.now()
    checks, reasons = {}, []
    aliases = [DEFAULT_DB_ALIAS, *(alias for alias in connections if alias != DEFAULT_DB_ALIAS)]
    for alias in aliases:
        checks[f"database_{alias}"], reason = _database(alias)
        reasons += [reason] if reason else []
    if checks[f"database_{DEFAULT_DB_ALIAS}"]["ok"]:
        for name, check in (("queue", _queue), ("worker", _worker)):
            try:
                checks[name], reason = check(now)
            except DatabaseError:
                connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
                checks[name], reason = {"ok": False}, _("无法读取后台任务队列。")
            reasons += [reason] if reason else []
    ready = not reasons
    return ready, {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
        "reasons": reasons,
    }


def _json(body, status):
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers ``/healthz`` and ``/readyz`` (GET or HEAD) before any other machinery."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info  # without the prefix when the site is mounted below one
        if path not in (LIVENESS_PATH, READINESS_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return _json({"status": "method not allowed"}, 405)
        if path == LIVENESS_PATH:
            return _json({"status": "alive"}, 200)
        ready, body = readiness()
        return _json(body, 200 if ready else 503)
