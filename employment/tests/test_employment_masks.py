"""``employment_summaries`` counts several dates as bits of masks, one date with distinct
counts: both checked on a random world against the rule of each figure, person by person
and date by date (``labour_force`` and ``with_employment``, which read the people and
their jobs with EXISTS)."""

import datetime
import random
from collections import Counter

import pytest

from communities import enums as cenums
from communities.models import Person
from communities.tests.factories import HouseholdFactory, PersonFactory, three_settlements
from employment import enums
from employment.models import Employer, EmploymentRecord
from relocation.dashboards.bydate import MASK_DATES

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2024, 1, 1)
LAST = datetime.date(2026, 12, 31)
FLAGS = {  # figure: with_employment's flag
    "employed": "is_employed",
    "employed_nearby": "is_nearby",
    "employed_outside_province": "is_outside_province",
    "public_welfare_posts": "is_public_welfare",
    "self_employed": "is_self_employed",
    "workshop_employed": "is_workshop",
    "farming": "is_farming",
}


def _day(rng):
    return FIRST + datetime.timedelta(days=rng.randrange((LAST - FIRST).days))


@pytest.fixture
def random_world(region_tree):
    """Three settlements in two counties; 45 households of 1–5 people aged 10–70 (many
    near the labour force's bounds during the dates), some students or without labour
    ability; 0–3 jobs each of any kind, place and employer, open or ended, overlapping."""
    rng = random.Random(20261207)
    rt = region_tree
    settlements = three_settlements(rt)
    employers = [
        Employer.objects.create(name=f"单位{n}", kind=kind, county=rt.xingyi)
        for n, kind in enumerate(enums.EmployerKind.values)
    ]
    for n in range(45):
        household = HouseholdFactory(number=f"R{n:03d}", settlement=rng.choice(settlements))
        for m in range(rng.randint(1, 5)):
            age_days = rng.randrange(10 * 365, 70 * 365)
            person = PersonFactory(
                household=household,
                name=f"人{n}-{m}",
                relationship=cenums.Relationship.HEAD if m == 0 else cenums.Relationship.OTHER,
                birth_date=datetime.date(2026, 6, 30) - datetime.timedelta(days=age_days),
                labour_ability=rng.choice(
                    [cenums.LabourAbility.ORDINARY] * 6
                    + [cenums.LabourAbility.WEAK, cenums.LabourAbility.LOST]
                ),
                school_stage=rng.choice([""] * 8 + [cenums.SchoolStage.UNDERGRADUATE]),
            )
            for _job in range(rng.choice([0, 1, 1, 2, 3])):
                start = _day(rng)
                end = None if rng.random() < 0.4 else start + datetime.timedelta(rng.randrange(400))
                EmploymentRecord.objects.create(
                    person=person,
                    kind=rng.choice(enums.EmploymentKind.values),
                    place=rng.choice(enums.WorkPlace.values),
                    start_date=start,
                    end_date=end,
                    employer=rng.choice([None, *employers]),
                )
    return settlements


def _by_rule(day, level_path):
    """One date's figures per area, from each person's flags on that date."""
    people = (
        Person.objects.labour_force(day)
        .with_employment(day)
        .values("household_id", level_path, *FLAGS.values())
    )
    figures = {}
    households = {}
    for row in people:
        area = row[level_path]
        counts = figures.setdefault(area, Counter())
        counts["labour_force"] += 1
        for figure, flag in FLAGS.items():
            counts[figure] += bool(row[flag])
        seen = households.setdefault(area, {})
        seen[row["household_id"]] = seen.get(row["household_id"], False) or row["is_employed"]
    for area, counts in figures.items():
        counts["households_with_labour"] = len(households[area])
        counts["households_employed"] = sum(households[area].values())
        counts["zero_employment_households"] = (
            counts["households_with_labour"] - counts["households_employed"]
        )
    return {area: dict(counts) for area, counts in figures.items()}


def _comparable(summary):
    return {area: {k: v for k, v in row.items() if v} for area, row in summary.items()}


def test_each_date_is_counted_as_the_rule_says(random_world, django_assert_num_queries):
    rng = random.Random(7)
    # More dates than one query's mask holds: two queries.
    days = sorted({_day(rng) for _ in range(MASK_DATES + 8)})
    assert len(days) > MASK_DATES
    with django_assert_num_queries(2):
        summaries = Person.objects.employment_summaries(days, "settlement")
    assert set(summaries) == set(days)
    # Counts are ints, also from a mask of 62 dates (PostgreSQL sums BIGINTs as NUMERIC).
    values = [v for by_area in summaries.values() for row in by_area.values() for v in row.values()]
    assert values and all(type(v) is int for v in values)
    employed_somewhere = 0
    for day in days:
        expected = _by_rule(day, "household__settlement_id")
        assert _comparable(summaries[day]) == _comparable(expected), day
        # One date alone is counted the other way (distinct counts): the same figures.
        if day in days[::6]:
            alone = Person.objects.employment_summary(day, "settlement")
            assert _comparable(alone) == _comparable(expected), day
        employed_somewhere += sum(row.get("employed", 0) for row in expected.values())
    assert employed_somewhere > 100  # the world has jobs on the dates, not just zeros


def test_counties_and_the_whole_roll_up_people_not_settlements(random_world):
    days = [datetime.date(2025, 3, 31), datetime.date(2026, 6, 30)]
    counties = Person.objects.employment_summaries(days, "county")
    totals = Person.objects.employment_summaries(days)
    for day in days:
        expected = _by_rule(day, "household__settlement__county_id")
        assert _comparable(counties[day]) == _comparable(expected)
        whole = Counter()
        for row in expected.values():
            whole.update(row)
        assert {k: v for k, v in totals[day].items() if v} == {k: v for k, v in whole.items() if v}
        assert _comparable(Person.objects.employment_summary(day, "county")) == _comparable(
            expected
        )
        assert Person.objects.employment_summary(day) == totals[day]


def test_nobody_in_the_labour_force_gives_zeros_for_the_whole(random_world):
    long_ago = datetime.date(1950, 1, 1)
    assert Person.objects.employment_summaries([long_ago], "settlement") == {long_ago: {}}
    (zeros,) = Person.objects.employment_summaries([long_ago]).values()
    assert set(zeros) >= {"labour_force", "employed", "zero_employment_households"}
    assert not any(zeros.values())
    zeros["labour_force"] = 5  # the caller's own copy
    assert Person.objects.employment_summaries([long_ago])[long_ago]["labour_force"] == 0
