"""The household roster: round trip, encodings, all-or-nothing, Excel damage, duplicates."""

import datetime
import io

import pytest
from openpyxl import load_workbook

from communities import enums
from communities.models import Household, Person
from communities.tests.factories import make_id_number
from relocation.spreadsheets import services
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.models import ImportJob
from relocation.spreadsheets.workbooks import export_csv, export_xlsx

from .helpers import ROSTER_HEADERS, csv_bytes, import_file, person_row, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def household_rows(number, code, size=3, seq_base=0):
    rows = [person_row(number, code, name="户主甲", sex="M", seq=seq_base)]
    for i in range(1, size):
        rows.append(
            person_row(
                number,
                code,
                relationship="子" if i % 2 else "女",
                name=f"成员{i}",
                sex="M" if i % 2 else "F",
                seq=seq_base + i,
                birth=datetime.date(2005, 3, i),
            )
        )
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(world, fmt):
    hh = world.households["a"]
    hh.origin_village = '=HYPERLINK("http://x")'  # formula text survives the round trip
    hh.batch = "+第二批"
    hh.save()
    kind = get_kind("roster")
    content = export_xlsx(kind, world.admin) if fmt == "xlsx" else export_csv(kind, world.admin)
    before = Person.history.count()
    job = upload(world.admin, "roster", content, f"export.{fmt}")
    assert job.errors == []
    assert job.state == "ready"
    assert (job.new_rows, job.updated_rows) == (0, 0)
    assert job.unchanged_rows == Person.objects.count()  # the superuser sees every household
    assert Person.history.count() == before


def test_new_households_are_created_with_history(world):
    rows = household_rows("N001", world.a.code) + household_rows("N002", world.b.code, 2, 10)
    for row in rows[:3]:
        row["户联系电话"] = "13812345678"
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "县花名册.csv")
    assert job.state == "committed", job.errors or job.failure
    assert (job.new_rows, job.updated_rows, job.error_rows) == (5, 0, 0)
    assert job.changes["new"] == {"搬迁户": 2, "家庭成员": 5}
    h1 = Household.objects.get(number="N001")
    assert h1.settlement == world.a and h1.building.name == "1栋" and h1.phone == "13812345678"
    assert h1.members.count() == 3
    head = h1.members.get(relationship=enums.Relationship.HEAD)
    assert head.ethnicity == enums.Ethnicity.BUYI and head.sex == "M"
    record = head.history.get()
    assert record.history_change_reason == "导入：县花名册.csv"
    assert record.history_user == world.admin
    assert h1.history.get().history_change_reason == "导入：县花名册.csv"
    job.refresh_from_db()
    assert job.file_sha256 and job.committed_at and not hasattr(job, "upload_cached")
    assert not services.ImportUpload.objects.filter(job=job).exists()


def test_updates_by_natural_key(world):
    head = world.heads["a"]
    kind = get_kind("roster")
    content = (
        export_csv(kind, world.admin)
        .decode("utf-8-sig")
        .replace(head.name, "改名后")
        .encode("utf-8")
    )
    job = import_file(world.admin, "roster", content)
    assert job.state == "committed"
    assert job.updated_rows == 1 and job.new_rows == 0
    head.refresh_from_db()
    assert head.name == "改名后"
    assert head.history.first().history_change_reason == "导入：花名册.csv"


def test_gbk_csv_as_chinese_excel_saves_it(world):
    rows = household_rows("G001", world.a.code, 2)
    rows[0]["姓名"] = "龙秀兰"
    rows[1]["姓名"] = "韦国强"
    content = csv_bytes(ROSTER_HEADERS, rows, "gbk").replace(b"\n", b"\r\n")
    job = import_file(world.admin, "roster", content, "花名册(GBK).csv")
    assert job.state == "committed", job.errors
    assert job.encoding == "gb18030"
    assert set(Person.objects.filter(household__number="G001").values_list("name", flat=True)) == {
        "龙秀兰",
        "韦国强",
    }


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
def test_names_outside_gbk(world, encoding):
    rows = household_rows("R001", world.a.code, 2)
    rows[0]["姓名"] = "王䶮"
    rows[1]["姓名"] = "李𬌗"
    with pytest.raises(UnicodeEncodeError):
        "𬌗".encode("gbk")
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows, encoding))
    assert job.state == "committed", job.errors
    names = set(Person.objects.filter(household__number="R001").values_list("name", flat=True))
    assert names == {"王䶮", "李𬌗"}


def test_excel_unicode_text_with_blank_rows_imports(world):
    """Excel's "Unicode 文本" is UTF-16 with tabs; rows of nothing but spaces are skipped."""
    rows = household_rows("U001", world.a.code, 2)
    lines = ["\t".join(ROSTER_HEADERS)]
    for row in rows:
        lines.append("\t".join(row.get(h, "") for h in ROSTER_HEADERS))
        lines.append("\t".join([" ", "\u3000"] + [""] * (len(ROSTER_HEADERS) - 2)))
    content = "\r\n".join(lines).encode("utf-16")
    job = import_file(world.admin, "roster", content, "花名册.txt.csv")
    assert job.state == "committed", job.errors
    assert job.encoding == "utf-16"
    assert (job.total_rows, job.new_rows) == (2, 2)
    assert Person.objects.filter(household__number="U001").count() == 2


def test_blank_xlsx_rows_are_skipped_and_rows_keep_their_numbers(world):
    rows = household_rows("U002", world.a.code, 2)
    table = [[row.get(h) for h in ROSTER_HEADERS] for row in rows]
    table.insert(1, [None] * len(ROSTER_HEADERS))  # an empty row between the two people
    table[0][ROSTER_HEADERS.index("民族")] = "火星族"  # an error, to see its row number
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, table), "花名册.xlsx")
    assert job.state == "invalid"
    assert job.total_rows == 2
    assert [e[0] for e in job.errors] == [2]
    assert not Person.objects.filter(household__number="U002").exists()


def test_one_bad_row_in_ten_thousand_writes_nothing(world, settings):
    settings.SPREADSHEET_INLINE_MAX_BYTES = 10 * 2**20
    rows = []
    for h in range(2500):
        number = f"B{h:05d}"
        for m in range(4):
            rows.append(
                person_row(
                    number,
                    world.a.code,
                    relationship="户主" if m == 0 else "其他",
                    name=f"人{h}-{m}",
                    sex="M" if m % 2 else "F",
                    seq=(h * 4 + m) % 500,
                    birth=datetime.date(1960 + (h * 4 + m) // 500 % 40, 1 + m, 1 + h % 28),
                )
            )
    rows[7345]["搬迁年度"] = "2031"
    households, people = Household.objects.count(), Person.objects.count()
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "invalid"
    assert job.total_rows == 10_000
    assert job.error_rows >= 1
    # Row 7347 of the file (header is row 1); the household's other rows disagree with it.
    assert job.errors[0][:2] == [7347, "搬迁年度"] or any(
        e[:2] == [7347, "搬迁年度"] for e in job.errors
    )
    assert any("2020" in e[2] for e in job.errors if e[:2] == [7347, "搬迁年度"])
    with pytest.raises(services.PermissionDenied):
        services.job_confirm(job, world.admin)
    assert (Household.objects.count(), Person.objects.count()) == (households, people)


def test_excel_mangled_id_numbers_are_explained(world):
    good = household_rows("X001", world.a.code, 1)[0]
    numeric = dict(good, 身份证号=float(good["身份证号"][:17] + "1"))
    sci = person_row("X002", world.a.code, seq=5)
    sci["身份证号"] = "5.22301E+17"
    zeros = person_row("X003", world.a.code, seq=6)
    zeros["身份证号"] = zeros["身份证号"][:15] + "000"
    content = xlsx_bytes(ROSTER_HEADERS, [numeric, sci, zeros])
    job = upload(world.admin, "roster", content, "花名册.xlsx")
    assert job.state == "invalid"
    by_row = {e[0]: e[2] for e in job.errors if e[1] == "身份证号"}
    assert "存成了数字" in by_row[2] and "文本" in by_row[2]
    assert "科学计数法" in by_row[3]
    assert "末三位是000" in by_row[4]
    assert not Household.objects.filter(number__in=["X001", "X002", "X003"]).exists()


def test_duplicate_id_numbers_name_both_rows(world):
    rows = household_rows("D001", world.a.code, 2)
    rows.append(dict(rows[1], 户编号="D002", 与户主关系="户主"))
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    messages = {(e[0], e[2]) for e in job.errors if e[1] == "身份证号"}
    assert (3, "身份证号与第4行重复。") in messages
    assert (4, "身份证号与第3行重复。") in messages


def test_household_fields_must_agree_and_one_head(world):
    rows = household_rows("C001", world.a.code, 3)
    rows[2]["搬迁年度"] = "2019"
    rows[1]["与户主关系"] = "户主"
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert "第2行" in errors[(4, "搬迁年度")]
    assert "只能有一名户主" in errors[(2, "与户主关系")]
    assert "只能有一名户主" in errors[(3, "与户主关系")]


def test_out_of_scope_rows_are_errors_and_reveal_nothing(world, make_user):
    from communities.roles import Role

    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi])
    c_head = world.heads["c"]
    outside = person_row("S001", world.c.code, seq=20)
    stolen_id = person_row("S002", world.a.code, seq=21)
    stolen_id["身份证号"] = c_head.id_number
    stolen_hh = person_row(world.households["c"].number, world.a.code, seq=22)
    job = upload(manager, "roster", csv_bytes(ROSTER_HEADERS, [outside, stolen_id, stolen_hh]))
    assert job.state == "invalid"
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert "不在您的管辖范围" in errors[(2, "安置点编码")]
    assert "管辖范围以外" in errors[(3, "身份证号")]
    assert "管辖范围以外" in errors[(4, "户编号")]
    text = " ".join(e[2] for e in job.errors)
    # Nothing about the other household: not its settlement, head, or members.
    for secret in (
        c_head.name,
        world.c.name,
        *world.households["c"].members.values_list("name", flat=True),
    ):
        assert secret not in text
    c_head.refresh_from_db()
    assert c_head.household == world.households["c"]


def test_move_between_households_and_head_swap(world):
    hh = world.households["a"]
    kind = get_kind("roster")
    text = export_csv(kind, world.admin).decode("utf-8-sig").splitlines()
    header, lines = text[0], [line for line in text[1:] if hh.number in line]
    spouse = hh.members.get(relationship=enums.Relationship.SPOUSE)
    swapped = []
    for line in lines:
        if world.heads["a"].id_number in line:
            line = line.replace(",户主,", ",配偶,")
        elif spouse.id_number in line:
            line = line.replace(",配偶,", ",户主,")
        swapped.append(line)
    job = import_file(world.admin, "roster", "\n".join([header, *swapped]).encode())
    assert job.state == "committed", job.errors or job.failure
    spouse.refresh_from_db()
    assert spouse.relationship == enums.Relationship.HEAD
    assert hh.members.filter(relationship=enums.Relationship.HEAD).count() == 1


def test_commit_refuses_when_data_changed_after_preview(world):
    rows = household_rows("T001", world.a.code, 2)
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "ready"
    Household.objects.create(number="T001", settlement=world.b, relocation_year=2017)
    job = services.job_confirm(job, world.admin)
    assert job.state == "failed"
    assert "重新上传" in job.failure
    assert not Person.objects.filter(household__number="T001").exists()


def test_export_masks_without_permission_and_escapes_formulas(world):
    hh = world.households["a"]
    hh.origin_village = "@SUM(A1)"
    hh.save()
    kind = get_kind("roster")
    content = export_xlsx(kind, world.worker_nopii)
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    assert {r["户编号"] for r in rows} == {hh.number}  # scope: settlement A only
    assert all("*" in r["身份证号"] for r in rows)
    assert all(r["健康状况"] == "（已隐藏）" for r in rows)
    assert rows[0]["迁出村"] == "'@SUM(A1)"
    assert all(
        c.data_type == "s"
        for r in sheet.iter_rows(min_row=2)
        for c in r
        if isinstance(c.value, str)
    )
    csv_text = export_csv(kind, world.worker).decode("utf-8-sig")
    assert "'@SUM(A1)" in csv_text
    assert world.heads["a"].id_number in csv_text  # the worker may see full numbers


def test_job_log_records_counts(world):
    rows = household_rows("L001", world.a.code, 2)
    import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows), "log.csv")
    job = ImportJob.objects.get(file_name="log.csv")
    assert (job.user, job.kind, job.new_rows, job.state) == (world.admin, "roster", 2, "committed")
    assert len(job.file_sha256) == 64 and job.seconds is not None


def test_make_id_number_helper_is_valid():
    from communities.validators import validate_resident_id

    validate_resident_id(make_id_number(datetime.date(1980, 1, 1), "F", prefix="522301"))


def test_admin_export_resource_uses_the_import_layout(world):
    from communities.import_resources import RosterResource

    dataset = RosterResource(reveal_sensitive=True).export(
        queryset=Person.objects.filter(household__settlement=world.a)
    )
    assert dataset.headers == ROSTER_HEADERS
    content = dataset.export("csv").encode("utf-8")
    job = upload(world.admin, "roster", content, "admin-export.csv")
    assert job.errors == [] and job.unchanged_rows == 3 and job.new_rows == job.updated_rows == 0
    masked = RosterResource(reveal_sensitive=False).export(
        queryset=Person.objects.filter(household__settlement=world.a)
    )
    assert all("*" in row[ROSTER_HEADERS.index("身份证号")] for row in masked)


def test_update_bumps_updated_at_and_records_one_history_row(world):
    head = world.heads["a"]
    before_time, before_rows = head.updated_at, head.history.count()
    content = (
        export_csv(get_kind("roster"), world.admin)
        .decode("utf-8-sig")
        .replace(head.name, "新名字")
        .encode()
    )
    job = import_file(world.admin, "roster", content, "改名.csv")
    assert job.updated_rows == 1
    head.refresh_from_db()
    assert head.updated_at > before_time
    assert head.history.count() == before_rows + 1
    assert head.history.first().history_change_reason == "导入：改名.csv"


def test_a_cell_equal_to_the_one_above_is_checked_like_it(world):
    """Cells repeated down a household reuse the value above, never an error's absence."""
    rows = household_rows("R001", world.a.code, 3)
    rows[0]["搬迁年度"] = rows[1]["搬迁年度"] = "二〇一八"  # bad, twice in a row
    rows[2]["搬迁年度"] = "2018"
    rows[1]["身份证号"] = rows[2]["身份证号"] = rows[1]["身份证号"]  # the same number below
    job = upload(world.admin, "roster", xlsx_bytes(ROSTER_HEADERS, rows), "above.xlsx")
    errors = {(row, header) for row, header, _message in job.errors}
    assert {(2, "搬迁年度"), (3, "搬迁年度")} <= errors
    assert (4, "搬迁年度") not in errors
    assert {(3, "身份证号"), (4, "身份证号")} <= errors  # a duplicate, on both rows


def _registered(person, number, code, relationship):
    """A roster row that puts an already registered person into household ``number``."""
    return person_row(
        number, code, name=person.name, relationship=relationship, 身份证号=person.id_number
    )


def test_a_head_moved_out_may_not_leave_members_without_a_head(world):
    """户主A into a new household, the file silent on 户主A's own: the two members left
    would have no head (the admin's form refuses that); nothing is written."""
    hh, head = world.households["a"], world.heads["a"]
    rows = [_registered(head, "N001", world.a.code, "户主")]
    job = upload(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "invalid"
    ((row, header, message),) = job.errors
    assert (row, header) == (2, "户编号")
    assert f"户主A是户编号“{hh.number}”的户主，迁入本户后原户还有 2 名成员却没有户主" in message
    assert not Household.objects.filter(number="N001").exists()
    head.refresh_from_db()
    assert head.household == hh and head.relationship == enums.Relationship.HEAD


def test_a_member_split_off_as_a_new_household_is_shown_on_the_preview(client, world):
    """分户: the son heads a household of his own; the preview says one person moves."""
    hh = world.households["a"]
    son = hh.members.get(relationship=enums.Relationship.SON)
    job = upload(
        world.admin,
        "roster",
        csv_bytes(ROSTER_HEADERS, [_registered(son, "N002", world.a.code, "户主")]),
    )
    assert job.errors == [] and job.changes["moved"] == 1
    client.force_login(world.admin)
    page = client.get(f"/admin/imports/{job.pk}/").content.decode()
    assert "其中 1 名已登记的人员将从原来的户迁入文件所列的户" in page
    services.job_confirm(job, world.admin)
    son.refresh_from_db()
    assert son.household.number == "N002" and son.relationship == enums.Relationship.HEAD
    assert hh.members.count() == 2
    assert hh.members.filter(relationship=enums.Relationship.HEAD).count() == 1


def test_a_head_may_move_when_the_file_gives_the_old_household_a_new_one(world):
    hh, head = world.households["a"], world.heads["a"]
    spouse = hh.members.get(relationship=enums.Relationship.SPOUSE)
    son = hh.members.get(relationship=enums.Relationship.SON)
    rows = [
        _registered(spouse, hh.number, world.a.code, "户主"),
        _registered(son, hh.number, world.a.code, "子"),
        _registered(head, "N003", world.a.code, "户主"),
    ]
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "committed", job.errors
    assert job.changes["moved"] == 1
    assert hh.members.get(relationship=enums.Relationship.HEAD) == spouse
    head.refresh_from_db()
    assert head.household.number == "N003"


def test_a_household_every_member_leaves_may_stay_empty(world):
    """A corrected household number: all three move to N004, none is left headless."""
    hh = world.households["b"]
    rows = [
        _registered(person, "N004", world.b.code, person.get_relationship_display())
        for person in hh.members.order_by("pk")
    ]
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "committed", job.errors
    assert job.changes["moved"] == 3
    assert hh.members.count() == 0
    assert Household.objects.get(number="N004").members.count() == 3
