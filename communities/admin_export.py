"""Exports of the admin's lists (django-import-export): one mixin for every list that has 导出.

* The rows are the list's own: the admin's scoped, filtered queryset, and of the rows
  ticked for the 导出 action only those in it (a posted id outside the user's area is
  dropped).
* Personal data is masked unless the user may see it (the resources read
  ``reveal_sensitive``; ``communities.audit`` records what was shown).
* The page chooses .xlsx, the format the offices open (django-import-export chooses
  none when it offers several).
* An export of more than ``EXPORT_INLINE_MAX_ROWS`` rows is made by the job worker
  (``relocation.spreadsheets.exports``): the page goes to the export job, which
  shows its progress and then the file to download.
* The file is named as the import page names its exports: the export's own name and
  the local time, ``搬迁户基本信息-20261206-0930.xlsx`` (django-import-export names it
  ``Household-2026-12-05.xlsx``: the class name and the server's UTC date).
"""

import re

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from import_export import admin, forms

from relocation.spreadsheets import exports, progress

from .admin_scope import may_view_sensitive

#: What Windows refuses in a file name (a browser would change it on its own).
NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|]')


class ExportForm(forms.ExportForm):
    """The admin's export form with .xlsx chosen."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        for value, title in self.fields["format"].choices:
            if title == "xlsx":
                self.initial.setdefault("format", value)


class ScopedExportMixin(admin.ExportActionMixin):
    """Export of the current (scoped, filtered) list or of selected rows, masked."""

    export_form_class = ExportForm

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"reveal_sensitive": may_view_sensitive(request.user)}

    def export_admin_action(self, request, queryset):
        """导出 of the ticked rows; of 「选择全部」 the list's own export.

        With every row of every page chosen, django-import-export would write each id
        into the form (229,219 hidden fields for a prefecture's list, which Django then
        refuses to read back: ``DATA_UPLOAD_MAX_NUMBER_FIELDS``).  Those rows are the
        list as filtered, which its 导出 exports without naming them.
        """
        if request.POST.get("select_across") == "1":
            opts = self.model._meta
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_export")
            return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
        return super().export_admin_action(request, queryset)

    def get_data_for_export(self, request, queryset, **kwargs):
        # Numbers and dates go into a workbook as numbers and dates (Excel sums an income
        # column and sorts by date).  django-import-export asks for that only for its own
        # format classes (``type(format) in BINARY_FORMATS``), not for our .xlsx
        # (``relocation.spreadsheets.formats.XLSX``), which would get them as text.
        if self._chosen_format(kwargs.get("export_form")).is_binary():
            kwargs["force_native_type"] = True
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        # The .xlsx sheet is named after the export, not tablib's 「Tablib Dataset」.
        resource = self.choose_export_resource_class(kwargs.get("export_form"), request)
        dataset.title = str(resource.get_display_name())
        return dataset

    def _chosen_format(self, export_form):
        """The format picked on the export form (the only one, without a form)."""
        formats = self.get_export_formats()
        data = getattr(export_form, "cleaned_data", None) or {}
        choice = str(data.get("format", ""))
        return formats[int(choice) if choice.isdigit() else 0]()

    def get_valid_export_item_pks(self, request):
        posted = [pk for pk in request.POST.getlist("export_items") if pk.isdigit()]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)

    def export_file_name(self, request, file_format, export_form=None):
        """``<the export's name>-<local date and time>.<extension>``."""
        resource = self.choose_export_resource_class(export_form, request)
        name = NOT_IN_FILE_NAMES.sub("_", str(resource.get_display_name()))
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{name}-{stamp}.{file_format.get_extension()}"

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if progress.in_worker():
            progress.expect(queryset)
        elif exports.too_many_rows(queryset):
            resource = self.choose_export_resource_class(export_form, request)
            try:
                job = exports.start_list_export(
                    request,
                    self.model,
                    name=resource.get_display_name(),
                    file_name=self.export_file_name(request, file_format, export_form),
                    file_format=file_format.get_extension(),
                )
            except exports.TooManyExports as refused:
                messages.error(request, str(refused))
                return redirect("spreadsheets:exports")
            return redirect(exports.job_url(job))
        response = super()._do_file_export(file_format, request, queryset, export_form)
        # A Chinese name goes in filename* (RFC 6266), which every browser reads: the
        # quoted filename= that django-import-export writes is for ASCII only.
        response["Content-Disposition"] = content_disposition_header(
            True, self.export_file_name(request, file_format, export_form)
        )
        return response
