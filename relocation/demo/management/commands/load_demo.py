"""``manage.py load_demo [--seed N] [--households N] [--settlements N] [--reset]
[--national] [--only STEP,…] [--no-history]``.

Runs the demo steps that apps declare in ``<app>/demo.py`` (see ``relocation.demo``).
"""

import os
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction

from relocation.demo import DemoContext, remove_all, select, steps
from relocation.demo.running import Runner, StepFailed, side_by_side
from relocation.rows import locks_waited_for_briefly

# The communities demo's defaults, repeated here so that this command imports no app.
DEFAULT_SEED = 20241


_TABLE_SIZES = """
    SELECT format('%I.%I', n.nspname, c.relname), pg_relation_size(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      AND NOT EXISTS (
          SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'relation' AND l.relation = c.oid AND l.mode = 'AccessExclusiveLock'
      )
"""


def table_sizes():
    """{table: bytes} of the database's own tables (PostgreSQL; {} elsewhere).

    Tables another session holds locked whole (a step running beside, loading
    them) are left out: their size would wait for that step's commit
    (``SIZE_LOCK_TIMEOUT``).
    """
    if connection.vendor != "postgresql":
        return {}
    for _attempt in range(SIZE_ATTEMPTS - 1):
        try:
            return _sizes()
        except OperationalError:  # a table was locked after the query looked: not next time
            continue
    return _sizes()


#: ``pg_relation_size`` waits for a table's lock: a step that starts beside another
#: may lock a table between the query's look at ``pg_locks`` and its size.  Once the
#: command's own process waited there until that step committed, a minute and a half
#: of a 500,000-household build, and started the next step that much later.  It waits
#: at most this long and looks again, at most this many times.
SIZE_LOCK_TIMEOUT = "200ms"
SIZE_ATTEMPTS = 10


def _sizes():
    """One look of ``table_sizes``."""
    with connection.cursor() as cursor, locks_waited_for_briefly(cursor, SIZE_LOCK_TIMEOUT):
        cursor.execute(_TABLE_SIZES)
        return dict(cursor.fetchall())


def analyze(sizes_before, skip_locked=False, since=None):
    """Give PostgreSQL's planner statistics of the rows a step just wrote.

    Without them the next step's queries (and the dashboard refresh) are planned
    as if the tables were empty, until autovacuum gets there, and a server may
    run with autovacuum off.  ANALYZE samples a fixed number of rows per table,
    yet at the 2-million-people demo reading those samples from every table took
    about a minute after each step: only the tables the step changed are
    analysed, those whose size differs from ``sizes_before`` (``table_sizes()``
    taken before the step: exact at once, whichever session wrote) and those the
    cumulative statistics count changes in since their last ANALYZE (a few rows
    written into free space).  The history tables are analysed at a coarser
    target (``HISTORY_STATISTICS_TARGET``).  Returns the tables analysed.

    ``since`` (the database's time when the step started): a table analysed since
    then at its present size, with no change counted after, is left as it is.  The
    employment step analyses its tables itself, for the figures it prints; and a
    step that ran beside another saw that one's tables grow, which were analysed
    when it ended (at 500,000 households both were done twice: 4 s of the database's
    time).  Its size is the one that ANALYZE recorded (``pg_class.relpages``).

    ``skip_locked``: steps run side by side; a table another step is loading (and
    holds locked) is left to that step's own ANALYZE when it ends.
    """
    if connection.vendor != "postgresql":
        return []
    sizes = table_sizes()
    changed = {table for table, size in sizes.items() if sizes_before.get(table) != size}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%%I.%%I', s.schemaname, s.relname), s.n_mod_since_analyze > 0, "
            "  c.relpages::bigint * current_setting('block_size')::bigint, "
            "  greatest(s.last_analyze, s.last_autoanalyze) >= %s "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid",
            [since],
        )
        for name, modified, analysed_size, analysed_since in cursor.fetchall():
            if modified:
                changed.add(name)
            elif analysed_since and sizes.get(name) == analysed_size:
                changed.discard(name)
    options = "(SKIP_LOCKED) " if skip_locked else ""
    history = history_tables()
    with connection.cursor() as cursor:
        if live := sorted(changed - history):
            cursor.execute(f"ANALYZE {options}{', '.join(live)}")
        if histories := sorted(changed & history):
            with transaction.atomic():  # the target holds for this ANALYZE only
                cursor.execute(
                    "SELECT set_config('default_statistics_target', %s, true)",
                    [str(HISTORY_STATISTICS_TARGET)],
                )
                cursor.execute(f"ANALYZE {options}{', '.join(histories)}")
    return sorted(changed)


def database_now():
    """The database server's clock (PostgreSQL; None elsewhere): ``analyze``'s ``since``."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


#: The statistics target of the history tables' ANALYZE (PostgreSQL's default: 100).
#: ANALYZE samples 300 rows per unit of target; the pages only look a history up by
#: its object's id or its time, which ten histogram buckets plan as well as a
#: hundred, and ANALYZE of a big table of the 100,000-household demo took 20-30 ms
#: instead of 200-550 ms.  The server's autovacuum analyses them again at its own
#: target once enough of their rows changed.
HISTORY_STATISTICS_TARGET = 10


def history_tables():
    """The tables of the history models (django-simple-history's, their links' included),
    named as ``table_sizes`` names them (PostgreSQL)."""
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in apps.get_models()
        if getattr(model, "instance_type", None) is not None
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [tables],
        )
        return {name for (name,) in cursor.fetchall()}


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
            default=None,
            help="搬迁户数（默认 5000 户，全国规模默认 2400000 户；约4倍人数）。",
        )
        parser.add_argument(
            "--settlements",
            type=int,
            default=None,
            help="安置点数（默认约每500户一个，至少6个；全国规模默认 35000 个）。",
        )
        parser.add_argument("--reset", action="store_true", help="先删除已有的演示数据再生成。")
        parser.add_argument(
            "--national",
            action="store_true",
            help=(
                "全国规模：22个省份的县区，每个省份单独提交；中断后再次运行同一命令，"
                "从未完成的省份继续。"
            ),
        )
        parser.add_argument(
            "--only",
            default="",
            help="只生成这些步骤（逗号分隔，如 communities,employment,dashboards；所依赖的步骤自动加入）。",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=max(1, min(4, os.cpu_count() or 1)),
            help=(
                "生成数据的进程数（默认为处理器核数，最多4个；1 表示只用本进程）；在 PostgreSQL 上"
                "以超级用户运行时，也是同时运行的演示步骤数。数据与进程数无关。"
            ),
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="数据看板只计算当期指标，不保存往期快照。",
        )

    def handle(
        self,
        *args,
        seed,
        households,
        settlements,
        reset,
        national,
        only,
        no_history,
        workers,
        **options,
    ):
        if workers < 1:
            raise CommandError("--workers 必须大于0。")
        if households is not None and households < 1:
            raise CommandError("--households 必须大于0。")
        if settlements is not None and (
            settlements < 1 or (households is not None and settlements > households)
        ):
            raise CommandError("--settlements 必须在1和户数之间。")
        keys = [key.strip() for key in only.split(",") if key.strip()]
        try:
            ordered = select(keys) if keys else steps()
        except KeyError as exc:
            known = "、".join(step.key for step in steps())
            raise CommandError(f"没有这个演示步骤：{exc.args[0]}（可选：{known}）。") from None
        size = f"{households} 户" if households else ("全国规模" if national else "5000 户")
        self.stdout.write(f"正在准备演示数据（随机种子 {seed}，{size}）……")
        context = DemoContext(
            seed=seed,
            households=households,
            settlements=settlements,
            reset=reset,
            national=national,
            history=not no_history,
            workers=workers,
            stdout=self.stdout,
            style=self.style,
        )
        if reset:
            started = time.monotonic()
            remove_all()
            context.reset_seconds = time.monotonic() - started
        # -v 2: each step's start and end, for the eye and for benchmarks/demo_build.py.
        verbose = options.get("verbosity", 1) >= 2
        together = side_by_side(workers)
        if verbose and together:
            self.stdout.write(f"（可并行的步骤同时运行，最多 {workers} 个）")
        before = {}

        def started(step):
            before[step.key] = (len(context.created), table_sizes(), database_now())
            if verbose:
                self.stdout.write(f"[步骤 {step.key}] 开始")

        def finished(step, lines, seconds):
            for line in lines:
                self.stdout.write(line)
            created, sizes, since = before.pop(step.key)
            analysed = time.monotonic()
            if len(context.created) > created:
                analyze(sizes, skip_locked=together, since=since)
            if verbose:
                statistics = time.monotonic() - analysed
                self.stdout.write(
                    f"[步骤 {step.key}] 结束：{seconds + statistics:.1f} 秒"
                    f"（其中更新统计信息 {statistics:.1f} 秒）"
                )

        try:
            Runner(ordered, context, workers if together else 1).run(started, finished)
        except StepFailed as exc:
            if not exc.lost:
                self.stderr.write(str(exc))
                raise CommandError(
                    f"演示步骤 {exc.key} 失败，它写入的数据已全部撤销（其他步骤照常完成）："
                    f"{str(exc).strip().splitlines()[-1]}"
                ) from None
            raise CommandError(
                f"演示步骤 {exc.key} 中断：一个生成数据的进程未完成任务就结束了"
                f"（可能被系统终止，如内存不足）。请用 --reset 和更少的 --workers 重新运行。"
            ) from None
        for line in context.closing:
            self.stdout.write(line)
