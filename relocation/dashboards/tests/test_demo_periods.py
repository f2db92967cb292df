"""The demo's past periods: computed on two connections at once on PostgreSQL,
with the same figures as on one; the sources that count several dates run once for all."""

import dataclasses
import threading

import pytest
from django.db import connection
from django.utils import timezone

from relocation.dashboards import demo, engine
from relocation.dashboards.models import AreaFigure, SettlementFigure
from relocation.dashboards.periods import PeriodKind, recent_periods


def past_specs():
    today = timezone.localdate()
    return [
        spec
        for kind in (PeriodKind.MONTH, PeriodKind.QUARTER)
        for spec in recent_periods(kind, today, 4)
        if not spec.is_current(today)
    ]


def figures():
    settlement = SettlementFigure.objects.values_list(
        "period__kind", "period__start", "settlement_id", "key", "value"
    )
    area = AreaFigure.objects.values_list(
        "period__kind", "period__start", "level", "area_code", "key", "value"
    )
    return sorted(settlement), sorted(area)


@pytest.fixture
def threads_used(monkeypatch):
    """The names of the threads that stored a period."""
    names = set()
    store = engine.store_period

    def recording(*args, **kwargs):
        names.add(threading.current_thread().name)
        return store(*args, **kwargs)

    monkeypatch.setattr(engine, "store_period", recording)
    return names


@pytest.mark.django_db(transaction=True)
def test_two_connections_store_the_same_figures_as_one(dash, threads_used):
    specs = past_specs()
    demo._store_past(specs, workers=1)
    one = figures()
    assert threads_used == {threading.current_thread().name}
    # Employment of this world: 户主一's job counts in every stored month.
    assert any(key == "employed" and value > 0 for *_p, key, value in one[0])
    threads_used.clear()
    demo._store_past(specs, workers=2)
    assert figures() == one
    if connection.vendor == "postgresql":
        assert threads_used and all(name.startswith("demo-periods") for name in threads_used)
    else:  # SQLite takes one writer at a time
        assert threads_used == {threading.current_thread().name}


@pytest.mark.django_db
def test_inside_a_transaction_one_connection(dash, threads_used):
    """Other connections would not see the transaction's rows: no thread is used."""
    demo._store_past(past_specs(), workers=2)
    assert threads_used == {threading.current_thread().name}
    assert SettlementFigure.objects.filter(key="employed", value__gt=0).exists()


@pytest.mark.django_db
def test_several_periods_count_each_dated_source_once(dash, monkeypatch):
    """``store_periods``: a source that counts several windows (``Source.dates``) is run
    once for all the periods, never once per period: a stock for each reference date, a
    flow for each period (its start and end); the stored figures are those of storing
    each period alone."""
    from relocation.dashboards.registry import registry

    specs = past_specs()
    for spec in specs:
        engine.store_period(spec, spec.end)
    alone = figures()
    dated = [key for key, source in registry.sources.items() if source.dates is not None]
    assert {"social_protection", "rights", "rights_items", "governance_flows"} <= set(dated)
    calls = []
    for key in dated:
        source = registry.sources[key]

        def counting(settlements, windows, dates=source.dates, key=key):
            calls.append((key, len(windows)))
            return dates(settlements, windows)

        def refused(settlements, window, key=key):
            raise AssertionError(f"{key} computed one date alone")

        monkeypatch.setitem(
            registry.sources, key, dataclasses.replace(source, dates=counting, compute=refused)
        )
    engine.store_periods([(spec, spec.end) for spec in specs])
    assert figures() == alone
    dates = len({spec.end for spec in specs})
    assert len(specs) > dates > 2  # months and quarters share ends
    expected = [(key, len(specs) if registry.sources[key].flow else dates) for key in dated]
    assert sorted(calls) == sorted(expected)


@pytest.mark.django_db
def test_the_demo_counts_today_in_the_same_pass(dash, monkeypatch):
    """The demo's history and its running periods: a source that counts dates is never run
    for one date alone, and the running periods hold what a full refresh stores."""
    from relocation.dashboards.models import Period
    from relocation.dashboards.registry import registry

    def refused(settlements, window):
        raise AssertionError("a dated source computed one date alone")

    with monkeypatch.context() as patched:
        for key, source in list(registry.sources.items()):
            if source.dates is not None:
                patched.setitem(registry.sources, key, dataclasses.replace(source, compute=refused))
        stored = demo.snapshot_demo_periods(rebuild=True)
    assert stored == 16
    today = timezone.localdate()
    running = Period.objects.filter(reference_date=today)
    assert running.count() == 3
    by_demo = figures()
    engine.refresh_live(full=True)
    assert figures() == by_demo
    assert SettlementFigure.objects.filter(period__in=running, key="employed", value__gt=0).exists()
