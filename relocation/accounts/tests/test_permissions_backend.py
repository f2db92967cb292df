"""The permissions backend: Django's answers, in one query instead of two."""

import pytest
from django.contrib.auth import backends as django_backends
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.roles import Role
from relocation.accounts.backends import ModelBackend

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_the_same_permissions_as_djangos_backend(make_user, region_tree, superuser):
    users = [
        make_user(Role.COMMUNITY_WORKER, perms=["communities.export_person"]),
        make_user(Role.COUNTY_OFFICIAL, regions=[region_tree.xingyi]),
        make_user(perms=["communities.view_household"]),  # own permissions only
        make_user(),  # none
        superuser,
    ]
    for user in users:
        ours = ModelBackend().get_all_permissions(fresh(user))
        django = django_backends.ModelBackend().get_all_permissions(fresh(user))
        assert ours == django and (ours or not user.is_superuser)
    inactive = make_user(Role.COUNTY_OFFICIAL, is_active=False)
    assert ModelBackend().get_all_permissions(fresh(inactive)) == set()


def test_one_query_per_request_for_every_has_perm(make_user):
    user = fresh(make_user(Role.COMMUNITY_WORKER, perms=["communities.export_person"]))
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("communities.export_person")  # a user permission
        assert user.has_perm("communities.change_household")  # a group permission
        assert not user.has_perm("communities.delete_region")
    assert len(queries) == 1
