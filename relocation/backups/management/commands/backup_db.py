"""``manage.py backup_db [PATH]``: an online backup of the whole database."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from relocation.backups import services


class Command(BaseCommand):
    help = (
        "Back up the database while the site runs: pg_dump custom format on PostgreSQL, "
        "the sqlite3 backup API on SQLite.  Default PATH: BACKUP_DIR/relocation-<time>.dump|sqlite3"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="where to write the backup")

    def handle(self, *, path, **options):
        connection = services.database()
        path = path or services.default_path(connection.vendor, settings.BACKUP_DIR)
        try:
            counts = services.backup(path, connection)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{path}: {len(counts)} tables, {sum(counts.values())} rows")
