"""Encrypt the employers' contact phones already stored (``communities.crypto``)."""

from django.db import migrations

from communities.crypto import reseal_operation


class Migration(migrations.Migration):
    dependencies = [
        ("employment", "0003_encrypt_pii_columns"),
    ]

    operations = [
        reseal_operation("employment", ["Employer", "HistoricalEmployer"]),
    ]
