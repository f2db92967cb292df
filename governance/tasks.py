"""Jobs for the worker: the early-warning scan (on demand from the admin, and on a schedule)."""

import datetime

from django_tasks import task


@task()
def scan_early_warnings(on_date=None, provinces=None):
    """Apply the early-warning rules of ``on_date``'s year (ISO date; today when None)."""
    from .monitoring_scan import scan

    day = datetime.date.fromisoformat(on_date) if on_date else None
    result = scan(day, provinces=provinces)
    return {str(rule): counts for rule, counts in result.items()}
