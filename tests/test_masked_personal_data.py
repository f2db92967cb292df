"""Masked personal data everywhere a user without 「可以查看完整的身份证号和电话」 looks
(issue 9, items 2 and 3): every export layout of every admin in every format,
the import page's exports, lists, change pages, history and autocomplete never
carry a full ID number, phone, health value, disability grade or birth date.
"""

import csv
import datetime
import html
import io
import json
import re

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from communities import enums
from communities.models import Building, GridWorker, Household, Person, shift_years
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import PersonFactory, make_id_number
from communities.validators import mask_resident_id
from employment.models import Employer
from employment.tests.conftest import jobs  # noqa: F401
from governance import monitoring_workflow
from governance.models import (
    EarlyWarningAlert,
    EarlyWarningRule,
    LeadSource,
    MonitoringCategory,
    RiskType,
    RuleKind,
)
from governance.models.organisation import Petition, PetitionCategory
from relocation.spreadsheets.kinds import kinds

pytestmark = pytest.mark.django_db

HEALTH_LABELS = {str(label) for _value, label in enums.Health.choices}
GRADE_LABELS = {str(label) for _value, label in enums.DisabilityGrade.choices}


@pytest.fixture
def people(jobs, world):  # noqa: F811
    """Everyone in 兴义市 has health, phones and birth dates worth hiding."""
    PersonFactory(
        household=world.households["a"],
        relationship=enums.Relationship.SON,
        name="残疾成员",
        health=enums.Health.DISABLED,
        disability_grade=2,
        phone="13998765432",
        age=20,
    )
    PersonFactory(
        household=world.households["b"],
        relationship=enums.Relationship.DAUGHTER,
        name="大病成员",
        health=enums.Health.SERIOUS,
        age=30,
    )
    building = world.households["a"].building
    building.head_phone = "13712345678"
    building.save()
    GridWorker.objects.create(grid=world.households["a"].grid, name="网格员", phone="13612345678")
    # A monitored household and a petition with the petitioner's phone (their lists export).
    for key in ("a", "b"):
        monitoring_workflow.start_identification(
            world.households[key],
            user=world.admin,
            category=MonitoringCategory.EDGE,
            lead_source=LeadSource.SURVEY,
            taken_on=timezone.localdate(),
            risks=(RiskType.ILLNESS,),
        )
    # An alert about 大病成员's health: its member and detail are hidden in the alerts' export.
    rule = EarlyWarningRule.objects.create(
        kind=RuleKind.ILL_WITHOUT_INSURANCE, province=world.regions.guizhou, year=2026
    )
    ill = Person.objects.get(name="大病成员")
    EarlyWarningAlert.objects.create(
        rule=rule,
        kind=rule.kind,
        household=ill.household,
        person=ill,
        subject=str(ill.pk),
        detail="成员未参加医保",
        raised_on=timezone.localdate(),
    )
    Petition.objects.create(
        settlement=world.a,
        household=world.households["a"],
        category=PetitionCategory.objects.create(name="物业管理", due_days=7),
        channel="window",
        received_on=timezone.localdate(),
        summary="电梯坏了",
        phone="13512345678",
    )
    return world


def secrets_of(user):
    """Every value ``user`` must not see, from the records in their area."""
    people = Person.objects.visible_to(user)
    phones = set(people.exclude(phone="").values_list("phone", flat=True))
    phones |= set(Household.objects.visible_to(user).values_list("phone", flat=True))
    phones |= set(Building.objects.visible_to(user).values_list("head_phone", flat=True))
    phones |= set(GridWorker.objects.values_list("phone", flat=True))
    phones |= set(Employer.objects.values_list("contact_phone", flat=True))
    phones |= set(Petition.objects.visible_to(user).values_list("phone", flat=True))
    births = set(people.values_list("birth_date", flat=True))
    return {
        "ids": set(people.values_list("id_number", flat=True)),
        "phones": {p for p in phones if p},
        "births": births,
        "birth_texts": {d.isoformat() for d in births}
        | {f"{d.year}年{d.month}月{d.day}日" for d in births}
        | {f"{d.year}/{d.month}/{d.day}" for d in births},
    }


def leaks(cells, secrets):
    """The cells that give away a secret."""
    found = []
    for cell in cells:
        if isinstance(cell, datetime.datetime):
            cell = cell.date()
        if isinstance(cell, datetime.date):
            if cell in secrets["births"]:
                found.append(cell)
            continue
        text = str(cell).strip()
        if (
            any(v in text for v in secrets["ids"] | secrets["phones"] | secrets["birth_texts"])
            or text in HEALTH_LABELS
            or text in GRADE_LABELS
        ):
            found.append(text)
    return found


def cells_of(content, fmt):
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content))
        return [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    text = content.decode("utf-8-sig")
    if fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else ","
        return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]
    if fmt == "json":
        return [v for row in json.loads(text) for v in row.values()]
    if fmt == "html":
        return [html.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", text, re.S)]
    raise AssertionError(f"unknown export format {fmt}")


def exporting_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if hasattr(model_admin, "get_export_resource_classes")
    ]


@pytest.mark.parametrize("item", exporting_admins(), ids=lambda item: item[0]._meta.label)
def test_every_export_layout_in_every_format_is_masked(client, people, item):
    model, model_admin = item
    user = people.county  # may export, may not see personal data
    secrets = secrets_of(user)
    assert secrets["ids"] and secrets["phones"] and secrets["births"]
    client.force_login(user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
    resources = model_admin.get_export_resource_classes(None)
    formats = [f() for f in model_admin.get_export_formats()]
    for r, resource in enumerate(resources):
        for f, fmt in enumerate(formats):
            response = client.post(url, {"format": str(f), "resource": str(r)})
            assert response.status_code == 200, (resource, fmt.get_title())
            assert "attachment" in response["Content-Disposition"], (resource, fmt.get_title())
            cells = cells_of(response.content, fmt.get_title())
            assert len(cells) > 10, (resource, fmt.get_title())  # rows, not just headers
            assert leaks(cells, secrets) == [], (resource.__name__, fmt.get_title())
            if model is EarlyWarningAlert:  # who is ill, and what the alert says of it
                shown = {str(c) for c in cells}
                assert not shown & {"大病成员", "成员未参加医保"}, fmt.get_title()
                assert "（已隐藏）" in shown, fmt.get_title()


def test_the_person_export_hides_health_and_shows_birth_years(client, people):
    client.force_login(people.county)
    response = client.post(reverse("admin:communities_person_export"), {"format": "0"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sick = next(row for row in rows if row["姓名"] == "大病成员")
    person = Person.objects.get(name="大病成员")
    assert sick["健康状况"] == "（已隐藏）"
    assert sick["出生日期"] == f"{person.birth_date.year}年"
    # The worker has the permission: the same export in full.
    client.force_login(people.worker)
    response = client.post(reverse("admin:communities_person_export"), {"format": "0"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    head = next(row for row in rows if row["姓名"] == "户主A")
    assert head["出生日期"] == people.heads["a"].birth_date.isoformat()


def test_work_list_export_counts_ages_by_birth_year(client, people):
    """A day-exact age on a date of the user's choosing would find the birthday."""
    head = people.heads["a"]
    birthday = head.birth_date
    url = reverse("admin:communities_person_export")
    ages = {}
    for user in (people.county, people.worker):
        client.force_login(user)
        in_2025 = shift_years(birthday, 2025 - birthday.year)
        for on in (in_2025 - datetime.timedelta(days=1), in_2025):
            response = client.post(
                url + f"?employment=labour&on={on.isoformat()}", {"format": "0", "resource": "1"}
            )
            rows = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
            ages[user.username, on] = next(r["年龄"] for r in rows if r["姓名"] == "户主A")
    masked = {v for (name, _on), v in ages.items() if name == "county"}
    full = {v for (name, _on), v in ages.items() if name == "worker"}
    assert masked == {str(2025 - birthday.year)}
    assert len(full) == 2  # the worker sees the birthday pass


def test_import_page_exports_are_masked(client, people):
    user = people.county
    secrets = secrets_of(user)
    client.force_login(user)
    exported = 0
    for kind in kinds():
        for fmt in ("xlsx", "csv"):
            response = client.get(reverse("spreadsheets:export", args=[kind.key, fmt]))
            if response.status_code == 403:
                continue
            assert response.status_code == 200
            assert leaks(cells_of(response.content, fmt), secrets) == [], (kind.key, fmt)
            exported += 1
    assert exported


def _birth_forms(person):
    d = person.birth_date
    return [d.isoformat(), f"{d.year}年{d.month}月{d.day}日", d.strftime("%b. %d, %Y")]


def test_person_list_and_page_show_the_birth_year_only(client, people):
    head = people.heads["a"]
    client.force_login(people.county)
    body = client.get(reverse("admin:communities_person_changelist")).content.decode()
    assert not any(form in body for form in _birth_forms(head))
    page = client.get(reverse("admin:communities_person_change", args=[head.pk]))
    body = page.content.decode()
    assert "出生年份" in body and f"{head.birth_date.year}年" in body
    assert not any(form in body for form in _birth_forms(head))
    assert "出生日期" not in body
    # The age column counts from the birth year, the same every day of the year.
    cl = client.get(reverse("admin:communities_person_changelist"), {"q": "户主A"}).context["cl"]
    row_age = cl.model_admin.age_masked(cl.result_list[0])
    assert row_age == timezone.localdate().year - head.birth_date.year
    # With the permission: the date itself.
    client.force_login(people.worker)
    body = client.get(reverse("admin:communities_person_change", args=[head.pk])).content.decode()
    assert "出生日期" in body and "出生年份" not in body


def test_history_shows_birth_years_not_dates(client, people):
    head = people.heads["a"]
    old = Person.objects.get(pk=head.pk)
    new_birth = datetime.date(1979, 3, 14)
    head.id_number = make_id_number(new_birth, "M", prefix="522301")
    head.save()
    client.force_login(people.county)
    body = client.get(reverse("admin:communities_person_history", args=[head.pk])).content.decode()
    for person in (old, head):
        assert not any(form in body for form in _birth_forms(person))
        assert person.id_number not in body
    # The change is there, masked.
    assert mask_resident_id(head.id_number) in body


def test_autocomplete_gives_names_only(client, people):
    client.force_login(people.county)
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "employment",
            "model_name": "employmentrecord",
            "field_name": "person",
            "term": "户主",
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results
    assert leaks([r["text"] for r in results], secrets_of(people.county)) == []
