"""``manage.py snapshot_indicators`` — store period figures for the dashboards.

Without options: close every period that ended since the last run and
recompute the running year, quarter and month for every settlement (the
nightly job).  ``--period 2026-10 --period 2026-Q3 --period 2025`` stores those
periods as of their last day (a period still running: as of today);
``--months/--quarters/--years N`` stores the last N of each kind; ``--refresh``
only recomputes the settlements whose data changed since the last refresh
(cheap; run every minute or so); past periods that corrections made stale
are recomputed after each refresh; ``--enqueue`` hands the work to the job
worker instead of doing it now.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from relocation.dashboards import engine, stale
from relocation.dashboards.periods import PeriodKind, parse_period, recent_periods


class Command(BaseCommand):
    help = "计算并保存数据看板各统计期（年、季、月）的安置点指标快照；不带参数时刷新当期并结转已结束的统计期。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            action="append",
            default=[],
            help="统计期，如 2026、2026-Q3、2026-11；可重复。",
        )
        for kind, label in (("years", "年"), ("quarters", "季"), ("months", "月")):
            parser.add_argument(
                f"--{kind}", type=int, default=0, help=f"保存最近N个{label}（含当期）。"
            )
        parser.add_argument(
            "--refresh", action="store_true", help="只重算自上次刷新以来数据有变化的安置点。"
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务（db_worker）执行。"
        )

    def handle(self, *args, period, years, quarters, months, refresh, enqueue, **options):
        today = timezone.localdate()
        specs = []
        for code in period:
            spec = parse_period(code)
            if spec is None:
                raise CommandError(f"统计期格式不正确：{code}（应为 2026、2026-Q3 或 2026-11）")
            if spec.start > today:
                raise CommandError(f"统计期 {code} 尚未开始。")
            specs.append(spec)
        for kind, count in (
            (PeriodKind.YEAR, years),
            (PeriodKind.QUARTER, quarters),
            (PeriodKind.MONTH, months),
        ):
            if count < 0:
                raise CommandError("个数不能为负数。")
            specs += recent_periods(kind, today, count) if count else []
        if enqueue:
            from relocation.dashboards.tasks import refresh_live_figures, snapshot_periods

            if specs:
                snapshot_periods.enqueue([spec.code for spec in specs])
                self.stdout.write(f"已提交后台任务：保存 {len(specs)} 个统计期。")
            else:
                refresh_live_figures.enqueue(full=not refresh)
                self.stdout.write("已提交后台任务：刷新当期指标。")
            return
        started = time.monotonic()
        engine.store_periods(
            [(spec, spec.reference_date(today)) for spec in specs],
            stored=lambda spec, reference_date: self.stdout.write(
                f"已保存 {spec.label}（统计日期 {reference_date}）"
            ),
        )
        if not specs:
            result = engine.refresh_live(full=not refresh)
            if result is None:
                self.stdout.write("另一进程正在刷新，本次跳过。")
            else:
                closed = "、".join(result["closed"]) or "无"
                changed = "全部" if result["settlements"] == "all" else result["settlements"]
                self.stdout.write(
                    f"已刷新当期指标（重算安置点：{changed}）；结转的统计期：{closed}"
                )
                recomputed = stale.recompute()
                if recomputed:
                    done = "、".join(f"{code}（{n}个安置点）" for code, n in recomputed.items())
                    self.stdout.write(f"已重算更正过的往期：{done}")
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {time.monotonic() - started:.1f} 秒。"))
