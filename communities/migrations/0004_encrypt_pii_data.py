"""Encrypt the ID numbers and phones already stored, and fill the ID number hashes.

Batched (``communities.crypto.reseal_model``); reversing decrypts them again.
"""

from django.db import migrations

from communities.crypto import reseal_operation


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0003_encrypt_pii_columns"),
    ]

    operations = [
        reseal_operation(
            "communities",
            [
                "Building",
                "HistoricalBuilding",
                "GridWorker",
                "Household",
                "HistoricalHousehold",
                "Person",
                "HistoricalPerson",
            ],
        ),
    ]
