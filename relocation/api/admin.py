"""Tokens are issued and revoked by superusers; the key is shown once, on creation."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    fields = (
        "name",
        "user",
        "expires_at",
        "prefix",
        "created_at",
        "created_by",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = ("prefix", "created_at", "created_by", "revoked_at", "last_used_at")
    autocomplete_fields = ("user",)
    actions = ("revoke",)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says who used which key until when

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the account of an issued key never changes
            return (*self.readonly_fields, "user")
        return self.readonly_fields

    @admin.display(description=_("状态"))
    def state(self, obj):
        if obj.revoked_at:
            return _("已停用")
        if obj.expires_at and obj.expires_at <= timezone.now():
            return _("已过期")
        return _("有效")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = ApiToken.issue(
            name=obj.name, user=obj.user, created_by=request.user, expires_at=obj.expires_at
        )
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request,
            format_html(
                "{}<br><code>{}</code>",
                _("接口密钥已生成，只显示这一次，请立即复制并交给对方系统的管理员："),
                key,
            ),
        )

    @admin.action(description=_("停用所选接口密钥"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("已停用%(count)d个接口密钥。", "已停用%(count)d个接口密钥。", count)
            % {"count": count},
        )
