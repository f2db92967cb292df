"""The list paths behind figures are reversed once, but never served for another prefix."""

from django.urls import clear_script_prefix, set_script_prefix

from relocation.dashboards import links


def test_changelist_follows_the_script_prefix():
    try:
        assert links.households("s3", state="x") == "/admin/communities/household/?area=s3&state=x"
        set_script_prefix("/relocation/")  # served under a sub-path (SCRIPT_NAME)
        assert links.households("s3") == "/relocation/admin/communities/household/?area=s3"
    finally:
        clear_script_prefix()
    assert links.persons(None) == "/admin/communities/person/"
    assert links.changelist("communities.household", "4401", q="a&b") == (
        "/admin/communities/household/?area=4401&q=a%26b"
    )
