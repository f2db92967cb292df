"""The 工作台 and the side menu list the work first (relocation.admin_site)."""

import re

from django.apps import apps
from django.contrib import admin
from django.utils import translation

from communities.roles import Role

DOMAIN_APPS = ("communities", "employment", "services", "governance")


def _sections(html):
    """[(app name, [model names])] of the 工作台, in page order."""
    sections = []
    for caption, body in re.findall(
        r'<caption>\s*<a[^>]*class="section"[^>]*>([^<]+)</a>\s*</caption>(.*?)</table>', html, re.S
    ):
        names = re.findall(
            r'<th scope="row"[^>]*>\s*(?:<a[^>]*>)?([^<]+?)\s*(?:</a>)?\s*</th>', body
        )
        sections.append((caption.strip(), names))
    return sections


def test_every_model_of_a_domain_app_has_its_place_in_the_menu():
    """A model an app registers but leaves out of ``admin_menu`` would fall to the end by name:
    every new list must be placed on purpose."""
    registered = {}
    for model in admin.site._registry:
        registered.setdefault(model._meta.app_label, set()).add(model._meta.model_name)
    for label in DOMAIN_APPS:
        menu = apps.get_app_config(label).admin_menu
        assert len(menu) == len(set(menu)), label
        assert set(menu) == registered[label], label


def test_a_worker_finds_households_and_people_first(client, make_user, region_tree):
    worker = make_user(role=Role.COMMUNITY_WORKER, regions=[region_tree.xingtai])
    client.force_login(worker)
    html = client.get("/admin/").content.decode()
    sections = _sections(html)
    names = [name for name, _models in sections]
    assert names[:4] == ["安置社区", "就业与收入", "公共服务", "社区治理"], names
    communities = dict(sections)["安置社区"]
    assert communities[:2] == ["搬迁户", "家庭成员"], communities
    services = dict(sections)["公共服务"]
    assert services.index("权益落实情况") < services.index("设施种类")
    # The side menu of a list page is the same list.
    page = client.get("/admin/communities/person/").content.decode()
    menu = page[page.index('id="nav-sidebar"') :]
    assert menu.index(">搬迁户<") < menu.index(">十联户<") < menu.index(">临时救助<")


def test_the_order_holds_in_english(client, superuser):
    """The order is declared, not the names' alphabet: the same in English."""
    client.force_login(superuser)
    html = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    sections = _sections(html)
    names = [name for name, _models in sections]
    with translation.override("en"):
        expected = [str(apps.get_app_config(label).verbose_name) for label in DOMAIN_APPS]
    assert (
        names[:4]
        == expected
        == [
            "Relocation communities",
            "Employment and income",
            "Public services",
            "Community governance",
        ]
    ), names
    assert dict(sections)[names[0]][:2] == ["Relocated households", "Household members"]
    # The apps without a menu follow, by name.
    rest = names[4:]
    assert rest and rest == sorted(rest, key=str.lower), rest
