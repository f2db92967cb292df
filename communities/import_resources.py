"""The import page's roster layout as a django-import-export resource.

An export of the person list in this layout has the columns of the 花名册
template and re-imports unchanged through 表格导入导出.
"""

from relocation.spreadsheets.resources import kind_resource

RosterResource = kind_resource("roster")
