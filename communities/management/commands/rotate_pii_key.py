"""Re-encrypt every ID number and phone with the newest key of PII_ENCRYPTION_KEYS.

    PII_ENCRYPTION_KEYS=<new>,<old> manage.py rotate_pii_key
    manage.py rotate_pii_key --status      # rows per key id, changes nothing

Rows already under the newest key are skipped, so an interrupted run resumes
where it stopped; each batch is committed on its own, so the site keeps working.
The search hashes are recomputed too (after a change of PII_HASH_KEY, run this
at once: exact search by ID number finds nothing until it has finished).
When it reports every row under the newest key, the older keys can be removed.
"""

import time

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection

from communities.crypto import PREFIX, encrypted_columns, keyring, reseal_model


def encrypted_models():
    return [m for m in apps.get_models() if encrypted_columns(m)]


class Command(BaseCommand):
    help = "用最新的密钥（PII_ENCRYPTION_KEYS 的第一个）重新加密全部身份证号和电话。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="每批处理的行数")
        parser.add_argument(
            "--status", action="store_true", help="只统计各密钥加密的行数，不做修改"
        )

    def handle(self, *args, batch_size, status, **options):
        ring = keyring()
        self.stdout.write(f"最新密钥编号：{ring.current_id}")
        if status:
            self.report_status()
            return
        started = time.monotonic()
        for model in encrypted_models():
            label = f"{model._meta.db_table}"

            def progress(done, changed, label=label):
                self.stdout.write(f"  {label}：已检查 {done:,} 行，重新加密 {changed:,} 行")

            done, changed = reseal_model(
                model, connection, mode="encrypt", batch_size=batch_size, progress=progress
            )
            self.stdout.write(f"{label}：共 {done:,} 行，重新加密 {changed:,} 行。")
        self.stdout.write(
            self.style.SUCCESS(
                f"完成，用时 {time.monotonic() - started:.1f} 秒：全部身份证号和电话已使用密钥 "
                f"{ring.current_id} 加密，可以从 PII_ENCRYPTION_KEYS 中删除其他密钥。"
            )
        )

    def report_status(self):
        quote = connection.ops.quote_name
        start, width = len(PREFIX) + 1, 8
        for model in encrypted_models():
            for column, _hash in encrypted_columns(model):
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT SUBSTR({quote(column)}, {start}, {width}), COUNT(*) "
                        f"FROM {quote(model._meta.db_table)} WHERE {quote(column)} <> '' "
                        f"GROUP BY 1 ORDER BY 1"
                    )
                    counts = ", ".join(f"{key}: {n:,}" for key, n in cursor.fetchall())
                self.stdout.write(f"{model._meta.db_table}.{column}：{counts or '无数据'}")
