"""Every write path leaves change history for households and people.

``save()``/``delete()`` are recorded by django-simple-history's signals; the
bulk paths (``bulk_create``, ``bulk_update``, ``update``) by
``communities.history.HistoryRecordingQuerySet``.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from simple_history.models import HistoricalRecords

from communities.history_pii import tokenize
from communities.models import Household, Person
from communities.tests.factories import (
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
    household_with_members,
)

pytestmark = pytest.mark.django_db


@dataclass
class Kind:
    model: type
    build: object  # () -> unsaved instance

    def history_of(self, obj):
        return self.model.history.filter(id=obj.pk).order_by("history_id")


def _build_household():
    return HouseholdFactory.build(settlement=SettlementFactory(), phone="13800000000")


def _build_person():
    return PersonFactory.build(household=HouseholdFactory(), phone="13800000000")


@pytest.fixture(params=["household", "person"])
def kind(request):
    if request.param == "household":
        return Kind(Household, _build_household)
    return Kind(Person, _build_person)


@pytest.fixture
def request_user(make_user):
    """A user set as the current request's user, as HistoryRequestMiddleware does."""
    user = make_user()
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield user
    finally:
        del HistoricalRecords.context.request


class TestSaveAndDelete:
    def test_create_then_change(self, kind):
        obj = kind.build()
        obj.save()
        obj.phone = "13911112222"
        obj.save()
        created, changed = kind.history_of(obj)
        assert (created.history_type, changed.history_type) == ("+", "~")
        delta = changed.diff_against(created)
        assert delta.changed_fields == ["phone"]
        # Kept as mask and keyed hash (communities.history_pii), never in clear.
        assert (delta.changes[0].old, delta.changes[0].new) == (
            tokenize("phone", "13800000000"),
            tokenize("phone", "13911112222"),
        )

    def test_delete(self, kind):
        obj = kind.build()
        obj.save()
        pk = obj.pk
        obj.delete()
        assert not kind.model.objects.filter(pk=pk).exists()
        rows = kind.model.history.filter(id=pk).order_by("history_id")
        assert [r.history_type for r in rows] == ["+", "-"]
        assert rows[1].phone == tokenize("phone", "13800000000")

    def test_queryset_delete(self, kind):
        objs = [kind.build() for _ in range(3)]
        for obj in objs:
            obj.save()
        deleted_pks = [objs[0].pk, objs[1].pk]
        kind.model.objects.filter(pk__in=deleted_pks).delete()
        deletions = kind.model.history.filter(history_type="-")
        assert sorted(deletions.values_list("id", flat=True)) == sorted(deleted_pks)
        assert not kind.history_of(objs[2]).filter(history_type="-").exists()

    def test_household_delete_records_its_members(self):
        household = household_with_members(ages=[40, 38, 9])
        member_pks = set(household.members.values_list("pk", flat=True))
        Household.objects.filter(pk=household.pk).delete()
        assert not Person.objects.filter(pk__in=member_pks).exists()
        assert set(Person.history.filter(history_type="-").values_list("id", flat=True)) == (
            member_pks
        )
        assert Household.history.filter(id=household.pk, history_type="-").count() == 1


class TestBulkCreate:
    def test_one_row_per_object_with_user_and_reason(self, kind, make_user):
        clerk = make_user(username="clerk")
        objs = [kind.build() for _ in range(3)]
        created = kind.model.objects.bulk_create(
            objs, history_user=clerk, history_reason="花名册导入"
        )
        assert len(created) == 3
        rows = kind.model.history.order_by("id")
        assert [r.id for r in rows] == sorted(o.pk for o in created)
        assert {r.history_type for r in rows} == {"+"}
        assert {r.history_user_id for r in rows} == {clerk.pk}
        assert {r.history_change_reason for r in rows} == {"花名册导入"}
        assert {r.phone for r in rows} == {tokenize("phone", "13800000000")}

    def test_user_of_the_current_request(self, kind, request_user):
        kind.model.objects.bulk_create([kind.build()])
        assert kind.model.history.get().history_user == request_user

    def test_without_user(self, kind):
        [obj] = kind.model.objects.bulk_create([kind.build()])
        row = kind.model.history.get()
        assert (row.id, row.history_user, row.history_type) == (obj.pk, None, "+")

    def test_person_values_are_recorded(self):
        person = PersonFactory.build(household=HouseholdFactory(), name="杨光")
        Person.objects.bulk_create([person])
        row = Person.history.get(id=person.pk)
        assert (row.name, row.id_number, row.birth_date) == (
            "杨光",
            tokenize("id", person.id_number),
            person.birth_date,
        )

    def test_duplicate_id_number_leaves_neither_data_nor_history(self):
        existing = PersonFactory()
        household = HouseholdFactory()
        fresh = PersonFactory.build(household=household)
        clash = PersonFactory.build(household=household, id_number=existing.id_number)
        people_before, history_before = Person.objects.count(), Person.history.count()
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.bulk_create([fresh, clash], history_reason="导入")
        assert Person.objects.count() == people_before == 1
        assert Person.history.count() == history_before == 1
        assert not Person.objects.filter(id_number=fresh.id_number).exists()
        assert not Person.history.filter(id_number=fresh.id_number).exists()

    def test_duplicate_household_number_leaves_neither_data_nor_history(self):
        existing = HouseholdFactory()
        settlement = existing.settlement
        objs = [
            HouseholdFactory.build(settlement=settlement, number="HH-NEW-1"),
            HouseholdFactory.build(settlement=settlement, number=existing.number),
        ]
        with pytest.raises(IntegrityError), transaction.atomic():
            Household.objects.bulk_create(objs)
        assert list(Household.objects.values_list("number", flat=True)) == [existing.number]
        assert list(Household.history.values_list("id", flat=True)) == [existing.pk]


class TestBulkUpdate:
    def _two_of_three_updated(self, kind, **kwargs):
        objs = [kind.build() for _ in range(3)]
        for obj in objs:
            obj.save()
        objs[0].phone, objs[1].phone = "13911110000", "13911110001"
        kind.model.objects.bulk_update(objs[:2], ["phone"], **kwargs)
        return objs

    def test_records_new_value_user_and_reason(self, kind, make_user):
        clerk = make_user(username="clerk")
        objs = self._two_of_three_updated(kind, history_user=clerk, history_reason="批量更正电话")
        for obj, phone in ((objs[0], "13911110000"), (objs[1], "13911110001")):
            rows = list(kind.history_of(obj))
            created, changed = rows[0], rows[-1]
            assert (created.history_type, changed.history_type) == ("+", "~")
            assert changed.phone == tokenize("phone", phone)  # kept masked (history_pii)
            assert changed.history_user == clerk
            assert changed.history_change_reason == "批量更正电话"
            assert changed.diff_against(created).changed_fields == ["phone"]
            obj.refresh_from_db()
            assert obj.phone == phone
        assert kind.history_of(objs[2]).count() == 1

    def test_exactly_one_change_row_per_object(self, kind):
        objs = self._two_of_three_updated(kind, history_reason="批量更正电话")
        for obj in objs[:2]:
            assert [r.history_type for r in kind.history_of(obj)] == ["+", "~"]

    def test_user_of_the_current_request(self, kind, request_user):
        obj = kind.build()
        obj.save()
        obj.phone = "13911110000"
        kind.model.objects.bulk_update([obj], ["phone"])
        assert kind.history_of(obj).last().history_user == request_user


class TestUpdate:
    def test_one_change_row_per_affected_object(self, kind):
        objs = [kind.build() for _ in range(3)]
        for obj in objs:
            obj.save()
        affected = [objs[0].pk, objs[2].pk]
        count = kind.model.objects.filter(pk__in=affected).update(phone="0859-3221234")
        assert count == 2
        for pk in affected:
            rows = kind.model.history.filter(id=pk).order_by("history_id")
            assert [r.history_type for r in rows] == ["+", "~"]
            assert rows[1].phone == tokenize("phone", "0859-3221234")
            assert rows[1].diff_against(rows[0]).changed_fields == ["phone"]
        assert [r.history_type for r in kind.history_of(objs[1])] == ["+"]

    def test_filter_on_the_updated_field(self, kind):
        # The affected rows are found before the update changes what the filter matches.
        # Phones are encrypted (communities.crypto): only the blank value can be filtered on.
        objs = [kind.build() for _ in range(2)]
        for obj in objs:
            obj.phone = ""
            obj.save()
        count = kind.model.objects.filter(phone="").update(phone="13800000000")
        assert count == 2
        changed = kind.model.history.filter(history_type="~")
        assert sorted(changed.values_list("id", flat=True)) == sorted(o.pk for o in objs)
        assert set(changed.values_list("phone", flat=True)) == {tokenize("phone", "13800000000")}

    def test_nothing_matched(self, kind):
        obj = kind.build()
        obj.save()
        assert kind.model.objects.filter(pk=obj.pk + 1000).update(phone="") == 0
        assert kind.model.history.count() == 1

    def test_user_of_the_current_request(self, kind, request_user):
        obj = kind.build()
        obj.save()
        kind.model.objects.filter(pk=obj.pk).update(phone="13911110000")
        assert kind.history_of(obj).last().history_user == request_user


def test_deleting_a_user_keeps_the_history_they_wrote_without_naming_them(request_user):
    """The history's user column has no database constraint; Django's on_delete clears it."""
    household = HouseholdFactory(settlement=SettlementFactory(), phone="13800000000")
    household.notes = "改过"
    household.save()
    written = Household.history.filter(id=household.pk)
    assert written.count() == 2
    assert set(written.values_list("history_user_id", flat=True)) == {request_user.pk}
    del HistoricalRecords.context.request
    request_user.delete()
    HistoricalRecords.context.request = SimpleNamespace(user=None)
    assert written.count() == 2
    assert set(written.values_list("history_user_id", flat=True)) == {None}


def test_the_history_user_link_is_kept_by_django_not_by_a_constraint():
    """No check per history row at commit; deleting a user clears the link (SET_NULL)."""
    field = Household.history.model._meta.get_field("history_user")
    assert field.db_constraint is False
    assert field.remote_field.on_delete.__name__ == "SET_NULL"
