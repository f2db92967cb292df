"""Links from a settlement's figure to the admin list of the rows behind it.

The admin lists apply the user's scope themselves, so a link can never show
rows outside it; these helpers only build the filtered URL.
"""

from urllib.parse import urlencode

from django.urls import reverse


def changelist(model, **params):
    """``changelist("communities.household", settlement__id__exact=3)`` → URL."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def households(settlement_id, **params):
    return changelist("communities.household", settlement__id__exact=settlement_id, **params)


def persons(settlement_id, **params):
    return changelist("communities.person", settlement=settlement_id, **params)
