"""docs/indicators.md is generated from the registry and kept up to date."""

import pytest
from django.core.management import CommandError, call_command

from relocation.dashboards import catalogue
from relocation.dashboards.registry import Indicator, registry


def test_committed_catalogue_is_up_to_date():
    # Fails when an indicator is added or changed without `manage.py write_indicator_docs`.
    call_command("write_indicator_docs", "--check")


def test_every_indicator_is_in_the_catalogue_with_its_formula():
    text = catalogue.render()
    for indicator in registry.indicators.values():
        line = next(line for line in text.splitlines() if line.startswith(f"| `{indicator.key}` |"))
        assert str(indicator.label) in line
        for component in indicator.components:
            assert f"`{component}`" in line


def test_a_rate_is_documented_as_a_ratio_of_sums():
    rate = next(i for i in registry.indicators.values() if i.numerator and i.unit == "%")
    assert f"Σ `{rate.numerator}` ÷ Σ `{rate.denominator}` × 100" in catalogue._formula(rate)


def test_check_fails_when_the_registry_changes(monkeypatch):
    section = next(iter(registry.sections))
    extra = Indicator(
        key="zz_new_figure", label="新指标", section=section, total="persons", description="测试"
    )
    monkeypatch.setitem(registry.indicators, extra.key, extra)
    assert "`zz_new_figure`" in catalogue.render()
    with pytest.raises(CommandError, match="write_indicator_docs"):
        call_command("write_indicator_docs", "--check")


def test_every_english_label_of_the_dashboards_begins_with_a_capital():
    """Labels that are a model field's name ("planned households") head cards, rows
    and sections like the others ("Planned households")."""
    from django.utils import translation

    from relocation.dashboards.registry import registry

    with translation.override("en"):
        texts = [("section", s.key, str(s.label)) for s in registry.ordered_sections()]
        for indicator in registry.localized().values():
            texts.append(("indicator", indicator.key, indicator.label))
            texts += [("item", indicator.key, str(x)) for x, _c in indicator.breakdown or ()]
        texts += [("table", t.key, str(t.label)) for t in registry.tables.values()]
    lower = [text for text in texts if text[2][:1].islower()]
    assert lower == []
    assert ("indicator", "planned_households", "Planned households") in texts


def test_english_units_name_what_the_figure_counts():
    """个 counts settlements, facilities, grid units and party organisations alike;
    English names each by its noun, and only settlements as "settlements"."""
    from django.utils import translation

    from relocation.dashboards.registry import registry

    with translation.override("en"):
        units = {key: indicator.unit for key, indicator in registry.localized().items()}
    assert units["settlements"] == "settlements"
    assert (units["facilities"], units["facilities_by_kind"]) == ("facilities", "facilities")
    assert units["grid_units"] == "grid units"
    assert units["party_orgs_by_kind"] == "organisations"
    wrong = [
        key for key, unit in units.items() if unit == "settlements" and "settlement" not in key
    ]
    assert wrong == []
    with translation.override("zh-hans"):
        chinese = {key: indicator.unit for key, indicator in registry.localized().items()}
    assert {chinese[k] for k in ("settlements", "facilities", "grid_units")} == {"个"}
