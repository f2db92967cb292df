"""Dashboard figures for the demo: the running periods and a year of history."""

import time

from django.utils import timezone

from relocation.demo import DemoStep, register

from . import engine
from .models import Period
from .periods import PeriodKind, recent_periods

DEMO_HISTORY = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 3}


def _store_past(specs, workers=None, also=()):
    """Store past periods as of their last day (``engine.store_periods``); ``also``: windows
    counted in the same pass, whose compute caches are returned."""
    return engine.store_periods(
        [(spec, spec.end) for spec in specs],
        workers=workers,
        thread_name_prefix="demo-periods",
        also=also,
    )


def snapshot_demo_periods(stdout=None, rebuild=False, history=True):
    """Store past periods not stored yet (all with ``rebuild``), then refresh the running ones.

    ``history=False``: only the running periods (what the nightly job computes).

    Past periods are computed from today's records as of each period's last
    day (employment records carry their dates, so employment follows them).
    """
    started = time.monotonic()
    today = timezone.localdate()
    stored = set(Period.objects.values_list("kind", "start"))
    past = [
        spec
        for kind, n in (DEMO_HISTORY.items() if history else ())
        for spec in recent_periods(kind, today, n)
        if not spec.is_current(today) and (rebuild or (spec.kind, spec.start) not in stored)
    ]
    if stdout is not None:
        stdout.write(f"  数据看板：正在计算往期快照 {len(past)} 期和当期指标……")
    # The running periods' figures are counted in the same pass.
    caches = _store_past(past, also=engine.running_windows(today))
    count = len(past)
    engine.refresh_live(full=True, cache=caches.get(today))
    if stdout is not None:
        stdout.write(
            f"  数据看板：保存往期快照 {count} 期，刷新当期指标，用时 {time.monotonic() - started:.1f} 秒"
        )
    return count


def demo_step(context):
    """``load_demo``'s last step: past periods are recomputed when a step created new data."""
    snapshot_demo_periods(
        stdout=context.stdout,
        rebuild=context.reset or bool(context.created),
        history=context.history,
    )
    return ()


# Last: the figures are computed from what every other step built.
register(DemoStep("dashboards", build=demo_step, order=1000))
