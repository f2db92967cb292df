"""防返贫监测对象 files: import (created as decided records, scope, bad cells named by row
and column, all or nothing), re-import updates, export round trip and masking-free columns."""

import pytest

from communities.roles import Role
from governance.models import (
    AssistanceRecord,
    LeadSource,
    MonitoringRecord,
    MonitoringRisk,
    RecordState,
)
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload
from relocation.spreadsheets.workbooks import export_csv, export_xlsx

from .monitoring_fixtures import gov_fixture, world  # noqa: F401

KIND = "monitoring_record"
HEADERS = [str(c.header) for c in get_kind(KIND).columns if not c.export_only]


def row(number, **extra):
    base = {
        "户编号": number,
        "监测对象类别": "边缘易致贫户",
        "识别纳入日期": "2025-03-18",
        "风险类型编码": "01、07",
        "帮扶措施": "健康帮扶、就业帮扶",
    }
    base.update(extra)
    return base


@pytest.fixture
def manager(gov, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[gov.regions.xingyi], username="mgr")


@pytest.mark.django_db
def test_import_creates_decided_records_and_round_trips(gov, manager):
    a, b = gov.households["a"].number, gov.households["b"].number
    rows = [
        row(a),
        row(b, 监测对象类别="突发严重困难户", 风险类型编码="201", 风险消除日期="2025-10-01"),
    ]
    job = import_file(manager, KIND, csv_bytes(HEADERS, rows))
    assert job.state == "committed", job.errors
    ra = MonitoringRecord.objects.get(household=gov.households["a"])
    assert (ra.state, ra.lead_source, str(ra.identified_on)) == (
        RecordState.MONITORED,
        LeadSource.IMPORTED,
        "2025-03-18",
    )
    assert sorted(ra.risks.values_list("code", flat=True)) == ["01", "07"]
    assert sorted(ra.measures.values_list("measure", flat=True)) == ["employment", "health"]
    rb = MonitoringRecord.objects.get(household=gov.households["b"])
    assert (rb.state, rb.risk_eliminated, str(rb.removed_on)) == (
        RecordState.REMOVED,
        True,
        "2025-10-01",
    )
    assert list(rb.risks.values_list("code", flat=True)) == ["0201"]  # the leading 0 restored
    assert ra.history.get().history_user == manager
    for export in (export_csv, export_xlsx):
        again = upload(
            manager,
            KIND,
            export(get_kind(KIND), manager),
            "x.csv" if export is export_csv else "x.xlsx",
        )
        assert again.errors == [] and (again.new_rows, again.updated_rows) == (0, 0)


@pytest.mark.django_db
def test_reimport_updates_and_replaces_lists(gov, manager):
    a = gov.households["a"].number
    import_file(manager, KIND, csv_bytes(HEADERS, [row(a)]))
    job = import_file(
        manager,
        KIND,
        csv_bytes(HEADERS, [row(a, 风险类型编码="04", 帮扶措施="", 风险消除日期="2025-12-01")]),
    )
    assert job.state == "committed", job.errors
    record = MonitoringRecord.objects.get()
    assert (record.state, list(record.risks.values_list("code", flat=True))) == (
        RecordState.REMOVED,
        ["04"],
    )
    assert not record.measures.exists()


@pytest.mark.django_db
def test_bad_cells_are_named_and_nothing_is_saved(gov, manager):
    a, b, c = (gov.households[k].number for k in "abc")
    rows = [
        row(a, 风险类型编码="01、88"),
        row(b, 帮扶措施="发钱"),
        row(c),  # 钟山区: outside the manager's county
        row("NOPE"),
        row(a, 识别纳入日期="2025-04-01", 风险类型编码=""),
        row(b, 识别纳入日期="2025-05-01", 风险消除日期="2025-01-01"),
        row(a, 识别纳入日期="2099-01-01"),
        row(a, 监测对象类别="困难户"),
    ]
    job = upload(manager, KIND, csv_bytes(HEADERS, rows))
    errors = {(e[0], e[1]): e[2] for e in job.errors}
    assert errors[(2, "风险类型编码")] == "“88”不是风险类型的国家编码。"
    assert errors[(3, "帮扶措施")] == "“发钱”不是帮扶措施的名称。"
    assert errors[(4, "户编号")] == f"户编号“{c}”不存在或不在您的管辖范围内。"
    assert errors[(5, "户编号")] == "户编号“NOPE”不存在或不在您的管辖范围内。"
    assert "风险类型编码" in {e[1] for e in job.errors if e[0] == 6}
    assert errors[(7, "风险消除日期")] == "风险消除日期不能早于识别纳入日期。"
    assert errors[(8, "识别纳入日期")] == "日期不能晚于今天。"
    assert (9, "监测对象类别") in errors
    assert job.state != "committed"
    assert not MonitoringRecord.objects.exists()
    assert not MonitoringRisk.objects.exists() and not AssistanceRecord.objects.exists()


@pytest.mark.django_db
def test_second_open_record_for_a_household_is_refused(gov, manager):
    a = gov.households["a"].number
    rows = [row(a), row(a, 识别纳入日期="2025-06-01")]
    job = upload(manager, KIND, csv_bytes(HEADERS, rows))
    assert [e[1:] for e in job.errors] == [["户编号", "该户在第2行已有未消除风险的记录。"]]
    assert not MonitoringRecord.objects.exists()


@pytest.mark.django_db
def test_export_is_scoped_and_needs_the_permission(gov, manager, make_user):
    rows = [row(gov.households[k].number) for k in "abc"]
    assert import_file(gov.admin, KIND, csv_bytes(HEADERS, rows)).state == "committed"
    text = export_csv(get_kind(KIND), manager).decode("utf-8-sig")
    assert gov.households["a"].number in text and gov.households["b"].number in text
    assert gov.households["c"].number not in text
    kind = get_kind(KIND)
    assert kind.may_export(manager) and kind.may_import(manager)
    assert not kind.may_import(gov.county) and kind.may_export(gov.county)
    assert not kind.may_import(gov.worker)
