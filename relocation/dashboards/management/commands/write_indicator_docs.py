"""``manage.py write_indicator_docs [--check]`` — docs/indicators.md from the registry."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from relocation.dashboards.catalogue import render

TARGET = Path(settings.BASE_DIR) / "docs" / "indicators.md"


class Command(BaseCommand):
    help = "根据指标登记生成 docs/indicators.md（指标目录）；--check 只检查是否需要更新。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="只检查：文件与指标登记不一致时报错，不写文件。"
        )

    def handle(self, *args, check=False, **options):
        text = render()
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if check:
            if current != text:
                raise CommandError(
                    "docs/indicators.md 与指标登记不一致，请运行 manage.py write_indicator_docs。"
                )
            self.stdout.write("docs/indicators.md 是最新的。")
            return
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text, encoding="utf-8")
        self.stdout.write(
            f"已写入 {TARGET.relative_to(settings.BASE_DIR)}（{len(text.splitlines())} 行）。"
        )
