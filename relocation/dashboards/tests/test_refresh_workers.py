"""The nightly full refresh computes its sources on several connections at once
(PostgreSQL, outside a transaction), with the figures of one connection; a flow is
computed once per start, whatever the number of periods sharing it."""

import dataclasses
import datetime
import io
import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from communities.models import Settlement
from relocation.dashboards import engine
from relocation.dashboards.models import LiveState, SettlementFigure
from relocation.dashboards.registry import Window, registry

from .test_demo_periods import figures


def work_mem():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        return cursor.fetchone()[0]


@pytest.fixture
def computed(monkeypatch):
    """Counter of (source key, thread name, window) for every source computation (a
    several-windows pass, ``Source.dates``, counts each of its windows);
    ``computed.work_mem``: the connections' work_mem seen by the sources;
    ``computed.passes``: (source key, number of windows) of each several-windows pass."""
    calls = Counter()
    calls.work_mem = set()
    calls.passes = []
    for key, source in list(registry.sources.items()):

        def recording(settlements, window, compute=source.compute, key=key):
            calls[key, threading.current_thread().name, window] += 1
            calls.work_mem.add(work_mem())
            return compute(settlements, window)

        def recording_dates(settlements, windows, dates=source.dates, key=key):
            for window in windows:
                calls[key, threading.current_thread().name, window] += 1
            calls.passes.append((key, len(windows)))
            calls.work_mem.add(work_mem())
            return dates(settlements, windows)

        monkeypatch.setitem(
            registry.sources,
            key,
            dataclasses.replace(
                source,
                compute=recording,
                dates=recording_dates if source.dates is not None else None,
            ),
        )
    return calls


@pytest.mark.django_db(transaction=True)
@override_settings(DASHBOARD_WORKERS=2, DASHBOARD_WORK_MEM="48MB")
def test_the_nightly_refresh_on_two_connections_stores_the_figures_of_one(
    dash, computed, monkeypatch
):
    engine.refresh_live(full=True, workers=1)
    one = figures()
    main = threading.current_thread().name
    assert {thread for _key, thread, _window in computed} == {main}
    server = work_mem()
    assert server != "48MB"  # the session's own connection keeps the server's
    computed.work_mem.clear()
    # Employment of this world: 户主一's job counts in the running periods.
    assert any(key == "employed" and value > 0 for *_p, key, value in one[0])
    computed.clear()
    rollup, summed_with = engine.rollup, set()

    def recording(*args, **kwargs):
        summed_with.add(work_mem())
        return rollup(*args, **kwargs)

    monkeypatch.setattr(engine, "rollup", recording)
    call_command("snapshot_indicators", stdout=io.StringIO())
    assert figures() == one
    threads = {thread for _key, thread, _window in computed}
    if connection.vendor == "postgresql":
        assert threads and all(name.startswith("refresh") for name in threads)
        assert len(threads) == 2
        assert computed.work_mem == {"48MB"}
        # The transaction writing and summing the rows too, and no longer than it.
        assert summed_with == {"48MB"}
        assert work_mem() == server
    else:  # SQLite takes one writer at a time
        assert threads == {main}
    # Each stock once (one reference date), each flow once per running period's start.
    flows = {key for key, source in registry.sources.items() if source.flow}
    starts = {window.start for _key, _thread, window in computed}
    for key in registry.sources:
        runs = sum(n for (k, _thread, _window), n in computed.items() if k == key)
        assert runs == (len(starts) if key in flows else 1), key


@pytest.mark.django_db(transaction=True)
def test_a_full_refresh_counts_the_look_back_window_beside_its_stores(dash, monkeypatch):
    """On a connection of its own (PostgreSQL, outside a transaction), with what it stores
    unchanged; a refresh of what changed needs the count before it starts (its late
    commits), on its own connection."""
    counted = []
    real = engine.window_counts

    def window_counts(*args, **kwargs):
        counted.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "window_counts", window_counts)
    now = timezone.now()
    engine.refresh_live(full=True, now=now, workers=2)
    state = LiveState.objects.get()
    lookback = datetime.timedelta(seconds=engine.setting("DASHBOARD_CHANGE_LOOKBACK"))
    assert state.window_counts == real(lookback, now)[1]
    assert any(state.window_counts.values())  # the world's history rows are in the window
    main = threading.current_thread().name
    if connection.vendor == "postgresql":
        assert len(counted) == 1 and counted[0].startswith("refresh-count")
    else:  # no second connection: counted first, here
        assert counted == [main]
    counted.clear()
    engine.refresh_live(now=now + datetime.timedelta(seconds=1), workers=2)
    assert counted == [main]


@pytest.mark.django_db
def test_inside_a_transaction_one_connection(dash, computed):
    """Other connections would not see the transaction's rows: no thread is used."""
    engine.refresh_live(full=True, workers=2)
    assert {thread for _key, thread, _window in computed} == {threading.current_thread().name}
    assert SettlementFigure.objects.filter(key="employed", value__gt=0).exists()


@pytest.mark.django_db
def test_a_flow_is_cached_by_its_start(dash, computed):
    """Periods sharing a start share a flow's figures; another start is counted again,
    with its own figures (a flow cached by its reference date alone would give the
    quarter the year's)."""
    today = timezone.localdate()
    year = Window(start=datetime.date(today.year, 1, 1), reference_date=today, income_year=2025)
    again = Window(start=year.start, reference_date=today, income_year=2025)
    # In January the month starts with the year: then a week's window has the other start.
    other = today.replace(day=1) if today.month > 1 else today - datetime.timedelta(days=6)
    month = Window(start=other, reference_date=today, income_year=2025)
    flows = [key for key, source in registry.sources.items() if source.flow]
    assert flows
    cache = {}
    engine.compute_ahead([year, again, month], cache, workers=1)
    for key in flows:
        assert sum(n for (k, _t, _w), n in computed.items() if k == key) == 2
    # A flow that counts several windows in one pass counts the two starts in one.
    batched = [key for key in flows if registry.sources[key].dates is not None]
    assert {"governance_flows", "employment_flows"} <= set(batched)
    several = [(key, n) for key, n in computed.passes if n > 1]
    assert sorted(several) == sorted((key, 2) for key in batched)
    assert len({key for key, _n in computed.passes}) == len(computed.passes)  # each once
    computed.passes.clear()
    computed.clear()
    alone = {window: engine.compute(Settlement.objects.all(), window) for window in (year, month)}
    assert {key for key, _t, _w in computed} == set(registry.sources)
    computed.clear()
    for window in (year, again, month):
        reference = alone[month if window is month else year]
        assert engine.compute(Settlement.objects.all(), window, cache) == reference
    assert not computed  # all from the cache


def _started(windows):
    """The keys of the sources ``engine.date_batches`` hands to its ``run``, in that order."""
    order = []

    def run(function, jobs):
        jobs = list(jobs)
        order.extend(source.key for source, _windows in jobs)
        return [None] * len(jobs)

    engine.date_batches(windows, Settlement.objects.none(), run=run)
    return order


def test_the_costliest_sources_start_first():
    """Side by side, the long passes start first and the short ones fill in: the demo's
    19 windows left one connection idle 8 s with 11 s of ``governance_org`` started last."""
    today = timezone.localdate()
    windows = [
        Window(today - datetime.timedelta(days=40), today - datetime.timedelta(days=10), 2025),
        Window(today - datetime.timedelta(days=30), today, 2025),
    ]
    order = _started(windows)
    dated = [key for key, source in registry.sources.items() if source.dates is not None]
    assert sorted(order) == sorted(dated)
    costs = [registry.sources[key].cost for key in order]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]
    assert order[0] == max(dated, key=lambda key: registry.sources[key].cost)
    # Equal costs keep the order the apps registered them in.
    equal = [key for key in order if registry.sources[key].cost == 1]
    assert equal == [key for key in dated if registry.sources[key].cost == 1]


@pytest.mark.django_db
def test_the_nightly_refresh_starts_the_costliest_sources_first(computed):
    """``compute_ahead`` hands out its sources in the same order as ``date_batches``."""
    engine.compute_ahead(engine.running_windows(timezone.localdate()), {}, workers=1)
    order = [key for key, _n in computed.passes]
    assert sorted(order) == sorted(k for k, s in registry.sources.items() if s.dates)
    costs = [registry.sources[key].cost for key in order]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]
