"""benchmarks/machine.py: the machine's speed the benchmarks print beside their figures."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import machine  # noqa: E402


def test_the_loop_is_timed_and_a_longer_loop_takes_longer():
    short = machine.python_loop_seconds(steps=10_000, runs=1)
    long = machine.python_loop_seconds(steps=2_000_000, runs=1)
    assert 0 < short < long


def test_the_line_names_the_loop_the_cores_and_the_load(monkeypatch):
    monkeypatch.setattr(machine, "python_loop_seconds", lambda: 0.1754)
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (1.25, 1.0, 0.5))
    assert machine.describe() == (
        "machine: a 10⁷-step Python loop takes 0.175 s (best of 3), 2 cores, load average 1.25"
    )
