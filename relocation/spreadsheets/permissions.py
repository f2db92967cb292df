"""Import/export permissions for models whose apps do not declare them.

Settlements (with their buildings and grids) are imported by administrators
like every other file, but ``communities.Settlement`` declares no
``import_``/``export_`` permissions.  They are created here, on the
settlement's own content type, so that ``communities.roles`` hands them out
by its usual rule (import: administrators only; export: every role).  They
are created when the communities app's ``post_migrate`` runs, i.e. before the
role groups are synchronised after the last app.
"""

from django.utils.translation import gettext_lazy as _

EXTRA_PERMISSIONS = {
    ("communities", "settlement"): (
        ("import_settlement", _("可以导入安置点、楼栋和网格")),
        ("export_settlement", _("可以导出安置点、楼栋和网格")),
    ),
}


def create_extra_permissions(sender, using="default", apps=None, **kwargs):
    if sender.label not in {app for app, _model in EXTRA_PERMISSIONS}:
        return
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    for (app_label, model), perms in EXTRA_PERMISSIONS.items():
        if app_label != sender.label:
            continue
        content_type, _created = ContentType.objects.db_manager(using).get_or_create(
            app_label=app_label, model=model
        )
        for codename, name in perms:
            Permission.objects.db_manager(using).get_or_create(
                content_type=content_type, codename=codename, defaults={"name": str(name)}
            )
