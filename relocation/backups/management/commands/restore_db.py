"""``manage.py restore_db PATH``: restore a ``backup_db`` file into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from relocation.backups import services


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_db into the database (DATABASE_URL, or --target). "
        "The database must be empty unless --replace is given.  Stop the web server and "
        "the job worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a file written by backup_db")
        parser.add_argument(
            "--target", help="restore into this database (DATABASE_URL syntax) instead"
        )
        parser.add_argument(
            "--replace", action="store_true", help="overwrite a database that has tables"
        )

    def handle(self, *, path, target, replace, **options):
        connection = services.database(target)
        try:
            counts = services.restore(path, connection, replace=replace)
        except (services.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            if target:
                connection.close()
        self.stdout.write(f"restored {path}: {len(counts)} tables, {sum(counts.values())} rows")
