"""``bydate.add_flows``: the records dated in each of many flow windows, counted in one
query, checked on a random world against the rule (a record counts in a window when its
date lies in ``start``..``reference_date``, both days included), window by window; and
one window alone, whose query's own condition says it.  ``bydate.Packed``: counts of
rows dated on or before each of many days, packed in integers, against the same world."""

import datetime
import random
from collections import Counter

import pytest
from django.db.models import Count, Q, Sum

from communities.models import Person
from communities.tests.factories import HouseholdFactory, PersonFactory, three_settlements
from relocation.dashboards import bydate
from relocation.dashboards.registry import Window

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2025, 1, 1)
DAYS = 700


def _day(rng):
    return FIRST + datetime.timedelta(days=rng.randrange(DAYS))


@pytest.fixture
def people(region_tree):
    """60 people in 3 settlements, born on random days of about two years (several on
    the same day), of either sex."""
    rng = random.Random(20261207)
    settlements = three_settlements(region_tree)
    households = [
        HouseholdFactory(number=f"F{n:02d}", settlement=rng.choice(settlements)) for n in range(20)
    ]
    days = [_day(rng) for _ in range(40)]
    for n in range(60):
        PersonFactory(
            household=rng.choice(households),
            name=f"人{n}",
            birth_date=rng.choice(days),
            sex=rng.choice("MF"),
        )
    return rng, days


def _windows(world):
    """Random windows, some beginning or ending on a birthday, some sharing an end,
    one day long (a birthday), and some holding no one."""
    rng, days = world
    windows = []
    for _ in range(12):
        start, end = sorted((_day(rng), _day(rng)))
        windows.append(Window(start=start, reference_date=end, income_year=end.year))
    for _ in range(8):
        start, end = sorted(rng.sample(days, 2))
        windows.append(Window(start=start, reference_date=end, income_year=end.year))
        windows.append(Window(start=end, reference_date=end, income_year=end.year))
    end = _day(rng)
    for days in (0, 30, 91, 365):
        start = end - datetime.timedelta(days=days)
        windows.append(Window(start=start, reference_date=end, income_year=end.year))
    before = FIRST - datetime.timedelta(days=10)
    windows.append(Window(start=before, reference_date=before, income_year=before.year))
    return windows


def _aggregates(on):
    return {
        "born": Count("pk", filter=on),
        "girls": Count("pk", filter=on & Q(sex="F")),
        "ids": Sum("pk", filter=on),
    }


def _by_rule(window):
    """{settlement: {name: value}} of the people born in the window, counted in Python."""
    figures = {}
    for pk, settlement, born, sex in Person.objects.values_list(
        "pk", "household__settlement_id", "birth_date", "sex"
    ):
        if window.start <= born <= window.reference_date:
            counts = figures.setdefault(settlement, Counter())
            counts["born"] += 1
            counts["girls"] += sex == "F"
            counts["ids"] += pk
    return {s: {k: v for k, v in c.items() if v} for s, c in figures.items()}


def _births(windows):
    """``add_flows`` of the people born in each window, per settlement."""
    figures = {bydate.span(window): {} for window in windows}
    bydate.add_flows(
        figures,
        Person.objects.all(),
        "household__settlement_id",
        "birth_date",
        windows,
        _aggregates,
    )
    return figures


def _non_zero(figures):
    kept = {s: {k: v for k, v in values.items() if v} for s, values in figures.items()}
    return {s: values for s, values in kept.items() if values}


def test_many_windows_in_one_query_follow_the_rule(people, django_assert_num_queries):
    windows = list({bydate.span(w): w for w in _windows(people)}.values())
    with django_assert_num_queries(1):
        figures = _births(windows)
    counted = 0
    for window in windows:
        expected = _by_rule(window)
        assert _non_zero(figures[bydate.span(window)]) == expected, window
        counted += bool(expected)
    assert 3 < counted < len(windows)  # the world holds windows with people and without


def test_one_window_alone_follows_the_rule(people, django_assert_num_queries):
    for window in _windows(people):
        with django_assert_num_queries(1):
            figures = _births([window])
        assert _non_zero(figures[bydate.span(window)]) == _by_rule(window), window


@pytest.mark.parametrize("days", [1, 5, 40])
def test_packed_counts_follow_the_rule(people, days):
    """People born on or before each day, per settlement and sex, packed with just enough
    bits for the largest group (a group at that count fills its bits: no carry), on one
    day, a few and more than one integer holds."""
    rng, birthdays = people
    # The last birthday (everyone born by then), other birthdays, and days between.
    chosen = [max(birthdays), *rng.sample(birthdays, min(days, len(birthdays)) - 1)]
    chosen += [_day(rng) for _ in range(days - len(chosen))]
    windows = [Window(start=day, reference_date=day, income_year=day.year) for day in chosen]
    groups = Counter(Person.objects.values_list("household__settlement_id", "sex"))
    packed = bydate.Packed(windows, max(groups.values()))
    assert (len(packed.chunks) > 1) == (days == 40)  # 40 days fill more than one integer
    rows = (
        Person.objects.values("household__settlement_id", "sex")
        .annotate(**packed.sums("born", Q(), "birth_date"))
        .order_by()
    )
    everyone = list(Person.objects.values_list("household__settlement_id", "sex", "birth_date"))
    full = 0
    for row in rows:
        group = (row["household__settlement_id"], row["sex"])
        for day in chosen:
            expected = sum(1 for *g, born in everyone if tuple(g) == group and born <= day)
            assert packed.count(row, "born", day) == expected, (group, day)
            full += expected == groups[group] == max(groups.values())
    assert full  # some group reaches the largest count on some day
