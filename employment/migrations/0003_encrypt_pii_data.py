"""Encrypt the employers' contact phones already stored (``communities.crypto``)."""

from django.db import migrations

from communities.crypto import reseal_model

MODELS = ("Employer", "HistoricalEmployer")


def encrypt(apps, schema_editor):
    for name in MODELS:
        reseal_model(apps.get_model("employment", name), schema_editor.connection, mode="encrypt")


def decrypt(apps, schema_editor):
    for name in MODELS:
        reseal_model(apps.get_model("employment", name), schema_editor.connection, mode="decrypt")


class Migration(migrations.Migration):
    dependencies = [
        ("employment", "0002_encrypt_pii_columns"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
    ]
