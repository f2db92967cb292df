"""The four roles, as auth groups whose permissions follow from rules.

Roles are kept in step with the models by a ``post_migrate`` handler, so a
model added by a later app gets the right permissions in every role without a
hand-written list.  Which *records* a role sees is decided by the user's area
scope (``communities.scope``), never by the role.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

DATA_APPS = ("communities", "employment", "services", "governance")
SENSITIVE_PERMISSION = "communities.view_sensitive_personal_data"


class Role(models.TextChoices):
    COMMUNITY_WORKER = "community_worker", _("社区工作人员")
    COUNTY_OFFICIAL = "county_official", _("乡镇/县级干部")
    PREFECTURE_OFFICIAL = "prefecture_official", _("市（州）/省级干部")
    ADMINISTRATOR = "administrator", _("系统管理员")


# Group names are the Chinese labels: they are what administrators pick from.
GROUP_NAMES = {
    Role.COMMUNITY_WORKER: "社区工作人员",
    Role.COUNTY_OFFICIAL: "乡镇/县级干部",
    Role.PREFECTURE_OFFICIAL: "市（州）/省级干部",
    Role.ADMINISTRATOR: "系统管理员",
}

# Reference data a community worker may read but not write, and what they may do.
WORKER_LIMITED = {
    "region": {"view"},
    "settlement": {"view", "change"},
    "areascope": set(),
    "monitoringline": {"view"},
    "petitioncategory": {"view"},
}
ADMIN_ONLY_MODELS = {"areascope", "readauditentry"}
USER_ADMIN_PERMISSIONS = {
    ("auth", "view_user"),
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("auth", "delete_user"),
    ("auth", "view_group"),
}
# The dashboards' programme views (layouts, no personal data): edited by administrators.
PROGRAMME_VIEW_PERMISSIONS = {
    ("dashboards", f"{action}_{model}")
    for action in ("view", "add", "change", "delete")
    for model in ("programmeview", "programmetheme", "programmeitem")
}


def _grants(role, app_label, codename, model):
    action = codename.split("_", 1)[0]
    if model and model.startswith("historical"):
        return False
    if role == Role.ADMINISTRATOR:
        return True
    if codename == "view_sensitive_personal_data":
        return role == Role.COMMUNITY_WORKER
    if action == "import":
        return False
    if action == "export":
        return True
    if model in ADMIN_ONLY_MODELS:
        return False
    if role == Role.COMMUNITY_WORKER:
        if model in WORKER_LIMITED:
            return action in WORKER_LIMITED[model]
        return action in {"view", "add", "change"}
    return action == "view"


def permissions_for(role):
    from django.contrib.auth.models import Permission

    perms = Permission.objects.filter(content_type__app_label__in=DATA_APPS).select_related(
        "content_type"
    )
    chosen = [
        p
        for p in perms
        if _grants(role, p.content_type.app_label, p.codename, p.content_type.model)
    ]
    if role == Role.ADMINISTRATOR:
        chosen += [
            p
            for p in Permission.objects.select_related("content_type").filter(
                content_type__app_label__in=("auth", "dashboards")
            )
            if (p.content_type.app_label, p.codename)
            in USER_ADMIN_PERMISSIONS | PROGRAMME_VIEW_PERMISSIONS
        ]
    return chosen


def sync_roles_after_migrate(sender, **kwargs):
    """post_migrate receiver: act once, after the last app's permissions exist."""
    from django.apps import apps

    if sender is list(apps.get_app_configs())[-1]:
        ensure_role_groups()


def ensure_role_groups():
    """Create or refresh the four role groups (idempotent)."""
    from django.contrib.auth.models import Group

    groups = {}
    for role in Role:
        group, _created = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.set(permissions_for(role))
        groups[role] = group
    return groups


def role_of(user):
    """The user's role (the widest one if several groups are set), or None."""
    names = set(user.groups.values_list("name", flat=True))
    for role in reversed(Role):
        if GROUP_NAMES[role] in names:
            return role
    return None
