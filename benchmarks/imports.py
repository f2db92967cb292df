"""Benchmark: importing a prefecture's household roster (花名册).

Builds a 100,000-row roster (25,000 households of four, one row per person,
household columns repeated) for settlements in 黔西南州, as .xlsx and .csv, and
times the importer end to end: upload → check (dry run, the preview) → commit,
exactly the functions the pages call (``relocation.spreadsheets.services``),
and again through the pages themselves and the job worker (``pages-xlsx``,
``pages-csv``: upload, preview page, confirm, result page; ``db_worker --batch``
runs each queued job at once, in the same process).
Then, side by side on the same rows, a stock django-import-export
``ModelResource`` with default options (households, then people).

    createdb -h 127.0.0.1 -U postgres helper_import_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_import_bench
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py load_regions --province 52
    .venv/bin/python benchmarks/imports.py                 # 100k rows; stock on 10k rows
    BENCH_ROWS=20000 BENCH_STOCK_ROWS=4000 .venv/bin/python benchmarks/imports.py
    # an old binary .xls of 65,000 rows, written by LibreOffice (soffice) from the .xlsx:
    BENCH_SCENARIOS=cleanup,pages-xls,cleanup .venv/bin/python benchmarks/imports.py
    # some scenarios only, the files of an earlier run, a cProfile file per scenario:
    BENCH_SCENARIOS=cleanup,xlsx,cleanup,pages-xlsx,cleanup BENCH_REUSE_FILES=1 \
        BENCH_PROFILE=/tmp/imports .venv/bin/python benchmarks/imports.py

Each scenario runs in its own process so that "peak memory" is that scenario's
(``ru_maxrss``).  The benchmark deletes its own rows (household numbers
``BM…``) before and after, and refuses to run on a database holding any other
household (``benchmarks/guard.py``).
"""

import datetime
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.test_settings")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402

from communities.models import Building, GridUnit, Household, Person, Region, Settlement  # noqa: E402
from communities.validators import check_digit  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
import guard  # noqa: E402
import machine  # noqa: E402  (benchmarks/machine.py)

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
STOCK_ROWS = int(os.environ.get("BENCH_STOCK_ROWS", "10000"))
WORK = Path(os.environ.get("BENCH_DIR", "/tmp/import-bench"))
PREFIX = "BM"
SETTLEMENTS = 40
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗龙韦吴石杨潘陆岑"
GIVEN = "秀英国强明华丽娟建军志刚海燕春梅小红文杰玉兰德福金凤家豪雨涵"
ETHNIC = ["汉族", "布依族", "苗族", "彝族", "回族", "仡佬族"]
LABOUR = ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "无劳动力"]


def ensure_settlements():
    counties = list(Region.objects.filter(code__startswith="5223", level=3).order_by("code"))
    if not counties:
        sys.exit("Run `manage.py load_regions --province 52` first.")
    existing = {s.code: s for s in Settlement.objects.filter(code__startswith="BMS")}
    for i in range(SETTLEMENTS):
        code = f"BMS{i:03d}"
        if code not in existing:
            s = Settlement.objects.create(
                code=code, name=f"基准安置点{i}", county=counties[i % len(counties)]
            )
            Building.objects.bulk_create(
                [Building(settlement=s, name=f"{b}栋") for b in range(1, 31)]
            )
            GridUnit.objects.bulk_create(
                [GridUnit(settlement=s, name=f"第{g}网格") for g in range(1, 6)]
            )
    return [f"BMS{i:03d}" for i in range(SETTLEMENTS)]


def id_number(n):
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=(n * 37) % 25000)
    county = ("522301", "522302", "522323", "522324", "522325", "522326", "522327", "522328")
    first17 = f"{county[n // 500 % 8]}{born:%Y%m%d}{n % 500 * 2 + (n // 4000) % 2:03d}"
    return first17 + check_digit(first17)


def roster_rows(count, settlements):
    from relocation.spreadsheets.kinds import get_kind

    headers = [str(c.header) for c in get_kind("roster").columns]
    rng = random.Random(7)
    rows = []
    used = set()
    n = 0
    for h in range(count // 4):
        s = settlements[h % len(settlements)]
        household = [
            f"{PREFIX}{h:07d}",
            s,
            f"{1 + h % 30}栋",
            1 + h % 3,
            f"{1 + h % 18}0{1 + h % 4}",
            f"第{1 + h % 5}网格",
            "",
            "",
            "坡头村",
            2016 + h % 5,
            "",
            "建档立卡脱贫户",
            "2019-12-20",
            "已入住",
            "户籍已迁入",
            80,
            f"138{h:08d}",
        ]
        for m in range(4):
            while True:
                number = id_number(n)
                n += 1
                if number not in used:
                    used.add(number)
                    break
            relationship = ("户主", "配偶", "子", "女")[m]
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            rows.append(
                household
                + [
                    name,
                    number,
                    relationship,
                    rng.choice(ETHNIC),
                    "初中",
                    "健康",
                    "",
                    rng.choice(LABOUR),
                    "",
                    "",
                    "是",
                    "否",
                    "未享受",
                    "否",
                    "否",
                ]
            )
    return headers, rows


def write_files(headers, rows):
    import csv

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    WORK.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(headers)
    id_col = headers.index("身份证号")
    for row in rows:
        cell = WriteOnlyCell(sheet, value=row[id_col])
        cell.number_format = "@"
        sheet.append(row[:id_col] + [cell] + row[id_col + 1 :])
    workbook.save(WORK / "roster.xlsx")
    (WORK / "roster.xls").unlink(missing_ok=True)  # written again from this .xlsx when asked
    with open(WORK / "roster.csv", "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)


#: An old binary .xls holds 65,536 rows at most: its scenario imports this many.
XLS_ROWS = 65_000


def write_xls():
    """``roster.xls``: the first ``XLS_ROWS`` rows of ``roster.xlsx``, saved as Excel 97–2003
    by LibreOffice (as a county's office does), or None without LibreOffice."""
    import shutil
    import tempfile

    from python_calamine import CalamineWorkbook

    from relocation.spreadsheets.cells import Workbook

    target = WORK / "roster.xls"
    if target.exists():
        return target
    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    rows = CalamineWorkbook.from_path(WORK / "roster.xlsx").get_sheet_by_index(0).to_python()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    for row in rows[: XLS_ROWS + 1]:
        sheet.append(row)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "roster.xlsx"
        workbook.save(source)
        subprocess.run(
            [soffice, "--headless", "--convert-to", "xls:MS Excel 97", "--outdir", work, source],
            check=True,
            capture_output=True,
        )
        shutil.move(Path(work) / "roster.xls", target)
    return target


def cleanup():
    with connection.cursor() as cursor:
        for table, where in (
            (
                "communities_historicalperson",
                "household_id IN (SELECT id FROM communities_household WHERE number LIKE 'BM%%')",
            ),
            (
                "communities_person",
                "household_id IN (SELECT id FROM communities_household WHERE number LIKE 'BM%%')",
            ),
            ("communities_historicalhousehold", "number LIKE 'BM%%'"),
            ("communities_household", "number LIKE 'BM%%'"),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE {where}")


def admin_user():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="bench-importer", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def run_ours(path, label, limit=None):
    """Upload → check → commit through the services; seconds per phase."""
    from relocation.spreadsheets import services

    settings.SPREADSHEET_INLINE_MAX_BYTES = 10**10  # in this process, not via the worker
    settings.SPREADSHEET_MAX_ROWS = 10**6
    content = Path(path).read_bytes()
    user = admin_user()
    c0, d0 = time.process_time(), db_cpu_s()
    t0 = time.perf_counter()
    job = services.job_create(
        user=user, kind_key="roster", upload=SimpleUploadedFile(Path(path).name, content)
    )
    t1 = time.perf_counter()
    assert job.state == "ready", job.errors[:5]
    job = services.job_confirm(job, user)
    t2 = time.perf_counter()
    assert job.state == "committed", job.failure
    return {
        "scenario": label,
        "rows": job.total_rows,
        "check_s": round(t1 - t0, 2),
        "commit_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "python_cpu_s": round(time.process_time() - c0, 2),
        "db_cpu_s": round(db_cpu_s() - d0, 2) if d0 is not None else None,
        "rows_per_s": round(job.total_rows / (t2 - t0)),
        "new": job.new_rows,
        "peak_mb": peak_mb(),
    }


def run_pages(path, label):
    """The same through the pages and the job worker: upload, preview page, confirm, result page.

    The file is over ``SPREADSHEET_INLINE_MAX_BYTES``, so the check and the commit
    are queued; ``db_worker --batch`` (the worker's own code, in this process)
    runs each as soon as it is queued, so no polling delay is counted.
    """
    from django.test import Client
    from django.urls import reverse

    from relocation.spreadsheets.models import ImportJob
    from relocation.spreadsheets.workers import run_queued_jobs

    settings.SPREADSHEET_MAX_ROWS = 10**6
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    content = Path(path).read_bytes()
    user = admin_user()
    client = Client()
    client.force_login(user)

    def worker():
        run_queued_jobs()

    c0, d0 = time.process_time(), db_cpu_s()
    t0 = time.perf_counter()
    response = client.post(
        reverse("spreadsheets:upload"),
        {"kind": "roster", "file": SimpleUploadedFile(Path(path).name, content)},
    )
    assert response.status_code == 302, response.status_code
    job = ImportJob.objects.get(pk=response.url.rstrip("/").split("/")[-1])
    assert job.background, "the file is small enough to be checked inline"
    worker()
    assert client.get(response.url).status_code == 200
    t1 = time.perf_counter()
    job.refresh_from_db()
    assert job.state == "ready", (job.state, job.failure, job.errors[:5])
    client.post(reverse("spreadsheets:confirm", args=[job.pk]))
    worker()
    assert client.get(response.url).status_code == 200
    t2 = time.perf_counter()
    job.refresh_from_db()
    assert job.state == "committed", job.failure
    return {
        "scenario": label,
        "rows": job.total_rows,
        "check_s": round(t1 - t0, 2),
        "commit_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "python_cpu_s": round(time.process_time() - c0, 2),
        "db_cpu_s": round(db_cpu_s() - d0, 2) if d0 is not None else None,
        "rows_per_s": round(job.total_rows / (t2 - t0)),
        "new": job.new_rows,
        "peak_mb": peak_mb(),
    }


def run_recheck(path, label):
    """The same file again: everything unchanged (the round-trip check)."""
    from relocation.spreadsheets import services

    settings.SPREADSHEET_INLINE_MAX_BYTES = 10**10
    settings.SPREADSHEET_MAX_ROWS = 10**6
    content = Path(path).read_bytes()
    user = admin_user()
    c0, d0 = time.process_time(), db_cpu_s()
    t0 = time.perf_counter()
    job = services.job_create(
        user=user, kind_key="roster", upload=SimpleUploadedFile(Path(path).name, content)
    )
    elapsed = time.perf_counter() - t0
    assert job.unchanged_rows == job.total_rows, (job.new_rows, job.updated_rows, job.errors[:3])
    return {
        "scenario": label,
        "rows": job.total_rows,
        "check_s": round(elapsed, 2),
        "python_cpu_s": round(time.process_time() - c0, 2),
        "db_cpu_s": round(db_cpu_s() - d0, 2) if d0 is not None else None,
        "rows_per_s": round(job.total_rows / elapsed),
        "peak_mb": peak_mb(),
    }


def run_stock(limit):
    """django-import-export ModelResource, default options, on the first ``limit`` rows."""
    import tablib
    from import_export import resources

    from relocation.spreadsheets.kinds import get_kind
    from relocation.spreadsheets.reading import read_csv

    kind = get_kind("roster")
    sheet = read_csv((WORK / "roster.csv").read_bytes())
    sheet.rows = sheet.rows[:limit]
    index = {h: i for i, h in enumerate(sheet.headers)}
    codes = dict(Settlement.objects.filter(code__startswith="BMS").values_list("code", "pk"))

    def choice(key, text):
        return kind.column(key).parse_choice(text) if text else ""

    class HouseholdStock(resources.ModelResource):
        class Meta:
            model = Household

    class PersonStock(resources.ModelResource):
        class Meta:
            model = Person

    households = tablib.Dataset(
        headers=[
            "id",
            "number",
            "settlement",
            "relocation_year",
            "category",
            "occupancy_state",
            "hukou_state",
            "phone",
        ]
    )
    seen = set()
    for _n, cells in sheet.rows:
        number = cells[index["户编号"]]
        if number in seen:
            continue
        seen.add(number)
        households.append(
            [
                "",
                number,
                codes[cells[index["安置点编码"]]],
                cells[index["搬迁年度"]],
                "registered_poor",
                "moved_in",
                "moved_in",
                cells[index["户联系电话"]],
            ]
        )
    c0, d0 = time.process_time(), db_cpu_s()
    t0 = time.perf_counter()
    result = HouseholdStock().import_data(households, dry_run=False, raise_errors=True)
    t1 = time.perf_counter()
    assert not result.has_errors()
    pks = dict(Household.objects.filter(number__in=seen).values_list("number", "pk"))
    people = tablib.Dataset(
        headers=[
            "id",
            "household",
            "name",
            "id_number",
            "relationship",
            "ethnicity",
            "labour_ability",
        ]
    )
    for _n, cells in sheet.rows:
        people.append(
            [
                "",
                pks[cells[index["户编号"]]],
                cells[index["姓名"]],
                cells[index["身份证号"]],
                choice("relationship", cells[index["与户主关系"]]),
                choice("ethnicity", cells[index["民族"]]),
                choice("labour_ability", cells[index["劳动技能"]]),
            ]
        )
    t2 = time.perf_counter()
    result = PersonStock().import_data(people, dry_run=False, raise_errors=True)
    t3 = time.perf_counter()
    assert not result.has_errors()
    total = (t1 - t0) + (t3 - t2)
    return {
        "scenario": f"stock django-import-export, {limit} rows (commit only)",
        "rows": limit,
        "total_s": round(total, 2),
        "python_cpu_s": round(time.process_time() - c0, 2),
        "db_cpu_s": round(db_cpu_s() - d0, 2) if d0 is not None else None,
        "rows_per_s": round(limit / total),
        "peak_mb": peak_mb(),
    }


def db_cpu_s():
    """CPU seconds the PostgreSQL backend serving this process has used (Linux /proc).

    With other work on the machine, wall-clock time says little; Python CPU
    plus this is the work the import itself made.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


DEFAULT_SCENARIOS = (
    "cleanup",
    "xlsx",
    "recheck",
    "cleanup",
    "pages-xlsx",
    "cleanup",
    "csv",
    "cleanup",
    "pages-csv",
    "cleanup",
    "ours-small",
    "cleanup",
    "stock",
    "cleanup",
)


def child(scenario):
    """Run one scenario in a fresh process; return its JSON line."""
    out = subprocess.run(
        [sys.executable, __file__, scenario],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1:
        scenario = sys.argv[1]
        guard.require_own_data(PREFIX)  # each scenario's process checks again
        if os.environ.get("BENCH_PROFILE") and scenario != "cleanup":
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        if scenario == "xlsx":
            result = run_ours(WORK / "roster.xlsx", f"ours, .xlsx, {ROWS} rows: check + commit")
        elif scenario == "csv":
            result = run_ours(
                WORK / "roster.csv", f"ours, GB18030 .csv, {ROWS} rows: check + commit"
            )
        elif scenario == "pages-xlsx":
            result = run_pages(
                WORK / "roster.xlsx", f"ours via the pages and the worker, .xlsx, {ROWS} rows"
            )
        elif scenario == "pages-csv":
            result = run_pages(
                WORK / "roster.csv",
                f"ours via the pages and the worker, GB18030 .csv, {ROWS} rows",
            )
        elif scenario == "pages-xls":
            path = write_xls()
            if path is None:
                sys.exit(
                    "pages-xls needs LibreOffice (soffice) to write the .xls: apt-get install libreoffice-calc-nogui"
                )
            result = run_pages(
                path, f"ours via the pages and the worker, .xls (Excel 97–2003), {XLS_ROWS} rows"
            )
        elif scenario == "recheck":
            result = run_recheck(
                WORK / "roster.xlsx", f"ours, .xlsx, {ROWS} rows again: check, all unchanged"
            )
        elif scenario == "ours-small":
            small = WORK / "roster-small.csv"
            result = run_ours(small, f"ours, .csv, {STOCK_ROWS} rows: check + commit")
        elif scenario == "stock":
            result = run_stock(STOCK_ROWS)
        elif scenario == "cleanup":
            cleanup()
            result = {}
        if os.environ.get("BENCH_PROFILE") and scenario != "cleanup":
            profile.disable()
            profile.dump_stats(f"{os.environ['BENCH_PROFILE']}-{scenario}.prof")
        print(json.dumps(result, ensure_ascii=False))
        return
    guard.require_own_data(PREFIX)
    print(machine.describe())
    print(f"database: {connection.vendor}, rows: {ROWS}, stock rows: {STOCK_ROWS}")
    settlements = ensure_settlements()
    if os.environ.get("BENCH_REUSE_FILES") and (WORK / "roster-small.csv").exists():
        print(f"reusing the files in {WORK}")
    else:
        headers, rows = roster_rows(ROWS, settlements)
        write_files(headers, rows)
        import csv

        with open(WORK / "roster-small.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(rows[:STOCK_ROWS])
        del rows
    results = []
    scenarios = (
        os.environ.get("BENCH_SCENARIOS", "").split(",")
        if os.environ.get("BENCH_SCENARIOS")
        else DEFAULT_SCENARIOS
    )
    for scenario in scenarios:
        result = child(scenario)
        if result:
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    ours = next((r for r in results if r["scenario"].startswith(f"ours, .csv, {STOCK_ROWS}")), None)
    stock = next((r for r in results if r["scenario"].startswith("stock")), None)
    if ours and stock:
        print(
            f"speed-up over stock on the same {STOCK_ROWS} rows: "
            f"{stock['total_s'] / ours['total_s']:.1f}x (ours includes the dry run, stock does not)"
        )


if __name__ == "__main__":
    main()
