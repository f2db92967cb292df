"""``manage.py scan_early_warnings`` — apply the 防返贫 early-warning rules.

Applies the active rules of the date's year (today by default), raises alerts for
new causes and closes unreviewed ones whose cause is gone (``governance.monitoring_scan``).
``--enqueue`` hands the scan to the job worker instead (the nightly schedule, see README).
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "按当年启用的预警规则扫描搬迁户，生成新预警并关闭原因已消失的未处理预警。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="扫描日期（YYYY-MM-DD），默认今天。")
        parser.add_argument(
            "--province", action="append", default=[], help="只扫描该省（省级区划代码）；可重复。"
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务（job worker）执行。"
        )

    def handle(self, *args, date, province, enqueue, **options):
        if date:
            try:
                datetime.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{date}") from exc
        if enqueue:
            from governance.tasks import scan_early_warnings

            scan_early_warnings.enqueue(on_date=date, provinces=province or None)
            self.stdout.write("已交给后台任务执行。")
            return
        from governance.monitoring_scan import scan

        started = time.monotonic()
        result = scan(
            datetime.date.fromisoformat(date) if date else None, provinces=province or None
        )
        totals = {
            key: sum(row[key] for row in result.values())
            for key in ("found", "raised", "cleared", "cause_gone")
        }
        self.stdout.write(
            f"规则 {len(result)} 条：命中 {totals['found']}，新预警 {totals['raised']}，"
            f"原因消失关闭 {totals['cleared']}，已核实预警原因消失 {totals['cause_gone']}；"
            f"用时 {time.monotonic() - started:.1f} 秒"
        )
