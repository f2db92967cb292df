"""Shared by the page benchmarks: time a page over repeated requests.

Import after ``django.setup()``; ``BENCH_REPEAT`` (default 20) sets the number
of measured requests, after two warm-up requests.
"""

import gc
import os
import statistics
import time

from django.db import connection, reset_queries

REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))


def measure(client, url, params=None, before_each=None, repeat=REPEAT, responses=None):
    """(median ms, p95 ms, max ms, SQL queries, SQL ms) of GET ``url``, ``repeat`` times.

    ``before_each`` (untimed) runs before every request, e.g. to empty a cache;
    ``responses`` (a list) gets the last response, for what the page said."""
    times, queries, sql_ms = [], 0, 0.0
    for i in range(repeat + 2):
        if before_each is not None:
            before_each()
        reset_queries()
        start = time.perf_counter()
        response = client.get(url, params or {})
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if i == 1:
            # After the warm-up, as relocation/wsgi.py does for the server at start-up:
            # what is loaded by now stays out of the collector's full passes.
            gc.freeze()
        if i >= 2:  # two warm-up requests
            times.append(elapsed)
            queries = len(connection.queries)
            sql_ms = sum(float(q["time"]) for q in connection.queries) * 1000
    if responses is not None:
        responses.append(response)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, times[-1], queries, sql_ms
