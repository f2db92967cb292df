from django import template

from relocation.dashboards.dashboard import with_unit as _with_unit
from relocation.dashboards.dashboard import without_unit as _without_unit

register = template.Library()


@register.filter
def with_unit(item):
    """``{{ column|with_unit }}``: its label and unit, 「就业率（%）」 (``dashboard.with_unit``)."""
    return _with_unit(item.label, item.unit)


@register.filter
def without_unit(item):
    """``{{ card.indicator|without_unit }}``: its label without a trailing unit, for a value
    shown with its unit beside it (「投入资金」 … 「456.26 万元」)."""
    return _without_unit(item.label, item.unit)
