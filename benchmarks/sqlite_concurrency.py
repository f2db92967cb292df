"""Benchmark: do pages answer while the job worker commits a large import on SQLite?

Builds a fresh SQLite database (migrate, ``load_regions --province 52``, the
import benchmark's 40 settlements), checks a 50,000-row roster (12,500
households) on a real ``manage.py job_worker``, then confirms it and, while
the worker commits it in one transaction, a second process logged in as a
superuser opens pages in a loop through Django's full request handling (the
admin index, the household list, the import page, the job's progress JSON,
the dashboard) and records each answer's status and latency.

Two rounds on the same database: as shipped (requests that only read begin
DEFERRED), then the control with every request beginning IMMEDIATE (as before
issue 9), after deleting the first round's rows.

    .venv/bin/python benchmarks/sqlite_concurrency.py            # 50,000 rows
    BENCH_ROWS=10000 BENCH_MODES=deferred .venv/bin/python benchmarks/sqlite_concurrency.py

Besides the pages, each round signs in again and again (a write: the session,
``last_login`` and the sign-in log), which needs SQLite's one write lock: the
commit holds it only while it writes (it plans before, see
``relocation.spreadsheets.services.job_commit``).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_ROWS", "50000"))
PAGES = [
    "/admin/",
    "/admin/communities/household/",
    "/admin/imports/",
    "progress",
    "/dashboard/",
    "sign-in",  # a write: the session, last_login and the sign-in log
]


def child(role, *args):
    """The steps, each in its own process on the benchmark database."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import imports as bench  # django.setup() on import
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from relocation.spreadsheets import services
    from relocation.spreadsheets.models import ImportJob

    if role == "prepare":
        if not bench.Region.objects.exists():
            call_command("load_regions", province=["52"], verbosity=0)
        settlements = bench.ensure_settlements()
        user = get_user_model().objects.filter(username="bench").first()
        user = user or get_user_model().objects.create_superuser(
            "bench", "b@example.com", "Ceshi-mima-2024"
        )
        bench.cleanup()
        headers, rows = bench.roster_rows(ROWS, settlements)
        import csv
        import io

        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(headers)
        writer.writerows(rows)
        job = services.job_create(
            user=user,
            kind_key="roster",
            upload=SimpleUploadedFile("roster.csv", text.getvalue().encode()),
        )
        print(json.dumps({"job": str(job.pk), "background": job.background}))
    elif role == "confirm":
        job = ImportJob.objects.get(pk=args[0])
        assert job.state == "ready", (job.state, job.errors[:3])
        services.job_confirm(job, job.user)
        print(json.dumps({"state": "commit_queued"}))
    elif role == "pages":
        mode, job_id = args
        if mode == "immediate":  # the control: every request takes the write lock up front
            import contextlib

            from relocation.sqlite import middleware

            middleware.deferred_transactions = contextlib.nullcontext
        from django.test import Client
        from django.urls import reverse

        client = Client()
        client.force_login(get_user_model().objects.get(username="bench"))

        def fetch(url):
            if url == "sign-in":
                response = Client().post(
                    reverse("admin:login"), {"username": "bench", "password": "Ceshi-mima-2024"}
                )
                return 200 if response.status_code == 302 else response.status_code
            if url == "progress":
                url = reverse("spreadsheets:progress", args=[job_id])
            return client.get(url).status_code

        for url in PAGES:  # warm up: templates, caches
            fetch(url)
        print("ready", flush=True)
        sys.stdin.readline()
        samples = []
        while True:
            for url in PAGES:
                started = time.perf_counter()
                try:
                    status = fetch(url)
                except Exception as exc:
                    status = type(exc).__name__
                samples.append([url, status, time.perf_counter() - started])
            job = ImportJob.objects.get(pk=job_id)
            if job.state not in ("commit_queued", "committing"):
                break
        print(json.dumps({"samples": samples, "state": job.state, "commit_s": job.seconds}))


def run(env, *args, stdin=None):
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        text=True,
    )


def worker(env, *extra):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "job_worker",
            "--queue-name",
            "*",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.2",
            "--verbosity",
            "0",
            *extra,
        ],
        cwd=ROOT,
        env=env,
    )


def last_json(process):
    out, _err = process.communicate(timeout=3600)
    assert process.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def round_(env, mode):
    prepared = last_json(run(env, "prepare"))
    assert prepared["background"]
    worker(env, "--batch").wait()  # the check
    last_json(run(env, "confirm", prepared["job"]))
    pages = run(env, "pages", mode, prepared["job"], stdin=subprocess.PIPE)
    assert pages.stdout.readline().strip() == "ready"
    committing = worker(env, "--batch")
    pages.stdin.write("go\n")
    pages.stdin.flush()
    result = last_json(pages)
    committing.wait()
    print(f"\n{mode}: {ROWS} rows committed in {result['commit_s']} s ({result['state']})")
    print(f"{'page':34} {'n':>4} {'ok':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for url in PAGES:
        rows = [s for s in result["samples"] if s[0] == url]
        ms = sorted(s[2] * 1000 for s in rows)
        ok = sum(1 for s in rows if s[1] == 200)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        print(
            f"{url:34} {len(rows):>4} {ok:>4} {statistics.median(ms):>10.0f} {p95:>8.0f} {ms[-1]:>8.0f}"
        )
    failures = {str(s[1]) for s in result["samples"] if s[1] != 200}
    if failures:
        print("failures:", ", ".join(sorted(failures)))


def main():
    folder = Path(os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="sqlite-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        ENV_FILE=str(ROOT / "no-such.env"),
        DJANGO_SETTINGS_MODULE="relocation.test_settings",
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        SPREADSHEET_INLINE_MAX_BYTES="1000",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    for mode in os.environ.get("BENCH_MODES", "deferred,immediate").split(","):
        round_(env, mode)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(*sys.argv[1:])
    else:
        main()
