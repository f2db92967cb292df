"""The machine's own speed, printed by the benchmarks before their figures.

The same code measured on two machines of this size has differed by a third and
more (a load test's requests per CPU second, an import's seconds): figures are
comparable only beside the speed of the machine that produced them.  The
yardstick is a pure-Python loop of 10⁷ steps (best of three: the least
disturbed), with the cores and the load average at the start.
"""

import os
import time

STEPS = 10**7


# At module level, as ``python -c "for i in range(10**7): pass"`` runs it: the figures
# in the README were read so (inside a function the loop is faster, about 0.6 times).
LOOP = compile("for i in range(steps): pass", "<machine loop>", "exec")


def python_loop_seconds(steps=STEPS, runs=3):
    """The best of ``runs`` timings of ``for i in range(steps): pass``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        exec(LOOP, {"steps": steps})  # our own constant code
        best = min(best, time.perf_counter() - start)
    return best


def describe():
    """One line: the loop's time, the cores, the load average."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: a 10⁷-step Python loop takes {python_loop_seconds():.3f} s (best of 3), "
        f"{os.cpu_count()} cores, load average {load:.2f}"
    )
