"""``manage.py load_demo [--seed N] [--households N] [--settlements N] [--reset]``."""

from django.core.management.base import BaseCommand, CommandError

from communities.demo import DEFAULT_HOUSEHOLDS, DEFAULT_SEED, build_demo
from employment.demo import build_employment_demo, employment_report

COUNT_LABELS = (
    ("regions", "行政区划（贵州省）"),
    ("settlements", "安置点"),
    ("buildings", "楼栋"),
    ("grids", "网格"),
    ("grid_workers", "网格员"),
    ("ten_groups", "十联户"),
    ("households", "搬迁户"),
    ("people", "家庭成员"),
)


class Command(BaseCommand):
    help = (
        "生成演示数据：六盘水市、黔西南州的安置点、楼栋、网格、十联户、搬迁户和家庭成员，"
        "以及各角色的演示账号。相同的随机种子生成相同的数据；可重复执行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="随机种子（默认 %(default)s）。"
        )
        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help="搬迁户数（默认 %(default)s 户，约4倍人数）。",
        )
        parser.add_argument(
            "--settlements",
            type=int,
            default=None,
            help="安置点数（默认约每500户一个，至少6个）。",
        )
        parser.add_argument("--reset", action="store_true", help="先删除已有的演示数据再生成。")

    def handle(self, *args, seed, households, settlements, reset, **options):
        if households < 1:
            raise CommandError("--households 必须大于0。")
        if settlements is not None and not 1 <= settlements <= households:
            raise CommandError("--settlements 必须在1和户数之间。")
        self.stdout.write(f"正在准备演示数据（随机种子 {seed}，{households} 户）……")
        result = build_demo(
            seed=seed,
            households=households,
            settlements=settlements,
            reset=reset,
            stdout=self.stdout,
        )
        if result.created:
            self.stdout.write(self.style.SUCCESS("演示数据已生成。"))
        else:
            self.stdout.write(
                self.style.WARNING(
                    "已存在演示数据，未重复生成（如需重建请加 --reset）；演示账号已更新。"
                )
            )
        width = max(_width(label) for _key, label in COUNT_LABELS)
        for key, label in COUNT_LABELS:
            pad = " " * (width - _width(label))
            self.stdout.write(f"  {label}{pad}  {result.counts.get(key, 0):>10,}")
        t = result.timings
        parts = [f"区划与角色 {t.get('regions', 0):.1f} 秒"]
        if "reset" in t:
            parts.append(f"清除旧演示数据 {t['reset']:.1f} 秒")
        if "generate" in t:
            parts.append(
                f"生成并写入 {t['generate']:.1f} 秒（其中批量写入 {t['write']:.1f} 秒），"
                f"提交 {t['commit']:.1f} 秒"
            )
        parts.append(f"演示账号 {t.get('users', 0):.1f} 秒")
        self.stdout.write(f"  用时 {result.elapsed:.1f} 秒：{'，'.join(parts)}")
        employment = build_employment_demo(seed=seed, stdout=self.stdout)
        for line in employment_report(employment):
            self.stdout.write(line)
        # Dashboard figures: a year of past periods (so trends show) and the running ones.
        from relocation.dashboards.demo import snapshot_demo_periods

        snapshot_demo_periods(stdout=self.stdout, rebuild=reset or result.created)
        self.stdout.write("")
        self.stdout.write("演示账号（仅供演示环境使用，请勿用于生产环境）：")
        rows = [("角色", "用户名", "密码", "姓名", "管辖范围")] + [
            (login.role, login.username, login.password, login.full_name, login.scope)
            for login in result.logins
        ]
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
            self.stdout.write(("  " + "  ".join(cells)).rstrip())


def _width(text):
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
