"""User administration that cannot hand out more than the editor has.

A non-superuser editing users sees only users whose areas lie inside their
own, may grant only roles whose permissions they hold themselves, and only
areas inside their own scope.  Superuser status and single permissions are
for superusers only.  A user with no area yet is seen only by whoever created
them (and superusers): otherwise every administrator could take them over.
Every user saved here is staff (工作人员), so that they can sign in.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from relocation.accounts.models import UserCreator
from relocation.accounts.names import display_name
from relocation.accounts.services import lockout_release, user_creator_record

from .admin_scope import ScopedAdminMixin
from .models import AreaScope, Region, Settlement
from .roles import GROUP_NAMES, Role
from .scope import Scope, compute_scope, get_scope

User = get_user_model()


def grantable_regions(editor):
    scope = get_scope(editor)
    if scope.unrestricted:
        return Region.objects.all()
    q = Region.objects.none()
    for prefix in scope.region_prefixes:
        q |= Region.objects.filter(code__startswith=prefix)
    return q


def grantable_groups(editor):
    if editor.is_superuser:
        return Group.objects.all()
    own = editor.get_all_permissions()
    allowed = []
    for group in Group.objects.prefetch_related("permissions__content_type"):
        needed = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        if needed <= own:
            allowed.append(group.pk)
    return Group.objects.filter(pk__in=allowed)


def manageable_users(editor):
    """Users whose whole scope lies inside the editor's (never superusers).

    A user without any area lies inside everyone's scope, so they are the
    editor's only when the editor created them.
    """
    if editor.is_superuser:
        return User.objects.all()
    others_without_area = (
        User.objects.exclude(pk__in=AreaScope.objects.values("user_id"))
        .exclude(pk=editor.pk)
        .exclude(pk__in=UserCreator.objects.filter(created_by=editor).values("user_id"))
    )
    scope = get_scope(editor)
    if scope.empty:
        created = UserCreator.objects.filter(created_by=editor).values("user_id")
        return (
            User.objects.filter(is_superuser=False)
            .filter(Q(pk=editor.pk) | Q(pk__in=created))
            .exclude(pk__in=others_without_area)
        )
    rows = {}
    for row in AreaScope.objects.select_related("region").filter(user__is_superuser=False):
        prefixes, settlements = rows.setdefault(row.user_id, (set(), set()))
        if row.region_id:
            prefixes.add(row.region.prefix)
        else:
            settlements.add(row.settlement_id)
    outside = [
        uid
        for uid, (prefixes, settlements) in rows.items()
        if not scope.covers_scope(Scope(False, tuple(prefixes), tuple(settlements)))
    ]
    return (
        User.objects.filter(is_superuser=False)
        .exclude(pk__in=outside)
        .exclude(pk__in=others_without_area)
    )


class AreaScopeInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        editor = self.editor
        if editor.is_superuser:
            return
        own = get_scope(editor)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            region, settlement = data.get("region"), data.get("settlement")
            if region is not None and not own.covers_region(region):
                raise ValidationError(_("不能授予超出您本人管辖范围的行政区划。"))
            if (
                settlement is not None
                and not Settlement.objects.visible_to(editor).filter(pk=settlement.pk).exists()
            ):
                raise ValidationError(_("不能授予超出您本人管辖范围的安置点。"))


class AreaScopeInline(admin.TabularInline):
    model = AreaScope
    formset = AreaScopeInlineFormSet
    extra = 1
    autocomplete_fields = ("region", "settlement")
    verbose_name = _("管辖范围")
    verbose_name_plural = _("管辖范围（行政区划或安置点，任选其一）")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.editor = request.user
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = grantable_regions(request.user)
        elif db_field.name == "settlement":
            kwargs["queryset"] = Settlement.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(User)


@admin.register(User)
class ScopedUserAdmin(ScopedAdminMixin, UserAdmin):
    inlines = (AreaScopeInline,)
    # Without Django's 「基于密码的验证：禁用」: this product signs in with passwords
    # only, so such an account could never sign in.  The name is asked at once: it
    # greets the user and signs the steps of procedures they take (罗文军).
    add_form = UserCreationForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "last_name", "first_name", "password1", "password2"),
            },
        ),
    )
    list_display = (
        "username",
        "full_name",
        "role_names",
        "scope_names",
        "is_active",
        "last_login",
    )
    list_filter = ("is_active", "groups")
    search_fields = ("username", "first_name", "last_name")
    actions = ("unlock_sign_in", "reset_second_factor")

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .prefetch_related("groups", "area_scopes__region", "area_scopes__settlement")
        )
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=manageable_users(request.user).values("pk"))

    # Django's, with 姓 before 名 (罗文军); the last sign-in and the joining date are
    # written by sign-ins and by the account's creation, never typed.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # Other administrators: roles are groups; the flags and single permissions are a
    # superuser's.
    scoped_fieldsets = (
        *fieldsets[:2],
        (_("Permissions"), {"fields": ("is_active", "groups")}),
        fieldsets[3],
    )
    readonly_fields = ("last_login", "date_joined")

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.scoped_fieldsets
        return super().get_fieldsets(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Every role works in the admin: a user who is not staff cannot sign in
        # at all (and used to be told the password was wrong).  Superusers may
        # still clear it on an existing user.
        if not change or not request.user.is_superuser:
            obj.is_staff = True
        super().save_model(request, obj, form, change)
        if not change:
            user_creator_record(user=obj, created_by=request.user)

    @admin.action(description=_("解除所选用户的登录锁定"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        released = lockout_release(request=request, users=queryset)
        self.message_user(
            request,
            gettext("已解除 %(count)d 个用户的登录锁定。") % {"count": released},
        )

    @admin.action(
        description=_("重置所选用户的动态验证码（手机丢失时；下次登录重新绑定）"),
        permissions=["change"],
    )
    def reset_second_factor(self, request, queryset):
        deleted, _by_model = TOTPDevice.objects.filter(user__in=queryset).delete()
        self.message_user(
            request,
            gettext("已删除 %(count)d 个已绑定的身份验证器。") % {"count": deleted},
        )

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        editor = request.user
        if not editor.is_superuser:
            # Final guard: after saving, the edited user must not exceed the editor.
            target = compute_scope(form.instance)
            if not get_scope(editor).covers_scope(target):
                raise PermissionDenied(_("授权范围超出您本人的管辖范围。"))

    @admin.display(description=_("姓名"), ordering="last_name")
    def full_name(self, obj):
        return display_name(obj) if (obj.first_name or obj.last_name) else "—"

    @admin.display(description=_("角色"))
    def role_names(self, obj):
        # Role groups are stored under their Chinese names; show the translated label.
        labels = {name: Role(role).label for role, name in GROUP_NAMES.items()}
        return ", ".join(str(labels.get(g.name, g.name)) for g in obj.groups.all()) or "—"

    @admin.display(description=_("管辖范围"))
    def scope_names(self, obj):
        if obj.is_superuser:
            return _("全部")
        return ", ".join(str(s) for s in obj.area_scopes.all()) or "—"


# The job queue's own admin (django-tasks-db) shows raw task arguments and
# results in English to anyone with access; users follow their jobs on the
# import pages instead, and operators use `manage.py db_worker`'s log.
def _hide_task_admin():
    from django_tasks_db.models import DBTaskResult

    if admin.site.is_registered(DBTaskResult):
        admin.site.unregister(DBTaskResult)


_hide_task_admin()
