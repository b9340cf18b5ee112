# The two commands that matter on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: translations run test test-fast screenshots lint check install clean benchmark bench worker beat

# Reinstall only when the pinned requirements change.
$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 (apt-get install python3.11 python3.11-venv)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtual environment. On Debian: apt-get install python3.11-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# The interface's translations, compiled from the catalogue in git (polib, no gettext needed).
MO := locale/es/LC_MESSAGES/django.mo
$(MO): locale/es/LC_MESSAGES/django.po $(STAMP)
	$(BIN)/python manage.py translations

install: $(STAMP) $(MO)

# Gather the marked strings into the catalogue after changing text (needs GNU gettext:
# apt-get install gettext), then translate what it added; CI fails on an untranslated one.
translations: $(STAMP)
	$(BIN)/python manage.py makemessages -l es --no-obsolete -i .venv -i tests -i benchmarks -i var -i staticfiles
	$(BIN)/python manage.py translations

# Development server: SQLite and eager Celery whatever the shell exports. `make run
# PORT=8001` serves on another port; SITE_URL follows, so links in emails lead back here.
PORT ?= 8000
DEV_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL SITE_URL=http://127.0.0.1:$(PORT)
run: $(STAMP) $(MO)
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py load_modules
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	@echo "Serving the portal on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

CHROMIUM ?= /usr/bin/chromium

# The whole suite, browser journeys included; on PostgreSQL and Redis when DATABASE_URL and
# CELERY_BROKER_URL say so.
test: $(STAMP) $(MO)
	@test -x $(CHROMIUM) || echo "Chromium is not installed at $(CHROMIUM) (apt-get install chromium): the browser tests will be skipped, and fail in CI."
	$(BIN)/python -m pytest

# The quick loop: everything but the real-browser tests.
test-fast: $(STAMP) $(MO)
	$(BIN)/python -m pytest --ignore=tests/e2e

# PNGs of the main screens for the README, into docs/screenshots/.
screenshots: $(STAMP) $(MO)
	$(BIN)/python -m pytest -q tests/e2e/screenshots.py

# Background work on a real broker: export CELERY_BROKER_URL=redis://127.0.0.1:6379/0 first.
# Without it the portal runs tasks in-process and needs neither.
worker: $(STAMP)
	$(BIN)/celery -A portal worker --loglevel INFO

beat: $(STAMP)
	$(BIN)/celery -A portal beat --loglevel INFO --schedule .celerybeat-schedule

# Performance as ratios against a baseline measured in the same run.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/export_memory.py
	$(BIN)/python benchmarks/dashboard_pages.py
	$(BIN)/python benchmarks/reminder_sweep.py
	$(BIN)/python benchmarks/reacknowledge.py

# Every page served by gunicorn on PostgreSQL against a floor page, at 1,000 and 10,000
# patients (benchmarks/bench/run.py; about 15 minutes, needs PostgreSQL on 127.0.0.1:5432).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .

check: $(STAMP)
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
