"""党组织, 党员, 帮扶干部, 结对帮扶, 走访记录 and 利益诉求 files: import, bad cells, scope, round trip."""

import datetime

import pytest

from communities.roles import Role
from communities.tests.dates import today
from communities.tests.factories import (
    GridUnitFactory,
    GridWorkerFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
    make_id_number,
)
from governance.models.organisation import (
    Cadre,
    Pairing,
    PartyMember,
    PartyOrganisation,
    Petition,
    PetitionCategory,
    PetitionTransition,
    Visit,
)
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload
from relocation.spreadsheets.workbooks import export_xlsx

pytestmark = pytest.mark.django_db


def headers(kind):
    return [str(c.header) for c in get_kind(kind).columns if not c.export_only]


@pytest.fixture
def world(region_tree, make_user):
    a = SettlementFactory(code="AZDA", name="甲安置点", county=region_tree.xingyi)
    b = SettlementFactory(code="AZDB", name="乙安置点", county=region_tree.xingren)
    h1 = HouseholdFactory(settlement=a, number="A0001")
    h2 = HouseholdFactory(settlement=b, number="B0001")
    person = PersonFactory(
        household=h1,
        name="王党员",
        id_number=make_id_number(datetime.date(1970, 1, 1), prefix="522301"),
    )
    GridWorkerFactory(grid=GridUnitFactory(settlement=a), name="赵网格")
    PetitionCategory.objects.create(name="物业管理", due_days=7)
    admin = make_user(role=Role.ADMINISTRATOR, is_superuser=True)
    county_admin = make_user(role=Role.ADMINISTRATOR, regions=[region_tree.xingyi])
    return locals()


def errors(job):
    return {(e[0], e[1]): e[2] for e in job.errors}


def test_party_tree_in_one_file_and_members(world):
    rows = [
        {
            "安置点编码": "AZDA",
            "党组织名称": "甲党支部",
            "层级": "党支部",
            "上级党组织": "甲党总支",
        },
        {
            "安置点编码": "AZDA",
            "党组织名称": "甲党总支",
            "层级": "党总支",
            "上级党组织": "甲党工委",
        },
        {"安置点编码": "AZDA", "党组织名称": "甲党工委", "层级": "街道党工委"},
    ]
    job = import_file(world["admin"], "party_org", csv_bytes(headers("party_org"), rows))
    assert job.state == "committed", job.errors
    branch = PartyOrganisation.objects.get(name="甲党支部")
    assert branch.parent.name == "甲党总支" and branch.parent.parent.name == "甲党工委"
    members = [
        {
            "党组织所在安置点编码": "AZDA",
            "所在党组织": "甲党支部",
            "身份证号": world["person"].id_number,
            "姓名": "王党员",
            "来源": "随搬迁转入",
        },
        {
            "党组织所在安置点编码": "AZDA",
            "所在党组织": "甲党支部",
            "姓名": "外来党员",
            "来源": "搬迁后发展",
        },
    ]
    job = import_file(world["admin"], "party_member", csv_bytes(headers("party_member"), members))
    assert job.state == "committed", job.errors
    assert PartyMember.objects.get(person=world["person"]).organisation == branch
    assert PartyMember.objects.filter(person__isnull=True, name="外来党员").count() == 1
    # Exports re-import unchanged.
    for kind in ("party_org", "party_member"):
        again = upload(world["admin"], kind, export_xlsx(get_kind(kind), world["admin"]), "x.xlsx")
        assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0), kind


def test_party_members_matched_to_people_as_every_kind_matches_them(world):
    """A member named by ID number: a wrong name, a number nobody can have and a person
    outside the importer's area each say so on the row, and nothing is saved."""
    rows = [{"安置点编码": "AZDA", "党组织名称": "甲党支部", "层级": "党支部"}]
    assert import_file(
        world["admin"], "party_org", csv_bytes(headers("party_org"), rows)
    ).state == ("committed")
    outsider = PersonFactory(
        household=world["h2"],
        name="乙群众",
        id_number=make_id_number(datetime.date(1980, 5, 5), prefix="522324"),
    )
    good = world["person"].id_number
    wrong_digit = good[:17] + ("0" if good[17] != "0" else "1")

    def member(id_number, name):
        return {
            "党组织所在安置点编码": "AZDA",
            "所在党组织": "甲党支部",
            "身份证号": id_number,
            "姓名": name,
            "来源": "随搬迁转入",
        }

    members = [
        member(good, "王党员改"),
        member(wrong_digit, "王党员"),
        member(outsider.id_number, "乙群众"),
    ]
    job = upload(world["county_admin"], "party_member", csv_bytes(headers("party_member"), members))
    assert errors(job) == {
        (2, "姓名"): "姓名与该身份证号登记的姓名不一致，请核对身份证号。",
        (3, "身份证号"): "身份证号有误（校验码不符），请对照身份证逐位核对后重新填写。",
        (4, "身份证号"): "该身份证号未在您管辖范围内登记为搬迁人员，请先导入花名册。",
    }
    assert not PartyMember.objects.exists()


def test_party_parent_of_a_lower_kind_is_refused(world):
    rows = [
        {"安置点编码": "AZDA", "党组织名称": "甲党支部", "层级": "党支部"},
        {
            "安置点编码": "AZDA",
            "党组织名称": "甲党总支",
            "层级": "党总支",
            "上级党组织": "甲党支部",
        },
    ]
    job = import_file(world["admin"], "party_org", csv_bytes(headers("party_org"), rows))
    assert "上级党组织的层级必须高于党总支" in errors(job)[(3, "上级党组织")]
    assert not PartyOrganisation.objects.exists()


def test_cadres_pairings_and_visits(world):
    cadre = {
        "帮扶安置点编码": "AZDA",
        "姓名": "李干部",
        "工作单位": "县住建局",
        "联系电话": "13800001234",
    }
    job = import_file(world["admin"], "cadre", csv_bytes(headers("cadre"), [cadre]))
    assert job.state == "committed", job.errors
    pairings = [
        {"户编号": "A0001", "帮扶干部": "李干部", "结对日期": "2025-01-01"},
        {"户编号": "B0001", "帮扶干部": "李干部", "结对日期": "2025-01-01"},  # another settlement
    ]
    job = import_file(world["admin"], "pairing", csv_bytes(headers("pairing"), pairings))
    assert "未在该安置点登记" in errors(job)[(3, "帮扶干部")]
    assert not Pairing.objects.exists()
    job = import_file(world["admin"], "pairing", csv_bytes(headers("pairing"), pairings[:1]))
    assert job.state == "committed", job.errors
    future = (today() + datetime.timedelta(days=1)).isoformat()
    visits = [
        {"户编号": "A0001", "走访日期": "2025-05-10", "走访方式": "入户", "帮扶干部": "李干部"},
        {
            "户编号": "A0001",
            "走访日期": "2025-06-10",
            "走访方式": "电话",
            "网格员": "赵网格",
            "提出的诉求": "想找工作",
            "跟进状态": "待跟进",
        },
        {"户编号": "A0001", "走访日期": future, "走访方式": "入户", "网格员": "赵网格"},
    ]
    job = import_file(world["admin"], "visit", csv_bytes(headers("visit"), visits))
    assert errors(job)[(4, "走访日期")] == "走访日期不能晚于今天。"
    assert not Visit.objects.exists()
    job = import_file(world["admin"], "visit", csv_bytes(headers("visit"), visits[:2]))
    assert job.state == "committed", job.errors
    assert Visit.objects.filter(follow_up_state="pending").count() == 1
    for kind in ("cadre", "pairing", "visit"):
        again = upload(world["admin"], kind, export_xlsx(get_kind(kind), world["admin"]), "x.xlsx")
        assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0), kind


def petition_row(**extra):
    row = {
        "安置点编码": "AZDA",
        "登记编号": "2025-001",
        "户编号": "A0001",
        "类别": "物业管理",
        "来源渠道": "窗口",
        "受理日期": "2025-05-10",
        "诉求内容": "电梯故障",
        "联系电话": "13912345678",
    }
    row.update(extra)
    return row


def test_petitions_with_states_logs_and_bad_input(world):
    bad = [
        petition_row(状态="已办结"),  # no resolution, no date
        petition_row(登记编号="2025-002", 状态="不予受理"),  # no reason
        petition_row(登记编号="2025-003", 户编号="B0001"),  # another settlement's household
        petition_row(登记编号="2025-004", 类别="不存在"),
    ]
    job = import_file(world["admin"], "petition", csv_bytes(headers("petition"), bad))
    found = errors(job)
    assert found[(2, "办理结果")] == "已办结的诉求须填写办理结果。"
    assert found[(2, "办结日期")] == "已办结的诉求须填写办结日期。"
    assert found[(3, "不予受理理由")] == "不予受理须填写理由。"
    assert "不在该安置点" in found[(4, "户编号")]
    assert "不存在" in found[(5, "类别")]
    assert not Petition.objects.exists()
    good = [
        petition_row(
            状态="已回访",
            办理结果="已维修",
            办结日期="2025-05-12",
            回访日期="2025-05-20",
            满意度="满意",
        ),
        petition_row(登记编号="2025-002"),
    ]
    job = import_file(world["admin"], "petition", csv_bytes(headers("petition"), good))
    assert job.state == "committed", job.errors
    done = Petition.objects.get(number="2025-001")
    assert (done.due_on, done.handling_days) == (datetime.date(2025, 5, 17), 2)
    steps = list(done.transitions.order_by("id").values_list("from_state", "to_state"))
    assert steps == [
        ("", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "followed_up"),
    ]
    # Moving forward by file is logged; moving back is refused.
    job = import_file(
        world["admin"],
        "petition",
        csv_bytes(headers("petition"), [petition_row(登记编号="2025-002", 状态="办理中")]),
    )
    assert job.state == "committed", job.errors
    opened = Petition.objects.get(number="2025-002")
    assert list(opened.transitions.values_list("to_state", flat=True).order_by("id")) == [
        "accepted",
        "in_progress",
    ]
    job = import_file(
        world["admin"],
        "petition",
        csv_bytes(headers("petition"), [petition_row(登记编号="2025-002", 状态="受理")]),
    )
    assert "只能按办理顺序向前推进" in errors(job)[(2, "状态")]
    assert Petition.objects.get(number="2025-002").state == "in_progress"
    assert PetitionTransition.objects.count() == 6
    again = upload(
        world["admin"], "petition", export_xlsx(get_kind("petition"), world["admin"]), "x.xlsx"
    )
    assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0)


def test_scope_of_imports_and_exports(world):
    Cadre.objects.create(name="乙干部", unit="兴仁市民政局", settlement=world["b"])
    Petition.objects.create(
        settlement=world["b"],
        group="乙住户",
        category=PetitionCategory.objects.get(),
        channel="phone",
        received_on=today(),
        summary="x",
        number="B-1",
    )
    user = world["county_admin"]
    rows = [{"帮扶安置点编码": "AZDB", "姓名": "越界干部", "工作单位": "某局"}]
    job = import_file(user, "cadre", csv_bytes(headers("cadre"), rows))
    assert "安置点编码“AZDB”不存在或不在您的管辖范围内" in errors(job)[(2, "帮扶安置点编码")]
    assert not Cadre.objects.filter(name="越界干部").exists()
    names = [c.name for c in get_kind("cadre").export_queryset(user)]
    assert "乙干部" not in names
    assert not get_kind("petition").export_queryset(user).filter(number="B-1").exists()


def test_exported_phone_is_masked_without_the_permission(world, make_user):
    Petition.objects.create(
        settlement=world["a"],
        household=world["h1"],
        category=PetitionCategory.objects.get(),
        channel="phone",
        received_on=today(),
        summary="x",
        number="A-1",
        phone="13912345678",
    )
    official = make_user(role=Role.COUNTY_OFFICIAL, regions=[world["region_tree"].xingyi])
    content = export_xlsx(get_kind("petition"), official)
    from io import BytesIO

    from openpyxl import load_workbook

    cells = [c.value for row in load_workbook(BytesIO(content)).active.iter_rows() for c in row]
    assert "13912345678" not in cells and "139****5678" in cells
