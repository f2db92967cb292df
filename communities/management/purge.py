"""The shape of the commands that delete old log rows (read audit, sign-in log).

Logs of who saw personal data and who signed in are kept at least
``READ_AUDIT_MIN_RETENTION_DAYS`` (183) days (Cybersecurity Law art. 21); a
command refuses a shorter period and never deletes younger rows.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class PurgeOlderThanCommand(BaseCommand):
    """Subclasses set ``help``, ``what`` (the rows, in Chinese) and ``purge(days)``."""

    what = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help=gettext_lazy("删除早于这么多天的记录（至少183）。"),
        )

    def purge(self, days):  # pragma: no cover - every command overrides it
        raise NotImplementedError

    def handle(self, *args, older_than, **options):
        minimum = settings.READ_AUDIT_MIN_RETENTION_DAYS
        if older_than < minimum:
            raise CommandError(
                _("%(what)s至少保留%(minimum)d天，不能删除%(days)d天以内的记录。")
                % {"what": self.what, "minimum": minimum, "days": older_than}
            )
        deleted = self.purge(older_than)
        self.stdout.write(
            _("已删除%(count)d条早于%(days)d天的%(what)s。")
            % {"count": deleted, "days": older_than, "what": self.what}
        )
