from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities.admin_scope import ScopedAdminMixin

from .forms import SignInForm
from .models import SecondFactorRole, SignInEvent

# The admin's sign-in page is the site's: errors that tell a locked, inactive
# or non-staff account from a wrong password.
admin.site.login_form = SignInForm

# django-otp's own device admin is English and shows every user's secret key and
# QR code to whoever may open it; devices are bound by their users and reset by
# administrators (the user list's action) instead.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


def _manages_users(user):
    return user.is_active and user.is_staff and user.has_perm("auth.change_user")


@admin.register(SignInEvent)
class SignInEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The sign-in log: read-only, and only for the users the reader manages."""

    list_display = ("at", "username", "user", "result", "ip_address", "actor", "user_agent")
    list_filter = ("result", "at")
    list_select_related = ("user", "actor")
    search_fields = ("=username",)
    date_hierarchy = "at"
    show_full_result_count = False

    # Administrators read the log of the users they manage (auth.change_user);
    # nobody, superusers included, edits or deletes it here.
    def has_module_permission(self, request):
        return _manages_users(request.user)

    def has_view_permission(self, request, obj=None):
        return _manages_users(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecondFactorRole)
class SecondFactorRoleAdmin(admin.ModelAdmin):
    """Which roles sign in with a TOTP code: superusers decide."""

    list_display = ("group", "created_at")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
