"""Jobs for the worker (``manage.py db_worker``): refresh and snapshot figures."""

from django_tasks import task

from . import engine
from .periods import PeriodKind, parse_period


@task()
def refresh_live_figures(full=False):
    """Bring the running year, quarter and month up to date (closing ended ones)."""
    return engine.refresh_live(full=full)


@task()
def snapshot_period(code):
    """Store the figures of a past period as of its last day (``2026-10``, ``2026-Q3``, ``2025``)."""
    spec = parse_period(code)
    if spec is None or spec.kind not in PeriodKind.values:
        raise ValueError(f"bad period {code!r}")
    period = engine.store_period(spec, spec.end)
    return {"period": spec.code, "reference_date": period.reference_date.isoformat()}
