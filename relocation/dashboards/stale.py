"""Corrections reach past periods: mark the stored periods a change touches, recompute them.

The running periods follow the data within a minute (``engine.refresh_live``);
a closed period is stored once, as of its last day.  When a record dated inside
a closed period is corrected later — an employment record that began in
October, a referral of October, the income of last year — the sources say so
(``Source.corrections``) and ``mark`` records one ``StaleFigure`` per period,
settlement and source, found from the change history during the refresh that
notices the change:

* ``FROM`` a date (stocks): every stored period whose reference date is on or
  after it;
* ``ON`` a date (flows): the stored periods containing it;
* ``INCOME`` a year: the stored periods that count that income year.

The page of such a period says that its figures are being recomputed, and the
job worker's ``recompute`` computes only those sources for only those
settlements, then re-derives the period's region sums.  A mark touched again
while the worker runs gets a newer time, so it is kept for the next run.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from communities.models import Settlement

from . import engine
from .models import Period, SettlementFigure, StaleFigure
from .periods import income_year
from .registry import FROM, INCOME, ON, registry


def _touches(period, basis, value):
    if basis == FROM:
        return period.reference_date >= value
    if basis == ON:
        return period.start <= value <= period.reference_date
    if basis == INCOME:
        return income_year(period.reference_date) == value
    raise ValueError(f"unknown correction basis {basis!r}")


def corrections(since):
    """{(source key, settlement id): {(basis, value)}} of the changes since a time."""
    found = defaultdict(set)
    for source in registry.sources.values():
        if source.corrections is None:
            continue
        for settlement_id, basis, value in source.corrections(since):
            if settlement_id is not None and value is not None:
                found[(source.key, settlement_id)].add((basis, value))
    return found


def mark(since, *, now=None):
    """Mark the closed stored periods touched by changes since ``since``; returns the count."""
    now = now or timezone.now()
    found = corrections(since)
    if not found:
        return 0
    today = timezone.localdate(now)
    periods = list(Period.objects.filter(end__lt=today).only("pk", "start", "reference_date"))
    targets = {
        (period.pk, settlement_id, source_key)
        for (source_key, settlement_id), changes in found.items()
        for period in periods
        if any(_touches(period, basis, value) for basis, value in changes)
    }
    if not targets:
        return 0
    places = engine.settlement_places(
        Settlement.objects.filter(pk__in={sid for _p, sid, _s in targets})
    )
    rows = [
        StaleFigure(
            period_id=period_id,
            settlement_id=settlement_id,
            county_code=places[settlement_id][0],
            township_code=places[settlement_id][1],
            source=source_key,
            marked_at=now,
        )
        for period_id, settlement_id, source_key in sorted(targets)
        if settlement_id in places
    ]
    StaleFigure.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["period", "settlement", "source"],
        update_fields=["marked_at"],
    )
    return len(rows)


def recompute(*, now=None):
    """Recompute every marked (period, source, settlements) and clear those marks.

    Returns {period code: number of settlements recomputed}.
    """
    now = now or timezone.now()
    marks = defaultdict(lambda: defaultdict(set))
    read = defaultdict(list)
    for pk, marked_at, period_id, settlement_id, source_key in StaleFigure.objects.values_list(
        "pk", "marked_at", "period_id", "settlement_id", "source"
    ):
        marks[period_id][source_key].add(settlement_id)
        read[period_id].append((pk, marked_at))
    done = {}
    for period in Period.objects.filter(pk__in=list(marks)).order_by("kind", "start"):
        window = engine.window_for(period.spec, period.reference_date)
        settlement_ids = set()
        with transaction.atomic():
            for source_key, ids in sorted(marks[period.pk].items()):
                source = registry.sources.get(source_key)
                if source is None:  # its app was removed: nothing to recompute
                    continue
                settlements = Settlement.objects.filter(pk__in=sorted(ids))
                figures = source.compute(settlements, window)
                owned = Q(key__in=source.components)
                for prefix in source.prefixes:
                    owned |= Q(key__startswith=prefix)
                SettlementFigure.objects.filter(
                    owned, period=period, settlement_id__in=sorted(ids)
                ).delete()
                engine.write_figures(
                    period,
                    {sid: values for sid, values in figures.items() if sid in ids},
                    engine.settlement_places(settlements),
                )
                settlement_ids |= ids
            engine.rollup(period)
            period.computed_at = now
            period.save(update_fields=["computed_at"])
            engine.clear_marks(read[period.pk])
        done[period.spec.code] = len(settlement_ids)
    return done


def notice(period, figure_q):
    """The latest mark time of ``period`` within an area, or None (one query)."""
    if period is None:
        return None
    latest = (
        StaleFigure.objects.filter(period=period)
        .filter(figure_q)
        .order_by("-marked_at")
        .values_list("marked_at", flat=True)
        .first()
    )
    return latest
