"""Encrypt the ID numbers and phones already stored, and fill the ID number hashes.

Batched (``communities.crypto.reseal_model``); reversing decrypts them again.
"""

from django.db import migrations

from communities.crypto import reseal_model

MODELS = (
    "Building",
    "HistoricalBuilding",
    "GridWorker",
    "Household",
    "HistoricalHousehold",
    "Person",
    "HistoricalPerson",
)


def encrypt(apps, schema_editor):
    for name in MODELS:
        reseal_model(apps.get_model("communities", name), schema_editor.connection, mode="encrypt")


def decrypt(apps, schema_editor):
    for name in MODELS:
        reseal_model(apps.get_model("communities", name), schema_editor.connection, mode="decrypt")


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0002_encrypt_pii_columns"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
    ]
