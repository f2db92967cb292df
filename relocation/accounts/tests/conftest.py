import pytest
from django.urls import reverse

from communities.roles import Role


@pytest.fixture
def xingyi_admin(region_tree, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[region_tree.xingyi], username="xy_admin")


@pytest.fixture
def xingyi_official(region_tree, make_user):
    return make_user(Role.COUNTY_OFFICIAL, regions=[region_tree.xingyi], username="xy_official")


@pytest.fixture
def zhongshan_official(region_tree, make_user):
    return make_user(Role.COUNTY_OFFICIAL, regions=[region_tree.zhongshan], username="zs_official")


@pytest.fixture
def sign_in():
    """``sign_in(client, username, password, address="10.1.1.1")`` through the login page."""

    def post(client, username, password, address="10.1.1.1", next_url="/admin/"):
        return client.post(
            reverse("admin:login"),
            {"username": username, "password": password, "next": next_url},
            REMOTE_ADDR=address,
        )

    return post
