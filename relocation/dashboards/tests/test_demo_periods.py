"""The demo's past periods: computed on two connections at once on PostgreSQL,
with the same figures as on one."""

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
