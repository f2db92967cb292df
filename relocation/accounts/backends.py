from axes.backends import AxesStandaloneBackend
from django.contrib.auth import backends as auth_backends
from django.contrib.auth.models import Permission
from django.db.models import Q


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with an HTTP request.

    ``authenticate()`` without a request (the shell, the test client's
    ``login()``) is not a web sign-in: nobody can guess passwords through it,
    so it passes on to ``ModelBackend`` instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ModelBackend(auth_backends.ModelBackend):
    """Django's ``ModelBackend``, reading a user's permissions in one query, not two.

    Every page asks ``has_perm`` (menus, the sensitive-data rule, list filters);
    Django loads the user's own and their groups' permissions by two queries per
    request. One query with both is what each request pays instead.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = Permission.objects.filter(
                    Q(user=user_obj) | Q(group__user=user_obj)
                ).distinct()
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list("content_type__app_label", "codename")
            }
        return user_obj._perm_cache
