"""Today and tomorrow for tests, read when a test runs.

A module constant ``TODAY = timezone.localdate()`` is read when pytest imports
the module: a run that crosses midnight in Asia/Shanghai (16:00 UTC) then
compares a page's today with yesterday.
"""

import datetime

from django.utils.timezone import localdate as today

__all__ = ["today", "tomorrow"]


def tomorrow():
    return today() + datetime.timedelta(days=1)
