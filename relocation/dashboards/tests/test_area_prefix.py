"""A region's child areas are read by a code range the index can use, with the same rows
as the plain prefix test (``engine.code_prefix_q``)."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db.models import Q
from django.utils import timezone

from relocation.dashboards import areas, engine
from relocation.dashboards.models import AreaFigure, Period

CODES = [
    "522300999",  # just before the county's codes
    "522301001",
    "522301999",
    "5223019",  # longer codes of the same prefix are in it too
    "522302001",  # the next county
    "529999001",
    "530101001",
]


@pytest.fixture
def period(db):
    day = datetime.date(2026, 1, 31)
    period = Period.objects.create(
        kind="month",
        start=datetime.date(2026, 1, 1),
        end=day,
        reference_date=day,
        computed_at=timezone.now(),
    )
    for code in CODES:
        AreaFigure.objects.create(
            period=period, level="township", area_code=code, key="persons", value=Decimal(1)
        )
    AreaFigure.objects.create(
        period=period, level="county", area_code="522301", key="persons", value=Decimal(5)
    )
    return period


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [("522301", "522302"), ("5229", "5230"), ("52", "53"), ("5299", "5300"), ("99", None)],
)
def test_the_range_ends_at_the_next_prefix(prefix, upper):
    q = engine.code_prefix_q(prefix)
    bounds = dict(q.children)
    assert bounds["area_code__startswith"] == prefix
    assert bounds["area_code__gte"] == prefix
    assert bounds.get("area_code__lt") == upper


@pytest.mark.parametrize("prefix", ["522301", "5223", "52", "5299", "53", "99"])
def test_the_same_rows_as_the_prefix_alone(period, prefix):
    rows = AreaFigure.objects.filter(period=period, level="township")
    expected = {code for code in CODES if code.startswith(prefix)}
    ranged = set(rows.filter(engine.code_prefix_q(prefix)).values_list("area_code", flat=True))
    plain = set(rows.filter(Q(area_code__startswith=prefix)).values_list("area_code", flat=True))
    assert ranged == plain == expected


def test_a_county_page_reads_its_townships_and_its_own_series(period):
    county = SimpleNamespace(prefix="522301", code="522301")
    children, series = engine.region_children_and_series(period, county, "township", [period])
    assert set(children) == {"522301001", "522301999", "5223019"}
    assert series[period.pk]["persons"] == 5
    assert set(engine.region_children(period, county, "township")) == set(children)


@pytest.mark.parametrize("prefix", ["522301", "5223", "52", "5299", "99"])
def test_settlement_rows_by_county_code(period, prefix):
    """A region's settlement rows (``areas.region_q``: a scope of several areas, the
    settlements of a county) by the range on ``county_code`` too, the same rows."""
    from communities.tests.factories import SettlementFactory
    from relocation.dashboards.models import SettlementFigure

    counties = ["522300", "522301", "522302", "529999", "530101"]
    for county in counties:
        SettlementFigure.objects.create(
            period=period,
            settlement=SettlementFactory(),
            county_code=county,
            key="persons",
            value=Decimal(1),
        )
    q = areas.region_q(prefix)
    assert dict(q.children)["county_code__gte"] == prefix
    rows = SettlementFigure.objects.filter(period=period)
    found = set(rows.filter(q).values_list("county_code", flat=True))
    assert found == {county for county in counties if county.startswith(prefix)}
    township = areas.region_q("522301001")
    assert township == Q(township_code="522301001")
