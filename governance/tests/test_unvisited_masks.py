"""``unvisited_by_dates`` (the dashboards' 结对户超过N天未走访 for many dates in one query,
one date by the rule's own query) checked on a random world against the rule,
``unvisited_households``, date by date."""

import datetime
import random
from collections import Counter

import pytest
from django.test import override_settings

from communities.models import Household, Settlement
from communities.tests.factories import HouseholdFactory, three_settlements

from ..indicators.organisation import unvisited_by_dates
from ..models.organisation import Cadre, Pairing, Visit, VisitWay, unvisited_households

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2025, 1, 1)
SPAN = 500
INTERVAL = 30


def _day(rng, start=FIRST, span=SPAN):
    return start + datetime.timedelta(days=rng.randrange(span))


@pytest.fixture
def paired_world(region_tree):
    """40 households in three settlements; most with 1–2 pairings (open or ended, some
    starting or ending on a chosen day), some with none; 0–6 visits each, some on the
    last day of a chosen day's interval or the day after it.  Returns the chosen days."""
    rng = random.Random(20261207)
    settlements = three_settlements(region_tree)
    cadres = [
        Cadre.objects.create(name=f"干部{n}", unit="县住建局", settlement=s)
        for n, s in enumerate(settlements)
    ]
    days = sorted({_day(rng) for _ in range(25)})
    edge = datetime.timedelta(days=INTERVAL)
    for n in range(40):
        household = HouseholdFactory(number=f"P{n:02d}", settlement=rng.choice(settlements))
        for _ in range(rng.choice([0, 1, 1, 2])):
            start = rng.choice([*days, _day(rng, FIRST - edge)])
            end = rng.choice(
                [None, rng.choice(days), start + datetime.timedelta(rng.randrange(90))]
            )
            if end is not None and end < start:
                start, end = end, start
            Pairing.objects.create(
                cadre=rng.choice(cadres), household=household, start_date=start, end_date=end
            )
        for _ in range(rng.randrange(7)):
            day = rng.choice(days)
            visited = rng.choice(
                [_day(rng), day, day - edge, day - edge + datetime.timedelta(days=1)]
            )
            Visit.objects.create(
                household=household, cadre=rng.choice(cadres), visited_on=visited, way=VisitWay.HOME
            )
    return days


@override_settings(GOVERNANCE_VISIT_INTERVAL_DAYS=INTERVAL)
def test_unvisited_by_dates_is_the_rule(paired_world, django_assert_num_queries):
    days = paired_world
    with django_assert_num_queries(1):
        found = unvisited_by_dates(Settlement.objects.all(), days)
    counted = 0
    for day in days:
        rule = Counter(
            unvisited_households(Household.objects.all(), day).values_list(
                "settlement_id", flat=True
            )
        )
        assert found[day] == dict(rule), day
        # One day alone is counted by the rule's own query.
        with django_assert_num_queries(1):
            assert unvisited_by_dates(Settlement.objects.all(), [day]) == {day: dict(rule)}
        counted += sum(rule.values())
    assert counted > len(days)  # the world has unvisited households on many days


@override_settings(GOVERNANCE_VISIT_INTERVAL_DAYS=INTERVAL)
def test_more_days_than_a_mask_holds(paired_world, monkeypatch):
    """Past ``MASK_DATES`` days, one query per mask, the same counts."""
    from relocation.dashboards import bydate

    days = paired_world
    whole = unvisited_by_dates(Settlement.objects.all(), days)
    monkeypatch.setattr(bydate, "MASK_DATES", 4)
    assert unvisited_by_dates(Settlement.objects.all(), days) == whole
