"""Jobs for the worker (``manage.py db_worker``): refresh and snapshot figures."""

from django.utils import timezone
from django_tasks import task

from . import engine, stale
from .models import LiveState
from .periods import PeriodKind, parse_period


@task()
def refresh_live_figures(full=False):
    """Bring the running year, quarter and month up to date (closing ended ones),
    then recompute the past periods that corrections made stale."""
    # Waits for a page view that holds the state row (an inline refresh, or the
    # request asking for this one): skipping it would leave the figures stale
    # until the next request, ten minutes on.
    result = engine.refresh_live(full=full, wait=True)
    if result is not None:
        result["recomputed"] = stale.recompute()
    return result


@task()
def recompute_stale_periods():
    """Recompute the stored past periods that corrections marked stale."""
    LiveState.objects.filter(pk=1).update(stale_recompute_requested_at=None)
    return stale.recompute()


def _specs(codes):
    specs = [parse_period(code) for code in codes]
    for code, spec in zip(codes, specs, strict=True):
        if spec is None or spec.kind not in PeriodKind.values:
            raise ValueError(f"bad period {code!r}")
    return specs


@task()
def snapshot_periods(codes):
    """Store the figures of periods (``2026-10``, ``2026-Q3``, ``2025``) as of their last
    day, or as of today while one runs (what ``snapshot_indicators`` stores).  One job for
    many periods: the sources that count several dates scan their records once for all
    (``engine.store_periods``)."""
    today = timezone.localdate()
    pairs = [(spec, spec.reference_date(today)) for spec in _specs(codes)]
    engine.store_periods(pairs)
    return [{"period": spec.code, "reference_date": day.isoformat()} for spec, day in pairs]


@task()
def snapshot_period(code):
    """One period (jobs queued before ``snapshot_periods``)."""
    return snapshot_periods.call([code])[0]
