"""Delete sign-in log rows older than a number of days (never fewer than 183)."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.management.purge import PurgeOlderThanCommand
from relocation.accounts.models import SignInEvent


class Command(PurgeOlderThanCommand):
    help = _("删除早于指定天数的登录日志；保留期不得少于183天（《网络安全法》第二十一条）。")
    what = _("登录日志")

    def purge(self, days):
        cutoff = timezone.now() - datetime.timedelta(days=days)
        deleted, _by_model = SignInEvent.objects.filter(at__lt=cutoff).delete()
        return deleted
