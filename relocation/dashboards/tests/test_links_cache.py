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


def test_choice_by_label_follows_the_active_language():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    choices = (("wage", gettext_lazy("工资性收入")), ("other", gettext_lazy("其他")))
    with translation.override("zh-hans"):
        assert links.choice_by_label(choices) == {"工资性收入": "wage", "其他": "other"}
    with translation.override("en"):
        by_label = links.choice_by_label(choices)
        assert by_label["Other"] == "other" and "其他" not in by_label
    with translation.override("zh-hans"):
        assert links.choice_by_label(choices)["其他"] == "other"


def test_changelist_encodes_every_kind_of_parameter():
    assert links.changelist("communities.person", "s7", on="2025-06-30", x="甲 乙") == (
        "/admin/communities/person/?area=s7&on=2025-06-30&x=%E7%94%B2+%E4%B9%99"
    )
    # An unhashable value is encoded as urlencode would (not from the cache).
    assert links.changelist("communities.person", None, ids=[1, 2]) == (
        "/admin/communities/person/?ids=%5B1%2C+2%5D"
    )
    assert links.changelist("communities.person", "s7") == "/admin/communities/person/?area=s7"
