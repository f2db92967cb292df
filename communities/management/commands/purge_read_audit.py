"""Delete read-audit rows older than a number of days (never fewer than 183)."""

from django.utils.translation import gettext_lazy as _

from communities.management.purge import PurgeOlderThanCommand
from communities.read_audit import ReadAuditEntry


class Command(PurgeOlderThanCommand):
    help = _(
        "删除早于指定天数的个人信息查看记录；保留期不得少于183天（《网络安全法》第二十一条）。"
    )
    what = _("查看记录")

    def purge(self, days):
        return ReadAuditEntry.objects.purge_older_than(days)
