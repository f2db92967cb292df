"""The discovery registries refuse declarations that would silently break a page or the demo."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from communities.models import Person
from communities.plugins import add_queryset_methods, person_page
from relocation import demo as demo_registry
from relocation.demo import DemoStep
from relocation.spreadsheets import kinds as kind_registry
from relocation.spreadsheets.kinds import Kind


@pytest.fixture
def demo_steps():
    saved = dict(demo_registry._STEPS)
    yield demo_registry
    demo_registry._STEPS.clear()
    demo_registry._STEPS.update(saved)


def _build(context):
    return ()


def test_demo_steps_run_in_order_with_communities_first():
    keys = [step.key for step in demo_registry.steps()]
    assert keys[0] == "communities" and keys[-1] == "dashboards"
    for satellite in (
        "services_places",
        "services_protection",
        "governance_org",
        "monitoring",
    ):
        assert keys.index("employment") < keys.index(satellite) < keys.index("dashboards")


def test_a_demo_step_needing_a_missing_step_is_refused(demo_steps):
    demo_steps.register(DemoStep("orphan", build=_build, order=50, after=("nowhere",)))
    with pytest.raises(ImproperlyConfigured, match="orphan"):
        demo_steps.steps()


def test_a_demo_step_ordered_before_what_it_needs_is_refused(demo_steps):
    demo_steps.register(DemoStep("early", build=_build, order=5, after=("communities",)))
    with pytest.raises(ImproperlyConfigured, match="early"):
        demo_steps.steps()


def test_removing_dependents_goes_last_first_and_spares_the_rest(demo_steps):
    removed = []

    def step(key, order, after=()):
        return DemoStep(
            key, build=_build, remove=lambda: removed.append(key), order=order, after=after
        )

    demo_steps._STEPS.clear()
    for declared in (
        step("root", 10),
        step("a", 30, after=("root",)),
        step("b", 40, after=("a",)),
        step("c", 50),
    ):
        demo_steps.register(declared)
    demo_steps.remove_dependents("root")
    assert removed == ["b", "a"]  # not root itself, and c does not build on it
    removed.clear()
    demo_steps.remove_all()
    assert removed == ["c", "b", "a", "root"]


class _Twin(Kind):
    key = "roster"
    label = "twin"


class _Nameless(Kind):
    key = ""


def test_a_second_kind_with_a_taken_key_is_refused():
    before = kind_registry.get_kind("roster")
    with pytest.raises(ImproperlyConfigured, match="roster"):
        kind_registry.register(_Twin)
    with pytest.raises(ImproperlyConfigured, match="no key"):
        kind_registry.register(_Nameless)
    assert kind_registry.get_kind("roster") is before


def test_a_satellite_cannot_hide_a_core_queryset_method():
    class Hiding:
        def visible_to(self, user):  # pragma: no cover - never attached
            return self

    original = type(Person.objects.all()).visible_to
    with pytest.raises(ImproperlyConfigured, match="visible_to"):
        add_queryset_methods(Person, Hiding)
    assert type(Person.objects.all()).visible_to is original


def test_employment_rules_are_on_the_core_querysets():
    assert callable(Person.objects.labour_force)
    assert callable(Person.objects.all().employment_summary)


def test_a_page_cannot_extend_what_sections_do_not_offer():
    with pytest.raises(ImproperlyConfigured, match="list_display"):
        person_page.extend("list_display", ())


def test_indicator_texts_come_in_the_active_language_and_follow_changes():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from relocation.dashboards.registry import Indicator, registry

    with translation.override("zh-hans"):
        rate = registry.localized()["employment_rate"]
        assert type(rate.label) is str and rate.label == "就业率"
        assert rate.unit == "%" and rate.numerator == "employed"
        assert registry.localized() is registry.localized()  # made once
    with translation.override("en"):
        assert registry.localized()["employment_rate"].label == "Employment rate"
    extra = Indicator(
        key="test_localized", label=gettext_lazy("其他"), section="employment", total="employed"
    )
    registry.register(extra)
    try:
        with translation.override("en"):
            assert registry.localized()["test_localized"].label == "Other"
            assert "test_localized" in [i.key for i in registry.in_section("employment")]
    finally:
        registry.indicators.pop("test_localized")
    with translation.override("en"):
        assert "test_localized" not in registry.localized()
