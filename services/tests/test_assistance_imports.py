"""临时救助 files: matched by ID number + date + amount, bad rows, scope, masking, round trips."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from communities.roles import Role
from communities.tests.conftest import world  # noqa: F401
from communities.tests.dates import tomorrow
from communities.tests.factories import make_id_number
from communities.tests.test_entry_check_digit import MESSAGE as CHECK_DIGIT_MESSAGE
from communities.tests.test_entry_check_digit import wrong
from relocation.spreadsheets import services
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.reading import FileRejected
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload, xlsx_bytes
from relocation.spreadsheets.workbooks import export_csv, export_xlsx, template_workbook
from services.models import TemporaryAssistance

pytestmark = pytest.mark.django_db
KIND = "temporary_assistance"


ID_NUMBER = re.compile(r"\d{17}[\dX]")


def headers():
    return [str(c.header) for c in get_kind(KIND).columns if not c.export_only]


def errors_of(job):
    return {(e[0], e[1]): e[2] for e in job.errors}


def aid_row(person, day="2025-09-15", amount="2000", reason="突发疾病"):
    return {
        "身份证号": person.id_number,
        "姓名": person.name,
        "救助日期": day,
        "救助金额（元）": amount,
        "救助事由": reason,
    }


def stored():
    return sorted(
        TemporaryAssistance.objects.values_list("person_id", "granted_on", "amount", "reason")
    )


@pytest.fixture
def importer(world, make_user):  # noqa: F811
    """An administrator of 兴义市 (A and B), who may see personal data."""
    return make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])


def test_import_commits_with_history_and_the_same_file_changes_nothing(world, importer):  # noqa: F811
    head_a, head_b = world.heads["a"], world.heads["b"]
    rows = [
        aid_row(head_a),
        aid_row(head_a, "2025-11-02", "800.5", "子女就学"),
        aid_row(head_b, "2024-03-01", "1,500", ""),
    ]
    content = csv_bytes(headers(), rows)
    job = import_file(importer, KIND, content, "临时救助.csv")
    assert job.state == "committed", job.errors
    assert job.new_rows == 3
    assert stored() == sorted(
        [
            (head_a.pk, datetime.date(2025, 9, 15), Decimal("2000.00"), "突发疾病"),
            (head_a.pk, datetime.date(2025, 11, 2), Decimal("800.50"), "子女就学"),
            (head_b.pk, datetime.date(2024, 3, 1), Decimal("1500.00"), ""),
        ]
    )
    history = TemporaryAssistance.history.filter(person_id=head_a.pk)
    assert history.count() == 2
    assert {(h.history_user_id, h.history_change_reason) for h in history} == {
        (importer.pk, "导入：临时救助.csv")
    }
    # The same file again: every row matched, nothing written.
    again = upload(importer, KIND, content)
    assert again.errors == []
    assert (again.new_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 3)
    # A corrected reason updates that payment only, and says so in its history.
    rows[2]["救助事由"] = "生活困难"
    job = import_file(importer, KIND, csv_bytes(headers(), rows))
    assert (job.state, job.new_rows, job.updated_rows) == ("committed", 0, 1), job.errors
    payment = TemporaryAssistance.objects.get(person=head_b)
    assert payment.reason == "生活困难"
    assert payment.history.count() == 2
    assert TemporaryAssistance.objects.count() == 3
    # The export reads back as the same file: nothing new, nothing changed.
    exported = export_xlsx(get_kind(KIND), importer)
    back = upload(importer, KIND, exported, "x.xlsx")
    assert back.errors == [] and (back.new_rows, back.updated_rows, back.unchanged_rows) == (
        0,
        0,
        3,
    )


def test_bad_rows_name_row_and_column_and_save_nothing(world, importer):  # noqa: F811
    head_a, head_b, head_c = (world.heads[k] for k in "abc")
    TemporaryAssistance.objects.create(
        person=head_c, granted_on=datetime.date(2025, 1, 1), amount=Decimal("900")
    )
    unknown, _passing = wrong(head_b.id_number)
    rows = [
        aid_row(head_a),  # 2: fine
        aid_row(head_a, amount="-300"),  # 3: negative
        aid_row(head_a, amount="0"),  # 4: zero
        aid_row(head_a, amount="250000"),  # 5: absurd for one payment (元)
        aid_row(head_a, amount="abc"),  # 6: not a number
        aid_row(head_a, day=tomorrow().isoformat()),  # 7: in the future
        aid_row(head_c, "2025-01-01", "900"),  # 8: another county's person (and payment)
        {**aid_row(head_b), "身份证号": unknown},  # 9: wrong check digit
        aid_row(head_b, "2025-05-05", "600"),  # 10 and 11: the same payment twice
        aid_row(head_b, "2025-05-05", "600.00", "重复"),
        {**aid_row(head_b, "2025-06-01"), "姓名": "别人"},  # 12: name does not match
        aid_row(head_b, "2025-13-01"),  # 13: not a date
    ]
    job = upload(importer, KIND, csv_bytes(headers(), rows))
    errors = errors_of(job)
    assert errors[(3, "救助金额（元）")] == "救助金额必须大于0。"
    assert errors[(4, "救助金额（元）")] == "救助金额必须大于0。"
    assert errors[(5, "救助金额（元）")] == "单笔临时救助不能超过10万元，请核对金额（单位：元）。"
    assert errors[(6, "救助金额（元）")] == "“abc”不是数字。"
    assert errors[(7, "救助日期")] == "救助日期不能晚于今天。"
    assert errors[(8, "身份证号")] == "该身份证号未在您管辖范围内登记为搬迁人员，请先导入花名册。"
    assert errors[(9, "身份证号")] == CHECK_DIGIT_MESSAGE
    assert errors[(10, "救助日期")] == "身份证号、救助日期和救助金额与第11行重复。"
    assert errors[(11, "救助日期")] == "身份证号、救助日期和救助金额与第10行重复。"
    assert errors[(12, "姓名")] == "姓名与该身份证号登记的姓名不一致，请核对身份证号。"
    assert "不是有效日期" in errors[(13, "救助日期")]
    assert not any(number == 2 for number, _h, _m in job.errors)
    assert job.state == "invalid" and (job.error_rows, job.new_rows) == (11, 1)
    # All or nothing: the good row was not written, the other county's payment untouched.
    assert stored() == [(head_c.pk, datetime.date(2025, 1, 1), Decimal("900.00"), "")]
    with pytest.raises(PermissionDenied):  # a job with errors cannot be confirmed
        services.job_confirm(job, importer)
    assert TemporaryAssistance.objects.count() == 1


def test_a_person_outside_the_area_reads_like_one_never_registered(
    world,  # noqa: F811
    importer,
    make_user,
):
    """The message for another county's person is the one for a number nobody has."""
    head_c = world.heads["c"]
    outside = upload(importer, KIND, csv_bytes(headers(), [aid_row(head_c)]))
    nobody = aid_row(head_c)
    nobody["身份证号"] = make_id_number(datetime.date(1990, 1, 1), "F", prefix="522301", seq=99)
    missing = upload(importer, KIND, csv_bytes(headers(), [nobody]))
    assert errors_of(outside)[(2, "身份证号")] == errors_of(missing)[(2, "身份证号")]
    assert head_c.name not in str(outside.errors)
    assert not TemporaryAssistance.objects.exists()
    # An official may not import at all; the other county's administrator may.
    with pytest.raises(PermissionDenied):
        upload(world.other_county, KIND, csv_bytes(headers(), [aid_row(head_c)]))
    theirs = make_user(Role.ADMINISTRATOR, regions=[world.regions.zhongshan])
    job = import_file(theirs, KIND, csv_bytes(headers(), [aid_row(head_c)]))
    assert job.state == "committed", job.errors
    assert TemporaryAssistance.objects.get().person == head_c


def test_preview_and_export_mask_id_numbers(world, make_user):  # noqa: F811
    """A clerk without the personal-data permission: no ID number in the errors or the export."""
    head_a, head_b, head_c = (world.heads[k] for k in "abc")
    clerk = make_user(
        regions=[world.regions.xingyi],
        perms=["services.import_temporaryassistance", "services.export_temporaryassistance"],
    )
    TemporaryAssistance.objects.create(
        person=head_a, granted_on=datetime.date(2025, 2, 1), amount=Decimal("700")
    )
    TemporaryAssistance.objects.create(
        person=head_c, granted_on=datetime.date(2025, 2, 1), amount=Decimal("700")
    )
    rows = [
        aid_row(head_b),
        aid_row(head_b),
        aid_row(head_c),
        {**aid_row(head_a), "姓名": "别人"},
    ]
    job = upload(clerk, KIND, csv_bytes(headers(), rows))
    assert len(job.errors) == 4
    assert not ID_NUMBER.search(str(job.errors)), job.errors
    assert head_c.name not in str(job.errors)
    text = export_csv(get_kind(KIND), clerk).decode("utf-8-sig")
    assert head_a.id_number not in text
    assert head_a.id_number[:6] + "********" + head_a.id_number[-4:] in text
    assert head_c.name not in text  # another county
    # The administrator sees the numbers in full; an export of masked numbers cannot be
    # imported back (the mask is refused, not matched).
    full = export_csv(get_kind(KIND), world.admin).decode("utf-8-sig")
    assert head_a.id_number in full and head_c.id_number in full
    masked = upload(clerk, KIND, text.encode("utf-8-sig"))
    assert "已脱敏" in errors_of(masked)[(2, "身份证号")]


def test_double_entry_is_refused_in_the_admin_too(world):  # noqa: F811
    head = world.heads["a"]
    TemporaryAssistance.objects.create(
        person=head, granted_on=datetime.date(2025, 2, 1), amount=Decimal("700")
    )
    again = TemporaryAssistance(
        person=head, granted_on=datetime.date(2025, 2, 1), amount=Decimal("700.00")
    )
    with pytest.raises(ValidationError) as caught:
        again.clean()
    assert caught.value.message_dict == {
        "amount": ["该人员在同一天已登记过同样金额的临时救助，请勿重复登记。"]
    }
    TemporaryAssistance(
        person=head, granted_on=datetime.date(2025, 2, 1), amount=Decimal("701")
    ).clean()  # another amount: another payment


def test_file_types_and_encodings(world, importer):  # noqa: F811
    head_a = world.heads["a"]
    rows = [aid_row(head_a, reason="䶮家突发疾病")]
    with pytest.raises(FileRejected) as caught:
        services.job_create(
            user=importer,
            kind_key=KIND,
            upload=SimpleUploadedFile("临时救助.ods", csv_bytes(headers(), rows)),
        )
    assert "只能上传 .xlsx、.xls、.et 或 .csv 文件" in str(caught.value)
    # A text table exported under an .xls name is read as the CSV it is (checked only).
    named_xls = upload(importer, KIND, csv_bytes(headers(), rows), "临时救助.xls")
    assert (named_xls.file_format, named_xls.errors, named_xls.new_rows) == ("csv", [], 1)
    broken = upload(importer, KIND, b"PK\x03\x04 not really a workbook", "临时救助.xlsx")
    assert broken.state == "invalid" and "不是有效的 .xlsx 工作簿" in broken.errors[0][2]
    garbled = upload(importer, KIND, "身份证号,救助日期\n".encode() + b"\xff\xfe\xff\x00\xff\n")
    assert garbled.state == "invalid" and "无法识别文件的文字编码" in garbled.errors[0][2]
    assert not TemporaryAssistance.objects.exists()
    # What Chinese Excel saves (GB18030) and an .xlsx both import.
    job = import_file(importer, KIND, csv_bytes(headers(), rows, encoding="gb18030"))
    assert job.state == "committed" and job.encoding == "gb18030", job.errors
    assert TemporaryAssistance.objects.get().reason == "䶮家突发疾病"
    job = upload(importer, KIND, xlsx_bytes(headers(), rows), "临时救助.xlsx")
    assert job.errors == [] and job.unchanged_rows == 1


def test_template_imports_nothing_and_documents_the_key(world, importer):  # noqa: F811
    from io import BytesIO

    from openpyxl import load_workbook

    content = template_workbook(get_kind(KIND))
    book = load_workbook(BytesIO(content))
    text = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert any("身份证号 + 救助日期 + 救助金额" in str(v) for v in text)
    job = upload(importer, KIND, content, "模板.xlsx")
    assert job.errors == [] and job.changes.get("examples") == 1
    assert not TemporaryAssistance.objects.exists()
