"""Delete read-audit rows older than a number of days (never fewer than 183)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communities.read_audit import ReadAuditEntry


class Command(BaseCommand):
    help = _(
        "删除早于指定天数的个人信息查看记录；保留期不得少于183天（《网络安全法》第二十一条）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help=_("删除早于这么多天的记录（至少183）。"),
        )

    def handle(self, *args, older_than, **options):
        minimum = settings.READ_AUDIT_MIN_RETENTION_DAYS
        if older_than < minimum:
            raise CommandError(
                _("查看记录至少保留%(minimum)d天，不能删除%(days)d天以内的记录。")
                % {"minimum": minimum, "days": older_than}
            )
        deleted = ReadAuditEntry.objects.purge_older_than(older_than)
        self.stdout.write(
            _("已删除%(count)d条早于%(days)d天的查看记录。")
            % {"count": deleted, "days": older_than}
        )
