"""benchmarks/demo_build.py: whose CPU it counts, the floor it prints, and that it
never builds into a database that exists."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import demo_build  # noqa: E402

BURN = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"


def test_an_ended_child_counts_for_python_not_postgresql():
    before = demo_build.cpu_snapshot(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)  # waited for: reaped
    after = demo_build.cpu_snapshot(os.getpid())
    assert after["python"] - before["python"] >= 0.45
    # The child is ours, so none of its time is PostgreSQL's (which other tests may use).
    assert after["python"] - before["python"] < 5


def test_a_process_outside_the_tree_is_not_counted():
    child = subprocess.Popen([sys.executable, "-c", BURN])
    before = demo_build.cpu_snapshot(child.pid)
    # A process that is not the root's descendant: our own parent-side work.
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    child.wait()
    after = demo_build.cpu_snapshot(child.pid)  # the pid is gone: nothing of the tree left
    assert after["python"] == 0.0
    assert before["python"] <= 0.6


@pytest.mark.django_db
def test_postgresql_backends_count_for_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's server processes")
    before = demo_build.cpu_snapshot(os.getpid())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 3000000) g WHERE md5(g::text) > ''")
    after = demo_build.cpu_snapshot(os.getpid())
    assert after["postgres"] - before["postgres"] >= 0.2
    assert after["python"] - before["python"] < after["postgres"] - before["postgres"]


def test_the_report_gives_the_steps_and_the_whole_build_and_prints_the_floor():
    rows = [
        ("communities", 10.0, 6.0, 8.0, 6.0, 2 * 2**20, 1, False),
        ("employment", 5.0, 3.0, 4.0, 1.0, 1 * 2**20, 0, True),
        ("services_places", 4.0, 2.0, 3.0, 1.0, 1 * 2**20, 0, True),
        ("dashboards", 5.0, 7.0, 1.0, 2.0, 1 * 2**20, 0, False),
    ]
    # Two steps side by side: the whole is not their sum.
    whole = ("all steps", 20.0, 18.0, 16.0, 10.0, 5 * 2**20, 1)
    text = demo_build.report(rows, whole, "--households 500000", 2, 3 * 2**30)
    lines = text.splitlines()
    assert lines[0] == "load_demo --households 500000 on 2 cores"
    assert "| communities | 10.0 | 6.0 | 8.0 | 6.0 | 2 | 1 |" in lines
    assert "| employment ∥ | 5.0 | 3.0 | 4.0 | 1.0 | 1 | 0 |" in lines
    assert "| all steps | 20.0 | 18.0 | 16.0 | 10.0 | 5 | 1 |" in lines
    assert any(line.startswith("∥ ran beside other steps") for line in lines)
    # 34 CPU seconds over 2 cores: at least 17 s; PostgreSQL's 18 s alone: 9 s;
    # idle 10 of 40 core-seconds.
    assert (
        "CPU 34 s over 2 cores: no less than 17 s of wall time for this work "
        "(PostgreSQL's share alone: 9 s); the machine was idle 25% of the time."
    ) in lines
    assert lines[-1] == "database size 3.00 GB"


def test_it_passes_the_demo_asked_for_to_load_demo():
    def arguments(*argv):
        return demo_build._load_demo_arguments(demo_build.parse(list(argv)))

    assert arguments() == ["--households", "50000"]
    assert arguments("--households", "500000", "--workers", "2") == [
        "--households",
        "500000",
        "--workers",
        "2",
    ]
    assert arguments("--national", "--no-history") == ["--national", "--no-history"]
    with pytest.raises(SystemExit):  # one size or the other
        demo_build.parse(["--national", "--households", "5"])


def test_the_run_marks_steps_that_ran_beside_others_and_measures_the_whole(monkeypatch):
    output = [
        "[步骤 communities] 开始\n",
        "[步骤 communities] 结束：1.0 秒\n",
        "[步骤 employment] 开始\n",
        "[步骤 services_places] 开始\n",
        "[步骤 services_places] 结束：1.0 秒\n",
        "[步骤 employment] 结束：2.0 秒\n",
    ]
    clock = iter(range(100))

    class Process:
        pid = os.getpid()
        stdout = iter(output)
        returncode = 0

        def wait(self):
            return 0

    monkeypatch.setattr(demo_build.subprocess, "Popen", lambda *a, **k: Process())
    monkeypatch.setattr(demo_build.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(
        demo_build, "cpu_snapshot", lambda pid: {"postgres": 0.0, "python": 0.0, "idle": 0.0}
    )
    monkeypatch.setattr(demo_build, "wal_snapshot", lambda server: (0.0, 0))
    monkeypatch.setattr(demo_build.sys, "stdout", io.StringIO())
    rows, whole = demo_build.run(["load_demo"], {}, "server")
    assert [(key, wall, beside) for key, wall, *_f, beside in rows] == [
        ("communities", 1.0, False),
        ("services_places", 1.0, True),
        ("employment", 3.0, True),
    ]
    assert whole[:2] == ("all steps", 5.0)  # from the first start to the last end


@pytest.mark.django_db
def test_it_refuses_a_database_that_exists(monkeypatch):
    """Never harm data: it builds only into a database it created."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL server")
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/postgres"
    name = settings["NAME"]  # the test database: it exists
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(sys, "argv", ["demo_build.py", "--database", name, "--households", "5"])
    with pytest.raises(SystemExit, match="refusing to run: database .* exists"):
        demo_build.main()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        assert cursor.fetchone() == (1,)


def test_it_needs_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    monkeypatch.setattr(sys, "argv", ["demo_build.py"])
    with pytest.raises(SystemExit, match="PostgreSQL"):
        demo_build.main()


def test_a_process_reaped_during_a_scan_is_counted_once():
    """A scan that saw a backend end and its parent not yet hold its seconds (or the
    other way round) is read again, until two scans agree."""
    # (name, parent, own, reaped): postmaster 10, a backend 11 with 30 s of its own.
    alive = {10: ("postgres", 1, 1.0, 5.0), 11: ("postgres", 10, 30.0, 0.0)}
    reaped = {10: ("postgres", 1, 1.0, 35.0)}
    missed = {10: ("postgres", 1, 1.0, 5.0)}  # parent read before the reap, child after
    twice = {10: ("postgres", 1, 1.0, 35.0), 11: ("postgres", 10, 30.0, 0.0)}
    for scans, expected in (
        ([missed, reaped, reaped], 36.0),
        ([twice, reaped, reaped], 36.0),
        ([alive, alive], 36.0),
    ):
        reads = iter(scans)
        snapshot = demo_build.cpu_snapshot(999_999, read=lambda reads=reads: next(reads))
        assert snapshot["postgres"] == expected
        assert next(reads, None) is None  # every scan was needed, and no more
