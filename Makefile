# Two commands: `make run` (install, migrate, demo data, serve on 127.0.0.1:8000)
# and `make test` (install test needs, lint, the whole suite on SQLite and on PostgreSQL, the two side by side:
# each is one process, and each output is printed whole when its run ends; then the failover test).
PYTHON ?= python3
VENV   := .venv
UV     := $(VENV)/bin/uv
FM     := $(VENV)/bin/fissionmall
PYTEST := $(VENV)/bin/pytest -q -p no:cacheprovider
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_test

.PHONY: run install assets test test-sqlite test-postgres test-failover lint services browser screenshots clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q uv==0.13.8

install: $(UV) assets
	$(UV) sync --frozen --inexact --no-dev

# the console's charts: ECharts from the npm registry (package-lock.json), served by the mall itself
VENDOR := src/fissionmall/web/static/vendor
assets: $(VENDOR)/echarts.min.js

$(VENDOR)/echarts.min.js: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $@

run: install
	$(FM) migrate
	$(FM) demo
	$(FM) serve --host 127.0.0.1 --port 8000

# bytecode compiled once up front: every process the suite starts (the browser tests' server, the CLI and worker
# tests) would otherwise compile the whole import tree again where PYTHONDONTWRITEBYTECODE is set
test: $(UV) assets services browser
	$(UV) sync --frozen --inexact --compile-bytecode
	$(VENV)/bin/python -m compileall -q -j0 src tests
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres
	$(MAKE) --no-print-directory test-failover

lint:
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test-sqlite:
	FISSIONMALL_TEST_DB=sqlite $(PYTEST)

test-postgres:
	FISSIONMALL_TEST_DB=postgres TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PYTEST)

# alone, on a pg_auto_failover formation of its own (scripts/ha.sh, ports 5440-5442, deleted at the end): the
# primary killed during a run of orders
test-failover:
	FISSIONMALL_TEST_DB=failover $(PYTEST) tests/db/test_failover.py

services:
	bash scripts/ensure-services.sh

# every shopper page at a phone's size (390×844), as the browser journeys see them, into var/screenshots/
screenshots: $(UV) browser
	$(UV) sync --frozen --inexact
	rm -rf var/screenshots
	E2E_SCREENSHOTS=$(CURDIR)/var/screenshots FISSIONMALL_TEST_DB=sqlite $(PYTEST) tests/e2e
	@echo "screenshots in var/screenshots/"

browser:
	bash scripts/ensure-browser.sh

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)
