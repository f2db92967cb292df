"""The change history keeps no clear ID number or phone, on every write path."""

import datetime

import pytest
from django.apps import apps
from django.db import connection, models
from django.urls import reverse

from communities import enums
from communities.history_pii import (
    HistoryTokenField,
    is_token,
    keyed_hash,
    shown,
    tokenize,
    tokenize_existing,
    tokenizing_writer,
)
from communities.models import Building, GridWorker, Household, Person
from communities.tests.factories import HouseholdFactory, PersonFactory, make_id_number
from communities.tests.test_admin_scope import fix_check_digit, household_post

pytestmark = pytest.mark.django_db

BORN = datetime.date(1990, 3, 1)


def history_models():
    return [m for m in apps.get_models() if m.__name__.startswith("Historical")]


def live_values():
    """Every ID number and phone held in the live tables."""
    values = set(Person.objects.values_list("id_number", flat=True))
    values |= set(Person.objects.values_list("phone", flat=True))
    values |= set(Household.objects.values_list("phone", flat=True))
    values |= set(Building.objects.values_list("head_phone", flat=True))
    values |= set(GridWorker.objects.values_list("phone", flat=True))
    employer = apps.get_model("employment", "Employer")
    values |= set(employer.objects.values_list("contact_phone", flat=True))
    return {v for v in values if v}


def clear_copies(values):
    """(table, cell) of every text cell of every history table holding one of ``values``."""
    values = {v for v in values if v}
    assert values, "nothing to look for"
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in history_models():
            columns = [
                f.column
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField)
            ]
            table = model._meta.db_table
            if not columns:
                continue
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")
            for row in cursor.fetchall():
                for cell in row:
                    if cell and any(value in cell for value in values):
                        found.append((table, cell))
    return found


def person_history_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM communities_historicalperson")
        return cursor.fetchall()


# --- the token ---------------------------------------------------------------------


def test_token_is_the_mask_and_a_keyed_hash():
    token = tokenize("id", "52230119800101001X")
    assert token.startswith("522301********001X #") and len(token) == 20 + 16
    assert is_token(token) and shown(token) == "522301********001X"
    assert tokenize("id", token) == token  # idempotent
    assert tokenize("phone", "13812345678").startswith("138****5678 #")
    assert tokenize("phone", "") == "" and tokenize("id", None) is None
    # Same value, same token; different values with the same mask differ.
    assert tokenize("id", "52230119800101001X") == token
    assert tokenize("id", "52230119800102001X") != token
    assert shown(tokenize("id", "52230119800102001X")) == shown(token)


def test_the_hash_depends_on_the_key(settings):
    import base64
    import hashlib
    import hmac

    key_one, key_two = (base64.urlsafe_b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    settings.PII_HASH_KEY = key_one
    first = keyed_hash("13812345678")
    settings.PII_HASH_KEY = key_two
    second = keyed_hash("13812345678")
    settings.PII_HASH_KEY = ""
    derived = keyed_hash("13812345678")
    assert len({first, second, derived}) == 3
    assert first != hashlib.sha256(b"13812345678").hexdigest()
    settings.PII_HASH_KEY = key_one
    expected = hmac.new(bytes([1]) * 32, b"13812345678", hashlib.sha256).hexdigest()
    assert first == expected
    # The history token carries the same keyed hash as the live search column.
    assert tokenize("phone", "13812345678").endswith(expected[:16])


def test_history_columns_are_token_fields():
    expected = {
        ("historicalperson", "id_number"),
        ("historicalperson", "phone"),
        ("historicalhousehold", "phone"),
        ("historicalbuilding", "head_phone"),
        ("historicalemployer", "contact_phone"),
        ("historicalcadre", "phone"),
        ("historicalpetition", "phone"),
        ("historicalstairleader", "phone"),
    }
    got = {
        (m._meta.model_name, f.name)
        for m in history_models()
        for f in m._meta.concrete_fields
        if isinstance(f, HistoryTokenField)
    }
    assert got == expected


# --- every write path ------------------------------------------------------------------


def test_single_saves_and_deletes(world):
    head = world.heads["a"]
    old_id, old_phone = head.id_number, head.phone
    head.id_number = fix_check_digit("52230119790505003")
    head.phone = "13912345678"
    head.save()
    world.households["a"].phone = "13512345670"
    world.households["a"].save()
    gone = world.heads["b"]
    gone_values = {gone.id_number, gone.phone}
    gone.delete()
    values = live_values() | {old_id, old_phone} | gone_values
    assert clear_copies(values) == []
    rows = person_history_rows()
    assert rows and all(is_token(i) for i, _p in rows)


def test_bulk_paths(world):
    household = world.households["a"]
    created = Person.objects.bulk_create(
        [
            Person(
                household=household,
                name="批量",
                id_number=make_id_number(BORN, prefix="522301", seq=401),
                relationship=enums.Relationship.DAUGHTER,
                phone="13700001111",
            )
        ]
    )
    person = created[0]
    old_id = person.id_number
    person.id_number = make_id_number(BORN, prefix="522301", seq=402)
    person.phone = "13700002222"
    Person.objects.bulk_update([person], ["id_number", "phone"])
    Person.objects.filter(pk=person.pk).update(
        id_number=make_id_number(BORN, prefix="522301", seq=403), phone="13700003333"
    )
    Household.objects.filter(pk=household.pk).update(phone="13600004444")
    Building.objects.filter(settlement=world.a).update(head_phone="13600005555")
    removed = set(
        Person.objects.filter(household=world.households["c"]).values_list("id_number", flat=True)
    )
    Person.objects.filter(household=world.households["c"]).delete()
    values = live_values() | {old_id, "13700001111", "13700002222"} | removed
    values |= {make_id_number(BORN, prefix="522301", seq=402)}
    assert clear_copies(values) == []
    assert Person.history.filter(id=person.pk).count() == 3


def test_admin_saves(client, world):
    client.force_login(world.worker)
    id_head = fix_check_digit("52230119800101001")
    data = household_post(
        world.a, phone="13812340000", **{"members-0-id_number": id_head, "members-0-phone": ""}
    )
    response = client.post(reverse("admin:communities_household_add"), data)
    assert response.status_code == 302
    person = Person.objects.get(id_number=id_head)
    assert Person.history.filter(id=person.pk).exists()
    assert clear_copies(live_values() | {id_head, "13812340000"}) == []


def test_copy_writer_tokenizes_history_columns_only():
    history = Person.history.model
    fields = [f for f in history._meta.concrete_fields if f.attname in ("name", "id_number")]
    written = []
    write = tokenizing_writer(written.append, fields)
    row = {"name": "王秀英", "id_number": "52230119800101001X"}
    write([row[f.attname] for f in fields])
    assert dict(zip([f.attname for f in fields], written[0], strict=True)) == {
        "name": "王秀英",
        "id_number": tokenize("id", "52230119800101001X"),
    }
    live = [f for f in Person._meta.concrete_fields if f.attname == "id_number"]
    plain = []
    assert tokenizing_writer(plain.append, live) == plain.append  # live tables untouched


def test_history_tokens_reuse_the_live_rows_hashes_and_equal_fresh_ones():
    from communities.crypto import pii_hash, seal_writer

    id_number = "52230119800101001X"
    live = [f for f in Person._meta.concrete_fields if f.attname in ("id_number", "id_number_hash")]
    hashes, sealed = {}, []
    seal_writer(sealed.append, live, hashes)([id_number, ""])
    assert hashes == {id_number: pii_hash(id_number)}
    assert sealed[0][[f.attname for f in live].index("id_number_hash")] == pii_hash(id_number)
    history = Person.history.model
    fields = [f for f in history._meta.concrete_fields if f.attname == "id_number"]
    written = []
    tokenizing_writer(written.append, fields, hashes)([id_number])
    assert written == [[tokenize("id", id_number)]]
    # The digest is taken from what the live rows computed, not computed again.
    assert tokenize("id", id_number, {id_number: "f" * 64}).endswith(" #" + "f" * 16)
    assert tokenize("id", id_number, {}) == tokenize("id", id_number)


# --- existing rows (the data migration) ---------------------------------------------------


def test_existing_clear_rows_are_rewritten(world):
    head = world.heads["a"]
    with connection.cursor() as cursor:  # a history row as written before this change
        cursor.execute(
            "UPDATE communities_historicalperson SET id_number = %s, phone = %s WHERE id = %s",
            [head.id_number, head.phone, head.pk],
        )
    assert clear_copies({head.id_number}) != []
    changed = tokenize_existing(Person.history.model, batch_size=2)
    assert changed == 1
    assert clear_copies(live_values()) == []
    assert tokenize_existing(Person.history.model) == 0  # idempotent
    row = Person.history.filter(id=head.pk).get()
    assert row.id_number == tokenize("id", head.id_number)


# --- the history page ----------------------------------------------------------------------


def same_mask_other_id(id_number):
    """A valid ID number with the same mask (prefix and last four), another birth date."""
    from communities.validators import check_digit

    for day in range(1, 29):
        candidate17 = id_number[:6] + id_number[6:12] + f"{day:02d}" + id_number[14:17]
        if candidate17 != id_number[:17] and check_digit(candidate17) == id_number[17]:
            return candidate17 + id_number[17]
    raise AssertionError("no candidate")


def test_history_page_shows_a_masked_change_even_when_masks_coincide(client, world):
    person = PersonFactory(
        household=HouseholdFactory(settlement=world.a, number="522301000077"),
        relationship=enums.Relationship.HEAD,
    )
    old_id = person.id_number
    new_id = same_mask_other_id(old_id)
    person.id_number = new_id
    person.save()
    client.force_login(world.worker)  # may see full values elsewhere
    response = client.get(reverse("admin:communities_person_history", args=[person.pk]))
    body = response.content.decode()
    assert old_id not in body and new_id not in body
    latest = response.context["page_obj"][0]
    mask = old_id[:6] + "********" + old_id[-4:]
    changes = [
        (str(c["field"]), str(c["old"]), str(c["new"])) for c in latest.history_delta_changes
    ]
    assert changes == [("身份证号", mask, mask)]  # a change, shown masked
    assert body.count(mask) >= 2
    assert "#" + keyed_hash(new_id)[:16] not in body  # the hash is not shown
