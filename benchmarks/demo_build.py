"""Benchmark: how long ``load_demo`` takes, step by step, and what kept the machine busy.

On the PostgreSQL server of ``DATABASE_URL`` it creates a database of its own
(``--database``, default ``relocation_demo_build``; it refuses one that exists, so
it never touches data), migrates it, runs ``load_demo -v 2`` there and prints, for
each step between the command's ``[步骤 …] 开始`` and ``结束`` lines:

* the wall seconds;
* the CPU seconds of PostgreSQL (every server process, with the backends that
  ended: the postmaster's reaped children) and of Python (``load_demo`` and the
  worker processes it forks, with those that ended);
* the idle core-seconds of the whole machine (``/proc/stat``: nothing else should run);
* the WAL the step wrote (MB) and the checkpoints it caused.

The last lines give the whole build, from the first step's start to the last
one's end (steps that ran side by side, marked ∥, share their CPU figures and
are not added up), and the least wall time those CPU seconds allow on this
machine's cores if nothing ever waited (``CPU seconds / cores``): the build
cannot be faster than that without doing less work.  Linux only (``/proc``).
The database is dropped at the end unless ``--keep``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/demo_build.py --households 500000

``--national`` builds the whole country instead (``load_demo --national``), and
``--no-history`` passes ``load_demo --no-history``.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import machine  # benchmarks/machine.py (the script's own folder)
import psycopg

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid):
    """(name, parent pid, own CPU seconds, reaped children's CPU seconds) of ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of proc(5)): utime is field 14, cstime field 17.
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return name, int(fields[1]), (utime + stime) / TICK, (cutime + cstime) / TICK


def _processes():
    """{pid: _stat(pid)} of every process now."""
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                processes[int(entry)] = _stat(entry)
            except (OSError, ValueError):
                continue  # ended while we looked
    return processes


def _consistent_processes(read=_processes, tries=20):
    """``read()`` during which no process ended and was reaped.

    A scan of ``/proc`` takes a few milliseconds, process by process.  A process
    that ends meanwhile moves its CPU seconds into its parent's reaped children's:
    if the scan reads the parent before that and the child after it, the child's
    seconds are missed, and the other way round they count twice.  The dashboards
    step's connections end with the step, just as its last line is read: at
    50,000 households its PostgreSQL CPU once came out as -14.6 s.  Two scans that
    show the same processes with the same reaped seconds had no such move between
    the first's start and the second's end: the second is whole.
    """
    last = read()
    for _ in range(tries):
        now = read()
        if {pid: v[3] for pid, v in now.items()} == {pid: v[3] for pid, v in last.items()}:
            return now
        last = now
    return last  # a machine where processes end all the time: the last scan, as it is


def cpu_snapshot(root_pid, read=_processes):
    """{"postgres": s, "python": s, "idle": core-s} now: PostgreSQL's processes, the
    process tree of ``root_pid``, and the machine's idle time."""
    processes = _consistent_processes(read)
    tree, grew = {root_pid}, True
    while grew:
        grew = False
        for pid, (_name, parent, _own, _reaped) in processes.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    postgres = python = 0.0
    for pid, (name, _parent, own, reaped) in processes.items():
        if pid in tree:
            python += own + reaped
        elif name.startswith("postgres"):
            postgres += own + reaped
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return {"postgres": postgres, "python": python, "idle": (ticks[3] + ticks[4]) / TICK}


def wal_snapshot(conninfo):
    """(WAL bytes written since the server's statistics reset, checkpoints so far)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        wal = conn.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0]
        checkpoints = conn.execute(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        ).fetchone()[0]
    return float(wal), checkpoints


def _url_for(url, database):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def parse(argv=None):
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--households", type=int, default=None, help="default 50,000")
    size.add_argument(
        "--national", action="store_true", help="load_demo --national (2,400,000 households)"
    )
    parser.add_argument(
        "--no-history", action="store_true", help="load_demo --no-history (no past periods)"
    )
    parser.add_argument("--workers", type=int, default=None, help="load_demo --workers")
    parser.add_argument("--database", default="relocation_demo_build")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


def main():
    options = parse()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at a PostgreSQL server (any database on it).")
    if not Path("/proc/stat").exists():
        sys.exit("this benchmark reads /proc: Linux only.")
    print(machine.describe(), flush=True)
    server = _url_for(url, "postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [options.database]
        ).fetchone()
        if exists:
            sys.exit(
                f"refusing to run: database {options.database!r} exists. Drop it "
                f"(dropdb {options.database}) or name another with --database."
            )
        conn.execute(f'CREATE DATABASE "{options.database}"')
    target = _url_for(url, options.database)
    env = {**os.environ, "DATABASE_URL": target, "PYTHONUNBUFFERED": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
        arguments = _load_demo_arguments(options)
        command = [*manage, "load_demo", "-v", "2", *arguments]
        rows, whole = run(command, env, server)
        with psycopg.connect(target, autocommit=True) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        print()
        print(report(rows, whole, " ".join(arguments), os.cpu_count() or 1, size))
    finally:
        if not options.keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{options.database}"')


def _load_demo_arguments(options):
    """``load_demo``'s arguments for the demo the options ask for."""
    if options.national:
        arguments = ["--national"]
    else:
        arguments = ["--households", str(options.households or 50_000)]
    if options.workers:
        arguments += ["--workers", str(options.workers)]
    if options.no_history:
        arguments.append("--no-history")
    return arguments


def run(command, env, server):
    """Run ``command`` (load_demo -v 2), echoing its output; returns ``(rows, whole)``:
    one row per step, (key, wall, postgres CPU, python CPU, idle core-seconds, WAL
    bytes, checkpoints, beside), ``beside`` true when another step ran during some of
    it; and ``whole``, the same figures from the first step's start to the last one's
    end (steps that ran side by side are not added up)."""
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    rows, open_steps, first, last, beside = [], {}, None, None, set()
    for line in process.stdout:
        sys.stdout.write(line)
        if not line.startswith("[步骤 "):
            continue
        key = line[len("[步骤 ") : line.index("]")]
        now = (time.monotonic(), cpu_snapshot(process.pid), wal_snapshot(server))
        if "] 开始" in line:
            if open_steps:
                beside.update(open_steps, [key])
            open_steps[key] = now
            first = first or now
        elif key in open_steps:
            rows.append((key, *_difference(open_steps.pop(key), now)))
            last = now
    if process.wait():
        sys.exit(f"load_demo failed (exit status {process.returncode})")
    rows = [(*row, row[0] in beside) for row in rows]
    return rows, ("all steps", *_difference(first, last)) if first and last else None


def _difference(start, end):
    (t0, cpu0, wal0), (t1, cpu1, wal1) = start, end
    return (
        t1 - t0,
        cpu1["postgres"] - cpu0["postgres"],
        cpu1["python"] - cpu0["python"],
        cpu1["idle"] - cpu0["idle"],
        wal1[0] - wal0[0],
        wal1[1] - wal0[1],
    )


def report(rows, whole, arguments, cores, size):
    """The figures of ``run``'s rows as a Markdown table and a closing paragraph
    (``arguments``: ``load_demo``'s, as run)."""
    header = ("step", "wall s", "PostgreSQL CPU s", "Python CPU s", "idle core-s", "WAL MB", "ckpt")
    lines = [
        f"load_demo {arguments} on {cores} cores",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for key, *values, beside in rows:
        lines.append(_row(f"{key} ∥" if beside else key, *values))
    lines.append(_row(*whole))
    _key, wall, postgres, python, idle, _wal, _checkpoints = whole
    cpu = postgres + python
    if any(beside for *_values, beside in rows):
        lines.append(
            "∥ ran beside other steps: its CPU, idle, WAL and checkpoint figures count "
            "everything that ran meanwhile."
        )
    lines.append(
        f"CPU {cpu:.0f} s over {cores} cores: no less than {cpu / cores:.0f} s of wall time "
        f"for this work (PostgreSQL's share alone: {postgres / cores:.0f} s); the machine "
        f"was idle {idle / (wall * cores) if wall else 0:.0%} of the time."
    )
    lines.append(f"database size {size / 2**30:.2f} GB")
    return "\n".join(lines)


def _row(key, wall, postgres, python, idle, wal, checkpoints):
    return (
        f"| {key} | {wall:.1f} | {postgres:.1f} | {python:.1f} | {idle:.1f} "
        f"| {wal / 2**20:,.0f} | {checkpoints:.0f} |"
    )


if __name__ == "__main__":
    main()
