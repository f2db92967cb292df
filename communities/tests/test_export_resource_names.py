"""Every export a list offers is named for its users: the export page's 「导出内容」
choice and its field lists show ``get_display_name()``, which is the resource's
class name (``HouseholdResource``) unless the resource names itself."""

import datetime
import re
from urllib.parse import unquote

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

CJK = re.compile(r"[\u4e00-\u9fff]")


def exports(user):
    request = RequestFactory().get("/")
    request.user = user
    found = []
    for model, model_admin in admin.site._registry.items():
        if hasattr(model_admin, "get_export_resource_classes"):
            for resource in model_admin.get_export_resource_classes(request):
                found.append((model, resource))
    return found


@pytest.mark.django_db
def test_every_export_is_named_in_chinese_and_in_english(world):
    found = exports(world.admin)
    assert {model._meta.model_name for model, _ in found} >= {"household", "person"}
    names = {}
    for model, resource in found:
        with translation.override("zh-hans"):
            chinese = str(resource.get_display_name())
        with translation.override("en"):
            english = str(resource.get_display_name())
        label = f"{model._meta.model_name}: {resource.__name__}"
        assert chinese != resource.__name__ and CJK.search(chinese), label
        assert english != chinese and not CJK.search(english), label
        names.setdefault(model, []).append(chinese)
    for model, model_names in names.items():  # one list's exports tell apart
        assert len(set(model_names)) == len(model_names), (model, model_names)


@pytest.mark.django_db
def test_the_household_export_page_names_its_exports(client, world):
    client.force_login(world.county)
    response = client.get(reverse("admin:communities_household_export"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "搬迁户基本信息" in html
    assert "HouseholdResource" not in html
    # django-import-export's own labels, which its Chinese catalogue leaves English.
    assert "导出内容" in html and "Resource" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["admin:communities_household_export", "admin:employment_employmentrecord_export"]
)
def test_the_export_page_has_xlsx_chosen(client, world, url):
    """Offices open .xlsx: it is chosen, and the page's form posts it as it stands."""
    client.force_login(world.county)
    response = client.get(reverse(url))
    form = response.context["form"]
    chosen = dict(form.fields["format"].choices)[form["format"].value()]
    assert chosen == "xlsx"
    assert f'<option value="{form["format"].value()}" selected>xlsx</option>' in (
        response.content.decode()
    )


def disposition_name(response):
    """The file name of an attachment: a Chinese one in ``filename*=utf-8''…`` (RFC
    6266), an ASCII one quoted in ``filename="…"``."""
    value = response["Content-Disposition"]
    assert value.isascii(), value  # a header every browser reads
    encoded = re.fullmatch(r"attachment; filename\*=utf-8''(\S+)", value)
    if encoded:
        name = unquote(encoded[1])
        assert not name.isascii(), value
        return name
    plain = re.fullmatch(r'attachment; filename="([^"\\]+)"', value)
    assert plain, value
    return plain[1]


def local_stamps():
    """This minute and the next, as the file name writes them (the test may cross one)."""
    now = timezone.localtime()
    return {(now + datetime.timedelta(minutes=m)).strftime("%Y%m%d-%H%M") for m in (0, 1)}


@pytest.mark.django_db
def test_the_file_is_named_for_its_export_and_the_local_time(client, world):
    client.force_login(world.county)
    before = local_stamps()
    url = reverse("admin:communities_person_export")
    response = client.post(url, {"format": "1", "resource": "0"})  # xlsx
    name = disposition_name(response)
    assert re.fullmatch(r"家庭成员基本信息-\d{8}-\d{4}\.xlsx", name), name
    assert name[len("家庭成员基本信息-") : -len(".xlsx")] in before | local_stamps()
    # Another layout of the same list, another format: its own name.
    response = client.post(url, {"format": "0", "resource": "1"})  # csv
    assert disposition_name(response).startswith("家庭成员就业情况-")
    assert disposition_name(response).endswith(".csv")


@pytest.mark.django_db
def test_the_selected_rows_export_is_named_so_too(client, world):
    client.force_login(world.worker)
    url = reverse("admin:communities_household_export")
    response = client.post(url, {"format": "1", "export_items": [world.households["a"].pk]})
    assert disposition_name(response).startswith("搬迁户基本信息-")


@pytest.mark.django_db
def test_in_english_the_name_is_english_and_safe_for_windows(client, world):
    client.force_login(world.county)
    url = reverse("admin:employment_employmentrecord_export")
    response = client.post(url, {"format": "1", "resource": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    name = disposition_name(response)
    assert not CJK.search(name) and not re.search(r'[\\/:*?"<>|]', name), name
