"""The figure tables carry no foreign key constraint (the nightly refresh's commit checked
each of the whole country's rows again), and their rows still go with their settlement
and their period: Django deletes them (``on_delete``).  No index serves the settlement alone:
a settlement's deletion scans the table, and each period's write is cheaper."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from communities.tests.factories import SettlementFactory
from relocation.dashboards.models import AreaFigure, Period, SettlementFigure

pytestmark = pytest.mark.django_db


def foreign_keys(model):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [info["columns"] for info in found.values() if info["foreign_key"]]


@pytest.mark.parametrize("model", [SettlementFigure, AreaFigure])
def test_no_foreign_key_constraint(model):
    assert foreign_keys(model) == []


def test_no_index_of_the_settlement_alone():
    """Each period's write updated it at a thousand places; every read names the period."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, SettlementFigure._meta.db_table)
    indexed = sorted(info["columns"] for info in found.values() if info["index"] or info["unique"])
    assert ["settlement_id"] not in indexed
    assert ["period_id", "settlement_id", "key"] in indexed


def test_figures_go_with_their_settlement_and_period():
    day = datetime.date(2026, 1, 31)
    periods = [
        Period.objects.create(
            kind=kind,
            start=datetime.date(2026, 1, 1),
            end=day,
            reference_date=day,
            computed_at=timezone.now(),
        )
        for kind in ("month", "quarter")
    ]
    kept, gone = SettlementFactory(), SettlementFactory()
    for period in periods:
        for settlement in (kept, gone):
            SettlementFigure.objects.create(
                period=period,
                settlement=settlement,
                county_code=settlement.county_id,
                key="persons",
                value=Decimal(3),
            )
        AreaFigure.objects.create(
            period=period, level="county", area_code=kept.county_id, key="persons", value=6
        )
    gone.delete()
    assert set(SettlementFigure.objects.values_list("settlement_id", flat=True)) == {kept.pk}
    periods[0].delete()
    assert set(SettlementFigure.objects.values_list("period_id", flat=True)) == {periods[1].pk}
    assert set(AreaFigure.objects.values_list("period_id", flat=True)) == {periods[1].pk}
