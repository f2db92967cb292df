"""``{% spreadsheet_links opts %}``: import/template/export links for an admin change list."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

register = template.Library()

#: model label -> file kind
MODEL_KINDS = {
    "communities.settlement": "settlement",
    "communities.building": "building",
    "communities.gridunit": "grid",
    "communities.household": "roster",
    "communities.person": "roster",
    "employment.employer": "employer",
    "employment.employmentrecord": "employment",
    "employment.householdincome": "income",
}


@register.simple_tag(takes_context=True)
def spreadsheet_links(context, opts):
    from ..kinds import get_kind

    request = context.get("request")
    key = MODEL_KINDS.get(getattr(opts, "label_lower", ""))
    if request is None or key is None:
        return []
    kind = get_kind(key)
    user = request.user
    links = []
    if kind.may_import(user):
        links.append(
            (
                _("导入%(label)s") % {"label": kind.label},
                f"{reverse('spreadsheets:index')}?kind={key}",
            )
        )
    if kind.may_import(user) or kind.may_export(user):
        links.append((_("下载模板"), reverse("spreadsheets:template", args=[key])))
    return links
