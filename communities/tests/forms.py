"""Posting admin pages by hand in tests: the other apps' inline tables, left empty."""


def empty_inlines(response, data):
    """``data`` plus empty management forms of every inline table ``response`` rendered.

    The household and person pages carry tables that other apps add (jobs, benefits,
    rights …); a test that posts the core's fields by hand leaves those tables empty,
    as a user who does not touch them would. Only for tables with no existing rows.
    """
    filled = dict(data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        if f"{prefix}-TOTAL_FORMS" in filled:
            continue
        assert formset.initial_form_count() == 0, prefix
        filled.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return filled
