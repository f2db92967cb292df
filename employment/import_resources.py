"""The import page's layouts of employment files as django-import-export resources.

An export through one of these (from an admin list, current filter or selected
rows) has the columns of the import template and re-imports unchanged through
表格导入导出.  ``employment.resources`` keeps the report-style layouts.
"""

from relocation.spreadsheets.resources import kind_resource

EmployerSheetResource = kind_resource("employer")
EmploymentSheetResource = kind_resource("employment")
IncomeSheetResource = kind_resource("income")
