"""Jobs for the worker (``manage.py db_worker``): refresh and snapshot figures."""

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


@task()
def snapshot_period(code):
    """Store the figures of a past period as of its last day (``2026-10``, ``2026-Q3``, ``2025``)."""
    spec = parse_period(code)
    if spec is None or spec.kind not in PeriodKind.values:
        raise ValueError(f"bad period {code!r}")
    period = engine.store_period(spec, spec.end)
    return {"period": spec.code, "reference_date": period.reference_date.isoformat()}
