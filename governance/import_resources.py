"""The import page's layouts of governance files as django-import-export resources.

The 防返贫监测对象 and 利益诉求 lists export in these layouts (current filter or
selected rows; the 工作清单 links 超期未办结的监测对象 and 超期诉求 to them): the
columns of the import template, masked as the import page's exports are, and
re-importable unchanged through 表格导入导出.
"""

from relocation.spreadsheets.resources import kind_resource

MonitoringSheetResource = kind_resource("monitoring_record")
PetitionSheetResource = kind_resource("petition")
