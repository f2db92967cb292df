#!/bin/sh
# `make serve`: the production start on this machine (docs/production.md, "Try it on one machine").
# gunicorn with several worker processes, DEBUG off, static files by whitenoise, PostgreSQL,
# and the job worker beside it (run_worker starts it again whenever it exits).
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}

# Keys for this machine, made once and kept (outside git): the encrypted ID numbers and
# phones in the database can only be read with the keys they were written with.
ENV_FILE=${ENV_FILE:-.make/serve.env}
if [ ! -f "$ENV_FILE" ]; then
    mkdir -p "$(dirname "$ENV_FILE")"
    "$BIN/python" - "$ENV_FILE" <<'PY'
import base64, os, secrets, sys
key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()
with open(sys.argv[1], "w") as out:
    out.write(
        "# Written by `make serve` for this machine only: plain http on 127.0.0.1.\n"
        "# Never copy this file to a server (docs/production.md has the real one).\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"PII_ENCRYPTION_KEYS={key()}\n"
        f"PII_HASH_KEY={key()}\n"
        "ALLOWED_HOSTS=127.0.0.1,localhost\n"
        "SECURE_SSL_REDIRECT=false\nSESSION_COOKIE_SECURE=false\nCSRF_COOKIE_SECURE=false\n"
        "SECURE_HSTS_SECONDS=0\n"
    )
os.chmod(sys.argv[1], 0o600)
PY
    echo "wrote $ENV_FILE (keys for this machine; keep it)"
fi
export ENV_FILE DEBUG=false
# As in production (deploy/relocation.env.example): dashboards are refreshed by the job worker.
export DASHBOARD_INLINE_LIMIT="${DASHBOARD_INLINE_LIMIT:-0}"
# As in production: the web processes share the dashboard bodies, in a directory of the
# checkout that only this user can read.
export DASHBOARD_CACHE_URL="${DASHBOARD_CACHE_URL:-filecache://$PWD/.make/dashboards}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/relocation}"
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:8000}"

"$BIN/python" -m relocation.ops.ensure_database
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py load_regions
if [ -n "${DEMO:-}" ]; then "$BIN/python" manage.py load_demo; fi
"$BIN/python" manage.py collectstatic --noinput --verbosity 0

cat <<MSG

  Production start: gunicorn (${WEB_CONCURRENCY:-2 x cores + 1} worker processes) on http://$GUNICORN_BIND/
  database:  $DATABASE_URL
  health:    http://$GUNICORN_BIND/healthz   http://$GUNICORN_BIND/readyz
  first administrator:  ENV_FILE=$ENV_FILE DEBUG=false DATABASE_URL=$DATABASE_URL $BIN/python manage.py createsuperuser
  (or run DEMO=1 make serve once for the demo prefecture and its logins)
  Ctrl-C stops the web server and the job workers.

MSG

# As in production (deploy/relocation-worker*.service): one worker for every queue and one
# for spreadsheet imports alone, which never wait behind a large export or a snapshot.
"$BIN/python" manage.py run_worker --queue-name '*' &
worker=$!
"$BIN/python" manage.py run_worker --queue-name imports &
imports=$!
trap 'kill $worker $imports 2>/dev/null' EXIT INT TERM
"$BIN/gunicorn" --config deploy/gunicorn.conf.py
