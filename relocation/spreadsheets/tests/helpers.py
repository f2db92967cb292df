"""Building spreadsheet files for the tests, and running them through the importer."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from communities.tests.factories import make_id_number
from relocation.spreadsheets import services
from relocation.spreadsheets.kinds import get_kind

ROSTER_HEADERS = [str(c.header) for c in get_kind("roster").columns]


def csv_bytes(headers, rows, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers] if isinstance(row, dict) else row)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(headers, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers] if isinstance(row, dict) else row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def person_row(
    number,
    settlement_code,
    *,
    relationship="户主",
    name="王秀英",
    birth=None,
    sex="F",
    seq=None,
    **extra,
):
    import datetime

    birth = birth or datetime.date(1980, 1, 1)
    row = {
        "户编号": number,
        "安置点编码": settlement_code,
        "楼栋": "1栋",
        "网格": "第1网格",
        "搬迁年度": "2018",
        "搬迁户类别": "建档立卡脱贫户",
        "入住状态": "已入住",
        "户籍状态": "户籍已迁入",
        "姓名": name,
        "身份证号": make_id_number(birth, sex, prefix="522301", seq=seq),
        "与户主关系": relationship,
        "民族": "布依族",
        "劳动技能": "普通劳动力",
    }
    row.update(extra)
    return row


def upload(user, kind, content, name="花名册.csv"):
    """Upload and check (inline); returns the job."""
    return services.job_create(user=user, kind_key=kind, upload=SimpleUploadedFile(name, content))


def import_file(user, kind, content, name="花名册.csv"):
    """Upload, check and (when clean) commit; returns the job."""
    job = upload(user, kind, content, name)
    if job.state == "ready" and (job.new_rows or job.updated_rows):
        job = services.job_confirm(job, user)
    return job


def instance_state(obj):
    """What tells two unsaved model instances apart: their attributes, cached related
    objects, ``adding`` and database (``engine.new_instance`` against the keyword form)."""
    return (
        {k: v for k, v in obj.__dict__.items() if k != "_state"},
        dict(obj._state.fields_cache),
        obj._state.adding,
        obj._state.db,
    )
