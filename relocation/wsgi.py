"""
WSGI config for relocation project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings")

application = get_wsgi_application()

# What start-up loaded (Django, the apps, the indicator registry) lives as long
# as the process.  Frozen, it is left out of the garbage collector's full passes,
# which otherwise walk it every few dozen requests: measured on the county
# dashboard at 2 million people, those passes turned a 140 ms page into 210-300 ms
# (the p95).  gc.freeze() is the standard library's answer (also before a fork:
# the pages stay shared between gunicorn's workers).
gc.freeze()
