# ruff: noqa: F811  (pytest fixtures imported from communities.tests.conftest are parameters here)
"""ID numbers and phones are encrypted at rest (communities.crypto).

Every write path is followed by raw SQL over every table that holds ID
numbers or phones, history tables included: no clear value may be found.
Search, uniqueness and import matching go through the keyed hash; keys can be
rotated; a wrong key is an error, never garbage.  Runs on SQLite and
PostgreSQL (the COPY paths only exist there).
"""

import datetime
import io

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from communities import crypto, enums
from communities.demo import build_demo
from communities.history_pii import tokenize
from communities.management.commands.rotate_pii_key import encrypted_models
from communities.models import Building, GridWorker, Household, Person
from communities.tests.conftest import world  # noqa: F401  (the shared data set)
from communities.tests.factories import (
    GridUnitFactory,
    HouseholdFactory,
    PersonFactory,
    SettlementFactory,
    make_id_number,
)
from employment.models import Employer
from relocation.spreadsheets.tests.helpers import (
    ROSTER_HEADERS,
    csv_bytes,
    import_file,
    person_row,
)

pytestmark = pytest.mark.django_db

OLD_KEY = "b2xkLWtleS1mb3Itcm90YXRpb24tdGVzdHMtMDAwMDA="  # 32 bytes
NEW_KEY = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMDAwMDA="
OTHER_KEY = "b3RoZXIta2V5LW5vdC10aGUtb25lLXVzZWQtMDAwMDA="

EXPECTED_TABLES = {
    "communities_building": {"head_phone"},
    "communities_gridworker": {"phone"},
    "communities_household": {"phone"},
    "communities_person": {"id_number", "phone"},
    "employment_employer": {"contact_phone"},
    "governance_cadre": {"phone"},
    "governance_petition": {"phone"},
    "governance_stairleader": {"phone"},
}


def raw_rows(model):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)}")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assert_no_clear_values(clear):
    """Raw SQL: no cell of any table with ID numbers or phones holds a clear value."""
    clear = {v for v in clear if v}
    assert clear, "the test wrote no personal data"
    seen = 0
    models = encrypted_models()
    for model in models + [m.history.model for m in models if hasattr(m, "history")]:
        # History tables keep a mask and a keyed hash (communities.history_pii), no ciphertext.
        columns = [c for c, _h in crypto.encrypted_columns(model)]
        for row in raw_rows(model):
            for column in columns:
                value = row[column]
                assert value == "" or value.startswith(crypto.PREFIX), (model, column, value)
                seen += bool(value)
            for name, cell in row.items():
                text = str(cell)
                leaked = [v for v in clear if v in text]
                assert leaked == [], f"{model._meta.db_table}.{name} holds {leaked}"
    assert seen > 0


def test_every_table_with_id_numbers_or_phones_is_covered():
    found = {
        m._meta.db_table: {c for c, _h in crypto.encrypted_columns(m)} for m in encrypted_models()
    }
    assert found == EXPECTED_TABLES
    hashes = {
        m._meta.db_table: h
        for m in encrypted_models()
        for _c, h in crypto.encrypted_columns(m)
        if h
    }
    assert hashes == {
        "communities_person": "id_number_hash",
    }


# --- write paths ---------------------------------------------------------------------


def test_single_saves_and_their_history(region_tree):
    settlement = SettlementFactory(county=region_tree.xingyi)
    building = Building.objects.create(
        settlement=settlement, name="9栋", head_name="王", head_phone="13911112222"
    )
    GridWorker.objects.create(
        grid=GridUnitFactory(settlement=settlement), name="李", phone="13933334444"
    )
    household = HouseholdFactory(settlement=settlement, phone="0859-3221234")
    person = PersonFactory(household=household, phone="13955556666")
    employer = Employer.objects.create(
        name="帮扶车间",
        kind="workshop",
        county=region_tree.xingyi,
        location="in_settlement",
        contact_phone="13977778888",
    )
    person.phone = "13900001111"
    person.save()
    clear = [
        building.head_phone,
        "13933334444",
        household.phone,
        person.id_number,
        "13955556666",
        person.phone,
        employer.contact_phone,
    ]
    assert_no_clear_values(clear)
    person.refresh_from_db()
    assert person.phone == "13900001111"
    # The history keeps a mask and a keyed hash of each value (communities.history_pii).
    assert [h.phone for h in person.history.order_by("history_id")] == [
        tokenize("phone", "13955556666"),
        tokenize("phone", "13900001111"),
    ]
    assert person.history.first().id_number == tokenize("id", person.id_number)


def test_bulk_create_bulk_update_and_update(region_tree):
    household = HouseholdFactory(settlement=SettlementFactory(county=region_tree.xingyi))
    ids = [make_id_number(datetime.date(1980, 1, 1 + i), prefix="522301", seq=i) for i in range(3)]
    people = Person.objects.bulk_create(
        [
            Person(household=household, name=f"人{i}", id_number=n, relationship="son")
            for i, n in enumerate(ids)
        ]
    )
    moved = make_id_number(datetime.date(1990, 5, 5), "F", prefix="522301", seq=40)
    people[0].id_number = moved
    people[0].phone = "13800002222"
    Person.objects.bulk_update(people[:1], ["id_number", "phone"])
    updated = make_id_number(datetime.date(1970, 7, 7), prefix="522301", seq=41)
    Person.objects.filter(pk=people[1].pk).update(id_number=updated, phone="13800003333")
    Household.objects.filter(pk=household.pk).update(phone="13800004444")
    assert_no_clear_values([*ids, moved, updated, "13800002222", "13800003333", "13800004444"])
    # The hash followed the ID number on every path: exact search finds the new numbers.
    assert Person.objects.get(id_number=moved).pk == people[0].pk
    assert Person.objects.get(id_number=updated).pk == people[1].pk
    assert not Person.objects.filter(id_number__in=ids[:2]).exists()
    assert Person.objects.get(pk=people[1].pk).birth_date == datetime.date(1970, 7, 7)


def test_admin_save(client, world):
    client.force_login(world.admin)
    id_number = make_id_number(datetime.date(1981, 2, 3), prefix="522301", seq=77)
    data = {
        "number": "522301009998",
        "settlement": world.a.pk,
        "category": "registered_poor",
        "relocation_year": "2018",
        "occupancy_state": "moved_in",
        "hukou_state": "moved_in",
        "phone": "13812340000",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        "members-0-name": "新户主",
        "members-0-id_number": id_number,
        "members-0-relationship": "head",
        "members-0-ethnicity": "09",
        "members-0-health": "healthy",
        "members-0-labour_ability": "ordinary",
        "members-0-phone": "13812349999",
    }
    response = client.post("/admin/communities/household/add/", data)
    assert response.status_code == 302, response.content.decode()
    person = Person.objects.get(id_number=id_number)
    assert person.phone == "13812349999" and person.household.phone == "13812340000"
    clear = [id_number, "13812340000", "13812349999"]
    clear += [p.id_number for p in Person.objects.all()] + [
        h.phone for h in Household.objects.all()
    ]
    assert_no_clear_values(clear)
    # The same number again is refused, and nothing is written.
    data.update({"number": "522301009997", "members-0-name": "另一人"})
    response = client.post("/admin/communities/household/add/", data)
    assert response.status_code == 200
    assert "不能重复登记" in response.content.decode()
    assert not Household.objects.filter(number="522301009997").exists()


def test_import_commit_and_matching_by_id_number(world):
    rows = [
        person_row("C001", world.a.code, name="户主甲", sex="M", seq=300),
        person_row("C001", world.a.code, relationship="子", name="成员乙", seq=301),
    ]
    for row in rows:
        row["户联系电话"] = "13812345678"
    rows[1]["联系电话"] = "13887654321"
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "committed", job.errors or job.failure
    assert job.new_rows == 2
    clear = [r["身份证号"] for r in rows] + ["13812345678", "13887654321"]
    assert_no_clear_values(clear + [p.id_number for p in Person.objects.all()])
    assert Household.objects.get(number="C001").phone == "13812345678"
    # Importing the same people again matches them by ID number: an update, not new rows.
    rows[1]["姓名"] = "成员丙"
    job = import_file(world.admin, "roster", csv_bytes(ROSTER_HEADERS, rows))
    assert job.state == "committed", job.errors or job.failure
    assert (job.new_rows, job.updated_rows) == (0, 1)
    assert Person.objects.get(id_number=rows[1]["身份证号"]).name == "成员丙"
    assert_no_clear_values(clear)


def test_demo_data(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    build_demo(seed=3, households=12)
    clear = list(Person.objects.values_list("id_number", flat=True))
    clear += [p for p in Person.objects.values_list("phone", flat=True) if p]
    clear += [p for p in Household.objects.values_list("phone", flat=True) if p]
    clear += [p for p in Building.objects.values_list("head_phone", flat=True) if p]
    clear += [p for p in GridWorker.objects.values_list("phone", flat=True) if p]
    clear += [p for p in Employer.objects.values_list("contact_phone", flat=True) if p]
    assert len(clear) > 50 and all(len(v) >= 11 for v in clear)
    assert_no_clear_values(clear)
    sample = Person.objects.order_by("pk")[5]
    assert Person.objects.get(id_number=sample.id_number) == sample


# --- search and uniqueness -------------------------------------------------------------


def test_exact_and_in_lookups_use_the_hash(world):
    head = world.heads["a"]
    assert Person.objects.get(id_number=head.id_number) == head
    assert list(Person.objects.filter(id_number__in=[head.id_number, "1" * 18])) == [head]
    assert not Person.objects.filter(id_number="1" * 18).exists()
    assert Person.objects.exclude(id_number=head.id_number).count() == Person.objects.count() - 1
    assert Household.objects.filter(phone="").count() == 1  # the orphan household has none
    # Through a join, as the employment lists search people.
    assert list(Household.objects.filter(members__id_number=head.id_number)) == [head.household]


def test_admin_search_by_full_id_number(client, world):
    client.force_login(world.admin)
    head = world.heads["b"]
    response = client.get("/admin/communities/household/", {"q": head.id_number})
    assert response.status_code == 200
    assert [h.pk for h in response.context["cl"].result_list] == [world.households["b"].pk]


def test_other_lookups_are_refused(world):
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__startswith="5223"))
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__contains="1980"))
    with pytest.raises(FieldError, match="只能按完整的值查找"):
        list(Household.objects.filter(phone="13800000001"))


def test_admin_refuses_a_prefix_lookup_in_the_url(client, world):
    client.force_login(world.admin)
    response = client.get("/admin/communities/person/", {"id_number__startswith": "5223"})
    # Refused with a message (communities.admin_lookups): never a list narrowed by the prefix.
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "不支持的筛选条件" in response.content.decode()


def test_duplicate_id_number_is_refused_with_the_chinese_message(world):
    head = world.heads["a"]
    clash = Person(
        household=world.households["b"],
        name="重复",
        id_number=head.id_number.lower(),
        relationship=enums.Relationship.SON,
    )
    with pytest.raises(ValidationError) as raised:
        clash.full_clean()
    assert raised.value.message_dict == {"id_number": ["该身份证号已在系统中登记。"]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.bulk_create([clash])


# --- keys ------------------------------------------------------------------------------


def test_rotation_re_encrypts_with_the_newest_key(world, settings):
    # ``world`` was written under the test keys; one more person under OLD_KEY.
    test_keys = list(settings.PII_ENCRYPTION_KEYS)
    settings.PII_ENCRYPTION_KEYS = [OLD_KEY, *test_keys]
    old_id = crypto.keyring().current_id
    person = PersonFactory(household=world.households["c"], phone="13712345678")
    expected = {p.pk: (p.id_number, p.phone) for p in Person.objects.all()}
    settings.PII_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY, *test_keys]
    new_id = crypto.keyring().current_id
    assert new_id != old_id
    # Before rotation: old rows still read, new writes use the new key.
    assert {p.pk: (p.id_number, p.phone) for p in Person.objects.all()} == expected
    raw = {r["id"]: r["id_number"] for r in raw_rows(Person)}
    assert crypto.keyring().key_id_of(raw[person.pk]) == old_id
    call_command("rotate_pii_key", batch_size=2, stdout=io.StringIO())
    for model in encrypted_models():
        for column, _h in crypto.encrypted_columns(model):
            ids = {crypto.keyring().key_id_of(r[column]) for r in raw_rows(model) if r[column]}
            assert ids <= {new_id}, (model, column, ids)
    # The old keys can go: everything still reads and is still found.
    settings.PII_ENCRYPTION_KEYS = [NEW_KEY]
    assert {p.pk: (p.id_number, p.phone) for p in Person.objects.all()} == expected
    assert Person.objects.get(id_number=person.id_number) == person
    assert person.history.get().phone == tokenize("phone", "13712345678")


def test_rotation_resumes_and_reports(world, settings, capsys):
    settings.PII_ENCRYPTION_KEYS = [NEW_KEY, *settings.PII_ENCRYPTION_KEYS]
    call_command("rotate_pii_key", batch_size=3)
    first = capsys.readouterr().out
    assert "重新加密" in first and "可以从 PII_ENCRYPTION_KEYS 中删除其他密钥" in first
    call_command("rotate_pii_key")
    again = capsys.readouterr().out
    assert "communities_person：共" in again and "重新加密 0 行" in again
    assert all("重新加密 0 行" in line for line in again.splitlines() if "：共" in line)
    call_command("rotate_pii_key", "--status")
    status = capsys.readouterr().out
    assert f"communities_person.id_number：{crypto.keyring().current_id}: " in status


def test_wrong_key_is_a_clear_error(world, settings):
    head = world.heads["a"]
    settings.PII_ENCRYPTION_KEYS = [OTHER_KEY]
    with pytest.raises(crypto.PIIDecryptionError, match="不在 PII_ENCRYPTION_KEYS 中"):
        Person.objects.get(pk=head.pk)
    settings.PII_ENCRYPTION_KEYS = [NEW_KEY]
    stored = raw_rows(Person)[0]["id_number"]
    # A value under a listed key id that does not authenticate (damaged, or a wrong
    # key under a colliding id) is refused as well.
    forged = stored[: len(crypto.PREFIX)] + crypto.keyring().current_id + stored[13:]
    with pytest.raises(crypto.PIIDecryptionError, match="不符"):
        crypto.decrypt(forged)
    with pytest.raises(crypto.PIIDecryptionError, match="未加密"):
        crypto.decrypt("522301198001010011")


def test_development_keys_come_from_the_secret_key(settings):
    settings.PII_ENCRYPTION_KEYS = []
    settings.PII_HASH_KEY = ""
    first = crypto.keyring()
    token = crypto.encrypt("13800000000")
    settings.SECRET_KEY = "another-development-secret-key-0123456789abcdef"
    assert crypto.keyring().current_id != first.current_id
    assert crypto.pii_hash("x") != first.hash("x")
    with pytest.raises(crypto.PIIDecryptionError):
        crypto.decrypt(token)


def test_malformed_keys_fail_the_system_check(settings):
    settings.PII_ENCRYPTION_KEYS = ["too-short"]
    errors = crypto.check_pii_keys()
    assert [e.id for e in errors] == ["communities.E001"]
    assert "PII_ENCRYPTION_KEYS" in errors[0].msg


# --- the data migration ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_data_migration_encrypts_existing_rows_and_reverses(region_tree):
    """Back to before the encryption: today's rows come out in clear; forward again: they
    and a row the old code wrote in clear are encrypted, and read back.

    Two passes through the migrations, not four (each is minutes on a slow machine's
    SQLite): the reverse is tested on rows today's code wrote, the forward on those
    rows decrypted and on one written by the old models."""
    from communities.models import Settlement

    executor = MigrationExecutor(connection)
    before = [("communities", "0001_initial"), ("employment", "0001_initial")]
    latest = executor.loader.graph.leaf_nodes()
    id_number = make_id_number(datetime.date(1975, 6, 1), prefix="522301", seq=9)
    old_id_number = make_id_number(datetime.date(1977, 8, 2), prefix="522301", seq=10)
    settlement = Settlement.objects.create(
        code="MIG001", name="迁移点", county_id=region_tree.xingyi.pk
    )
    household = Household.objects.create(
        number="MIG0001", settlement=settlement, relocation_year=2018, phone="13811110000"
    )
    Person.objects.create(
        household=household,
        name="今数据",
        id_number=id_number,
        birth_date=datetime.date(1975, 6, 1),
        sex="M",
        relationship="head",
    )
    assert_no_clear_values([id_number, "13811110000"])
    # History rows keep a mask and a keyed hash, which no migration turns back into the
    # value (and which the old, shorter columns cannot hold): the old code had none.
    for model in (Settlement, Household, Person):
        model.history.all().delete()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        assert [r["id_number"] for r in raw_rows(old.get_model("communities", "Person"))] == [
            id_number
        ]
        assert raw_rows(old.get_model("communities", "Household"))[0]["phone"] == "13811110000"
        old.get_model("communities", "Person").objects.create(
            household_id=household.pk,
            name="旧数据",
            id_number=old_id_number,
            birth_date=datetime.date(1977, 8, 2),
            sex="F",
            relationship="spouse",
        )
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert_no_clear_values([id_number, old_id_number, "13811110000"])
    assert Person.objects.get(id_number=old_id_number).name == "旧数据"
    assert Person.objects.get(id_number=id_number).household.phone == "13811110000"


def test_same_id_number_twice_in_one_household_form(client, world):
    # Django's formset uniqueness check only knows unique columns; the ID number's is its hash.
    client.force_login(world.admin)
    id_number = make_id_number(datetime.date(1985, 4, 4), prefix="522301", seq=88)
    member = {
        "relationship": "son",
        "ethnicity": "01",
        "health": "healthy",
        "labour_ability": "ordinary",
        "id_number": id_number,
    }
    data = {
        "number": "522301009996",
        "settlement": world.a.pk,
        "category": "registered_poor",
        "relocation_year": "2018",
        "occupancy_state": "moved_in",
        "hukou_state": "moved_in",
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        **{f"members-0-{k}": v for k, v in {**member, "relationship": "head"}.items()},
        "members-0-name": "甲",
        **{f"members-1-{k}": v for k, v in member.items()},
        "members-1-name": "乙",
    }
    response = client.post("/admin/communities/household/add/", data)
    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert f"身份证号 {id_number} 在本户中填写了两次。" in errors
    assert not Household.objects.filter(number="522301009996").exists()
    assert not Person.objects.filter(id_number=id_number).exists()
