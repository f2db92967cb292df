"""The read audit: every clear ID number, phone or health value shown is recorded."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from communities.models import Household, Person
from communities.read_audit import ReadAuditEntry
from communities.roles import Role

pytestmark = pytest.mark.django_db


def change(model, pk):
    return reverse(f"admin:communities_{model}_change", args=[pk])


def entries(**filters):
    return ReadAuditEntry.objects.filter(**filters)


def shown(**filters):
    """{(model name, object id, field)} of the audit rows matching ``filters``."""
    return {
        (e.content_type.model, e.object_id, e.field)
        for e in entries(**filters).select_related("content_type")
    }


def export(client, model, fmt_index="0", resource="0", **params):
    url = reverse(f"admin:communities_{model}_export")
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return client.post(url + query, {"format": fmt_index, "resource": resource})


# --- pages -----------------------------------------------------------------------


def test_person_change_form_records_each_clear_field(client, world):
    head = world.heads["a"]
    client.force_login(world.worker)
    before = timezone.now()
    response = client.get(change("person", head.pk))
    assert response.status_code == 200
    assert head.id_number in response.content.decode()  # shown in clear …
    assert shown() == {  # … and recorded: healthy is a health value too
        ("person", str(head.pk), "id_number"),
        ("person", str(head.pk), "phone"),
        ("person", str(head.pk), "health"),
    }
    row = entries(field="id_number").get()
    assert row.user_id == world.worker.pk and row.username == "worker"
    assert row.channel == "page" and row.export_format == ""
    assert row.path == change("person", head.pk)
    assert row.object_label == head.name and row.at >= before
    assert row.settlement_id == world.a.pk and row.region_code == "522301"
    assert row.content_type == ContentType.objects.get_for_model(Person)


def test_household_change_form_records_its_members(client, world):
    household = world.households["a"]
    client.force_login(world.worker)
    assert client.get(change("household", household.pk)).status_code == 200
    members = list(household.members.all())
    expected = {("household", str(household.pk), "phone")}
    for person in members:
        expected |= {("person", str(person.pk), "id_number"), ("person", str(person.pk), "health")}
        if person.phone:
            expected.add(("person", str(person.pk), "phone"))
    assert shown() == expected
    assert len(members) == 3


def test_building_change_form_records_the_head_phone(client, world):
    building = world.households["a"].building
    building.head_phone = "13512345678"
    building.save()
    client.force_login(world.worker)
    assert client.get(change("building", building.pk)).status_code == 200
    assert shown() == {("building", str(building.pk), "head_phone")}


def test_nothing_is_recorded_for_users_who_see_masked_values(client, world):
    head = world.heads["a"]
    for user in (world.worker_nopii, world.county):
        client.force_login(user)
        response = client.get(change("person", head.pk))
        assert response.status_code == 200
        assert head.id_number not in response.content.decode()
    client.force_login(world.county)
    assert client.get(reverse("admin:communities_person_changelist")).status_code == 200
    assert not ReadAuditEntry.objects.exists()


def test_a_failed_post_that_shows_the_form_again_is_recorded(client, world):
    head = world.heads["a"]
    client.force_login(world.worker)
    response = client.post(change("person", head.pk), {"name": ""})
    assert response.status_code == 200  # the form again, with its errors
    assert ("person", str(head.pk), "id_number") in shown()


def test_out_of_scope_record_answers_404_and_records_nothing(client, world):
    client.force_login(world.worker)
    assert client.get(change("person", world.heads["c"].pk)).status_code == 404
    assert not ReadAuditEntry.objects.exists()


def test_list_page_records_the_health_column(client, world):
    client.force_login(world.worker)
    response = client.get(reverse("admin:communities_person_changelist"))
    assert response.status_code == 200
    visible = Person.objects.visible_to(world.worker)
    assert shown(channel="list", field="health") == {
        ("person", str(p.pk), "health") for p in visible
    }
    assert len(visible) == 3


def test_history_page_records_the_health_values_its_changes_show(client, world):
    """A change of health is listed in clear on the person's history page to a worker who
    may see personal data, and recorded; to one who may not it is hidden, and nothing is
    recorded; a history whose changes show no audited value records nothing."""
    head = world.heads["a"]
    history = reverse("admin:communities_person_history", args=[head.pk])
    client.force_login(world.worker)
    assert client.get(history).status_code == 200
    assert not ReadAuditEntry.objects.exists()  # one version: no change is listed
    head.health = "serious"
    head.save()
    client.force_login(world.worker_nopii)
    assert "大病" not in client.get(history).content.decode()
    assert not ReadAuditEntry.objects.exists()
    client.force_login(world.worker)
    assert "大病" in client.get(history).content.decode()
    assert shown() == {("person", str(head.pk), "health")}
    row = entries().get()
    assert (row.channel, row.path, row.username) == ("page", history, "worker")
    assert row.settlement_id == world.a.pk


# --- exports ---------------------------------------------------------------------


def test_export_records_one_row_per_record_and_clear_field(client, world):
    client.force_login(world.worker)
    response = export(client, "person")
    assert response.status_code == 200
    visible = list(Person.objects.visible_to(world.worker))
    expected = set()
    for person in visible:
        for field in ("id_number", "phone", "health"):
            expected.add(("person", str(person.pk), field))
    assert shown(channel="export") == expected
    assert set(entries().values_list("export_format", flat=True)) == {"csv"}
    assert entries().count() == len(visible) * 3


def test_export_records_its_format(client, world):
    client.force_login(world.worker)
    formats = [str(f().get_title()) for f in admin_formats("household")]
    index = formats.index("xlsx")
    assert export(client, "household", fmt_index=str(index)).status_code == 200
    assert shown() == {("household", str(world.households["a"].pk), "phone")}
    assert entries().get().export_format == "xlsx"


def admin_formats(model_name):
    from django.contrib import admin

    model = {"household": Household, "person": Person}[model_name]
    return admin.site._registry[model].get_export_formats()


def test_roster_layout_export_records_person_and_household_fields(client, world):
    client.force_login(world.worker)
    # The person list's third layout: the import page's 花名册.
    assert export(client, "person", resource="2").status_code == 200
    household = world.households["a"]
    got = shown()
    assert ("household", str(household.pk), "phone") in got
    for person in household.members.all():
        assert ("person", str(person.pk), "id_number") in got
        assert ("person", str(person.pk), "health") in got
    assert {model for model, _pk, _f in got} == {"household", "person"}


def test_masked_export_records_nothing(client, world):
    client.force_login(world.worker_nopii)
    response = export(client, "person")
    assert response.status_code == 200
    assert world.heads["a"].id_number not in response.content.decode("utf-8-sig")
    assert not ReadAuditEntry.objects.exists()


def test_import_page_export_records_rows(client, world):
    client.force_login(world.worker)
    response = client.get(reverse("spreadsheets:export", args=["roster", "xlsx"]))
    assert response.status_code == 200
    b"".join(response) if response.streaming else response.content
    people = Person.objects.visible_to(world.worker)
    got = shown(channel="export", export_format="xlsx")
    assert {("person", str(p.pk), "id_number") for p in people} <= got
    assert ("household", str(world.households["a"].pk), "phone") in got


# --- append only -----------------------------------------------------------------


def make_entry(days_ago=0, **kw):
    ct = ContentType.objects.get_for_model(Person)
    values = {
        "username": "someone",
        "channel": "page",
        "content_type": ct,
        "object_id": "1",
        "object_label": "x",
        "field": "id_number",
        "at": timezone.now() - datetime.timedelta(days=days_ago),
    }
    values.update(kw)
    return ReadAuditEntry.objects.create(**values)


def test_rows_cannot_be_changed_or_deleted_in_code(world):
    entry = make_entry()
    entry.username = "other"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        ReadAuditEntry.objects.filter(pk=entry.pk).update(username="other")
    with pytest.raises(PermissionDenied):
        ReadAuditEntry.objects.all().delete()
    with pytest.raises(PermissionDenied):
        ReadAuditEntry.objects.bulk_update([entry], ["username"])
    assert ReadAuditEntry.objects.get().username == "someone"


def test_nobody_can_add_change_or_delete_through_the_admin(client, world):
    entry = make_entry()
    client.force_login(world.admin)
    assert client.get(reverse("admin:communities_readauditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:communities_readauditentry_add")).status_code == 403
    url = reverse("admin:communities_readauditentry_change", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"username": "other"}).status_code == 403
    delete = reverse("admin:communities_readauditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:communities_readauditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert ReadAuditEntry.objects.get().username == "someone"


def test_no_role_may_change_the_audit(world):
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__model="readauditentry").values_list(
            "codename", flat=True
        )
    )
    assert codenames == {"view_readauditentry"}


# --- who may read it ---------------------------------------------------------------


def test_administrators_see_the_audit_of_their_area_only(client, world, make_user):
    rt = world.regions
    manager = make_user(Role.ADMINISTRATOR, regions=[rt.xingyi], username="manager")
    other = make_user(Role.ADMINISTRATOR, regions=[rt.zhongshan], username="other_manager")
    client.force_login(world.worker)
    client.get(change("person", world.heads["a"].pk))  # settlement A, 兴义市
    client.force_login(world.admin)
    client.get(change("person", world.heads["c"].pk))  # settlement C, 钟山区
    a_rows = set(entries(object_id=str(world.heads["a"].pk)).values_list("pk", flat=True))
    c_rows = set(entries(object_id=str(world.heads["c"].pk)).values_list("pk", flat=True))
    assert a_rows and c_rows

    url = reverse("admin:communities_readauditentry_changelist")
    client.force_login(manager)
    listed = client.get(url)
    assert listed.status_code == 200
    assert {e.pk for e in listed.context["cl"].result_list} == a_rows
    assert (
        client.get(
            reverse("admin:communities_readauditentry_change", args=[min(c_rows)])
        ).status_code
        == 302  # Django's "does not exist" redirect: not in this admin's area
    )
    client.force_login(other)
    assert {e.pk for e in client.get(url).context["cl"].result_list} == c_rows
    client.force_login(world.admin)
    assert {e.pk for e in client.get(url).context["cl"].result_list} == a_rows | c_rows


def test_administrators_see_what_their_users_were_shown_elsewhere(world, make_user):
    rt = world.regions
    manager = make_user(Role.ADMINISTRATOR, regions=[rt.xingyi])
    # A worker of 兴义市 shown a record with no settlement (the orphan household).
    entry = make_entry(user=world.worker, object_id=str(world.orphan.pk))
    assert entry in ReadAuditEntry.objects.visible_to(manager)
    other = make_user(Role.ADMINISTRATOR, regions=[rt.zhongshan])
    assert entry not in ReadAuditEntry.objects.visible_to(other)


def test_officials_and_workers_cannot_open_the_audit(client, world):
    url = reverse("admin:communities_readauditentry_changelist")
    for user in (world.worker, world.county, world.prefecture):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_query_string_lookups_outside_the_filters_are_refused(client, world):
    make_entry()
    client.force_login(world.admin)
    url = reverse("admin:communities_readauditentry_changelist")
    assert client.get(url + "?channel__exact=page").status_code == 200
    # A refused lookup answers an empty list with a Chinese message, never the rows.
    for query in ("?object_label__startswith=x", "?username__startswith=s"):
        response = client.get(url + query)
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == []
        assert "不支持的筛选条件" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"at__year": "2026", "at__month": "12", "at__day": "0"},  # was a ValueError page
        {"at__year": "2026", "at__month": "2", "at__day": "30"},
        {"at__year": "9999"},  # no next year: Django's own bound failed
        {"at__year": "9999", "at__month": "12", "at__day": "31"},
        {"at__year": "inf"},
        {"at__month": "12"},
        {"at__year": "2026", "at__month": "12", "at__day": "99999999999999999999"},  # OverflowError
    ],
)
def test_date_drill_downs_that_name_no_day_are_refused(client, world, query):
    """The date hierarchy's values are checked like every filter: a day that does not
    exist answers the empty list and the message, never an error page or the rows."""
    make_entry()
    client.force_login(world.admin)
    url = reverse("admin:communities_readauditentry_changelist")
    response = client.get(url, query)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "不支持的筛选条件" in response.content.decode()


def test_date_drill_down_to_a_day_lists_that_day(client, world):
    entry = make_entry()
    make_entry(days_ago=40)
    client.force_login(world.admin)
    url = reverse("admin:communities_readauditentry_changelist")
    day = timezone.localtime(entry.at).date()
    response = client.get(url, {"at__year": day.year, "at__month": day.month, "at__day": day.day})
    assert list(response.context["cl"].result_list) == [entry]
    assert "不支持的筛选条件" not in response.content.decode()
    # Each level of the drill-down (the links the list shows) keeps its rows.
    response = client.get(url, {"at__year": day.year})
    assert entry in response.context["cl"].result_list
    assert "不支持的筛选条件" not in response.content.decode()


def test_date_bounds_given_in_the_query_string_are_still_refused(client, world):
    """The bounds the date hierarchy makes are allowed; the same lookups written in the
    query string are not this page's filters."""
    make_entry()
    client.force_login(world.admin)
    url = reverse("admin:communities_readauditentry_changelist")
    year = timezone.localdate().year
    for query in ({"at__lt": "2999-01-01"}, {"at__year": year, "at__gte": "2000-01-01"}):
        response = client.get(url, query)
        assert list(response.context["cl"].result_list) == []
        assert "不支持的筛选条件" in response.content.decode()


# --- retention ---------------------------------------------------------------------


def test_purge_refuses_less_than_183_days(world):
    make_entry(days_ago=400)
    with pytest.raises(CommandError, match="183"):
        call_command("purge_read_audit", "--older-than", "182")
    with pytest.raises(CommandError):
        call_command("purge_read_audit", "--older-than", "-5")
    assert ReadAuditEntry.objects.count() == 1


def test_purge_removes_only_older_rows(world, capsys):
    old = make_entry(days_ago=400)
    kept = [make_entry(days_ago=days) for days in (0, 100, 182, 184, 299)]
    call_command("purge_read_audit", "--older-than", "300")
    assert set(ReadAuditEntry.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert not ReadAuditEntry.objects.filter(pk=old.pk).exists()
    assert "1" in capsys.readouterr().out
    call_command("purge_read_audit", "--older-than", "183")
    assert set(ReadAuditEntry.objects.values_list("pk", flat=True)) == {
        kept[0].pk,
        kept[1].pk,
        kept[2].pk,
    }


def test_purge_never_goes_below_the_minimum_even_when_called_in_code(world):
    make_entry(days_ago=10)
    with pytest.raises(ValueError):
        ReadAuditEntry.objects.purge_older_than(30)
    assert ReadAuditEntry.objects.count() == 1


def test_deleting_a_user_keeps_their_audit_rows(world):
    entry = make_entry(user=world.worker, username="worker")
    world.worker.delete()
    kept = ReadAuditEntry.objects.get(pk=entry.pk)
    assert (kept.user_id, kept.username) == (entry.user_id, "worker")
