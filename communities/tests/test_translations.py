"""The English translation is complete: models, choices, the catalogue, the admin.

Chinese is the source language (msgids); ``locale/en`` must translate every
one of them.  These tests fail when a new string is added without running
``makemessages`` / translating / ``compilemessages``.
"""

import gettext
import inspect
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import translation
from simple_history.models import HistoricalChanges

from communities import enums, roles

CJK = re.compile(r"[\u4e00-\u9fff]")
DATA_APPS = ("communities", "employment", "services", "governance")
PO_PATH = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}")


def _models():
    return [m for app in DATA_APPS for m in apps.get_app_config(app).get_models()]


def _is_m2m_history(model):
    # simple_history's through-table history for M2M fields: internal, never shown.
    return any(f.name == "m2m_history_id" for f in model._meta.get_fields())


def _is_history(model):
    return issubclass(model, HistoricalChanges) and not _is_m2m_history(model)


def _model_texts(model):
    """(label, lazy text) for the model's names and every field's verbose name."""
    opts = model._meta
    texts = [
        (f"{model.__name__}.verbose_name", opts.verbose_name),
        (f"{model.__name__}.verbose_name_plural", opts.verbose_name_plural),
    ]
    for field in opts.get_fields(include_hidden=True):
        if hasattr(field, "verbose_name"):
            texts.append((f"{model.__name__}.{field.name}", field.verbose_name))
    return texts


def _chinese_model_texts(model):
    """The texts that must be Chinese: our own names, not Django/simple_history's."""
    opts = model._meta
    if _is_m2m_history(model):
        return []
    if _is_history(model):
        own = {f.name for f in model.instance_type._meta.concrete_fields if not f.primary_key}
    else:
        own = {f.name for f in opts.concrete_fields if not f.auto_created}
        own |= {f.name for f in opts.many_to_many}
    texts = [
        (f"{model.__name__}.verbose_name", opts.verbose_name),
        (f"{model.__name__}.verbose_name_plural", opts.verbose_name_plural),
    ]
    for field in opts.get_fields():
        if field.name in own and hasattr(field, "verbose_name"):
            texts.append((f"{model.__name__}.{field.name}", field.verbose_name))
    return texts


def _choice_classes():
    classes = []
    for module in (enums, roles):
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, models.Choices) and obj.__module__ == module.__name__:
                classes.append(obj)
    return classes


def _choice_texts():
    return [
        (f"{cls.__name__}.{member.name}", member.label)
        for cls in _choice_classes()
        for member in cls
    ]


def test_the_apps_and_enums_are_found():
    names = {m.__name__ for m in _models()}
    assert {"Household", "Person", "HistoricalPerson", "AreaScope"} <= names
    classes = {cls.__name__ for cls in _choice_classes()}
    assert {"Ethnicity", "Relationship", "Dibao", "RegionLevel", "Role"} <= classes
    assert len(enums.Ethnicity) == 56


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_model_and_field_names_are_translated_to_english(model):
    with translation.override("en"):
        untranslated = [(k, str(v)) for k, v in _model_texts(model) if CJK.search(str(v))]
    assert untranslated == []


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_model_and_field_names_are_chinese_by_default(model):
    with translation.override("zh-hans"):
        not_chinese = [
            (k, str(v)) for k, v in _chinese_model_texts(model) if not CJK.search(str(v))
        ]
    assert not_chinese == []


def test_choice_labels_are_translated_to_english():
    with translation.override("en"):
        untranslated = [(k, str(v)) for k, v in _choice_texts() if CJK.search(str(v))]
    assert untranslated == []


def test_choice_labels_are_chinese_by_default():
    with translation.override("zh-hans"):
        not_chinese = [(k, str(v)) for k, v in _choice_texts() if not CJK.search(str(v))]
    assert not_chinese == []


def test_app_names_are_translated():
    for app in DATA_APPS:
        name = apps.get_app_config(app).verbose_name
        with translation.override("en"):
            assert not CJK.search(str(name)), app
        with translation.override("zh-hans"):
            assert CJK.search(str(name)), app


def test_glossary_terms():
    with translation.override("en"):
        assert str(enums.Ethnicity.BUYI.label) == "Buyi (Bouyei)"
        assert str(enums.LabourAbility.WEAK.label) == "Weak or partial labour"
        assert str(roles.Role.ADMINISTRATOR.label) == "Administrator"
        assert str(enums.HukouState.RESIDENCE_PERMIT.label) == (
            "Hukou kept at origin, residence permit held"
        )


# --- the catalogue -----------------------------------------------------------


def _unquote(line):
    # A .po string literal; the escapes gettext writes are those of Python.
    return line[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def _po_entries(path):
    """[(flags, msgid, msgstr)] of a .po file, header included (msgid "")."""
    entries, flags, current, key, context = [], set(), None, None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if current is not None and key == "msgstr" and line.startswith(("#", "msgid ")):
            # The next entry starts without a blank line in between.
            entries.append((current["flags"], current["msgid"], current["msgstr"]))
            flags, current, key = set(), None, None
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("msgctxt "):
            context = _unquote(line[8:])
        elif line.startswith("msgid "):
            if context is not None:
                flags = flags | {f"msgctxt={context}"}
                context = None
            current = {"flags": flags, "msgid": "", "msgstr": ""}
            key = "msgid"
            current[key] = _unquote(line[6:])
        elif line.startswith("msgid_plural "):
            key = "msgid_plural"  # the singular stands for the entry
            current[key] = _unquote(line[13:])
        elif line.startswith("msgstr ") or line.startswith("msgstr[0] "):
            key = "msgstr"
            current[key] = _unquote(line.split(" ", 1)[1])
        elif line.startswith("msgstr["):
            key = "msgstr_other_forms"
            current[key] = _unquote(line.split(" ", 1)[1])
        elif line.startswith('"') and current is not None:
            current[key] += _unquote(line)
        elif not line and current is not None:
            entries.append((current["flags"], current["msgid"], current["msgstr"]))
            flags, current, key = set(), None, None
    return entries


def _catalogue():
    return [e for e in _po_entries(PO_PATH) if e[1]]


def test_po_file_is_complete_and_not_fuzzy():
    entries = _po_entries(PO_PATH)
    assert len(entries) > 250
    assert [msgid for flags, msgid, _s in entries if "fuzzy" in flags] == []
    assert [msgid for _f, msgid, msgstr in entries if msgid and not msgstr.strip()] == []
    header = entries[0]
    assert header[1] == "" and "Language: en" in header[2]


def test_po_translations_keep_their_placeholders():
    wrong = [
        (msgid, msgstr)
        for _f, msgid, msgstr in _catalogue()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    ]
    assert wrong == []


def test_po_translations_are_english():
    # The language switcher may name Chinese in Chinese; nothing else may.
    chinese = [
        (msgid, msgstr)
        for _f, msgid, msgstr in _catalogue()
        if CJK.search(msgstr) and msgid != "简体中文"
    ]
    assert chinese == []


def test_mo_file_is_compiled_from_the_po_file():
    with MO_PATH.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)

    def translated(flags, msgid):
        contexts = [f.split("=", 1)[1] for f in flags if f.startswith("msgctxt=")]
        return compiled.pgettext(contexts[0], msgid) if contexts else compiled.gettext(msgid)

    stale = [msgid for flags, msgid, msgstr in _catalogue() if translated(flags, msgid) != msgstr]
    assert stale == [], "run: manage.py compilemessages -l en"


# --- the admin ---------------------------------------------------------------


def _title(response):
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    return match.group(1) if match else ""


@pytest.mark.django_db
def test_admin_login_is_chinese_by_default(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "易地扶贫搬迁后续扶持社区管理系统" in html
    assert "搬迁社区管理" in _title(response)
    assert 'lang="zh-hans"' in html


@pytest.mark.django_db
def test_admin_login_in_english_by_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/login/")
    _assert_english_login(response)


@pytest.mark.django_db
def test_admin_login_in_english_by_accept_language(client):
    response = client.get("/admin/login/", headers={"accept-language": "en-US,en;q=0.9"})
    _assert_english_login(response)


def _assert_english_login(response):
    assert response.status_code == 200
    html = response.content.decode()
    assert "Relocation Community" in _title(response)
    assert "Relocation Community Follow-up Support System" in html
    assert 'lang="en"' in html
    assert CJK.findall(html) == []


def _without_language_switch(html):
    # The switcher names 简体中文 in Chinese on purpose.
    return re.sub(r"<select[^>]*language-select.*?</select>", "", html, flags=re.S)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:communities_household_add",
        "admin:communities_person_add",
        "admin:communities_settlement_add",
        "admin:communities_household_changelist",
        "admin:communities_person_changelist",
        "admin:auth_user_add",
    ],
)
def test_admin_pages_in_english_have_no_chinese(client, superuser, url_name):
    client.force_login(superuser)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = _without_language_switch(response.content.decode())
    assert "Relocation Community Follow-up Support System" in html
    leftovers = sorted({m.group(0) for m in re.finditer(r"[\u4e00-\u9fff]+", html)})
    assert leftovers == []


def test_words_with_two_meanings_are_translated_by_context():
    from communities.enums import Relationship, Sex
    from communities.models import Household

    with translation.override("en"):
        assert str(Relationship.DAUGHTER.label) == "Daughter"
        assert str(Sex.FEMALE.label) == "Female"
        assert str(Household._meta.verbose_name_plural) == "relocated households"
    with translation.override("zh-hans"):
        assert str(Relationship.DAUGHTER.label) == str(Sex.FEMALE.label) == "女"


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["zh-hans", "en"])
def test_the_language_switch_names_each_language_in_itself(client, superuser, accept):
    """「简体中文」 and 「English」 whichever language the page is in: not 「英语」 on the Chinese
    pages nor 「Simplified Chinese (简体中文)」 (a switch three times as wide) on the English."""
    client.force_login(superuser)
    html = client.get("/admin/", headers={"accept-language": accept}).content.decode()
    switch = re.search(r'<select[^>]*id="language-select".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]+)" lang="[^"]+"[^>]*>([^<]+)</option>', switch)
    assert options == [("zh-hans", "简体中文"), ("en", "English")]
    assert re.search(rf'<option value="{accept}" lang="{accept}" selected>', switch)
