"""Admin forms of the employment app."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from communities.validators import mask_phone

from .models import Employer, EmploymentRecord, HouseholdIncome


class EmploymentRecordInlineForm(forms.ModelForm):
    """One job in the person's employment table.

    The overlap of exclusive jobs is checked by ``EmploymentRecordFormSet``
    over all rows together: checking each row against the database alone
    would reject the usual edit "close the old job and add the next one"
    (the old row is still open in the database) and miss two new rows that
    overlap each other.
    """

    class Meta:
        model = EmploymentRecord
        fields = (
            "kind",
            "employer",
            "employer_name",
            "position",
            "place",
            "monthly_income",
            "start_date",
            "end_date",
            "found_via",
        )

    def _post_clean(self):
        # Shadow the method on this instance only; the formset calls the class's.
        self.instance.overlapping_exclusive = lambda others=None: None
        try:
            super()._post_clean()
        finally:
            del self.instance.overlapping_exclusive


def overlap_error(other):
    return ValidationError(
        _(
            "该人员在%(start)s起已有一份“%(kind)s”就业记录（%(employer)s），"
            "时间与本记录重叠；请先填写那份工作的结束日期。"
        ),
        code="overlapping_job",
        params={
            "start": other.start_date.isoformat(),
            "kind": other.get_kind_display(),
            "employer": other.employer_label or "—",
        },
    )


class OptionalTableFormSet(forms.BaseInlineFormSet):
    """A table added to an existing page: a submit without it leaves its rows alone.

    Browsers always send the table's management form; a script or an older
    client that posts only the person's or household's own fields must not
    fail because a table was added to the page, and it changes no row.
    """

    @cached_property
    def management_form(self):
        if self.is_bound and f"{self.prefix}-{TOTAL_FORM_COUNT}" not in self.data:
            form = ManagementForm(
                {f"{self.prefix}-{TOTAL_FORM_COUNT}": 0, f"{self.prefix}-{INITIAL_FORM_COUNT}": 0},
                auto_id=self.auto_id,
                prefix=self.prefix,
                renderer=self.renderer,
            )
            form.full_clean()
            return form
        return super().management_form


class EmploymentRecordFormSet(OptionalTableFormSet):
    """A person's jobs: no two exclusive jobs overlap, counting rows as submitted."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept, submitted_pks = [], set()
        for form in self.forms:
            if form.instance.pk:
                submitted_pks.add(form.instance.pk)
            if not getattr(form, "cleaned_data", None):
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            kept.append(form)
        # Rows of this person that the formset does not show (none today, but
        # an inline queryset may be narrowed later) still count.
        stored = []
        if self.instance.pk:
            stored = list(
                EmploymentRecord.objects.filter(person=self.instance).exclude(pk__in=submitted_pks)
            )
        for index, form in enumerate(kept):
            others = stored + [f.instance for f in kept[:index]]
            row = form.instance
            person_id = row.person_id
            if person_id is None:
                # A person being added has no id yet; the method needs one to
                # compare at all, and ``others`` holds only this person's rows.
                row.person_id = -1
            try:
                overlap = EmploymentRecord.overlapping_exclusive(row, others=others)
            finally:
                row.person_id = person_id
            if overlap is not None:
                form.add_error(None, overlap_error(overlap))


class HouseholdIncomeFormSet(OptionalTableFormSet):
    pass


class HouseholdIncomeInlineForm(forms.ModelForm):
    class Meta:
        model = HouseholdIncome
        fields = (
            "year",
            "wage_income",
            "business_income",
            "transfer_income",
            "property_income",
            "costs",
            "household_size",
            "notes",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, the model takes the current number of members.
        self.fields["household_size"].required = False


class EmployerForm(forms.ModelForm):
    """Employers: the contact phone is personal data like any other phone.

    For users without the sensitive-data permission a stored phone is shown
    masked as the placeholder of an empty input; leaving it empty keeps it.
    """

    reveal_sensitive = True  # set per request by the admin

    class Meta:
        model = Employer
        fields = Employer.EDIT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.contact_phone if self.instance.pk else ""
        field = self.fields.get("contact_phone")
        if self.reveal_sensitive or not stored or field is None:
            return
        self.initial["contact_phone"] = ""
        field.widget.attrs["placeholder"] = mask_phone(stored)
        field.help_text = _("已隐藏；留空则保持原值，输入新值则更新。")

    def _post_clean(self):
        keep_stored = not self.reveal_sensitive and self.instance.pk
        if keep_stored and not self.cleaned_data.get("contact_phone", "x"):
            self.cleaned_data["contact_phone"] = self.instance.contact_phone
        super()._post_clean()
