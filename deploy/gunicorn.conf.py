"""gunicorn settings for the web service (docs/production.md).

Every value can be changed from the environment of the service, so that the
systemd unit and ``make serve`` use this one file.

- ``GUNICORN_BIND``: where to listen (default ``127.0.0.1:8000``; a reverse
  proxy on the same machine terminates HTTPS and forwards to it).
- ``WEB_CONCURRENCY``: worker processes (default: 2 × cores + 1).  Pages spend
  their time in Python (rendering) and in PostgreSQL, so synchronous workers,
  one request each, several per core.
- ``GUNICORN_TIMEOUT``: seconds a request may take before its worker is
  replaced (default 120: a large export of a whole county takes tens of seconds).
- ``DATABASE_STATEMENT_TIMEOUT_MS``: how long one query of a web request may run
  on PostgreSQL (default: 5 s less than ``GUNICORN_TIMEOUT``).  A replaced worker
  leaves its query running on the server until it ends, which could be minutes;
  cancelled first, the user gets a page that says so (relocation.query_timeout)
  and the server is free.  The job worker is not started here and keeps no limit.
"""

import multiprocessing
import os

wsgi_app = "relocation.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
# Read by relocation.settings in each worker process (loaded after the fork).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", str(max(timeout - 5, 1) * 1000))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (bounded memory growth), not all at once.
max_requests = 2000
max_requests_jitter = 200
# The reverse proxy on this machine tells whether the request came over HTTPS
# (X-Forwarded-Proto, see SECURE_PROXY_SSL_HEADER); nobody else is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Access log to stdout (the journal); no query strings carry personal data here.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "relocation-web"
# No control socket in the service user's home (systemd: ProtectHome); signals do the same:
# HUP reloads, TTIN/TTOU add or remove a worker, TERM stops gracefully.
control_socket_disable = True
