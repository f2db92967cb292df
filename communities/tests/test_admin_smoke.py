"""Every admin page for every role: renders, or refuses as the role says."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from communities.admin_scope import ScopedAdminMixin

pytestmark = pytest.mark.django_db

ROLES = ("worker", "worker_nopii", "county", "prefecture", "province", "admin")
# Records nobody adds or deletes through the admin, superusers included.
APPEND_ONLY_PERMS = {"accounts.add_signinevent", "accounts.delete_signinevent"}


def admin_pages(world):
    """(url, needed permission or None) for every registered model admin."""
    pages = [(reverse("admin:index"), None)]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        info = (opts.app_label, opts.model_name)
        perm = f"{opts.app_label}.%s_{opts.model_name}"
        base = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append((reverse(f"{base}_changelist"), perm % "view"))
        pages.append((reverse(f"{base}_add"), perm % "add"))
        obj = model_admin.get_queryset(_request(world.admin)).first()
        if obj is not None:
            for view, action in (("change", "view"), ("history", "view"), ("delete", "delete")):
                url = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk])
                pages.append((url, perm % action, obj))
    return pages


def _model_of(url):
    from django.urls import resolve

    return resolve(url).func.model_admin.model


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_for_every_role(client, world, role):
    user = getattr(world, role)
    client.force_login(user)
    checked = 0
    existing = set(Permission.objects.values_list("content_type__app_label", "codename"))
    for page in admin_pages(world):
        url, perm = page[0], page[1]
        response = client.get(url)
        if perm is None:
            assert response.status_code == 200, url
            continue
        obj = page[2] if len(page) > 2 else None
        allowed = user.has_perm(perm) and perm not in APPEND_ONLY_PERMS
        if obj is not None:
            model_admin = admin.site._registry[type(obj)]
            visible = model_admin.get_queryset(_request(user)).filter(pk=obj.pk).exists()
            if not visible:
                # 404 before any permission check: hidden and missing look alike.
                assert isinstance(model_admin, ScopedAdminMixin)
                assert response.status_code == 404, (url, role)
                checked += 1
                continue
            if perm.split(".")[1].startswith("view"):
                allowed = user.has_perm(perm) or user.has_perm(perm.replace(".view_", ".change_"))
        # A permission the model does not define (e.g. changing the read audit)
        # is refused even to a superuser.
        allowed = allowed and tuple(perm.split(".")) in existing
        # An admin may be stricter than the permissions (reference lists only
        # administrators write, items added on their category's page), never looser.
        model_admin = admin.site._registry[_model_of(url)]
        action = perm.split(".")[1].split("_")[0]
        request = _request(user)
        if action == "add":
            allowed = allowed and model_admin.has_add_permission(request)
        elif action == "delete":
            allowed = allowed and model_admin.has_delete_permission(request, obj)
        expected = 200 if allowed else 403
        assert response.status_code == expected, (url, role, response.status_code)
        checked += 1
    assert checked > 20
