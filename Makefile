# Local Social — the front door.  `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/localsocial
HOST ?= 127.0.0.1
PORT ?= 8000
export LOCALSOCIAL_HOME := $(CURDIR)

.PHONY: run setup assets test test-sqlite test-postgres test-future lint browser-deps bench bench-stories demo worker clean messages

run: setup ## Set everything up, load the demo on SQLite, serve http://127.0.0.1:8000
	DEBUG=1 $(BIN)/localsocial migrate --no-input
	DEBUG=1 $(BIN)/localsocial createcachetable
	DEBUG=1 $(BIN)/localsocial demo
	DEBUG=1 TASKS_BACKEND=immediate $(BIN)/localsocial runserver $(HOST):$(PORT)

setup: $(STAMP_PY) $(STAMP_NPM) assets

$(STAMP_PY): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(STAMP_NPM): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

assets: $(STAMP_NPM)
	npm run --silent build
	$(BIN)/pybabel compile -D django -d src/localsocial/locale

browser-deps:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup browser-deps lint test-sqlite test-postgres ## Everything: lint, SQLite, then PostgreSQL

lint: $(STAMP_PY)
	$(BIN)/ruff check src tests bench
	LOCALSOCIAL_TESTING=1 $(BIN)/mypy src
	$(BIN)/lint-imports  # the import contracts in pyproject.toml

test-sqlite: setup
	$(BIN)/pytest -p no:cacheprovider -n 2 --dist loadgroup

test-postgres: setup
	@if $(PY) -c "import psycopg,sys,os; psycopg.connect(os.environ.get('DATABASE_URL','$(PG_URL)').rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(BIN)/pytest -p no:cacheprovider -n 2 --dist loadgroup; \
	else echo "PostgreSQL is not reachable at $(PG_URL): skipping the PostgreSQL run"; fi

# The suite on SQLite with the system clock moved on (libfaketime; FUTURE=730d for two years):
# no test may depend on today's date.  Browser tests are left out: Chromium is not run under it.
FUTURE ?= 365d
test-future: setup
	@command -v faketime >/dev/null 2>&1 || { echo "faketime is not installed (Debian: apt-get install faketime)"; exit 1; }
	faketime -f '+$(FUTURE)' $(BIN)/pytest -p no:cacheprovider -n 2 --dist loadgroup -m 'not browser'

messages: $(STAMP_PY) ## Extract strings and update the Welsh catalogue (then translate, then `make assets`)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k gettext_lazy -k gettext_noop -k ngettext:1,2 -k pgettext:1c,2 -k pgettext_lazy:1c,2 --no-location --sort-output -o var/django.pot .
	test -f src/localsocial/locale/cy/LC_MESSAGES/django.po \
	  && $(BIN)/pybabel update -D django -d src/localsocial/locale -l cy -i var/django.pot --no-fuzzy-matching \
	  || $(BIN)/pybabel init -D django -d src/localsocial/locale -l cy -i var/django.pot

worker:
	$(BIN)/localsocial db_worker

demo: setup
	DEBUG=1 $(BIN)/localsocial migrate --no-input
	DEBUG=1 $(BIN)/localsocial demo

bench: setup
	bash bench/run.sh

bench-stories: setup ## Stories pages at 10k, 100k and 1M stories (PostgreSQL; slow: generates the data)
	bash bench/stories.sh

clean:
	rm -rf $(VENV) node_modules build var
