# Telemost for Bitrix24. `make run` brings the whole stack up; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

FRONTEND := web/frontend
# With the short two-host chaos run on PostgreSQL (tests/chaos/test_chaos_postgres.py, about 50 s).
POSTGRES_TESTS := tests/unit/pipeline/test_state_transitions.py tests/api tests/integration/test_pipeline.py \
	tests/integration/test_edit_cancel.py tests/integration/test_maintenance.py tests/integration/test_api.py \
	tests/chaos/test_chaos_postgres.py
BUNDLE := web/static/dist/.vite/manifest.json

.PHONY: run test lint worker setup migrate redis frontend chromium backup bench bench-page pictures chaos hashes audit clean live-check

setup: $(STAMP) .env redis migrate frontend

# Every install checks each file against the hashes in requirements/ (`make hashes` writes them).
# (this machine's pip config names package folders that may be missing: hide only those warnings)
PIP_INSTALL = pip install --quiet --disable-pip-version-check --require-hashes
HIDE_MISSING_FOLDERS = 2>&1 | { grep -v "^WARNING: Location" || true; }

$(STAMP): requirements/*.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP_INSTALL) -r requirements/dev.txt $(HIDE_MISSING_FOLDERS)
	@touch $(STAMP)

# After changing a pin in requirements/: every file the index has for each pinned version, hashed.
hashes:
	$(PYTHON) scripts/hash-requirements.py

# A first run gets its own .env with a fresh SECRET_KEY; an existing .env is never touched.
.env:
	@sed "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))')|" .env.example > .env
	@echo "created .env from .env.example (with a new SECRET_KEY)"

# The front end: Vue 3 + Tailwind, built by Vite into web/static/dist (not committed).
frontend: $(BUNDLE)

$(BUNDLE): $(FRONTEND)/package-lock.json $(FRONTEND)/vite.config.js $(shell find $(FRONTEND)/src -type f 2>/dev/null)
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error && npm run build

chromium:
	@scripts/ensure-chromium.sh
	@scripts/ensure-nginx.sh

redis: $(STAMP) .env
	@scripts/ensure-redis.sh

migrate: $(STAMP) .env
	@$(BIN)/alembic upgrade head

run: setup
	@mkdir -p var
	@$(BIN)/python scripts/procfile.py > var/Procfile
	@$(BIN)/python scripts/urls.py
	@# Not honcho itself: it would put .env over exported settings, which `make migrate` reads the other way.
	@$(BIN)/python scripts/procfile.py start var/Procfile

worker: setup
	$(BIN)/celery -A worker.celery_app worker --pool threads --concurrency 32 --queues conferences,maintenance,bitrix --loglevel INFO

# The tests start and stop their own Redis, emulators, web and worker (tests/conftest.py).
# The habits (CONTRIBUTING.md): lint, format, types and the direction of imports, settings in pyproject.toml.
LINTED := shared web worker
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

test: $(STAMP) frontend chromium lint
	@scripts/ensure-redis.sh --binary
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@# The database and pipeline tests once more on PostgreSQL: the path to several hosts.
	scripts/with-postgres.sh $(BIN)/python -m pytest -q $(POSTGRES_TESTS)

# The README's pictures: the browser walk in Russian at 1280 px, light (tests/e2e/test_every_screen.py),
# then the app's frame on the screens the README shows, into docs/screenshots.
PICTURES := form progress ready history
pictures: $(STAMP) frontend chromium
	@scripts/ensure-redis.sh --binary
	$(BIN)/python -m pytest -q tests/e2e/test_every_screen.py -k ru-1280-light
	@mkdir -p docs/screenshots
	@for screen in $(PICTURES); do cp tests/e2e/screenshots/frame-ru-1280-light-$$screen.png docs/screenshots/$$screen.png; done

# The app's calls, once, against a real test portal and Yandex organisation (README, Connecting to a real
# portal): needs LIVE_CHECK_* in .env or the environment and refuses without. Never part of `make test`,
# which runs the same script against the emulators (tests/integration/test_live_check.py).
live-check: $(STAMP)
	@$(BIN)/python scripts/live_check.py

# An online copy of the database (see README, Operations).
backup: $(STAMP) .env
	@$(BIN)/python scripts/backup.py

# The queued app against the synchronous baseline, on the real stack, in under 10 minutes (bench/README.md):
# writes bench/results/<date>.md, its JSON and PNG plots. BENCH_ARGS passes options to bench/run.py.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements/bench.txt
	$(BIN)/$(PIP_INSTALL) -r requirements/bench.txt $(HIDE_MISSING_FOLDERS)
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@scripts/ensure-redis.sh --binary
	@scripts/ensure-wrk.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# What a person in the portal waits for and sees move, in Chromium: the link after the room, layout shift,
# polls and 304s, the frame's fit (bench/page.py; about a minute). BENCH_ARGS passes its options.
bench-page: $(STAMP) $(BUNDLE) chromium
	@scripts/ensure-redis.sh --binary
	$(BIN)/python bench/page.py $(BENCH_ARGS)

# The long chaos run (docs/chaos.md): 2,000 conferences while workers die, Redis stops, the emulators
# fail and SQLite is held busy; records its table in docs/chaos.md. `make test` runs a short one.
# DB=postgres: on a throwaway PostgreSQL with two hosts (two webs, two sets of workers), PostgreSQL
# restarted instead of SQLite held busy; its own table in docs/chaos.md. CHAOS_ARGS passes options.
CHAOS_ON = $(if $(filter postgres,$(DB)),scripts/with-postgres.sh,env -u TEST_DATABASE_URL)
chaos: $(STAMP)
	@scripts/ensure-redis.sh --binary
	$(CHAOS_ON) $(BIN)/python -m tests.chaos --conferences 2000 --record docs/chaos.md $(CHAOS_ARGS)

# Known vulnerabilities in the pinned requirements (pip-audit, in its own venv) and the front end's
# lockfile (npm audit). Needs their advisory services: says so in one line each when one does not
# answer (scripts/audit.py then exits 3, which this target accepts). CI does not run it.
AUDIT_VENV := var/audit-venv
$(AUDIT_VENV)/.installed: requirements/audit.txt
	@test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/$(PIP_INSTALL) -r requirements/audit.txt $(HIDE_MISSING_FOLDERS)
	@touch $@

audit: $(AUDIT_VENV)/.installed
	@$(PYTHON) scripts/audit.py $(AUDIT_VENV)/bin/pip-audit || test $$? -eq 3

clean:
	rm -rf $(VENV) var .pytest_cache web/static/dist $(FRONTEND)/node_modules
