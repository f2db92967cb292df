from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Sign-in hardening: lockout, sign-in log, idle timeout, second factor."""

    name = "relocation.accounts"
    label = "accounts"
    verbose_name = _("登录安全")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in log receivers)
