"""Programme views: the dashboard laid out by a programme's themes instead of sections.

A ``ProgrammeView`` (seed 000's 六心社区, seed 001's 五个体系, seed 004's 六抓 …) is data
an administrator edits in the admin: ordered themes, each an ordered list of
indicator keys.  ``apply`` rearranges a built ``Dashboard`` by such a view: its
cards become the themes' cards, its table's columns the view's column indicators,
so the page, its print layout and its .xlsx export all follow the view while the
figures, scope and period are those of the default page.

A layout may name indicators whose app is not installed yet (the catalogue keys
below): they are kept and shown once an app registers them.
"""

from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_lazy as _

from . import links
from .dashboard import Card
from .registry import registry

# Keys of the indicator catalogue provided by apps still being built (services,
# governance): a view may list them before those apps land.
CATALOGUE_KEYS = frozenset(
    {
        # services
        "facilities_by_kind",
        "standard_coverage_rate",
        "teachers",
        "medical_staff",
        "medical_insurance_rate",
        "pension_insurance_rate",
        "dibao_urban",
        "dibao_rural",
        "school_age_children",
        "in_school_rate",
        "funding_total",
        # culture
        "activities_by_kind",
        "activity_participants",
        "honours_by_kind",
        # governance
        "grid_units",
        "grid_workers",
        "households_per_grid_worker",
        "building_heads",
        "party_orgs_by_kind",
        "party_members",
        "party_members_developed",
        "paired_cadres",
        "paired_households",
        "pairing_rate",
        "visits",
        "petitions_received",
        "petitions_resolved",
        "petition_resolution_rate",
        "petition_avg_days",
        "petitions_overdue",
        "monitored_households_by_kind",
        "risk_eliminated",
        "open_alerts",
        "safety_trainings",
        "fire_drills",
    }
)


def known_indicator_keys():
    return set(registry.indicators) | CATALOGUE_KEYS


def indicator_choices():
    """(key, label) for the admin's drop-down: registered indicators, then announced ones."""
    choices = [
        (key, f"{indicator.label}（{key}）")
        for key, indicator in sorted(
            registry.indicators.items(), key=lambda kv: registry.sections[kv[1].section].order
        )
    ]
    pending = sorted(CATALOGUE_KEYS - set(registry.indicators))
    choices += [(key, _("%(key)s（模块安装后显示）") % {"key": key}) for key in pending]
    return choices


@dataclass(frozen=True)
class Theme:
    """A theme shown like a dashboard section (``theme`` is the view's name)."""

    key: str
    label: str
    theme: str
    description: str = ""
    hidden: int = 0  # indicators named but not installed


@dataclass
class Programme:
    view: object
    themes: list  # [(Theme, [Card])]


@dataclass
class View:
    """An active programme view with its layout, as read by ``active_views``."""

    pk: int
    key: str
    name: str
    description: str
    themes: dict = field(default_factory=dict)  # {pk: (pk, name, description, [keys])}


def active_views():
    """The views offered beside the default dashboard, each with its whole layout.

    One query (views joined with their themes and items): a page needs the list for
    its selector and the chosen view's layout, and layouts are small.
    """
    from .models import ProgrammeView

    rows = (
        ProgrammeView.objects.filter(active=True)
        .order_by(
            "order",
            "pk",
            "themes__order",
            "themes__pk",
            "themes__items__order",
            "themes__items__pk",
        )
        .values_list(
            "pk",
            "key",
            "name",
            "description",
            "themes__pk",
            "themes__name",
            "themes__description",
            "themes__items__indicator",
        )
    )
    views = {}
    for pk, key, name, description, theme_pk, theme, theme_description, indicator in rows:
        view = views.setdefault(pk, View(pk, key, name, description))
        if theme_pk is None:
            continue
        keys = view.themes.setdefault(theme_pk, (theme_pk, theme, theme_description, []))[3]
        if indicator:
            keys.append(indicator)
    return list(views.values())


def selected_view(views, key):
    """The active view named ``key``, or None (the default dashboard)."""
    return next((view for view in views if key and view.key == key), None)


def layout(view):
    """[(theme pk, name, description, [indicator key])] in order."""
    return list(view.themes.values())


def _cards(dash, indicator):
    """The cards of one indicator: its own, or one per item of a breakdown."""
    values = dash.total.values if dash.total else {}
    previous = dash.previous_values
    if indicator.breakdown:
        items = next((items for i, items in dash.breakdowns if i.key == indicator.key), [])
        return [
            Card(
                replace(
                    indicator,
                    key=f"{indicator.key}:{label}",
                    label=f"{indicator.label} · {label}",
                    breakdown=None,
                    total=component,
                ),
                value,
                link=link,
            )
            for (label, value, link), (_label, component) in zip(
                items, indicator.breakdown, strict=False
            )
        ]
    for _section, cards in [*dash.sections, *dash.details]:
        for card in cards:
            if card.indicator.key == indicator.key:
                return [card]
    link = ""
    if dash.area.is_settlement and indicator.link and dash.window:
        link = indicator.link(links.settlement_area(dash.area.settlement.pk), dash.window)
    return [Card(indicator, values.get(indicator.key), previous.get(indicator.key), link)]


def apply(dash, view):
    """Lay ``dash`` out by ``view``: themed cards, and the view's columns in the table."""
    themes = []
    shown = []
    for pk, name, description, keys in layout(view):
        installed = [registry.indicators[key] for key in keys if key in registry.indicators]
        cards = []
        if dash.period is not None:
            for indicator in installed:
                cards += _cards(dash, indicator)
        themes.append(
            (
                Theme(
                    key=f"theme{pk}",
                    label=name,
                    theme=view.name,
                    description=description,
                    hidden=len(keys) - len(installed),
                ),
                cards,
            )
        )
        shown += [i.key for i in installed if i.column and i.key not in shown]
    dash.programme = Programme(view, themes)
    dash.sections = themes
    if dash.details:
        dash.details = themes
    if shown and dash.columns:
        dash.columns = [registry.indicators[key] for key in shown]
        for row in [*dash.rows, *([dash.total] if dash.total else [])]:
            by_key = {cell.indicator.key: cell for cell in row.cells}
            row.cells = [by_key[key] for key in shown if key in by_key]
    return dash
